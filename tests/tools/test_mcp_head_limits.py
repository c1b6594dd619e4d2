"""The MCP server over HTTP bounds request heads as the environment server does: a head that
does not arrive in time is answered 408 and its connection closed (slowloris), a head over the
size bound 431. Against a real ``redsearcher env mcp --transport http`` subprocess at the
defaults of ``env serve`` (10 s, 64 KiB), and in-process with shortened limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import mcp_types
import pytest
from mcp.server.lowlevel import Server
from mcp_support import serving_mcp

from redsearcher._util import HEADER_TIMEOUT_S, MAX_HEADER_BYTES
from redsearcher.testing import closed_within
from redsearcher.tools.mcp import serve_http

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "head-limit-test", "version": "0"},
    },
}


def _connect(url: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", httpx.URL(url).port), timeout=5)


def _refusal(answer: bytes, status: int) -> str:
    """The JSON-RPC error message of a ``status`` refusal (the MCP server's error shape)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    assert b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["jsonrpc"] == "2.0" and error["id"] is None, error
    assert error["error"]["code"] == mcp_types.INVALID_REQUEST
    return str(error["error"]["message"])


def _half_sent(url: str) -> list[socket.socket]:
    """Connections that never finish a head: silent, half a request line, half the headers."""
    socks = [_connect(url) for _ in range(3)]
    socks[1].sendall(b"POST /mc")
    socks[2].sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    return socks


def _oversized_head(url: str, limit: int) -> bytes | None:
    """Send a head a little over ``limit`` (never finished); what came back before the close.

    A little over, in one write, so the server has read all of it when it refuses: a close
    with unread bytes is a reset, which may drop the answer on the way.
    """
    with _connect(url) as sock:
        line = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        sock.sendall(line + b"a" * (limit + 512 - len(line)))
        return closed_within(sock, 10.0)


def _initialize(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url, json=INITIALIZE, headers={**ACCEPT, **headers}, timeout=30)


@pytest.fixture(scope="module")
def served(tiny_index: Path) -> Iterator[str]:
    with serving_mcp(tiny_index) as url:
        yield url


def test_half_sent_heads_are_answered_408_and_closed_at_the_default_timeout(served: str) -> None:
    socks = _half_sent(served)
    try:
        started = time.monotonic()
        answers = [closed_within(s, HEADER_TIMEOUT_S + 10.0) for s in socks]
        waited = time.monotonic() - started
        assert all(a is not None for a in answers), "a half-sent request was kept open"
        # Closed at env serve's 10 s: not before, and not long after on a busy machine.
        assert HEADER_TIMEOUT_S - 0.5 < waited < HEADER_TIMEOUT_S + 5.0, waited
        for answer in answers:
            assert answer is not None
            assert "not received within 10 s" in _refusal(answer, 408)
    finally:
        for sock in socks:
            sock.close()
    assert _initialize(served).status_code == 200  # the server still serves


def test_oversized_head_is_answered_431_and_closed(served: str) -> None:
    answer = _oversized_head(served, MAX_HEADER_BYTES)
    assert answer is not None, "a head over 64 KiB was kept open"
    assert "larger than 65536 bytes" in _refusal(answer, 431)
    # A head under the bound is served.
    assert _initialize(served, X_Big="a" * (MAX_HEADER_BYTES // 2)).status_code == 200


@contextlib.contextmanager
def serving_in_process(header_timeout_s: float, max_header_bytes: int) -> Iterator[str]:
    """``serve_http`` of an empty MCP server in a thread with these limits; yield its URL."""
    urls: queue.Queue[str] = queue.Queue()
    started: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]] = queue.Queue()

    async def main() -> None:
        serving = asyncio.ensure_future(
            serve_http(
                Server("head-limits"),
                port=0,
                header_timeout_s=header_timeout_s,
                max_header_bytes=max_header_bytes,
                on_ready=urls.put,
            )
        )
        started.put((asyncio.get_running_loop(), serving))
        with contextlib.suppress(asyncio.CancelledError):
            await serving

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    loop, serving = started.get(timeout=30)
    try:
        yield urls.get(timeout=30)
    finally:
        loop.call_soon_threadsafe(serving.cancel)
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_serve_http_takes_shorter_limits() -> None:
    with serving_in_process(header_timeout_s=1.0, max_header_bytes=4096) as url:
        socks = _half_sent(url)
        try:
            started = time.monotonic()
            answers = [closed_within(s, 5.0) for s in socks]
            assert all(a is not None for a in answers), "a half-sent request was kept open"
            assert time.monotonic() - started < 4.0  # 1 s, generous for a busy machine
            assert all(a is not None and "within 1 s" in _refusal(a, 408) for a in answers)
        finally:
            for sock in socks:
                sock.close()
        answer = _oversized_head(url, 4096)
        assert answer is not None and "larger than 4096 bytes" in _refusal(answer, 431)


@pytest.mark.parametrize(
    ("limits", "match"),
    [
        ({"header_timeout_s": 0.0}, "header_timeout_s"),
        ({"max_header_bytes": 0}, "max_header_bytes"),
    ],
)
def test_serve_http_refuses_limits_that_are_not_positive(
    limits: dict[str, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        asyncio.run(serve_http(Server("head-limits"), port=0, **limits))  # type: ignore[arg-type]
