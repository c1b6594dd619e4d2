"""The tiny real GRPO run (slow, opt-in: ``--runslow``), through ``benchmarks/bench_rl_tiny.py``.

TRL's GRPOTrainer on CPU, a 2-layer Qwen2 from a config, the offline tokenizer, our TRL
environment over a synthesized task set served by a real ``EnvServer``, our judge as the reward.
Needs the ``rl-trainers`` extra (TRL, PyTorch): skipped without it, as in the default CI.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("torch")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_rl_tiny.py"


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_rl_tiny", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_tiny_grpo_run_trains_through_our_environment_and_judge(tmp_path: Path) -> None:
    result = _bench().run(tmp_path, steps=2, tasks=4)
    assert result["optimizer_steps"] == 2
    # Tool calls reached the environment server during training (its own request counter).
    assert result["server_requests_during_training"] > 0
    # Rewards were computed by the judge: one per rollout, and the groups were not all equal
    # (else GRPO has no signal and nothing would change).
    rewards = result["rewards"]
    assert len(rewards) == result["rollouts"] > 0
    assert all(r is not None for r in rewards)
    assert len(set(rewards)) > 1
    # The loss mask covers only policy tokens: every masked-out run inside a completion is a tool
    # result, and no trained run holds one.
    tok = result["tokenizer"]
    tool_runs = 0
    for batch in result["masks"]:
        assert batch["tool_mask"] is not None
        for ids, cmask, tmask in zip(
            batch["completion_ids"], batch["completion_mask"], batch["tool_mask"], strict=True
        ):
            runs: list[tuple[int, list[int]]] = []
            for token, c, t in zip(ids, cmask, tmask, strict=True):
                if not c:
                    continue
                if runs and runs[-1][0] == t:
                    runs[-1][1].append(token)
                else:
                    runs.append((t, [token]))
            for trained, run_ids in runs:
                text = tok.decode(run_ids)
                if trained:
                    assert "<tool_response>" not in text
                else:
                    tool_runs += 1
                    assert "<tool_response>" in text
    assert tool_runs > 0
    # The optimizer moved the weights.
    assert result["params_changed"] > 0
