"""What every route shares: the opened resources, the thread pool, errors and the API key.

Routes reach the environment only through :meth:`ServerState.call`, which runs the synchronous
index look-up in a bounded thread pool: a slow query then occupies a thread, never the event
loop, so ``/health``, ``/metrics`` and every other request keep being answered. The pool is a
plain ``ThreadPoolExecutor`` awaited with ``loop.run_in_executor`` rather than
``anyio.to_thread``: the hop happens on every search and visit, and anyio's per-call bookkeeping
(backend detection, capacity limiter, cancel scope) cost about 0.2-0.3 ms of CPU per request
under load (an empty-result ``/search`` fell from ~1.1 to ~0.87 ms). Cancellation is the same:
a cancelled request (the guard's deadline) stops waiting and the thread's result is dropped.

Errors are one exception, :class:`ApiError`, turned into Serper's error shape
``{"message", "statusCode"}`` by the app; a route raises it with a message that names the
offending field, so a client sees *what* to fix, never a bare "Bad Request".

URLs have one length bound everywhere (:data:`MAX_URL_CHARS`, checked by :func:`check_url`):
a URL names a page, never holds data, so unlike the batch and query bounds it is not a
setting. Without it a 400 KB "URL" (under the body limit) was looked up and echoed back.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from redsearcher.env._types import SearchEnvironment
from redsearcher.errors import UserError
from redsearcher.server._config import ServerConfig
from redsearcher.server._faults import FaultInjector
from redsearcher.server._metrics import Metrics
from redsearcher.tools._visit import Summarizer, VisitConfig

__all__ = [
    "MAX_URL_CHARS",
    "TOO_DEEP",
    "ApiError",
    "ServerState",
    "State",
    "bad_input",
    "check_max",
    "check_url",
    "error_body",
    "get_state",
    "json_body",
    "key_accepted",
    "open_key",
    "serper_key",
    "thread_pool",
]

T = TypeVar("T")

#: Longest URL accepted in any URL field (``url``, ``urls[i]``, the reader's path): 8 KiB, the
#: request-line limit of common web servers (nginx, Apache), so no real link is refused.
MAX_URL_CHARS = 8192

#: The message for a body too deeply nested to parse (Python's decoder recurses per level).
TOO_DEEP = "malformed JSON body: nested too deeply to parse"


class ApiError(Exception):
    """An error answer: HTTP ``status`` and a message for the client.

    Args:
        status: HTTP status.
        message: What went wrong, naming the field when one is at fault.
        body: A complete response body to send instead of the default shape.
    """

    def __init__(self, status: int, message: str, *, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body

    def response(self) -> JSONResponse:
        """The JSON answer: ``body`` when given, else Serper's ``{"message", "statusCode"}``."""
        body = self.body if self.body is not None else error_body(self.status, self.message)
        return JSONResponse(body, status_code=self.status)


def error_body(status: int, message: str) -> dict[str, Any]:
    """Serper's error shape, used for every JSON error of this server."""
    return {"message": message, "statusCode": status}


def bad_input(field_name: str, message: str) -> ApiError:
    """A 400 naming ``field_name``."""
    return ApiError(400, f"field '{field_name}': {message}")


def check_max(field_name: str, value: int, limit: int) -> None:
    """Raise a 400 naming ``field_name`` when ``value`` exceeds the configured ``limit``."""
    if value > limit:
        raise bad_input(field_name, f"must be <= {limit} on this server, got {value}")


def check_url(field_name: str, url: str) -> None:
    """Raise a 400 naming ``field_name`` when ``url`` is longer than :data:`MAX_URL_CHARS`."""
    if len(url) > MAX_URL_CHARS:
        raise bad_input(field_name, f"URL must be <= {MAX_URL_CHARS} characters, got {len(url)}")


