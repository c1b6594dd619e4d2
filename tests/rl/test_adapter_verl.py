"""verl adapter: against verl 0.9.1's real classes where verl imports, and stand-ins everywhere.

Every adapter test runs twice: with stand-ins of verl 0.9.1's ``AgentLoopBase`` (its
constructor), ``AgentLoopOutput`` (its fields, extra fields refused), ``register`` and
``register_adv_est`` (``adapter_support.verl_stand_in``: the default CI has no verl), and with
the real verl 0.9.1 (the ``rl-verl`` extra; skipped where verl does not import). The real run
instantiates the loop the way verl's ``AgentLoopWorker`` does (``hydra.utils.instantiate`` of the
registered entry). The server manager's ``generate(request_id=, prompt_ids=,
sampling_params=)`` returns a ``TokenOutput``-shaped object (``token_ids``, ``log_probs``),
played by the scripted token engine; the environment server is real.

The estimator's math is checked by hand on plain lists (everywhere), against verl's own
``compute_grpo_outcome_advantage`` (real verl), and on a batch of real episodes that went
through verl's own padding and batching (``AgentLoopWorker._postprocess``) into the trainer's
``compute_advantage`` (real verl).
"""

from __future__ import annotations

import asyncio
import importlib
import math
import sys
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from adapter_support import (
    ANSWER,
    ScriptedEngine,
    search_then_answer,
    serve_tiny,
    served,
    verl_stand_in,
)

from redsearcher.errors import ConfigError
from redsearcher.model import TokenizerChat
from redsearcher.server import EnvServer
from redsearcher.testing import Step, text_answer, text_tool_call, tiny_chat_tokenizer

pytest.importorskip("transformers")

MODULE = "redsearcher.rl.adapters.verl"
STAND_IN = "stand-in"
REAL = "verl"
_REAL_MODULE: dict[str, types.ModuleType] = {}


@dataclass
class Verl:
    """One verl (real or stand-in) and our adapter module imported against it."""

    kind: str
    module: Any
    agent_loop: Any
    estimators: Mapping[str, Any]

    def loop(self, manager: Any, tokenizer: Any, config: dict[str, Any], **arguments: Any) -> Any:
        """Our agent loop, built as verl's ``AgentLoopWorker._run_agent_loop`` builds it.

        ``arguments`` are the loop's own, as extra keys of its ``agent_loop.yaml`` entry.
        """
        entry = {**self.agent_loop._agent_loop_registry["redsearcher"], **arguments}
        wrap = self.agent_loop.DictConfigWrap
        if self.kind == STAND_IN:
            path, _, name = entry["_target_"].rpartition(".")
            cls = getattr(importlib.import_module(path), name)
            return cls(
                **arguments,
                trainer_config=wrap(config),
                server_manager=manager,
                tokenizer=tokenizer,
                processor=None,
                hf_model_type=None,
                dataset_cls=None,
                data_config=wrap(config["data"]),
            )
        import hydra
        from omegaconf import OmegaConf
        from verl.utils.dataset.rl_dataset import RLHFDataset

        omega = OmegaConf.create(config)
        return hydra.utils.instantiate(
            config=entry,
            trainer_config=wrap(config=omega),
            server_manager=manager,
            tokenizer=tokenizer,
            processor=None,
            hf_model_type=None,
            dataset_cls=RLHFDataset,
            data_config=wrap(omega.data),
            tools=self.agent_loop.ToolListWrap([]),
        )


