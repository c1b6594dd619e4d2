"""``/visit`` in the server's render style (or the request's): the in-process tool's text.

An agent trained on DeepTraceHub's text reaching our visit over HTTP must read what the
in-process ``visit`` tool of that style gives; the default stays Tongyi's, byte for byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from server_support import Known

from redsearcher.config import load_config
from redsearcher.env import LocalEnvironment
from redsearcher.errors import ConfigError
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.tools import Toolbox, goal_visit

GOAL = "who directed the film"


def requests(known: Known) -> list[dict[str, Any]]:
    return [
        {"url": known.doc_url, "goal": GOAL},
        {"url": [known.doc_url, "https://www.nowhere-at-all.com/"], "goal": GOAL},
    ]


def in_process(env: LocalEnvironment, style: str, args: dict[str, Any]) -> str:
    return asyncio.run(Toolbox.local(env, style=style).call("visit", args))


@pytest.fixture(scope="module")
def dth_client(index_dir: Path, local_env: LocalEnvironment) -> Iterator[httpx.Client]:
    config = ServerConfig(index=index_dir, sandbox=None, render_style="deeptracehub")
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        yield c


def test_configured_style_is_the_in_process_tools(
    dth_client: httpx.Client, local_env: LocalEnvironment, known: Known
) -> None:
    for body in requests(known):
        r = dth_client.post("/visit", json=body)
        assert r.status_code == 200, r.text
        text = r.json()["result"]
        assert text == in_process(local_env, "deeptracehub", body)
        assert text != in_process(local_env, "tongyi", body)  # the styles do differ here
        assert not text.endswith("\n")  # DeepTraceHub strips the joined result


def test_default_is_tongyi_byte_for_byte(
    client: httpx.Client, local_env: LocalEnvironment, known: Known
) -> None:
    for body in requests(known):
        text = client.post("/visit", json=body).json()["result"]
        assert text == in_process(local_env, "tongyi", body)
        urls = body["url"] if isinstance(body["url"], list) else [body["url"]]
        assert text == asyncio.run(goal_visit(local_env, urls, GOAL))
        assert text.endswith("\n\n")


def test_the_request_may_name_a_style(
    client: httpx.Client, dth_client: httpx.Client, local_env: LocalEnvironment, known: Known
) -> None:
    body = requests(known)[1]
    r = client.post("/visit", json={**body, "render_style": "deeptracehub"})
    assert r.json()["result"] == in_process(local_env, "deeptracehub", body)
    r = dth_client.post("/visit", json={**body, "render_style": "tongyi"})
    assert r.json()["result"] == in_process(local_env, "tongyi", body)
    r = client.post("/visit", json={**body, "render_style": "hermes"})
    assert r.status_code == 400
    message = r.json()["message"]
    assert "'render_style'" in message and "'hermes'" in message
    assert "known: deeptracehub, tongyi" in message


def test_config_validates_the_style(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ServerConfig().render_style == "tongyi"
    with pytest.raises(ValidationError, match="unknown render_style 'hermes'; known: deep"):
        ServerConfig(render_style="hermes")
    monkeypatch.setenv("REDSEARCHER_SERVER__RENDER_STYLE", "deeptracehub")
    assert load_config(ServerConfig, "server").render_style == "deeptracehub"
    monkeypatch.setenv("REDSEARCHER_SERVER__RENDER_STYLE", "hermes")
    with pytest.raises(ConfigError, match=r"server\.render_style: .*known: deeptracehub, tongyi"):
        load_config(ServerConfig, "server")
