"""``env mcp --render-style``: the MCP tools read as the in-process toolbox of that style.

An agent configured with ``render_style: deeptracehub`` must read the same bytes whether its
tools run in-process or behind ``redsearcher env mcp``; over both transports, real subprocesses.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp_support import EXE, serving_mcp

from redsearcher.env import LocalEnvironment
from redsearcher.errors import ConfigError
from redsearcher.tools._mcp import open_local_toolbox
from redsearcher.tools._tools import Toolbox

GOAL = "Who is the child of Marta Velden?"


def calls(env: LocalEnvironment) -> list[tuple[str, dict[str, Any]]]:
    url = env.search("Velden family child", k=1)[0].url
    return [
        ("search", {"query": ["Marta Velden daughter", "Quiet Harbor cast"]}),
        ("visit", {"url": url, "goal": GOAL}),
        ("visit", {"url": [url, "https://nowhere.example/x"], "goal": GOAL}),
        ("google_maps", {"q": "Harwick"}),
    ]


async def in_process(env: LocalEnvironment, style: str) -> list[str]:
    box = Toolbox.local(env, style=style)
    return [await box.call(name, args) for name, args in calls(env)]


async def through(client: Client, env: LocalEnvironment) -> list[str]:
    texts = []
    for name, args in calls(env):
        result = await client.call_tool(name, args)
        assert not result.is_error, result.content
        (block,) = result.content
        texts.append(block.text)  # type: ignore[union-attr]
    return texts


def check(texts: list[str], env: LocalEnvironment) -> None:
    dth = asyncio.run(in_process(env, "deeptracehub"))
    assert texts == dth
    # The test can fail: each of these calls reads otherwise in the default style (the tiny
    # World has no papers, and a scholar search without hits reads alike in both).
    tongyi = asyncio.run(in_process(env, "tongyi"))
    assert all(a != b for a, b in zip(texts, tongyi, strict=True))
    assert texts[0].splitlines()[3].startswith("0. [")  # DeepTraceHub numbers from 0


def test_stdio_with_deeptracehub(tiny_index: Path, tiny_env: LocalEnvironment) -> None:
    args = ["env", "mcp", str(tiny_index), "--no-sandbox", "--render-style", "deeptracehub"]
    # The SDK passes the server only a few variables unless told: PYTHONPATH must reach it so
    # the subprocess runs this checkout's code.
    params = StdioServerParameters(command=str(EXE), args=args, env=dict(os.environ))

    async def main() -> list[str]:
        async with Client(params, read_timeout_seconds=30) as client:
            return await through(client, tiny_env)

    check(asyncio.run(main()), tiny_env)


def test_streamable_http_with_deeptracehub(tiny_index: Path, tiny_env: LocalEnvironment) -> None:
    async def main(url: str) -> list[str]:
        async with Client(url, read_timeout_seconds=30) as client:
            return await through(client, tiny_env)

    with serving_mcp(tiny_index, "--render-style", "deeptracehub") as url:
        texts = asyncio.run(main(url))
    check(texts, tiny_env)


def test_open_local_toolbox_takes_the_style(tiny_index: Path) -> None:
    async def names(style: str | None) -> str:
        options = {} if style is None else {"style": style}
        async with open_local_toolbox(tiny_index, sandbox=False, **options) as box:
            return box.style.name

    assert asyncio.run(names(None)) == "tongyi"
    assert asyncio.run(names("deeptracehub")) == "deeptracehub"
    with pytest.raises(ConfigError, match="unknown render_style 'hermes'; known: deeptracehub"):
        asyncio.run(names("hermes"))


@pytest.mark.parametrize("command", ["mcp", "serve"])
def test_cli_refuses_an_unknown_style(
    command: str, tiny_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from redsearcher._cli import main

    with pytest.raises(SystemExit) as done:
        main(["env", command, str(tiny_index), "--render-style", "hermes"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "--render-style" in err and "'hermes'" in err
    assert "deeptracehub, tongyi" in err