def load(kind: str, monkeypatch: pytest.MonkeyPatch) -> Verl:
    """Our adapter imported against ``kind`` (skips the real verl where it does not import)."""
    package = importlib.import_module("redsearcher.rl.adapters")
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    if kind == REAL:
        agent_loop = pytest.importorskip("verl.experimental.agent_loop.agent_loop")
        core_algos = importlib.import_module("verl.trainer.ppo.core_algos")
        # Imported once: verl refuses a second function under the estimator's name.
        if "module" not in _REAL_MODULE:
            _REAL_MODULE["module"] = importlib.import_module(MODULE)
        module = _REAL_MODULE["module"]
        monkeypatch.setitem(sys.modules, MODULE, module)
        estimators = core_algos.ADV_ESTIMATOR_REGISTRY
    else:
        stand_in = verl_stand_in()
        for name, fake in stand_in.items():
            monkeypatch.setitem(sys.modules, name, fake)
        module = importlib.import_module(MODULE)
        agent_loop = stand_in["verl.experimental.agent_loop.agent_loop"]
        estimators = stand_in["verl.trainer.ppo.core_algos"].ADV_ESTIMATOR_REGISTRY
    monkeypatch.setattr(package, "verl", module, raising=False)
    return Verl(kind, module, agent_loop, estimators)


@pytest.fixture(params=[STAND_IN, REAL])
def verl(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Verl:
    return load(request.param, monkeypatch)


@pytest.fixture
def real_verl(monkeypatch: pytest.MonkeyPatch) -> Verl:
    """The real verl only (its tensors, its GRPO, its batching)."""
    return load(REAL, monkeypatch)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("verl"))


@pytest.fixture(scope="module")
def chat() -> TokenizerChat:
    return tiny_chat_tokenizer()


@dataclass
class TokenOutput:
    token_ids: list[int]
    log_probs: list[float]


class ServerManager:
    def __init__(self, engine: ScriptedEngine) -> None:
        self.engine = engine
        self.request_ids: list[str] = []
        self.sampling: list[dict[str, Any]] = []

    async def generate(
        self,
        request_id: str,
        *,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        image_data: Any = None,
        **kwargs: Any,
    ) -> TokenOutput:
        self.request_ids.append(request_id)
        self.sampling.append(sampling_params)
        ids, logprobs = await self.engine(prompt_ids)
        return TokenOutput(ids, logprobs)


def row(answer: str | None = ANSWER) -> dict[str, Any]:
    return {
        "raw_prompt": [{"role": "user", "content": "Who is Marta Velden's sibling?"}],
        "reward_model": {"ground_truth": answer},
        "extra_info": {"id": "t1"},
    }


def trainer_config(response_length: int = 4096) -> dict[str, Any]:
    return {"actor_rollout_ref": {"rollout": {"response_length": response_length}}, "data": {}}


def settings(tmp_path: Path, text: str) -> str:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return str(path)


def episode(
    verl: Verl,
    chat: TokenizerChat,
    *,
    said: str = ANSWER,
    answer: str | None = ANSWER,
    response_length: int = 4096,
) -> Any:
    manager = ServerManager(ScriptedEngine(chat, search_then_answer(said)))
    loop = verl.loop(manager, chat.tokenizer, trainer_config(response_length))
    return asyncio.run(loop.run({}, **row(answer)))


@pytest.fixture
def served_env(env: EnvServer, monkeypatch: pytest.MonkeyPatch) -> EnvServer:
    monkeypatch.setenv("REDSEARCHER_ENV_URL", env.base_url)
    monkeypatch.delenv("REDSEARCHER_AGENT_CONFIG", raising=False)
    return env


