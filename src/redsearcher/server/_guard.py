"""The outermost layer of every request: access, size limit, text check, faults, deadline, metrics.

A pure ASGI middleware rather than FastAPI dependencies because all these concerns must also
cover requests that never reach a route: a 10 MiB body must be refused before anything parses
it, an injected 503 must not run the handler, a missing key must stop a request to an unknown
path too, and the metrics must count 404s and 413s.

Order for one request: name its endpoint from the path, count it in flight, check access
(``redsearcher._util.AccessPolicy``, shared with the MCP server: a foreign ``Host`` is 421, a
missing or wrong key 403, a POST body not declared JSON 415), read the body within the request
deadline (413 when oversized, 408 when it does not arrive), refuse strings that are not UTF-8 or
hold control characters (400 naming the field, ``_text``), draw a fault (delay, then an injected 5xx
or a hang that ends in 504), then run the app under its deadline (504 when it runs over), and record
status and latency.

The deadline is ``request_timeout_s``, except for ``/run_code``: a run may legitimately last
its whole ``run_timeout`` (DeepTraceHub asks for 120 s) after waiting for a free sandbox slot,
so its deadline is ``ServerConfig.run_code_deadline_s`` (twice the sandbox's cap by default).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import anyio

from redsearcher._util import AccessPolicy, HostPolicy
from redsearcher.server._config import ENDPOINTS
from redsearcher.server._state import ServerState, error_body
from redsearcher.server._text import body_text_problem

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    _Reply = Callable[..., Awaitable[None]]

__all__ = ["Guard", "endpoint_of", "looks_like_url", "replay"]

log = logging.getLogger(__name__)

_PATHS = {
    "/search": "search",
    "/scholar": "scholar",
    "/maps": "maps",
    "/route": "route",
    "/retrieve": "retrieve",
    "/access": "access",
    "/local/search": "local_search",
    "/local/crawl": "local_crawl",
    "/run_code": "run_code",
    "/visit": "visit",
    "/health": "health",
    "/metrics": "metrics",
    "/openapi.json": "openapi",
    "/docs": "docs",
}


def looks_like_url(rest: str) -> bool:
    """Whether the path after ``GET /`` names a page (``host.tld/...``, with or without scheme).

    Anything else (``/foo``) is an unknown route and gets 404, not the reader's not-found.
    """
    rest = rest.split("://", 1)[1] if "://" in rest else rest.removeprefix("http:/")
    rest = rest.removeprefix("https:/").lstrip("/")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return "." in host.strip(".")


def endpoint_of(method: str, path: str) -> str:
    """The endpoint name of a request (metrics label, fault key); ``other`` when unknown."""
    name = _PATHS.get(path)
    if name is not None:
        return name
    if path == "/" and method == "POST":
        return "reader"
    if method in ("GET", "HEAD") and looks_like_url(path[1:]):
        return "reader"
    return "other"


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that returns ``body`` as one message, then defers to ``receive``."""
    replayed = False

    async def replayer() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayer


class _BodyTooLarge(Exception):
    pass


#: Endpoints whose strings are program text or raw input: control characters are theirs.
_FREE_TEXT = frozenset({"run_code"})


class Guard:
    """The ASGI middleware described in the module docstring.

    Args:
        app: The wrapped application.
        state: The server state (config, metrics, faults).
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state
        # Metric children by label values: ``labels()`` takes a lock and builds a key on every
        # call, and returns the same child for the same values anyway.
        self._children: dict[tuple[str, ...], Any] = {}
        self._deadlines = {"run_code": state.config.run_code_deadline_s}
        self._body_limits = {"run_code": state.config.run_code_body_bytes}
        config = state.config
        self._access = AccessPolicy(HostPolicy(config.host, config.allowed_hosts), config.api_key)
        self._public = frozenset(state.config.public_endpoints)

    def _child(self, family: str, *labels: str) -> Any:
        key = (family, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = getattr(self.state.metrics, family).labels(*labels)
        return child

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_of(scope["method"], scope["path"])
        started = time.perf_counter()
        status = [0]

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        async def reply(code: int, message: str, *, close: bool = False) -> None:
            if status[0]:
                return  # the response already started; nothing sensible to add
            body = json.dumps(error_body(code, message)).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ]
            if close:  # uvicorn ends the connection after a response that says so
                headers.append((b"connection", b"close"))
            await send_tracked({"type": "http.response.start", "status": code, "headers": headers})
            await send_tracked({"type": "http.response.body", "body": body})

        in_flight = self._child("in_flight", endpoint)
        in_flight.inc()
        try:
            refusal = self._refusal(scope, endpoint)
            if refusal is not None:
                await reply(*refusal)
                return
            # asyncio's own timeout, not anyio.fail_after: uvicorn always runs asyncio, and
            # anyio's cancel scope cost ~0.1 ms of CPU per request (an empty /search 0.53 ->
            # 0.41 ms in process).
            # The body gets ``request_timeout_s`` on every endpoint (a /run_code deadline of
            # 240 s is for the run, not for sending at most max_body_bytes).
            read_s = self.state.config.request_timeout_s
            limit = self._body_limits.get(endpoint, self.state.config.max_body_bytes)
            try:
                async with asyncio.timeout(read_s):
                    receive, raw = await self._buffer(scope, receive, limit)
            except _BodyTooLarge:
                await reply(413, f"request body larger than {limit} bytes")
                return
            except TimeoutError:
                await reply(408, f"request body not received within {read_s:g} s", close=True)
                return
            if raw and endpoint in ENDPOINTS:
                problem = body_text_problem(raw, controls=endpoint not in _FREE_TEXT)
                if problem is not None:
                    await reply(400, problem)
                    return
            if endpoint in ENDPOINTS and await self._fault(endpoint, reply):
                return
            deadline = self._deadlines.get(endpoint, self.state.config.request_timeout_s)
            try:
                async with asyncio.timeout(deadline):
                    await self.app(scope, receive, send_tracked)
            except TimeoutError:
                await reply(504, f"request to {endpoint} timed out on the server")
        except BaseException:
            if not status[0]:
                status[0] = 500
            raise
        finally:
            in_flight.dec()
            self._child("requests", endpoint, str(status[0] or 500)).inc()
            self._child("latency", endpoint).observe(time.perf_counter() - started)

    def _refusal(self, scope: Scope, endpoint: str) -> tuple[int, str] | None:
        """The access checks: ``(status, message)`` when refused, else None."""
        return self._access.refusal(
            scope, key=endpoint not in self._public, json=endpoint in ENDPOINTS
        )

    async def _buffer(self, scope: Scope, receive: Receive, limit: int) -> tuple[Receive, bytes]:
        """Read the whole body (at most ``limit`` bytes); a ``receive`` that replays it, and it."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        raise _BodyTooLarge
                except ValueError:
                    pass
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return receive, b""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # disconnected; the app will see an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        return replay(raw, receive), raw

    async def _fault(self, endpoint: str, reply: _Reply) -> bool:
        """Apply an injected fault; True when it answered the request."""
        fault = self.state.faults.draw(endpoint)
        if fault is None:
            return False
        counter = self.state.metrics.faults
        if fault.delay_s > 0:
            if fault.status is None:
                counter.labels(endpoint, "latency").inc()
            await anyio.sleep(fault.delay_s)
        if fault.status is None:
            return False
        if fault.timeout:
            counter.labels(endpoint, "timeout").inc()
            await reply(504, f"injected fault: {endpoint} timed out after {fault.delay_s:g}s")
        else:
            counter.labels(endpoint, "error").inc()
            await reply(fault.status, f"injected fault: {endpoint} answered {fault.status}")
        return True
