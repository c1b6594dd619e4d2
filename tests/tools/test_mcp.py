"""The MCP server: the same tools, schemas and text as the tools layer, in-process and over the
SDK's stdio and streamable HTTP transports against ``redsearcher env mcp`` subprocesses."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp_support import EXE, serving_mcp

from redsearcher.env import LocalEnvironment
from redsearcher.env._types import RunResult
from redsearcher.registry import lookup
from redsearcher.tools._mcp import build_mcp_server
from redsearcher.tools._tools import DEFAULT_TOOLS, Toolbox

GOAL = "Who is the child of Marta Velden?"


def calls(env: LocalEnvironment) -> list[tuple[str, dict[str, Any]]]:
    url = env.search("Velden family child", k=1)[0].url
    return [
        ("search", {"query": ["Marta Velden daughter", "Quiet Harbor cast"]}),
        ("visit", {"url": [url, "https://nowhere.example/x"], "goal": GOAL}),
        ("google_scholar", {"query": ["Quiet Harbor"]}),
        ("google_maps", {"q": "Harwick"}),
        ("google_maps_route", {"origin": "Harwick", "destination": "Harwick", "mode": "walking"}),
    ]


async def expected(env: LocalEnvironment) -> list[str]:
    box = Toolbox.local(env)
    return [await box.call(name, args) for name, args in calls(env)]


async def exercise(client: Client, env: LocalEnvironment) -> tuple[Any, list[str]]:
    listed = await client.list_tools()
    texts = []
    for name, args in calls(env):
        result = await client.call_tool(name, args)
        assert not result.is_error, result.content
        (block,) = result.content
        texts.append(block.text)  # type: ignore[union-attr]
    return listed, texts


def check_listing(listed: Any, env: LocalEnvironment, *, python: bool = True) -> None:
    names = [t for t in DEFAULT_TOOLS if python or t != "PythonInterpreter"]
    assert [t.name for t in listed.tools] == names
    for tool in listed.tools:
        definition = lookup("tool", tool.name)
        assert tool.description == definition.description
        assert tool.input_schema == definition.parameters()


class Runner:
    async def arun(self, code: str) -> RunResult:
        return RunResult("Finished", 0, f"ran {len(code)} chars\n", "", 0.0)


def test_in_process_session(tiny_env: LocalEnvironment) -> None:
    async def main() -> None:
        box = Toolbox.local(tiny_env, sandbox=Runner())
        async with Client(build_mcp_server(box)) as client:
            listed, texts = await exercise(client, tiny_env)
            check_listing(listed, tiny_env)
            assert texts == await expected(tiny_env)
            python = await client.call_tool("PythonInterpreter", {"code": "print(1)"})
            assert python.content[0].text == "stdout:\nran 8 chars\n"  # type: ignore[union-attr]
            bad = await client.call_tool(
                "google_maps_route", {"origin": "Atlantis", "destination": "x"}
            )
            assert bad.is_error
            assert bad.content[0].text.startswith("No route from 'Atlantis'")  # type: ignore[union-attr]
            invalid = await client.call_tool("search", {})
            assert invalid.is_error
            assert invalid.content[0].text == "Invalid arguments for search: query: Field required."  # type: ignore[union-attr]

    asyncio.run(main())


def test_stdio_subprocess(tiny_index: Path, tiny_env: LocalEnvironment) -> None:
    # The SDK passes the server only a few variables unless told: PYTHONPATH must reach it so
    # the subprocess runs this checkout's code, not whatever the venv's script imports.
    params = StdioServerParameters(
        command=str(EXE), args=["env", "mcp", str(tiny_index), "--no-sandbox"], env=dict(os.environ)
    )

    async def main() -> tuple[Any, list[str]]:
        async with Client(params, read_timeout_seconds=30) as client:
            return await exercise(client, tiny_env)

    listed, texts = asyncio.run(main())
    check_listing(listed, tiny_env, python=False)
    assert texts == asyncio.run(expected(tiny_env))


@pytest.fixture
def http_server(tiny_index: Path) -> Iterator[str]:
    with serving_mcp(tiny_index) as url:
        yield url


def test_streamable_http_subprocess(http_server: str, tiny_env: LocalEnvironment) -> None:
    async def main() -> tuple[Any, list[str]]:
        async with Client(http_server, read_timeout_seconds=30) as client:
            return await exercise(client, tiny_env)

    listed, texts = asyncio.run(main())
    check_listing(listed, tiny_env, python=False)
    assert texts == asyncio.run(expected(tiny_env))


def test_cli_rejects_an_unknown_transport(tiny_index: Path) -> None:
    from redsearcher._cli import main

    with pytest.raises(SystemExit) as done:
        main(["env", "mcp", str(tiny_index), "--transport", "carrier-pigeon"])
    assert done.value.code == 2


def test_cli_serves_a_world_from_its_default_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`env mcp WORLD` resolves a World as `env serve WORLD` does: indexed once, beside it."""
    from redsearcher._cli import main
    from redsearcher.env import default_index_dir
    from redsearcher.testing import tiny_world

    world = tmp_path / "w"
    tiny_world(world)
    served: list[Path] = []

    async def fake_run_mcp(index_dir: Path, **kwargs: Any) -> None:
        served.append(Path(index_dir))

    monkeypatch.setattr("redsearcher.tools.mcp.run_mcp", fake_run_mcp)
    for _ in range(2):  # the second run finds the index the first one built
        with pytest.raises(SystemExit) as done:
            main(["env", "mcp", str(world), "--no-sandbox"])
        assert done.value.code == 0
    assert served == [default_index_dir(world)] * 2
    assert (default_index_dir(world) / "index.json").is_file()
    out, err = capsys.readouterr()
    assert out == ""  # stdout is the MCP stream: no progress bar, no messages
    assert err.count("indexing it into") == 1
    with pytest.raises(SystemExit) as done:
        main(["env", "mcp", str(tmp_path)])
    assert done.value.code == 2 and "neither a search index" in capsys.readouterr().err
