"""The environment's FastAPI app: every API twin over one World, opened in the lifespan.

Why one app for all the twins: an agent harness mixes services (Serper search, Jina reading,
SandboxFusion) and a rollout cluster mixes harnesses; one server per World keeps every twin
answering from the same documents, so a link found by ``/search`` is readable by ``GET /{url}``,
``/access`` and ``/visit`` alike.

Stateful resources (the index, the sandbox, a summarizer client) are opened in the lifespan,
never at import, so ``uvicorn --factory --workers N`` gives each worker its own. The
:func:`app_from_env` factory reads the configuration from ``REDSEARCHER_SERVER__*`` variables
and an optional ``REDSEARCHER_SERVER_CONFIG`` file, which is how ``redsearcher env serve``
passes its settings to worker processes.

Every error is Serper's ``{"message", "statusCode"}`` (the reader's not-found is Jina's shape):
malformed JSON and invalid fields are 400 with the field named, never 422 or 5xx.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sized
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from redsearcher.config import load_config
from redsearcher.env import SearchEnvironment
from redsearcher.errors import ConfigError
from redsearcher.server import _reader, _retrieve, _sandbox, _serper, _visit
from redsearcher.server._config import SECTION, ServerConfig
from redsearcher.server._fastlane import FastLane
from redsearcher.server._faults import FaultInjector
from redsearcher.server._guard import Guard
from redsearcher.server._metrics import Metrics
from redsearcher.server._state import (
    TOO_DEEP,
    ApiError,
    ServerState,
    State,
    error_body,
    thread_pool,
)

__all__ = ["CONFIG_FILE_ENV", "app_from_env", "create_app", "format_validation_errors"]

log = logging.getLogger(__name__)

#: Environment variable naming a YAML/JSON config file for :func:`app_from_env`.
CONFIG_FILE_ENV = "REDSEARCHER_SERVER_CONFIG"

_TAGS = frozenset({"single", "batch"})

DESCRIPTION = """\
A local, functionally equivalent twin of the services deep-search agents call. Code written
for the real services works by changing its base URL.

| path | twin of |
|---|---|
| `POST /search`, `/scholar`, `/maps` | Serper (`X-API-KEY`; a list body is a batch) |
| `POST /route` | ours: distance and duration between two places, by name |
| `POST /`, `GET /{url}` | Jina Reader (text, or JSON with `Accept: application/json`) |
| `POST /retrieve` | Search-R1 retriever (verl `SearchTool`, slime, ASearcher local) |
| `POST /access` | ASearcher page access |
| `POST /local/search`, `/local/crawl` | DeepTraceHub `LOCAL_SEARCH_URL`, `LOCAL_CRAWL_URL` |
| `POST /run_code` | SandboxFusion |
| `POST /visit` | the goal-directed visit tool (Tongyi, DeepTraceHub) |

