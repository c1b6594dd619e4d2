"""The rollout's pooled transports: real requests, and failures as the httpx errors retries expect.

``send_with_retries`` retries on ``httpx.TransportError``; the pools run on aiohttp, so a refused
connection and a server that stops answering must still arrive as httpx's transport errors.
"""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from redsearcher.rollout._http import lane_transport
from redsearcher.testing import ScriptedChatServer, Step


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


async def _get(transport: httpx.AsyncBaseTransport, url: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, **kwargs) as client:  # type: ignore[arg-type]
        return await client.get(url)


def test_lane_transport_answers_and_keeps_the_connection() -> None:
    server = ScriptedChatServer([Step(content="unused")]).start()
    try:

        async def go() -> list[int]:
            transport = lane_transport(2)
            async with httpx.AsyncClient(transport=transport) as client:
                return [(await client.get(server.base_url + "/models")).status_code for _ in "abc"]

        assert asyncio.run(go()) == [200, 200, 200]
    finally:
        server.stop()


def test_refused_connection_is_an_httpx_connect_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1/models"
    with pytest.raises(httpx.ConnectError):
        asyncio.run(_get(lane_transport(1), url))


def test_silent_server_is_an_httpx_timeout() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts connections, never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/models"
        with pytest.raises(httpx.TimeoutException) as caught:
            asyncio.run(_get(lane_transport(1), url, timeout=httpx.Timeout(0.3)))
        assert isinstance(caught.value, httpx.TransportError)
    finally:
        listener.close()
