"""Small connection pools for hundreds of concurrent requests.

Why: httpcore's connection pool scans every pooled connection on each request (expiry checks
that poll the socket, idle checks), so one pool of hundreds of kept-alive connections costs
milliseconds of CPU per request, and the event loop, not the servers, caps a rollout's
throughput. Measured on 2 cores against two scripted chat servers, 256 concurrent clients of
20 sequential requests, keep-alive (see docs/rollout.md): one pool of 256 connections 20 ms of
client CPU per request; 64 pools of 4 connections, each client keeping to one pool, 1.4 ms.

So the rollout uses many small pools: the endpoint pool gives each inference server several
model clients ("lanes") and pins a trajectory to one (:func:`lane_transport`); the tools' HTTP
backend talks to one environment server through :class:`ShardedTransport`, which deals requests
round-robin over small inner pools. Keeping a client on one pool matters when the pool serves
several hosts: a request that lands in a pool whose idle connections go elsewhere opens a new
connection (measured: +0.5 ms per request).

Every transport here sets ``TCP_NODELAY``: h11 writes a request's headers and body separately,
and on a kept-alive connection Nagle's algorithm would hold the body back until the server's
delayed ACK (~40 ms). Transports share one TLS context (building one costs ~25 ms of CPU).
"""

from __future__ import annotations

import socket
import ssl
from functools import cache

import httpx

__all__ = ["ShardedTransport", "lane_transport"]

_NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def lane_transport(connections: int) -> httpx.AsyncHTTPTransport:
    """One small pool: ``connections`` kept-alive connections, ``TCP_NODELAY``, shared TLS."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncHTTPTransport(verify=_tls_context(), limits=limits, socket_options=_NODELAY)


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
