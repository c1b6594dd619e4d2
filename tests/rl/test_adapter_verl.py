"""verl adapter, against verl's documented signatures (verl does not install on CPU).

A stand-in ``verl.experimental.agent_loop.agent_loop`` provides ``AgentLoopBase`` (its
constructor keeps ``config``, ``server_manager``, ``tokenizer``), ``AgentLoopOutput`` (a pydantic
model with verl's fields, extra fields refused) and ``register``; the server manager's
``generate(request_id=, prompt_ids=, sampling_params=)`` returns a ``TokenOutput``-shaped object
(``token_ids``, ``log_probs``), played by the scripted token engine.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from adapter_support import ANSWER, ScriptedEngine, search_then_answer, serve_tiny, served
from pydantic import BaseModel, ConfigDict

from redsearcher.model import TokenizerChat
from redsearcher.server import EnvServer
from redsearcher.testing import tiny_chat_tokenizer

pytest.importorskip("transformers")

REGISTRY: dict[str, type] = {}


class AgentLoopOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    response_logprobs: list[float] | None = None
    multi_modal_data: dict[str, Any] = {}
    reward_score: float | None = None
    num_turns: int = 0
    metrics: dict[str, Any] = {}
    extra_fields: dict[str, Any] = {}


class AgentLoopBase:
    def __init__(
        self,
        trainer_config: Any,
        server_manager: Any,
        tokenizer: Any,
        processor: Any,
        **kwargs: Any,
    ) -> None:
        self.config = trainer_config
        self.server_manager = server_manager
        self.tokenizer = tokenizer
        self.processor = processor


def register(name: str):  # type: ignore[no-untyped-def]
    def wrap(cls: type) -> type:
        REGISTRY[name] = cls
        return cls

    return wrap


@pytest.fixture
def verl_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    fake = types.ModuleType("verl.experimental.agent_loop.agent_loop")
    fake.AgentLoopBase = AgentLoopBase  # type: ignore[attr-defined]
    fake.AgentLoopOutput = AgentLoopOutput  # type: ignore[attr-defined]
    fake.register = register  # type: ignore[attr-defined]
    for name in ("verl", "verl.experimental", "verl.experimental.agent_loop"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "verl.experimental.agent_loop.agent_loop", fake)
    sys.modules.pop("redsearcher.rl.adapters.verl", None)
    yield importlib.import_module("redsearcher.rl.adapters.verl")
    sys.modules.pop("redsearcher.rl.adapters.verl", None)


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
        *,
        request_id: str,
        prompt_ids: list[int],
        sampling_params: dict[str, Any],
        image_data: Any = None,
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


def test_the_loop_is_registered_and_returns_a_token_exact_output(
    verl_module: Any,
    env: EnvServer,
    chat: TokenizerChat,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "agent.yaml"
    config.write_text("agent:\n  tools: [search, visit]\n  context:\n    strategy: none\n")
    monkeypatch.setenv("REDSEARCHER_ENV_URL", env.base_url)
    monkeypatch.setenv("REDSEARCHER_AGENT_CONFIG", str(config))
    assert REGISTRY["redsearcher"] is verl_module.RedSearcherAgentLoop
    engine = ScriptedEngine(chat, search_then_answer())
    manager = ServerManager(engine)
    trainer_config = {"actor_rollout_ref": {"rollout": {"response_length": 4096}}, "data": {}}
    loop = verl_module.RedSearcherAgentLoop(trainer_config, manager, chat.tokenizer, None)
    before = served(env.base_url)
    out = asyncio.run(loop.run({"temperature": 1.0}, **row()))
    assert isinstance(out, AgentLoopOutput)
    assert served(env.base_url) == before + 1
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


def test_an_unscored_episode_gets_no_gradient(
    verl_module: Any, env: EnvServer, chat: TokenizerChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDSEARCHER_ENV_URL", env.base_url)
    monkeypatch.delenv("REDSEARCHER_AGENT_CONFIG", raising=False)
    engine = ScriptedEngine(chat, search_then_answer())
    loop = verl_module.RedSearcherAgentLoop({}, ServerManager(engine), chat.tokenizer, None)
    out = asyncio.run(loop.run({}, **row(answer=None)))
    assert set(out.response_mask) == {0} and "unscored" in out.extra_fields


def test_compute_score_judges_the_answer_tag(verl_module: Any) -> None:
    assert verl_module.compute_score("rs", f"x <answer>{ANSWER}</answer>", ANSWER) == 1.0
    assert verl_module.compute_score("rs", "<answer>nobody</answer>", ANSWER) == 0.0


def test_the_env_url_is_required(verl_module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from redsearcher.errors import ConfigError

    monkeypatch.delenv("REDSEARCHER_ENV_URL", raising=False)
    with pytest.raises(ConfigError, match="REDSEARCHER_ENV_URL"):
        verl_module.RedSearcherAgentLoop({}, None, None, None)