Errors are `{"message", "statusCode"}`; bad input is 400 naming the field (strings must be
UTF-8 without control characters), bodies over the limit 413, unknown routes 404, injected
faults 5xx, requests over the deadline 504. With a key configured, every endpoint but
`/health` wants `X-API-KEY` or `Authorization: Bearer` (403 otherwise). POST bodies must be
`application/json` (415); a `Host` the server does not answer for gets 421; a request head
that is too slow or too large, 408 or 431.
"""


def _loc(loc: tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    if parts and parts[0] in _TAGS:
        parts = parts[1:]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def format_validation_errors(errors: list[dict[str, Any]]) -> str:
    """One line naming every invalid field, e.g. ``field 'num': Input should be ...``."""
    lines = []
    for e in errors:
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "")
            lines.append(f"malformed JSON body: {reason}".rstrip(": "))
            continue
        where = _loc(tuple(e.get("loc", ())))
        lines.append(f"field '{where}': {e['msg']}" if where else f"request body: {e['msg']}")
    return "; ".join(lines) or "invalid request"


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {k: v for k, v in dict(e).items() if k in ("type", "loc", "msg")} for e in exc.errors()
    ]
    message = format_validation_errors([dict(e) for e in exc.errors()])
    return JSONResponse({**error_body(400, message), "errors": errors}, status_code=400)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    if isinstance(exc.__cause__, RecursionError):
        # FastAPI's body parsing says only "There was an error parsing the body".
        message = TOO_DEEP
    return JSONResponse(
        error_body(exc.status_code, message),
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _describe(env: SearchEnvironment, config: ServerConfig) -> dict[str, Any]:
    """What ``/health`` reports about the environment (whatever it exposes beyond the Protocol)."""
    manifest = getattr(env, "manifest", None)
    documents = len(env) if isinstance(env, Sized) else None
    return {
        "index": str(config.index) if config.index else None,
        "documents": documents,
        "world_hash": getattr(manifest, "world_content_hash", None),
    }


def _open_environment(config: ServerConfig) -> SearchEnvironment:
    if config.index is None:
        raise ConfigError("server.index: the index directory to serve is required")
    from redsearcher.env import LocalEnvironment

    env: SearchEnvironment = LocalEnvironment.open(config.index)
    return env


def create_app(
    config: ServerConfig | None = None,
    *,
    env: SearchEnvironment | None = None,
    sandbox: Any = None,
) -> FastAPI:
    """Build the environment server's ASGI app.

    Args:
        config: Server configuration; defaults to ``ServerConfig()``.
        env: An opened environment to serve (the caller keeps ownership); when None, the
            lifespan opens ``LocalEnvironment.open(config.index)`` and closes it at shutdown.
        sandbox: A started sandbox to use for ``/run_code`` (the caller keeps ownership); when
            None and ``config.sandbox`` is set, the lifespan starts one.

    Returns:
        The FastAPI app; serve it with uvicorn (lifespan on).
    """
    config = config or ServerConfig()
    state = ServerState(config=config, metrics=Metrics(), faults=FaultInjector(config.faults))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            state.executor = executor = thread_pool(config)
            stack.callback(executor.shutdown, wait=False, cancel_futures=True)
            try:
                if env is None:
                    opened = await anyio.to_thread.run_sync(_open_environment, config)
                    close = getattr(opened, "close", None)
                    if callable(close):
                        stack.callback(close)
                    state.env = opened
                else:
                    state.env = env
                state.info = _describe(state.env, config)
                await _sandbox.open_sandbox(state, stack, sandbox)
                await _visit.open_summarizer(state, stack)
            except Exception as err:
                app.state.startup_error = err  # EnvServer.start re-raises it
                raise
            try:
                yield
            finally:
                state.env = None
                Metrics.worker_exited(os.getpid())

    app = FastAPI(
        title="redsearcher environment",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.server = state
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)

    @app.get("/health", tags=["Service"], summary="Liveness and what is loaded")
    async def health(state: State) -> dict[str, Any]:
        """``index_loaded``, document count, World hash, sandbox state, worker pid."""
        return {
            "status": "ok" if state.env is not None else "loading",
            "index_loaded": state.env is not None,
            **state.info,
            "sandbox": _sandbox.sandbox_status(state),
            "pid": os.getpid(),
        }

    @app.get("/metrics", tags=["Service"], summary="Prometheus metrics")
    async def metrics(state: State) -> Response:
        """Requests by endpoint and status, latency histograms, in-flight, injected faults."""
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    for module in (_serper, _retrieve, _sandbox, _visit, _reader):
        app.include_router(module.router)
    app.add_middleware(FastLane, state=state)  # inside the guard: added first
    app.add_middleware(Guard, state=state)
    _install_openapi(app)
    return app


def _install_openapi(app: FastAPI) -> None:
    """Document bad input as the 400 it is (FastAPI's generated spec says 422)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in spec.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if "422" in responses:
                        responses.pop("422")
                        responses["400"] = {
                            "description": "Bad input: `message` names the field",
                            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                        }
            schemas = spec.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "statusCode": {"type": "integer"}},
    "required": ["message", "statusCode"],
}


def app_from_env() -> FastAPI:
    """The app factory for ``uvicorn --factory``: config from env vars and an optional file.

    Reads ``REDSEARCHER_SERVER__*`` variables (e.g. ``REDSEARCHER_SERVER__INDEX``) on top of the
    file named by ``REDSEARCHER_SERVER_CONFIG``.

    Raises:
        ConfigError: for an invalid configuration.
    """
    config = load_config(ServerConfig, SECTION, file=os.environ.get(CONFIG_FILE_ENV) or None)
    return create_app(config)
