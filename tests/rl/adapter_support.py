"""Shared pieces of the adapter tests: a real environment server and a scripted token engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

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
