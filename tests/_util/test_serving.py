from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from redsearcher._util._serving import ThreadedUvicorn


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


def test_serves_on_a_free_loopback_port_and_stops() -> None:
    server = ThreadedUvicorn(hello, name="t")
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    server.start()
    try:
        assert server.running and server.port > 0
        assert server.url("/x").startswith("http://127.0.0.1:")
        with httpx.Client() as client:  # kept-alive connection: several requests on one socket
            assert [client.get(server.url("/")).text for _ in range(3)] == ["hello"] * 3
        with pytest.raises(RuntimeError, match="only once"):
            server.start()
    finally:
        server.stop()
    assert not server.running
    server.stop()  # idempotent


def test_busy_port_raises_oserror() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            ThreadedUvicorn(hello, port=taken.getsockname()[1]).start()