def json_body(raw: bytes) -> Any:
    """Parse a request body a route reads itself; a 400 naming the problem when it cannot.

    Covers what FastAPI's own parsing covers: invalid UTF-8, invalid JSON, and nesting deep
    enough to exhaust Python's recursion limit (``[[[...]]]`` of 50,000 levels is 100 KB, under
    the body limit), which raises ``RecursionError`` rather than a ``ValueError``.
    """
    try:
        return json.loads(raw)
    except RecursionError as err:
        raise ApiError(400, TOO_DEEP) from err
    except ValueError as err:  # UnicodeDecodeError and JSONDecodeError both are
        raise ApiError(400, f"malformed JSON body: {err}") from err


@dataclass
class ServerState:
    """Resources opened in the app's lifespan, shared by all routes of one worker.

    Attributes:
        config: The server configuration.
        metrics: The worker's metric families.
        faults: The fault injector.
        env: The search environment (set once the lifespan opened it).
        sandbox: The Python sandbox, or None when it could not start.
        sandbox_error: Why the sandbox is unavailable (None when it runs or is disabled).
        visit_config: The goal-directed visit's configuration object (or None: defaults).
        summarizer: The visit's summarizer (None: offline extractive).
        info: Facts shown by ``/health`` (document count, World hash, index path).
        executor: The ``config.threads`` threads that run index look-ups (made by the lifespan,
            or by the first call outside one).
    """

    config: ServerConfig
    metrics: Metrics
    faults: FaultInjector
    env: SearchEnvironment | None = None
    sandbox: Any = None
    sandbox_error: str | None = None
    visit_config: VisitConfig | None = None
    summarizer: Summarizer | None = None
    info: dict[str, Any] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None

    @property
    def environment(self) -> SearchEnvironment:
        """The opened environment; 503 while the lifespan has not opened it."""
        if self.env is None:
            raise ApiError(503, "the search environment is not loaded")
        return self.env

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking ``fn(*args, **kwargs)`` in the bounded thread pool.

        Raises:
            ApiError: 400 when the environment rejects the input (a ``UserError``, e.g. a
                travel mode it does not know), so bad input never becomes a 500.
        """
        if self.executor is None:
            self.executor = thread_pool(self.config)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))
        except UserError as err:
            raise ApiError(400, str(err)) from err


def thread_pool(config: ServerConfig) -> ThreadPoolExecutor:
    """The pool :meth:`ServerState.call` runs look-ups in (``config.threads`` threads)."""
    return ThreadPoolExecutor(config.threads, thread_name_prefix="env-lookup")


async def get_state(request: Request) -> ServerState:
    """The app's :class:`ServerState` (a FastAPI dependency).

    Dependencies here are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in
    its thread pool, a thread hop per dependency per request.
    """
    state: ServerState = request.app.state.server
    return state


State = Annotated[ServerState, Depends(get_state)]


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


_api_key_header = APIKeyHeader(
    name="X-API-KEY",
    auto_error=False,
    description="Serper-style API key; checked only when the server has one configured.",
)
_bearer = HTTPBearer(
    auto_error=False, description="Jina-style key; checked only when the server has one."
)


def _matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def key_accepted(config: ServerConfig, key: str | None, bearer: str | None) -> bool:
    """Whether a request's ``X-API-KEY`` or bearer token passes ``config.api_key``.

    The one rule behind :func:`serper_key` and the ASGI fast lane (``_fastlane``).
    """
    expected = config.api_key
    return expected is None or _matches(expected, key) or _matches(expected, bearer)


async def serper_key(
    request: Request,
    key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Check the API key of a paid-service twin (Serper ``X-API-KEY``, Jina bearer).

    Raises:
        ApiError: 403 ``Unauthorized.`` when a key is configured and this one is not it.
    """
    token = bearer.credentials if bearer is not None else None
    if not key_accepted(_state(request).config, key, token):
        raise ApiError(403, "Unauthorized.")


async def open_key(
    request: Request,
    key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Check the key on an open-source twin, only when ``api_key_everywhere`` is set."""
    if _state(request).config.api_key_everywhere:
        await serper_key(request, key, bearer)
