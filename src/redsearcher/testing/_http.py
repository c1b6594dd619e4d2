"""The HTTP side of the scripted chat server: routes, request handling, responses.

Separate from the lifecycle (:mod:`._chat_server`): read and bound the body, validate it, let
the framework-free :class:`~._reply.Replier` answer it (the in-process ``ScriptedModel`` uses
the same one), then send an error, a completion or a stream. Every request is recorded in the
:class:`~._ledger.Ledger`, and every refusal that is not scripted (malformed request, unknown
route, no script, no steps left, failed expectation) is recorded as a failure there too.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from redsearcher.model import TokenizerChat
from redsearcher.testing import _ids, _wire
from redsearcher.testing._ledger import Ledger, RecordedRequest
from redsearcher.testing._reply import Replier
from redsearcher.testing._script import Step
from redsearcher.testing._wire import RequestError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CHAT_PATH", "IDS_PATHS", "ChatApp"]

CHAT_PATH = "/v1/chat/completions"
#: Where token-id requests go: vLLM's raw completions, SGLang's native generate.
IDS_PATHS: dict[str, str] = {"vllm": "/v1/completions", "sglang": "/generate"}
_KNOWN_PATHS = frozenset({CHAT_PATH, "/v1/models", "/health"})


class ChatApp:
    """Answers OpenAI chat-completions requests from the ledger's scripts.

    Args:
        ledger: Script cursors, fault draws and records.
        error_rate: Shown in the message of injected errors.
        retry_after_ms: ``retry-after-ms`` header of injected errors (``None``: no header).
        max_body_bytes: Larger request bodies are answered 413.
        models: Model ids listed by ``GET /v1/models``.
        keep_alive: Keep connections open (else every response says ``Connection: close``).
        chat_template: Answers token-id requests at ``IDS_PATHS[token_api]`` too, the text of
            each step tokenized with it (:mod:`._ids`).
        token_api: ``vllm`` or ``sglang``: which server's token-id endpoint to serve.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        error_rate: float,
        retry_after_ms: int | None,
        max_body_bytes: int,
        models: Sequence[str],
        keep_alive: bool,
        chat_template: TokenizerChat | None = None,
        token_api: _ids.IdsApi = "vllm",
    ) -> None:
        self.ledger = ledger
        self._chat_template = chat_template
        self._token_api: _ids.IdsApi = token_api
        self._replier = Replier(ledger, error_rate=error_rate, retry_after_ms=retry_after_ms)
        self._max_body = max_body_bytes
        self._models = tuple(models)
        self._keep_alive = keep_alive

    def asgi(self) -> ASGIApp:
        """The ASGI application (imports starlette)."""
        from starlette.applications import Starlette
        from starlette.routing import Route

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        ids_routes = []
        if self._chat_template is not None:
            ids_routes = [Route(IDS_PATHS[self._token_api], self._ids, methods=["POST"])]
        app = Starlette(
            routes=[
                Route(CHAT_PATH, self._chat, methods=["POST"]),
                *ids_routes,
                Route("/v1/models", self._list_models, methods=["GET"]),
                Route("/health", self._health, methods=["GET"]),
                Route("/{path:path}", self._fallback, methods=methods),
            ]
        )
        if self._keep_alive:
            return app

        async def closing(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_closing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
                await send(message)

            await app(scope, receive, send_closing)

        return closing

    def _record(
        self, request: Request, received: float, status: int, body: Any = None, **kw: Any
    ) -> None:
        record = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            time=received,
            status=status,
            **kw,
        )
        self.ledger.record(record)

    def _fail(self, request: Request, message: str) -> None:
        self.ledger.fail(f"{request.method} {request.url.path}: {message}")

    def _error(
        self, status: int, message: str, *, headers: dict[str, str] | None = None, **fields: Any
    ) -> Response:
        from starlette.responses import JSONResponse

        return JSONResponse(_wire.error_body(status, message, **fields), status, headers=headers)

    async def _health(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        self._record(request, time.time(), 200)
        return JSONResponse({"status": "ok"})

    async def _list_models(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        self._record(request, time.time(), 200)
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "redsearcher"}
            for m in self._models
        ]
        return JSONResponse({"object": "list", "data": data})

    async def _fallback(self, request: Request) -> Response:
        path = request.url.path
        status, message = (
            (405, f"method {request.method} not allowed on {path}")
            if path in _KNOWN_PATHS
            else (404, f"no route {request.method} {path}")
        )
        self._record(request, time.time(), status, error=message)
        self._fail(request, message)
        return self._error(status, message)

    async def _read_body(self, request: Request) -> bytes:
        # Read to the end even when too large: answering mid-upload makes clients see a reset
        # connection instead of the 413.
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= self._max_body:
                chunks.append(chunk)
        if size > self._max_body:
            raise RequestError(
                413,
                f"request body of {size} bytes exceeds the limit of {self._max_body} bytes",
                code="request_too_large",
            )
        return b"".join(chunks)

    async def _chat(self, request: Request) -> Response:
        received = time.time()
        body: Any = None
        try:
            raw = await self._read_body(request)
            try:
                body = json.loads(raw)
            except ValueError as err:
                raise RequestError(400, f"request body is not valid JSON: {err}") from err
            body = _wire.validate_request(body)
        except RequestError as err:
            self._record(request, received, err.status, body=body, error=err.message)
            self._fail(request, err.message)
            return self._error(err.status, err.message, param=err.param, code=err.code)

        reply = await self._replier.reply(body, received)
        self._record(request, received, reply.status, **reply.record)
        if reply.failure is not None:
            self._fail(request, reply.failure)
        if reply.status == 200 and body.get("stream") and reply.step and reply.ids is not None:
            return self._stream(reply.step, body, reply.ids)
        from starlette.responses import JSONResponse

        return JSONResponse(reply.payload, reply.status, headers=reply.headers)

    async def _ids(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        chat, api = self._chat_template, self._token_api
        assert chat is not None  # the route exists only with a tokenizer
        received = time.time()
        body: Any = None
        try:
            raw = await self._read_body(request)
            try:
                body = json.loads(raw)
            except ValueError as err:
                raise RequestError(400, f"request body is not valid JSON: {err}") from err
            prompt = _ids.prompt_ids(body, api)
        except RequestError as err:
            self._record(request, received, err.status, body=body, error=err.message)
            self._fail(request, err.message)
            return self._error(err.status, err.message, param=err.param, code=err.code)
        reply = await self._replier.reply(
            body,
            received,
            view=_ids.chat_view(body, prompt, chat),
            render=lambda step, ids: _ids.ids_answer(step, body, ids, prompt, chat, api),
        )
        self._record(request, received, reply.status, **reply.record)
        if reply.failure is not None:
            self._fail(request, reply.failure)
        return JSONResponse(reply.payload, reply.status, headers=reply.headers)

    def _stream(self, step: Step, body: dict[str, Any], ids: _wire.AnswerIds) -> Response:
        from starlette.responses import StreamingResponse

        async def events() -> AsyncIterator[str]:
            for event in _wire.stream_events(step, body, ids):
                yield event

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
        )
