"""Helpers shared by the agent tests (imported by name: pytest puts this directory on
``sys.path``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.agent._loop import TokenCount
from redsearcher.env import LocalEnvironment
from redsearcher.log import Message, Task, Trajectory
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.testing import ScriptedChatServer
from redsearcher.tools import Toolbox

QUESTION = "Which actor appeared in a 1990 film that was directed by the actor's own parent?"
TASK = Task(id="tiny-1", question=QUESTION, answer="Ilse Velden")


def make_model(
    server: ScriptedChatServer, protocol: str = "native", **options: Any
) -> OpenAIChatModel:
    options.setdefault("max_retries", 0)
    options.setdefault("backoff_s", 0.0)
    config = ModelConfig(
        name=options.pop("name", "scripted"),
        base_url=server.base_url,
        api_key=SecretStr("sk-test"),
        protocol=protocol,  # type: ignore[arg-type]
        **options,
    )
    return OpenAIChatModel(config)


def per_message(messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> int:
    """A deterministic counter: 10 tokens per message, nothing else."""
    return 10 * len(messages)


def episode(
    server: ScriptedChatServer,
    env: LocalEnvironment,
    *,
    protocol: str = "native",
    config: AgentConfig | None = None,
    task: Task = TASK,
    toolbox: Toolbox | None = None,
    count_tokens: TokenCount | None = None,
    model_options: dict[str, Any] | None = None,
    **kw: Any,
) -> Trajectory:
    """Run one episode against the scripted server over real HTTP."""

    async def main() -> Trajectory:
        box = toolbox or Toolbox.local(env)
        async with make_model(server, protocol, **(model_options or {})) as model, box:
            return await run_episode(
                task,
                model=model,
                toolbox=box,
                config=config or AgentConfig(),
                count_tokens=count_tokens,
                **kw,
            )

    return asyncio.run(main())
