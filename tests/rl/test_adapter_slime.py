"""slime adapter, against slime's documented signatures (slime does not install on CPU).

A stand-in ``Sample`` has slime's fields (``prompt``, ``tokens``, ``response_length``, ``label``,
``reward``, ``loss_mask``, ``rollout_log_probs``, ``status`` with ``Sample.Status``,
``metadata``); the policy is a scripted server answering SGLang's ``/generate`` over real HTTP,
reached at ``args.sglang_router_ip:port`` as slime's router would be.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from adapter_support import ANSWER, search_then_answer, serve_tiny, served

from redsearcher.log import Task
from redsearcher.rl.adapters import slime  # the module: its functions are slime entry points
from redsearcher.server import EnvServer
from redsearcher.testing import ScriptedChatServer, tiny_chat_tokenizer

pytest.importorskip("transformers")


@dataclass
class Sample:
    class Status(enum.Enum):
        PENDING = "pending"
        COMPLETED = "completed"
        TRUNCATED = "truncated"
        ABORTED = "aborted"

    prompt: Any = ""
    tokens: list[int] = field(default_factory=list)
    response: str = ""
    response_length: int = 0
    label: str | None = None
    reward: float | None = None
    loss_mask: list[int] | None = None
    rollout_log_probs: list[float] | None = None
    status: Status = Status.PENDING
    metadata: dict[str, Any] = field(default_factory=dict)
    index: int = 0


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("slime"))


def run_generate(
    env: EnvServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, label: str | None
) -> list[Sample]:
    chat = tiny_chat_tokenizer(save_to=tmp_path / "tok")
    monkeypatch.setenv("REDSEARCHER_ENV_URL", env.base_url)
    config = tmp_path / "agent.yaml"
    config.write_text("tools: [search, visit]\ncontext:\n  strategy: none\n")
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", str(config))
    [row] = slime.slime_rows(
        [Task(id="t1", question="Who is Marta Velden's sibling?", answer=label)]
    )
    sample = Sample(prompt=row["prompt"], label=row["label"], metadata=dict(row["metadata"]))
    with ScriptedChatServer(search_then_answer(), chat_template=chat, token_api="sglang") as policy:
        url = urlsplit(policy.base_url)
        args = SimpleNamespace(
            sglang_router_ip=url.hostname,
            sglang_router_port=url.port,
            hf_checkpoint=tmp_path / "tok",
        )
        return asyncio.run(
            slime.generate(args, sample, {"temperature": 1.0, "max_new_tokens": 256})
        )


def test_generate_returns_token_exact_samples_with_the_judged_reward(
    env: EnvServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = served(env.base_url)
    [out] = run_generate(env, tmp_path, monkeypatch, ANSWER)
    assert served(env.base_url) == before + 1
    assert out.status is Sample.Status.COMPLETED and out.reward == 1.0
    assert out.response_length == len(out.loss_mask or []) == len(out.rollout_log_probs or [])
    assert 0 < sum(out.loss_mask or []) < out.response_length  # tool ids are masked out
    assert out.metadata["id"] == "t1" and out.metadata["segments"] == 1
    assert asyncio.run(slime.reward(None, out)) == 1.0


def test_an_unscored_episode_is_aborted_with_no_reward(
    env: EnvServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [out] = run_generate(env, tmp_path, monkeypatch, None)
    assert out.status is Sample.Status.ABORTED and out.reward is None
    assert set(out.loss_mask or []) == {0} and out.metadata["unscored"]
    assert asyncio.run(slime.reward(None, out)) is None


def test_rows_are_prompt_and_label() -> None:
    [row] = slime.slime_rows([Task(id="t", question="Q?", answer="A")], system_prompt="S")
    assert row["prompt"] == [{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"}]
    assert row["label"] == "A" and row["metadata"] == {"id": "t", "aliases": []}
