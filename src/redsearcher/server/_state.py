"""What every route shares: the opened resources, the thread pool, errors and the key headers.

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

Batches (Search-R1 ``queries``, Serper query lists) are bounded by the work they ask for, not
by their length (:func:`check_batch`): a trainer sends every active trajectory's query in one
call, hundreds at once, and a count cap made its client die on the 400. A long batch runs in
chunks (:meth:`ServerState.call_chunks`) on at most half the pool's threads, so the single
searches of other clients keep being answered between its chunks.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from redsearcher.env import SearchEnvironment
from redsearcher.errors import UserError
from redsearcher.server._config import ServerConfig
from redsearcher.server._faults import FaultInjector
from redsearcher.server._metrics import Metrics
from redsearcher.tools import Summarizer, VisitConfig

__all__ = [
    "MAX_URL_CHARS",
    "TOO_DEEP",
    "ApiError",
    "ServerState",
    "State",
    "bad_input",
    "check_batch",
    "check_max",
    "check_url",
    "error_body",
    "get_state",
    "json_body",
    "open_key",
    "serper_key",
    "thread_pool",
]

T = TypeVar("T")
X = TypeVar("X")
Y = TypeVar("Y")

#: Queries per thread-pool hop when a batch is cut in chunks (:meth:`ServerState.call_chunks`).
BATCH_CHUNK = 16

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


def check_batch(
    config: ServerConfig, field_name: str, queries: Sequence[str], results: Sequence[int]
) -> None:
    """Hold one request's batch to the configured work bounds; a 400 naming the bound if not.

    Args:
        config: Holds ``max_queries`` (an optional count cap), ``max_batch_query_bytes`` and
            ``max_batch_results``.
        field_name: The field the client fixes (``queries``).
        queries: The batch's query texts.
        results: The results asked for, per query (``topk`` or ``num``).
    """
    if config.max_queries is not None:
        check_max(field_name, len(queries), config.max_queries)
    # surrogatepass: a JSON "\ud800" decodes to a lone surrogate, which must count, not crash.
    size = sum(len(q.encode("utf-8", "surrogatepass")) for q in queries)
    if size > config.max_batch_query_bytes:
        raise bad_input(
            field_name,
            f"the query texts total {size} bytes, more than this server's "
            f"max_batch_query_bytes of {config.max_batch_query_bytes}; send fewer per request",
        )
    wanted = sum(results)
    if wanted > config.max_batch_results:
        raise bad_input(
            field_name,
            f"{len(queries)} queries ask for {wanted} results in all, more than this server's "
            f"max_batch_results of {config.max_batch_results}; send fewer per request "
            "or ask for fewer each",
        )


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

    async def call_chunks(
        self,
        fn: Callable[[Sequence[X]], list[Y]],
        items: Sequence[X],
        chunk: int = BATCH_CHUNK,
    ) -> list[Y]:
        """``fn(items)`` in the thread pool, in chunks of ``chunk`` items when there are more.

        A short batch is one hop, as :meth:`call`. A long one is cut in chunks, run at most
        ``threads // 2`` at a time (so other requests always find threads) and put back in
        order. When one chunk fails or the request is cancelled (the guard's deadline), the
        chunks not yet started never start.

        Args:
            fn: Answers a chunk of items, one answer per item, in order.
            items: The batch.
            chunk: Items per hop.

        Returns:
            The answers of all items, in order.
        """
        if len(items) <= chunk:
            return await self.call(fn, items)
        lanes = asyncio.Semaphore(max(1, self.config.threads // 2))
        failed = False

        async def part(start: int) -> list[Y]:
            nonlocal failed
            async with lanes:
                if failed:  # woken by the failed chunk's release, before gather could cancel
                    return []
                try:
                    return await self.call(fn, items[start : start + chunk])
                except BaseException:
                    failed = True
                    raise

        tasks = [asyncio.ensure_future(part(i)) for i in range(0, len(items), chunk)]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        return [answer for answers in parts for answer in answers]


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


_api_key_header = APIKeyHeader(
    name="X-API-KEY",
    auto_error=False,
    description="API key (Serper style); required on every endpoint when the server has one.",
)
_bearer = HTTPBearer(
    auto_error=False,
    description="The same key as a bearer token (Jina style); either header is accepted.",
)


async def serper_key(
    key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Declare the key headers in the OpenAPI spec (``securitySchemes``); checks nothing.

    The key is checked once, for every endpoint alike, by the guard
    (``redsearcher._util.AccessPolicy``), before any route runs: a check here could only
    disagree with it (``public_endpoints``).
    """


#: The open-source twins declare the same key as the Serper ones (the guard checks both).
open_key = serper_key
