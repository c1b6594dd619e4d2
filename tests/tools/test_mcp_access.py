"""The MCP server over HTTP has the environment server's access checks: the API key (both header
forms), the Host allow-list, JSON-only POSTs, plus the Origin check and a body bound; tested over
real HTTP against ``redsearcher env mcp`` subprocesses, with the SDK's own client where a
session is needed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import mcp_types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_support import serving_mcp

from redsearcher.tools._mcp import MCP_MAX_BODY_BYTES
from redsearcher.tools._tools import DEFAULT_TOOLS

KEY = "k3y-for-mcp-tests"

#: An MCP ``initialize`` request, as a client's first POST.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "access-test", "version": "0"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory, tiny_index: Path) -> Iterator[str]:
    key_file = tmp_path_factory.mktemp("key") / "key"
    key_file.write_text(f"{KEY}\n")
    args = ["--api-key-file", str(key_file), "--allowed-host", "search.internal"]
    with serving_mcp(tiny_index, *args, "--allowed-host", "*.corp.example") as url:
        yield url


@pytest.fixture(scope="module")
def open_server(tiny_index: Path) -> Iterator[str]:
    with serving_mcp(tiny_index) as url:
        yield url


def tool_names(url: str, headers: dict[str, str] | None = None) -> list[str]:
    """The tool list through the SDK's client, sending ``headers`` on every request."""

    async def main() -> list[str]:
        http = httpx2.AsyncClient(headers=headers or {}, timeout=30)
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            listed = await client.list_tools()
        return [t.name for t in listed.tools]

    return asyncio.run(main())


def post(url: str, body: Any = INITIALIZE, **headers: str) -> httpx.Response:
    """One raw POST to the MCP endpoint (JSON unless a Content-Type says otherwise)."""
    sent = {"Content-Type": "application/json", **ACCEPT}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url, content=data, headers=sent, timeout=30)


def jsonrpc_message(r: httpx.Response) -> str:
    body = r.json()
    assert body["jsonrpc"] == "2.0" and body["id"] is None, body
    assert body["error"]["code"] == mcp_types.INVALID_REQUEST
    return str(body["error"]["message"])


TOOLS = [t for t in DEFAULT_TOOLS if t != "PythonInterpreter"]


@pytest.mark.parametrize(
    "headers", [{"X-API-KEY": KEY}, {"Authorization": f"Bearer {KEY}"}], ids=["x-api-key", "bearer"]
)
def test_right_key_in_either_header_lists_the_tools(keyed: str, headers: dict[str, str]) -> None:
    assert tool_names(keyed, headers) == TOOLS


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-API-KEY": "wrong"}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}],
    ids=["none", "wrong-x-api-key", "wrong-bearer", "no-bearer-scheme"],
)
def test_missing_or_wrong_key_is_401(keyed: str, headers: dict[str, str]) -> None:
    r = post(keyed, **headers)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "API key" in jsonrpc_message(r)
    # Every method and path, not only the POSTs that start a session.
    assert httpx.get(keyed, headers={**ACCEPT, **headers}).status_code == 401
    assert httpx.delete(keyed, headers=headers).status_code == 401
    assert httpx.get(keyed.removesuffix("/mcp") + "/nowhere", headers=headers).status_code == 401
    # The SDK's client reports the server's reason.
    refused = pytest.RaisesExc(MCPError, match="API key")
    with pytest.RaisesGroup(refused, flatten_subgroups=True, allow_unwrapped=True):
        tool_names(keyed, headers)


def test_loopback_default_needs_no_key(open_server: str) -> None:
    assert tool_names(open_server) == TOOLS


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("10.1.2.3", True),  # an IP literal cannot be a rebound name
        ("search.internal", True),  # --allowed-host
        ("a.corp.example", True),  # --allowed-host '*.corp.example'
        ("evil.example", False),  # a rebound attacker's name
        ("corp.example.evil", False),
    ],
)
def test_host_allow_list(keyed: str, open_server: str, host: str, allowed: bool) -> None:
    port = httpx.URL(keyed).port
    r = post(keyed, Host=f"{host}:{port}", X_API_KEY=KEY)
    assert (r.status_code == 200) is allowed, r.text
    if not allowed:
        # 421 before the key is looked at, as the environment server answers.
        assert post(keyed, Host=host).status_code == 421
        assert r.status_code == 421 and "--allowed-host" in jsonrpc_message(r)
        assert post(open_server, Host=host).status_code == 421


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
def test_post_needs_a_json_content_type(
    keyed: str, open_server: str, content_type: str | None
) -> None:
    # What a web page may send cross-origin without a preflight: refused before the SDK reads it.
    body = json.dumps(INITIALIZE).encode()
    for url in (keyed, open_server):
        headers = {**ACCEPT, "X-API-KEY": KEY}
        if content_type is not None:
            headers["Content-Type"] = content_type
        r = httpx.post(url, content=body, headers=headers)
        assert r.status_code == 415, r.text
        assert "application/json" in jsonrpc_message(r)
    assert post(open_server, body).status_code == 200


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:6274", True),  # a local inspector page
        ("http://127.0.0.1:8080", True),
        ("https://search.internal", True),
        ("https://evil.example", False),
        ("http://10.9.9.9", False),  # an IP address is someone's site here, unlike in Host
        ("null", False),
    ],
)
def test_browser_pages_of_foreign_origins_are_refused(
    keyed: str, origin: str, allowed: bool
) -> None:
    r = post(keyed, Origin=origin, X_API_KEY=KEY)
    assert (r.status_code == 200) is allowed, r.text
    if not allowed:
        assert r.status_code == 403 and origin in jsonrpc_message(r)


