"""Shared pieces of the adapter tests: a real environment server, a scripted token engine, and
stand-ins for trainers that are not installed (verl)."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from redsearcher.env import build_index
from redsearcher.model import TokenizerChat
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import ScriptedModel, Step, text_answer, text_tool_call, tiny_world

#: The tiny World's answer to "Who is Marta Velden's sibling?" style questions.
ANSWER = "Ilse Velden"


def serve_tiny(root: Path) -> Iterator[EnvServer]:
    tiny_world(root / "world")
    build_index(root / "world", root / "world.index", progress=False)
    with EnvServer(ServerConfig(index=root / "world.index", sandbox=None)) as server:
        yield server


def served(base_url: str, endpoint: str = "search") -> int:
    """Requests the environment server answered on ``endpoint`` (its Prometheus counter)."""
    total = 0.0
    for line in httpx.get(f"{base_url}/metrics", timeout=10).text.splitlines():
        if line.startswith("redsearcher_env_requests_total{") and f'endpoint="{endpoint}"' in line:
            total += float(line.rpartition(" ")[2])
    return int(total)


def search_then_answer(answer: str = ANSWER) -> list[Step]:
    return [
        Step(content=text_tool_call("search", {"query": ["Marta Velden"]})),
        Step(content=text_answer(answer)),
    ]


class ScriptedEngine:
    """A trainer's token-in/token-out engine, played by ``ScriptedModel``'s vLLM answers."""

    def __init__(self, chat: TokenizerChat, steps: Sequence[Step]) -> None:
        self.model = ScriptedModel(list(steps), protocol="text", chat_template=chat)
        self.prompts: list[list[int]] = []
        self.outputs: list[list[int]] = []

    async def __call__(self, prompt_ids: list[int]) -> tuple[list[int], list[float]]:
        answer = await self.model.complete_ids(prompt_ids)
        self.prompts.append(list(prompt_ids))
        self.outputs.append(list(answer.ids))
        return list(answer.ids), list(answer.logprobs)


class VerlAgentLoopMetrics(BaseModel):
    """Stand-in for verl 0.9.1's ``AgentLoopMetrics``."""

    generate_sequences: float = 0.0
    tool_calls: float = 0.0
    compute_score: float = 0.0
    num_preempted: int = -1


class VerlAgentLoopOutput(BaseModel):
    """Stand-in for verl 0.9.1's ``AgentLoopOutput`` (its fields; extra fields refused)."""

    model_config = ConfigDict(extra="forbid")
    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    response_logprobs: list[float] | None = None
    routed_experts: Any | None = None
    multi_modal_data: dict[str, Any] | None = None
    reward_score: float | None = None
    num_turns: int = 0
    metrics: VerlAgentLoopMetrics
    extra_fields: dict[str, Any] = {}


class VerlDictConfigWrap:
    """Stand-in for verl's ``DictConfigWrap`` (keeps hydra from resolving the config)."""

    def __init__(self, config: Any) -> None:
        self.config = config


class VerlAgentLoopBase:
    """Stand-in for verl 0.9.1's ``AgentLoopBase``: its constructor, keyword by keyword."""

    def __init__(
        self,
        trainer_config: VerlDictConfigWrap,
        server_manager: Any,
        tokenizer: Any,
        processor: Any,
        dataset_cls: Any,
        data_config: VerlDictConfigWrap,
        hf_model_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.config = trainer_config.config
        self.server_manager = server_manager
        self.tokenizer = tokenizer
        self.processor = processor
        self.data_config = data_config.config


def verl_stand_in() -> dict[str, types.ModuleType]:
    """Stand-in ``verl`` modules (for ``sys.modules``) with fresh registries.

    ``agent_loop``: the classes above and ``register`` (the ``{"_target_": fqdn}`` entry verl
    instantiates, in ``_agent_loop_registry``); ``core_algos``: ``register_adv_est``, which
    refuses a second function under one name as verl's does (``ADV_ESTIMATOR_REGISTRY``).
    """
    names = [
        "verl",
        "verl.experimental",
        "verl.experimental.agent_loop",
        "verl.experimental.agent_loop.agent_loop",
        "verl.trainer",
        "verl.trainer.ppo",
        "verl.trainer.ppo.core_algos",
    ]
    modules = {name: types.ModuleType(name) for name in names}
    agent_loops: dict[str, dict[str, str]] = {}
    estimators: dict[str, Any] = {}

    def register(name: str) -> Callable[[type], type]:
        def wrap(cls: type) -> type:
            agent_loops[name] = {"_target_": f"{cls.__module__}.{cls.__qualname__}"}
            return cls

        return wrap

    def register_adv_est(name: str) -> Callable[[Any], Any]:
        def wrap(fn: Any) -> Any:
            if name in estimators and estimators[name] is not fn:
                raise ValueError(f"Adv estimator {name} has already been registered")
            estimators[name] = fn
            return fn

        return wrap

    loop = modules["verl.experimental.agent_loop.agent_loop"]
    loop.AgentLoopBase = VerlAgentLoopBase  # type: ignore[attr-defined]
    loop.AgentLoopOutput = VerlAgentLoopOutput  # type: ignore[attr-defined]
    loop.DictConfigWrap = VerlDictConfigWrap  # type: ignore[attr-defined]
    loop.register = register  # type: ignore[attr-defined]
    loop._agent_loop_registry = agent_loops  # type: ignore[attr-defined]
    algos = modules["verl.trainer.ppo.core_algos"]
    algos.register_adv_est = register_adv_est  # type: ignore[attr-defined]
    algos.ADV_ESTIMATOR_REGISTRY = estimators  # type: ignore[attr-defined]
    return modules
