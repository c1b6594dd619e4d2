"""A shortcut for well-formed Serper searches past FastAPI's routing and dependency solving.

Why: ``/search`` is the hot path of an RL run, and for a cheap query FastAPI's per-request
machinery (matching a route among twenty, solving the key and state dependencies, building a
``Request``) cost about as much CPU as the look-up itself. The lane answers ``POST /search``,
``/scholar`` and ``/maps`` itself when, and only when, nothing about the request is unusual:
the body is JSON (``Content-Type`` absent or ``application/json``) and it validates against the
same pydantic types the routes declare. (The API key, the ``Host`` header and the content type
are checked by the guard before the lane sees the request.) The answer comes from the same
function the route calls (``_serper.answer``) and is rendered by the same ``JSONResponse``, so
both paths give the same bytes. Everything else (invalid bodies, other paths) goes on to the
FastAPI app unchanged, which produces the documented errors; the lane never answers an error
it did not get from the answer function itself.

Answers are kept in a :class:`~redsearcher.server._cache.ResponseCache` by path and body
bytes (``response_cache_mb``; hits, shared answers and misses are counted in ``/metrics``).
A repeated body is answered before validation: it validated the first time, and the answer
cannot differ. A request identical to one being answered right now waits for that answer
instead of computing it again ("shared"): the K samples of a GRPO group tend to send their
first search at the same moment, so without this most repeats would arrive before any answer
exists.

The lane sits inside :class:`~redsearcher.server._guard.Guard`, so size limits, injected
faults, the deadline and the metrics cover it exactly as they cover the routes.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError

from redsearcher.server._cache import Key, ResponseCache
from redsearcher.server._guard import replay
from redsearcher.server._serper import LANES, answer
from redsearcher.server._state import ApiError, ServerState

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FastLane"]

_ADAPTERS: dict[str, tuple[TypeAdapter[Any], Callable[..., dict[str, Any]]]] = {
    path: (TypeAdapter(kind), one) for path, (kind, one) in LANES.items()
}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class FastLane:
    """The ASGI middleware described in the module docstring.

    Args:
        app: The FastAPI app, which answers everything the lane passes on.
        state: The server state the routes use.
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state
        cache_bytes = int(state.config.response_cache_mb * 2**20)
        self.cache = ResponseCache(cache_bytes) if cache_bytes > 0 else None
        # Answers being computed now, by key: identical requests wait for them (None: the
        # answer was not cacheable, e.g. an error, so each waiter computes its own).
        self._pending: dict[Key, asyncio.Future[bytes | None]] = {}
        self._counts = {
            (path, result): state.metrics.cache.labels(path.lstrip("/"), result)
            for path in _ADAPTERS
            for result in ("hit", "shared", "miss")
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = _ADAPTERS.get(scope["path"]) if scope["type"] == "http" else None
        if (
            lane is None
            or scope["method"] != "POST"
            or not _is_json(_header(scope, b"content-type"))
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        key = (scope["path"], raw)
        if self.cache is not None:
            cached = await self._cached(key)
            if cached is not None:
                await Response(cached, media_type="application/json")(scope, receive, send)
                return
        adapter, one = lane
        try:
            body = adapter.validate_python(json.loads(raw))
        except (ValueError, RecursionError, ValidationError):
            # Not ours to word the error: FastAPI's handlers do, from the same bytes.
            await self.app(scope, replay(raw, receive), send)
            return
        pending = None
        if self.cache is not None:  # a miss: this request computes the answer
            self._counts[key[0], "miss"].inc()
            pending = self._pending[key] = asyncio.get_running_loop().create_future()
        kept: bytes | None = None
        try:
            response = JSONResponse(await answer(self.state, body, one))
            kept = bytes(response.body)
        except ApiError as err:
            response = err.response()
        finally:  # also when cancelled (the guard's deadline): never leave waiters hanging
            if pending is not None:
                if self._pending.get(key) is pending:
                    del self._pending[key]
                if not pending.done():
                    pending.set_result(kept)
        if self.cache is not None and kept is not None:
            self.cache.put(key, kept)
        await response(scope, receive, send)

    async def _cached(self, key: Key) -> bytes | None:
        """The stored answer for ``key``, or the one being computed now; None otherwise.

        Hits and shared answers are counted here; a miss is counted once the body has
        validated and the request computes its own answer.
        """
        assert self.cache is not None
        path = key[0]
        cached = self.cache.get(key)
        if cached is not None:
            self._counts[path, "hit"].inc()
            return cached
        pending = self._pending.get(key)
        if pending is not None:
            # shield: a waiter that times out must not cancel the answer others wait for.
            shared = await asyncio.shield(pending)
            if shared is not None:
                self._counts[path, "shared"].inc()
                return shared
        return None