def test_the_loop_is_registered_and_returns_a_token_exact_output(
    verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = settings(
        tmp_path, "agent:\n  tools: [search, visit]\n  context:\n    strategy: none\n"
    )
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", config)
    entry = verl.agent_loop._agent_loop_registry["redsearcher"]
    assert entry["_target_"] == f"{MODULE}.RedSearcherAgentLoop"
    engine = ScriptedEngine(chat, search_then_answer())
    manager = ServerManager(engine)
    loop = verl.loop(manager, chat.tokenizer, trainer_config())
    assert isinstance(loop, verl.agent_loop.AgentLoopBase)
    before = served(served_env.base_url)
    out = asyncio.run(loop.run({"temperature": 1.0}, **row()))
    assert isinstance(out, verl.agent_loop.AgentLoopOutput)
    assert served(served_env.base_url) == before + 1
    # One sticky request id for every turn of the episode, verl's sampling params passed through.
    assert len(manager.request_ids) == 2 and len(set(manager.request_ids)) == 1
    assert manager.sampling == [{"temperature": 1.0}] * 2
    # The ids are the engine's: prompt as first sent, the second prompt a prefix of the whole.
    assert out.prompt_ids == engine.prompts[0]
    whole = out.prompt_ids + out.response_ids
    assert whole[: len(engine.prompts[1])] == engine.prompts[1]
    trained = [t for t, m in zip(out.response_ids, out.response_mask, strict=True) if m]
    assert trained == engine.outputs[0] + engine.outputs[1]
    assert out.response_logprobs is not None and len(out.response_logprobs) == len(out.response_ids)
    assert out.reward_score == 1.0 and out.extra_fields["redsearcher_segments"] == 1
    assert "unscored" not in out.extra_fields and "abnormal" not in out.extra_fields


def test_an_unscored_episode_has_no_reward_and_no_gradient(
    verl: Verl, served_env: EnvServer, chat: TokenizerChat
) -> None:
    out = episode(verl, chat, answer=None)  # no reference answer: unscored
    assert (
        set(out.response_mask) == {0}
        and out.extra_fields["unscored"] == "the judge left it unscored"
    )
    assert out.reward_score is not None and math.isnan(out.reward_score)  # never 0


def test_an_abnormal_episode_keeps_its_reward_without_gradient(
    verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Longer than verl's response_length: cut to it, flagged truncated, reward kept.
    out = episode(verl, chat, response_length=8)
    assert len(out.response_ids) == 8 and set(out.response_mask) == {0}
    assert out.reward_score == 1.0 and out.extra_fields["abnormal"] == ["truncated"]
    # The thresholds come from the settings file: excessive length; and the filter can be off.
    config = settings(tmp_path, "agent:\n  tools: [search]\nabnormal:\n  max_response_tokens: 1\n")
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", config)
    out = episode(verl, chat, said="Someone Else")
    assert set(out.response_mask) == {0}
    assert out.reward_score == 0.0 and out.extra_fields["abnormal"] == ["length"]
    off = settings(tmp_path, "agent:\n  tools: [search]\nabnormal:\n  enabled: false\n")
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", off)
    out = episode(verl, chat, response_length=8)
    assert 1 in out.response_mask and "abnormal" not in out.extra_fields


def test_the_example_settings_load(
    verl: Verl, served_env: EnvServer, chat: TokenizerChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = Path(__file__).resolve().parents[2] / "examples/verl/agent.yaml"
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", str(example))
    loop = verl.loop(ServerManager(ScriptedEngine(chat, [])), chat.tokenizer, trainer_config())
    assert loop.agent_config.tools == ["search", "visit", "PythonInterpreter"]
    assert loop.abnormal.enabled and loop.abnormal.max_tool_failure_rate == 0.5


def configuration_error(error: BaseException) -> bool:
    """Our ``ConfigError`` (verl's hydra wraps it in its ``InstantiationException``)."""
    return isinstance(error, ConfigError) or isinstance(error.__cause__, ConfigError)


def test_bad_settings_name_the_file(
    verl: Verl, served_env: EnvServer, chat: TokenizerChat, tmp_path: Path, monkeypatch: Any
) -> None:
    config = settings(tmp_path, "agent:\n  tools: [search]\nabnormal:\n  ngram: 0\n")
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", config)
    with pytest.raises(Exception, match=r"agent\.yaml .*field 'abnormal\.ngram'") as info:
        verl.loop(ServerManager(ScriptedEngine(chat, [])), chat.tokenizer, trainer_config())
    assert configuration_error(info.value)


def test_compute_score_judges_the_answer_tag(verl: Verl) -> None:
    assert verl.module.compute_score("rs", f"x <answer>{ANSWER}</answer>", ANSWER) == 1.0
    assert verl.module.compute_score("rs", "<answer>nobody</answer>", ANSWER) == 0.0


def test_the_env_url_is_required(
    verl: Verl, chat: TokenizerChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDSEARCHER_ENV_URL", raising=False)
    with pytest.raises(Exception, match="REDSEARCHER_ENV_URL") as info:
        verl.loop(None, chat.tokenizer, trainer_config())
    assert configuration_error(info.value)


def test_the_estimator_is_registered_under_its_name(verl: Verl) -> None:
    assert verl.module.ADV_ESTIMATOR == "redsearcher_grpo"
    assert verl.estimators["redsearcher_grpo"] is verl.module.redsearcher_grpo_advantage


# --- the estimator's math, by hand (plain lists: no torch needed) -------------------------

NAN = math.nan
R3 = 1 / math.sqrt(3)


def test_unscored_samples_leave_their_group_by_hand(verl: Verl) -> None:
    # Group a: [1, 0, NaN, 0] -> scored [1, 0, 0]: mean 1/3, sample std 1/sqrt(3), so
    # (2/3) / (1/sqrt(3) + 1e-6) and (-1/3) / (1/sqrt(3) + 1e-6); the unscored one gets 0.
    # Group b: [NaN, NaN]: nothing scored, 0 each. Group c: one scored sample: no spread, 0.
    scores = [1.0, NAN, 0.0, NAN, NAN, 0.0, 1.0]
    index = ["a", "b", "a", "a", "b", "a", "c"]
    advantages, unscored = verl.module.grpo_advantages(scores, index)
    high, low = (2 / 3) / (R3 + 1e-6), (-1 / 3) / (R3 + 1e-6)
    assert advantages == pytest.approx([high, 0.0, low, 0.0, 0.0, low, 0.0], rel=1e-12)
    assert unscored == 3
    # Counting the unscored as 0 would give [1, 0, 0, 0]: mean 1/4, another advantage.
    assert advantages[0] != pytest.approx((3 / 4) / (0.5 + 1e-6))


def test_dr_grpo_and_abnormal_samples_by_hand(verl: Verl) -> None:
    # Abnormal samples are scored: they stay in the statistics (their mask removes the loss).
    from redsearcher.rl import AdvantageConfig

    advantages, unscored = verl.module.grpo_advantages(
        [1.0, 0.0, NAN, 0.0], ["g"] * 4, AdvantageConfig(scale="none")
    )
    assert advantages == pytest.approx([2 / 3, -1 / 3, 0.0, -1 / 3]) and unscored == 1


def test_an_infinite_score_is_a_bug_not_an_outage(verl: Verl) -> None:
    with pytest.raises(ValueError, match="finite"):
        verl.module.grpo_advantages([1.0, math.inf], ["g", "g"])
    with pytest.raises(ValueError, match="group keys"):
        verl.module.grpo_advantages([1.0], ["g", "g"])


# --- against verl itself ------------------------------------------------------------------


def random_batch(seed: int, sizes: list[int], width: int = 6) -> tuple[Any, Any, Any]:
    import numpy as np
    import torch

    generator = torch.Generator().manual_seed(seed)
    index = np.array([f"uid{g}" for g, size in enumerate(sizes) for _ in range(size)], dtype=object)
    np.random.default_rng(seed).shuffle(index)
    n = len(index)
    lengths = torch.randint(1, width + 1, (n,), generator=generator)
    mask = (torch.arange(width)[None, :] < lengths[:, None]).long()
    rewards = torch.zeros(n, width)
    scores = torch.randint(0, 3, (n,), generator=generator).float() / 2  # 0, 0.5, 1: ties too
    rewards[torch.arange(n), lengths - 1] = scores
    return rewards, mask, index


@pytest.mark.parametrize("norm", [True, False])
def test_without_unscored_samples_it_is_verls_grpo(real_verl: Verl, norm: bool) -> None:
    import torch
    from omegaconf import OmegaConf
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

    config = OmegaConf.create({"norm_adv_by_std_in_grpo": norm})
    for seed in range(5):
        rewards, mask, index = random_batch(seed, [2, 3, 4, 5, 8])
        ours, returns = real_verl.module.redsearcher_grpo_advantage(
            token_level_rewards=rewards, response_mask=mask, index=index, config=config
        )
        theirs, _ = compute_grpo_outcome_advantage(
            rewards, mask, index, norm_adv_by_std_in_grpo=norm
        )
        assert torch.allclose(ours, theirs, atol=1e-5) and torch.equal(ours, returns)


def test_unscored_samples_are_as_if_they_were_not_in_the_batch(real_verl: Verl) -> None:
    import torch
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

    rewards, mask, index = random_batch(7, [4, 5, 6])
    unscored = torch.tensor([i % 4 == 1 for i in range(len(index))])  # at most 2 per group
    rewards[unscored] = 0.0
    rewards[unscored, 0] = NAN
    mask[unscored] = 0
    ours, _ = real_verl.module.redsearcher_grpo_advantage(
        token_level_rewards=rewards, response_mask=mask, index=index
    )
    kept = ~unscored
    theirs, _ = compute_grpo_outcome_advantage(rewards[kept], mask[kept], index[kept.numpy()])
    assert torch.allclose(ours[kept], theirs, atol=1e-5)
    assert not ours[unscored].any() and not ours.isnan().any()


def test_real_episodes_through_verls_batching_and_compute_advantage(
    real_verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import numpy as np
    import torch
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.ray_trainer import compute_advantage

    correct, wrong = episode(real_verl, chat), episode(real_verl, chat, said="Someone Else")
    unscored = episode(real_verl, chat, answer=None)
    correct2, wrong2 = episode(real_verl, chat), episode(real_verl, chat, said="Someone Else")
    strict = settings(tmp_path, "agent:\n  tools: [search]\nabnormal:\n  max_response_tokens: 1\n")
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", strict)
    abnormal = episode(real_verl, chat)  # right answer, flagged "length"
    outputs = [correct, wrong, abnormal, unscored, correct2, wrong2]
    uid = np.array(["g1", "g1", "g1", "g1", "g2", "g2"], dtype=object)

    # verl's own per-sample padding and batch assembly (AgentLoopWorker without Ray).
    worker = real_verl.agent_loop.AgentLoopWorker.__new__(real_verl.agent_loop.AgentLoopWorker)
    worker.tokenizer, worker.processor = chat.tokenizer, None
    worker.rollout_config = types.SimpleNamespace(
        prompt_length=max(len(o.prompt_ids) for o in outputs),
        response_length=max(len(o.response_ids) for o in outputs),
    )
    worker.reward_loop_worker_handles, worker.distillation_enabled = None, False
    worker.mm_processor_kwargs = {}

    async def batch() -> Any:
        padded = [
            await worker._agent_loop_postprocess(o, False, raw_prompt=row()["raw_prompt"])
            for o in outputs
        ]
        return worker._postprocess(padded)

    data = asyncio.run(batch())
    assert list(data.non_tensor_batch["abnormal"]) == [None, None, ["length"], None, None, None]
    assert data.non_tensor_batch["unscored"][3] and data.non_tensor_batch["unscored"][0] is None
    # What the trainer does next (no KL in the reward): scores -> rewards -> advantages.
    data.batch["token_level_scores"] = data.batch["rm_scores"]
    data.batch["token_level_rewards"] = data.batch["token_level_scores"]
    data.non_tensor_batch["uid"] = uid
    data = compute_advantage(data, adv_estimator="redsearcher_grpo", config=AlgoConfig())
    advantages, mask = data.batch["advantages"], data.batch["response_mask"]

    # g1 scored [1, 0, 1] (the abnormal one counts): mean 2/3, sample std 1/sqrt(3).
    expected = [(1 / 3) / (R3 + 1e-6), (-2 / 3) / (R3 + 1e-6), None, None]
    # g2 [1, 0]: mean 1/2, sample std 1/sqrt(2).
    half = 0.5 / (1 / math.sqrt(2) + 1e-6)
    expected += [half, -half]
    for i, value in enumerate(expected):
        if value is None:  # abnormal and unscored: no trained token, no advantage anywhere
            assert not mask[i].any() and not advantages[i].any()
        else:
            assert mask[i].any()
            trained = advantages[i][mask[i].bool()]
            assert torch.allclose(trained, torch.full_like(trained, value), atol=1e-5)
            assert not advantages[i][~mask[i].bool()].any()
    # verl's grpo with the outage as 0 would have given g1 [1, 0, 1, 0]: mean 1/2.
    assert abs(advantages[0][mask[0].bool()][0] - 0.5 / (1 / math.sqrt(3) + 1e-6)) > 0.2


def test_verl_registers_both_in_a_fresh_process_from_the_environment(real_verl: Verl) -> None:
    # examples/verl/run.sh: VERL_USE_EXTERNAL_MODULES makes `import verl` (in the trainer's own
    # process, where the advantage is computed) import this module and so register both.
    import os
    import subprocess

    code = (
        "import verl.trainer.ppo.core_algos as c\n"
        "from verl.experimental.agent_loop.agent_loop import _agent_loop_registry as r\n"
        "print(c.get_adv_estimator_fn('redsearcher_grpo').__name__, r['redsearcher']['_target_'])"
    )
    env = {**os.environ, "VERL_USE_EXTERNAL_MODULES": MODULE}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["redsearcher_grpo_advantage", f"{MODULE}.RedSearcherAgentLoop"]


def test_the_example_composes_with_verls_own_config(real_verl: Verl) -> None:
    # examples/verl/run.sh with Hydra's `--cfg job`: verl composes its ppo_trainer config with
    # every override (an unknown key fails) and prints it instead of training.
    import os
    import subprocess

    import yaml

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "examples/verl/run.sh", "--cfg", "job"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    config = yaml.safe_load(done.stdout)
    assert config["algorithm"]["adv_estimator"] == "redsearcher_grpo"
    rollout = config["actor_rollout_ref"]["rollout"]
    assert rollout["agent"]["default_agent_loop"] == "redsearcher"
    assert rollout["calculate_log_probs"] is True
    assert config["algorithm"]["rollout_correction"]["rollout_is"] == "token"
    assert config["actor_rollout_ref"]["actor"]["clip_ratio_high"] == 0.28
    reward = config["reward"]["custom_reward_function"]
    assert reward == {"path": real_verl.module.__file__, "name": "compute_score"}


# -- every context window as its own output (segments: all; verl's v1 trainer, its grpo) ------

DISCARD_ALL = (
    "agent:\n  tools: [search]\n  context_window: 1600\n  context:\n"
    "    strategy: discard_all\n    threshold: 0.5\n    use_server_usage: false\n"
)


def v1_config(response_length: int = 4096, estimator: str = "grpo") -> dict[str, Any]:
    config = trainer_config(response_length)
    config["algorithm"] = {"adv_estimator": estimator}
    config["trainer"] = {"use_v1": True}
    return config


def windows_episode(
    verl: Verl,
    chat: TokenizerChat,
    *,
    said: str = ANSWER,
    answer: str | None = ANSWER,
    response_length: int = 4096,
    segments: str = "all",
) -> tuple[Any, ScriptedEngine]:
    """A discard-all episode of two windows (search, search | answer) from the loop."""
    search = Step(content=text_tool_call("search", {"query": ["Marta Velden"]}))
    engine = ScriptedEngine(chat, [search, search, Step(content=text_answer(said))])
    loop = verl.loop(
        ServerManager(engine), chat.tokenizer, v1_config(response_length), segments=segments
    )
    return asyncio.run(loop.run({}, **row(answer))), engine


def discard_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1600 tokens at threshold 0.5: the tiny World's search result fills the first window.
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", settings(tmp_path, DISCARD_ALL))


def test_every_window_of_a_discard_all_episode_is_its_own_output(
    verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    discard_all(tmp_path, monkeypatch)
    outputs, engine = windows_episode(verl, chat)
    assert isinstance(outputs, list) and len(outputs) == 2
    assert all(isinstance(o, verl.agent_loop.AgentLoopOutput) for o in outputs)
    first, final = outputs
    # Each window is token-exact on its own: its prompt as sent, its policy turns as generated.
    assert first.prompt_ids == engine.prompts[0] and final.prompt_ids == engine.prompts[2]
    assert (first.prompt_ids + first.response_ids)[: len(engine.prompts[1])] == engine.prompts[1]
    assert trained(first) == engine.outputs[0] + engine.outputs[1]
    assert trained(final) == engine.outputs[2]
    for out in outputs:
        assert out.response_logprobs is not None
        assert len(out.response_logprobs) == len(out.response_ids) == len(out.response_mask)
    # One episode: its reward on every window, its id, the window's place; the turns per window.
    assert first.reward_score == final.reward_score == 1.0
    extras = [o.extra_fields for o in outputs]
    assert [e["redsearcher_window"] for e in extras] == [0, 1]
    assert {e["redsearcher_segments"] for e in extras} == {2}
    assert len({e["trajectory_id"] for e in extras}) == 1
    assert all(e["reward_extra_info"] == {} for e in extras)  # verl's v1 worker reads it
    assert (first.num_turns, final.num_turns) == (5, 3)
    # The default returns the final window alone, the same ids.
    out, _ = windows_episode(verl, chat, segments="final")
    assert out.prompt_ids == final.prompt_ids and out.response_ids == final.response_ids
    assert out.extra_fields["redsearcher_segments"] == 2


def trained(out: Any) -> list[int]:
    return [t for t, m in zip(out.response_ids, out.response_mask, strict=True) if m]


def test_unscored_and_abnormal_episodes_in_windows(
    verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    discard_all(tmp_path, monkeypatch)
    # Unscored: no windows, so verl's v1 worker stores nothing and the group goes without it.
    outputs, engine = windows_episode(verl, chat, answer=None)
    assert outputs == [] and len(engine.outputs) == 3
    # The first window longer than response_length: the episode is flagged, every window keeps
    # the reward (in the group's statistics) with an all-zero mask (no loss).
    outputs, _ = windows_episode(verl, chat, said="Someone Else", response_length=100)
    assert len(outputs) == 2 and len(outputs[0].response_ids) == 100  # the first is cut
    assert len(outputs[1].response_ids) < 100
    assert all(set(o.response_mask) == {0} for o in outputs)
    assert [o.reward_score for o in outputs] == [0.0, 0.0]
    assert [o.extra_fields["abnormal"] for o in outputs] == [["truncated"]] * 2


@pytest.mark.parametrize(
    ("segments", "config", "message"),
    [
        ("every", v1_config(), "'segments': 'every' is not one of"),
        ("all", v1_config(estimator="redsearcher_grpo"), "needs algorithm.adv_estimator=grpo"),
        ("all", {**v1_config(), "trainer": {"use_v1": False}}, r"needs verl's v1 trainer"),
    ],
)
def test_windows_need_verls_v1_trainer_and_its_grpo(
    verl: Verl, served_env: EnvServer, chat: TokenizerChat, segments: str, config: Any, message: str
) -> None:
    manager = ServerManager(ScriptedEngine(chat, search_then_answer()))
    with pytest.raises(Exception, match=message) as caught:
        verl.loop(manager, chat.tokenizer, config, segments=segments)
    assert configuration_error(caught.value)


def test_verls_v1_grpo_counts_each_episode_once_and_broadcasts_to_its_windows(
    real_verl: Verl,
    served_env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # verl's v1 trainer: AgentLoopWorkerTQ stores each output under {uid}_{session}_{index} with
    # AgentLoopOutput.as_dict() (rm_scores: the reward on the last token), the trainer pads them
    # and compute_advantage_for_multi_trajectories computes grpo over each session's final
    # output, then gives every output of the session that advantage.
    pytest.importorskip("transfer_queue")  # verl.trainer.ppo.v1 imports it; verl does not pin it
    import numpy as np
    import torch
    from verl.protocol import DataProto
    from verl.trainer.config import AlgoConfig
    from verl.trainer.ppo.v1.utils import compute_advantage_for_multi_trajectories

    discard_all(tmp_path, monkeypatch)
    right, _ = windows_episode(real_verl, chat)  # 2 windows, reward 1
    wrong, _ = windows_episode(real_verl, chat, said="Someone Else")  # 2 windows, reward 0
    # Right, but its first window cut to response_length: abnormal, reward 1, every mask 0.
    abnormal, _ = windows_episode(real_verl, chat, response_length=100)
    monkeypatch.setenv(
        "REDSEARCHER_AGENT_CONFIG", settings(tmp_path, "agent:\n  tools: [search]\n")
    )
    single, _ = windows_episode(real_verl, chat)  # no discard: 1 window, reward 1
    sessions = [right, wrong, single, abnormal]
    keys, rows = [], []
    for session, outputs in enumerate(sessions):
        for index, out in enumerate(outputs):
            keys.append(f"g_{session}_{index}")
            rows.append(out.as_dict())
    assert len(rows) == 7
    width = max(len(r["responses"]) for r in rows)

    def pad(name: str) -> Any:
        return torch.stack(
            [torch.nn.functional.pad(r[name], (0, width - len(r[name]))) for r in rows]
        )

    data = DataProto.from_dict(
        tensors={"response_mask": pad("response_mask"), "token_level_rewards": pad("rm_scores")},
        non_tensors={"uid": np.array(["g"] * len(rows), dtype=object)},
    )
    data = compute_advantage_for_multi_trajectories(
        data, batch_keys=keys, adv_estimator="grpo", config=AlgoConfig()
    )
    # The group is the four episodes [1, 0, 1, 1] (the abnormal one counts): mean 3/4, sample
    # std 1/2 — not the seven windows [1, 1, 0, 0, 1, 1, 1]. The abnormal episode's windows get
    # 0: verl reads its final window's advantage at its first unmasked token, and there is none.
    std = 0.5 + 1e-6
    expected: list[float | None] = [0.25 / std] * 2 + [-0.75 / std] * 2 + [0.25 / std]
    expected += [None] * 2
    advantages, mask = data.batch["advantages"], data.batch["response_mask"].bool()
    for i, value in enumerate(expected):
        if value is None:
            assert not mask[i].any() and not advantages[i].any()
            continue
        assert mask[i].any()
        trained_advantages = advantages[i][mask[i]]
        assert torch.allclose(trained_advantages, torch.full_like(trained_advantages, value))
        assert not advantages[i][~mask[i]].any()


def test_the_example_registers_the_windows_loop(
    real_verl: Verl, served_env: EnvServer, chat: TokenizerChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    # examples/verl/agent_loop.yaml as verl loads it (OmegaConf, one registry entry per name,
    # `name` and `segments` passed on by hydra.utils.instantiate).
    from omegaconf import OmegaConf

    root = Path(__file__).resolve().parents[2]
    entries = {e.name: e for e in OmegaConf.load(root / "examples/verl/agent_loop.yaml")}
    registry = real_verl.agent_loop._agent_loop_registry
    manager = ServerManager(ScriptedEngine(chat, search_then_answer()))
    loops = {}
    for name in ("redsearcher", "redsearcher_windows"):
        monkeypatch.setitem(registry, "redsearcher", entries[name])
        loops[name] = real_verl.loop(manager, chat.tokenizer, v1_config())
    assert loops["redsearcher"].segments == "final"
    assert loops["redsearcher_windows"].segments == "all"
