"""Small, cheap connection pools for hundreds of concurrent requests.

Why: on the rollout's event loop, the HTTP client's CPU per request caps throughput, not the
servers. Two things matter, both measured on 2 cores against scripted chat servers (numbers
in docs/rollout.md and benchmarks/RESULTS.md):

- Pool size. httpcore's pool scans every pooled connection on each request, so one pool of
  256 kept-alive connections cost 20 ms of client CPU per request; 64 pools of 4, each client
  keeping to one pool, 1.4 ms. So the endpoint pool gives each inference server several model
  clients ("lanes") and pins a trajectory to one (:func:`lane_transport`), and the tools'
  backend deals requests round-robin over small inner pools (:class:`ShardedTransport`).
  Keeping a client on one pool matters when the pool serves several hosts: a request that
  lands in a pool whose idle connections go elsewhere opens a new connection (+0.5 ms).
- The HTTP/1.1 implementation. :class:`AiohttpTransport` keeps httpx's client API but sends
  through aiohttp's C parser: 0.65 ms of client CPU per request against httpcore's 2.3 ms.

aiohttp sets ``TCP_NODELAY`` on every connection (a request's headers and body written
separately would otherwise wait for the server's delayed ACK, ~40 ms), and the transports
share one TLS context (building one costs ~25 ms of CPU).
"""

from __future__ import annotations

import ssl
from functools import cache

import aiohttp
import httpx

__all__ = ["AiohttpTransport", "ShardedTransport", "lane_transport"]


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _error(err: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx error for an aiohttp failure (``send_with_retries`` retries transport errors)."""
    message = f"{type(err).__name__}: {err}"
    kind: type[httpx.TransportError]
    if isinstance(err, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(err, (aiohttp.SocketTimeoutError, TimeoutError)):
        kind = httpx.ReadTimeout
    elif isinstance(err, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(err, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        kind = httpx.RemoteProtocolError
    else:
        kind = httpx.ReadError
    return kind(message, request=request)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's client API over one aiohttp connection pool.

    Why: per request, httpcore's pure-Python HTTP/1.1 (h11) and pool bookkeeping cost several
    times the CPU of aiohttp's C parser. Measured with 32 concurrent clients against a local
    server: httpx's own transport 2.3 ms of client CPU per request, this one 0.65 ms, aiohttp
    alone 0.35 ms. Everything above the transport (``send_with_retries``, ``httpx.Response``,
    tests' ``MockTransport``) stays httpx. Bodies are read whole: requests and answers here
    are JSON of at most a few megabytes, never streamed.

    Args:
        connections: Most connections kept and opened (per transport, all hosts together).
    """

    def __init__(self, connections: int) -> None:
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use, inside the event loop that will use it (aiohttp requires that).
        # aiohttp sets TCP_NODELAY on its connections itself. No trust_env: it would look up
        # ~/.netrc in a thread for every request, and an httpx client given an explicit
        # transport ignores proxy variables too.
        connector = aiohttp.TCPConnector(limit=self._connections, ssl=_tls_context())
        return aiohttp.ClientSession(connector=connector, auto_decompress=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` with httpx's per-request timeouts; map failures to httpx errors."""
        if self._session is None:
            self._session = self._open()
        limits = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=limits.get("pool"),
            sock_connect=limits.get("connect"),
            sock_read=limits.get("read"),
        )
        body = await request.aread()
        try:
            async with self._session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            raise _error(err, request) from err
        reason = answer.reason or ""
        # httpx decodes Content-Encoding itself (the session does not decompress).
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason.encode()},
        )

    async def aclose(self) -> None:
        """Close the pool's connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def lane_transport(connections: int) -> httpx.AsyncBaseTransport:
    """One small pool: ``connections`` kept-alive connections, ``TCP_NODELAY``, shared TLS."""
    return AiohttpTransport(connections)


class ShardedTransport(httpx.AsyncBaseTransport):
    """Deal requests round-robin over ``shards`` small pools (for one host; see module doc).

    Args:
        shards: Number of inner pools.
        connections: Connections per inner pool.
    """

    def __init__(self, shards: int, connections: int = 4) -> None:
        if shards < 1 or connections < 1:
            raise ValueError("shards and connections must be >= 1")
        self._shards = [lane_transport(connections) for _ in range(shards)]
        self._next = 0

    @property
    def shards(self) -> int:
        """How many inner pools there are."""
        return len(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the next pool."""
        shard = self._shards[self._next]
        self._next = (self._next + 1) % len(self._shards)
        return await shard.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool's connections."""
        for shard in self._shards:
            await shard.aclose()
