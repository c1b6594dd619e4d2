"""Running one turn's tool calls: concurrently, in order, every outcome recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from redsearcher.agent import ToolCrashed, execute_calls
from redsearcher.env import LocalEnvironment
from redsearcher.errors import ConfigError
from redsearcher.model import ParsedCall
from redsearcher.tools import LocalBackend, Toolbox


class BarrierBackend(LocalBackend):
    """Each search waits until the other one has started: only concurrent calls finish."""

    def __init__(self, env: LocalEnvironment, parties: int) -> None:
        super().__init__(env)
        self.started = 0
        self.all_started = asyncio.Event()
        self.parties = parties

    async def search(self, query: str, num: int) -> dict[str, Any]:
        self.started += 1
        if self.started == self.parties:
            self.all_started.set()
        await asyncio.wait_for(self.all_started.wait(), 5)
        return await super().search(query, num)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_calls_run_concurrently_and_are_recorded_in_order(tiny_env: LocalEnvironment) -> None:
    calls = [
        ParsedCall(f"c{i}", "search", {"query": [q]}) for i, q in enumerate(["Harwick", "Caldora"])
    ]

    async def main() -> Any:
        box = Toolbox(BarrierBackend(tiny_env, 2))
        return await execute_calls(box, calls, offered=["search"], turn=4, segment=1)

    records, executed = run(main())
    assert executed == 2
    assert [(r.id, r.turn, r.segment, r.name, r.error) for r in records] == [
        ("c0", 4, 1, "search", False),
        ("c1", 4, 1, "search", False),
    ]
    assert "Harwick" in records[0].output and "Caldora" in records[1].output


def test_budget_counts_only_calls_that_run(tiny_env: LocalEnvironment) -> None:
    calls = [
        ParsedCall("bad", "search", "{", "broken"),
        ParsedCall("unknown", "browse", {}),
        ParsedCall("a", "search", {"query": ["Harwick"]}),
        ParsedCall("b", "search", {"query": ["Caldora"]}),
    ]
    records, executed = run(
        execute_calls(
            Toolbox.local(tiny_env), calls, offered=["search"], turn=0, segment=0, budget=1, limit=9
        )
    )
    assert executed == 1
    assert [r.output.split(".")[0] for r in records[:2]] == ["broken", "Unknown tool 'browse'"]
    assert not records[2].error
    assert (
        records[3].error
        and records[3].output == "Not run: the limit of 9 tool calls for this task was reached."
    )


def test_config_errors_propagate_and_bugs_are_named(tiny_env: LocalEnvironment) -> None:
    class Rejecting(LocalBackend):
        async def search(self, query: str, num: int) -> dict[str, Any]:
            raise ConfigError("the search key was rejected")

    class Buggy(LocalBackend):
        async def search(self, query: str, num: int) -> dict[str, Any]:
            empty: dict[str, dict[str, Any]] = {}
            return empty["organic"]

    call = [ParsedCall("c", "search", {"query": ["x"]})]
    with pytest.raises(ConfigError, match="rejected"):
        run(
            execute_calls(Toolbox(Rejecting(tiny_env)), call, offered=["search"], turn=0, segment=0)
        )
    with pytest.raises(ToolCrashed, match="tool search raised KeyError: 'organic'"):
        run(execute_calls(Toolbox(Buggy(tiny_env)), call, offered=["search"], turn=0, segment=0))