def test_body_size_is_bounded(keyed: str) -> None:
    big = {**INITIALIZE, "pad": "x" * MCP_MAX_BODY_BYTES}
    assert post(keyed, big, X_API_KEY=KEY).status_code == 413
    # Without the key, nothing of the body is read: 401 first.
    assert post(keyed, big).status_code == 401


@pytest.fixture
def run_mcp_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What ``env mcp`` would serve: ``run_mcp``'s arguments, captured instead of served."""
    calls: list[dict[str, Any]] = []

    async def fake_run_mcp(index_dir: Path, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr("redsearcher.tools.mcp.run_mcp", fake_run_mcp)
    monkeypatch.delenv("REDSEARCHER_ENV_API_KEY", raising=False)
    return calls


def mcp_cli(*args: str) -> int:
    from redsearcher._cli import main

    with pytest.raises(SystemExit) as done:
        main(["env", "mcp", *args])
    return int(done.value.code or 0)


def test_cli_passes_key_and_hosts_and_warns_beyond_loopback(
    tiny_index: Path,
    tmp_path: Path,
    run_mcp_calls: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    http = [str(tiny_index), "--transport", "http", "--no-sandbox"]
    assert mcp_cli(*http) == 0
    assert run_mcp_calls[-1]["api_key"] is None and not run_mcp_calls[-1]["allowed_hosts"]
    assert "reachable" not in capsys.readouterr().err  # loopback: no warning

    assert mcp_cli(*http, "--host", "0.0.0.0") == 0
    err = capsys.readouterr().err
    assert "reachable from other machines" in err and "no API key" in err
    assert "PythonInterpreter" in err

    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    assert mcp_cli(*http, "--host", "0.0.0.0", "--api-key-file", str(key_file)) == 0
    assert run_mcp_calls[-1]["api_key"] == "from-file"
    err = capsys.readouterr().err
    assert "reachable" in err and "no API key" not in err and "process list" not in err

    monkeypatch.setenv("REDSEARCHER_ENV_API_KEY", "from-env")
    assert mcp_cli(*http, "--allowed-host", "a.example", "--allowed-host", "*.b.example") == 0
    assert run_mcp_calls[-1]["api_key"] == "from-env"
    assert list(run_mcp_calls[-1]["allowed_hosts"]) == ["a.example", "*.b.example"]

    assert mcp_cli(*http, "--api-key", "on-argv") == 0  # works, but says who can read it
    assert run_mcp_calls[-1]["api_key"] == "on-argv"
    assert "process list" in capsys.readouterr().err
    assert len(run_mcp_calls) == 5


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--api-key", "k"], "apply to --transport http"),  # stdio has no HTTP to guard
        (["--allowed-host", "a.example"], "apply to --transport http"),
        (["--transport", "http", "--api-key", "k", "--api-key-file", "f"], "contradict"),
        (["--transport", "http", "--api-key", "k\u00e9y"], "--api-key: api_key must be"),
        (["--transport", "http", "--api-key-file", "KEYFILE"], "line 1: the API key file is empty"),
    ],
)
def test_cli_refuses_bad_access_options(
    tiny_index: Path,
    tmp_path: Path,
    run_mcp_calls: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    problem: str,
) -> None:
    key_file = tmp_path / "KEYFILE"
    key_file.write_text("\n")
    args = [str(key_file) if a == "KEYFILE" else a for a in args]
    assert mcp_cli(str(tiny_index), "--no-sandbox", *args) == 2
    err = capsys.readouterr().err
    assert problem in err and ("KEYFILE" in err) is ("KEYFILE" in args[-1])
    assert run_mcp_calls == []
