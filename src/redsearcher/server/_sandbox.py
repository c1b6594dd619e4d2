"""SandboxFusion's twin: ``POST /run_code`` runs model-written Python in the sandbox.

The request/response mapping is ``redsearcher.env.sandbox``'s (``arun_code_request``): this
module only owns the HTTP side. The body reaches that mapping as raw JSON, because it is the one
that knows which fields a Python run has and names the bad one (a ``SandboxRequestError``, a
``ValueError``) — answered 400 here. The pydantic model below exists to document the request in
the OpenAPI spec.

The sandbox is started in the app's lifespan. When it cannot start (no bubblewrap, user
namespaces disabled), the server still starts: ``/run_code`` answers SandboxFusion's
``{"status": "SandboxError", "message": ...}`` with the reason and how to fix it, and every other
endpoint keeps serving. Like SandboxFusion, run outcomes — including a crash, a timeout or a
``SandboxError`` — are HTTP 200 with the outcome in ``status`` and ``run_result.status``;
the sandbox kills a hanging run at its ``run_timeout``, and runs execute in the sandbox's own
threads, so neither blocks other requests.

A ``run_timeout`` above the sandbox's ``max_timeout`` (120 s by default, what DeepTraceHub
sends) is clamped to it rather than refused (``run_timeout_above_max``): SandboxFusion has no
cap, and its clients treat any 400 as a failed call ("All attempts failed"), while a clamped
run that needs longer ends as ``TimeLimitExceeded``, which they already show as a timeout.
The answer says so twice: a top-level ``run_timeout_clamped: {requested, applied}`` (the
``sandbox-fusion`` SDK's pydantic models and the dict-reading clients ignore keys they do not
know) and a header ``X-Run-Timeout-Clamped: requested=300; applied=120``. ``message`` is
left alone: agent harnesses show it to the model, and the model did not choose the timeout.

Load and hang-ups. At most ``max_concurrency`` runs execute at once; a request that finds every
slot busy waits up to the sandbox's ``queue_timeout`` (30 s by default), then gets **503** with
``Retry-After`` — the server's capacity, not the client's rate, ran out, so not 429; peers that
retry on 5xx (DeepTraceHub's ``run_python``) do the right thing. A client that hangs up while
its run is waiting or in flight (the ASGI ``http.disconnect``) gets its run cancelled at once:
the process tree is killed within ``TICK_S`` and the slot is free for the next request; the
answer nobody reads is logged as 499 (nginx's "client closed request").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from redsearcher.env.sandbox import (
    Sandbox,
    SandboxBusy,
    SandboxRequestError,
    SandboxUnavailable,
    arun_code_request,
    sandbox_error_response,
)
from redsearcher.errors import UserError
from redsearcher.server._state import (
    ServerState,
    State,
    bad_input,
    error_body,
    json_body,
    open_key,
)

__all__ = [
    "CLAMPED_FIELD",
    "CLAMPED_HEADER",
    "RunCodeRequest",
    "open_sandbox",
    "router",
    "sandbox_status",
]

#: Response field and header that say a ``run_timeout`` was clamped to the sandbox's cap.
CLAMPED_FIELD = "run_timeout_clamped"
CLAMPED_HEADER = "X-Run-Timeout-Clamped"
#: Status logged for a run whose client hung up (nobody reads it).
CLIENT_CLOSED = 499
#: Seconds a client told 503 (every slot busy) should wait before retrying.
BUSY_RETRY_AFTER_S = 1

log = logging.getLogger(__name__)

T = TypeVar("T")

router = APIRouter(dependencies=[Depends(open_key)], tags=["SandboxFusion"])


class RunCodeRequest(BaseModel):
    """A SandboxFusion ``/run_code`` request for Python (other fields are rejected).

    Documentation only: the body is validated by ``redsearcher.env.sandbox``.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    code: str
    """The program; it runs as a script with a private working directory."""
    language: Literal["python"]
    """Only ``python`` is served."""
    compile_timeout: float | None = None
    """Accepted for compatibility (Python has no compile step)."""
    run_timeout: float | None = None
    """Wall-clock seconds; the sandbox default if null. Above the sandbox's ``max_timeout``
    (120 s by default) it is clamped to it, and the answer carries ``run_timeout_clamped``."""
    stdin: str | None = None
    """Standard input."""
    files: dict[str, str] | None = None
    """Files placed in the working directory: relative name -> base64 content."""
    memory_limit_MB: int | None = None
    """Accepted and ignored: the sandbox's own memory cap applies."""
    fetch_files: list[str] | None = None
    """Only an empty list is accepted (no files are returned)."""


async def open_sandbox(state: ServerState, stack: AsyncExitStack, given: Any) -> None:
    """Use ``given``, or start the configured sandbox; record why when it cannot start."""
    state.sandbox, state.sandbox_error = given, None
    if given is not None or state.config.sandbox is None:
        return
    try:
        sandbox = Sandbox(state.config.sandbox)
    except UserError as err:
        state.sandbox_error = str(err)
    else:
        stack.callback(sandbox.close)
        try:
            await sandbox.astart()
            state.sandbox = sandbox
        except UserError as err:
            state.sandbox_error = str(err)
    if state.sandbox_error is not None:
        log.warning("/run_code is unavailable: %s", state.sandbox_error)


def sandbox_status(state: ServerState) -> str:
    """``ready``, ``insecure``, ``disabled`` or ``unavailable: <why>`` (shown by ``/health``).

    ``insecure`` (bubblewrap unavailable, ``--insecure-sandbox``): ``/run_code`` works but runs
    code WITHOUT isolation. It is a distinct word, not ``ready``, so a monitor that reads it
    notices, while clients that only check for HTTP 200 keep working.
    """
    if state.sandbox is not None:
        if getattr(state.sandbox, "isolated", True) is False:
            return "insecure"
        return "ready"
    if state.config.sandbox is None:
        return "disabled"
    return f"unavailable: {state.sandbox_error}"


class _ClientGone(Exception):
    """The client disconnected before its run ended."""


async def _disconnected(request: Request) -> None:
    """Return when the client hangs up (the body was read: only ``http.disconnect`` is left)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _unless_disconnected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """``await work``, cancelling it (which kills the run) the moment the client hangs up.

    Raises:
        _ClientGone: The client disconnected first.
    """
    task = asyncio.ensure_future(work)
    watch = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((task, watch), return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            raise _ClientGone
        return task.result()
    finally:
        # Also on the server's own deadline (504), which cancels this handler.
        for pending in (task, watch):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending


def _sdk_compatible(body: Any) -> Any:
    """Drop the SandboxFusion SDK fields that ask for nothing this server must honour.

    The SDK (Tongyi) and verl send ``memory_limit_MB`` and ``fetch_files: []`` with every
    request. The sandbox's own memory cap always applies, so ``memory_limit_MB`` is accepted
    and ignored; an empty ``fetch_files`` is dropped, a non-empty one is still rejected.
    """
    if not isinstance(body, dict):
        return body
    body = dict(body)
    memory = body.pop("memory_limit_MB", None)
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, int)):
        raise bad_input("memory_limit_MB", "must be an integer (MB; the sandbox's cap applies)")
    if body.get("fetch_files") in ([], None):
        body.pop("fetch_files", None)
    return body


def _clamp_run_timeout(body: Any, cap: float) -> tuple[Any, float | None]:
    """``body`` with a numeric ``run_timeout`` above ``cap`` lowered to it, and what was asked.

    Anything that is not a finite number above the cap (null, 10, "soon", -1) is passed on
    unchanged, for the sandbox's own check to accept or name in a 400.
    """
    if not isinstance(body, dict):
        return body, None
    value = body.get("run_timeout")
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= cap
    ):
        return body, None
    return {**body, "run_timeout": cap}, float(value)


@router.post(
    "/run_code",
    summary="Run Python (SandboxFusion /run_code)",
    description="Response: `{status: Success|Failed|SandboxError, message, compile_result, "
    "run_result: {status: Finished|TimeLimitExceeded|Error, execution_time, return_code, "
    "stdout, stderr}}` with HTTP 200, as SandboxFusion. An invalid field is 400 naming it. "
    "A `run_timeout` above the sandbox's cap (120 s by default) runs with the cap, and the "
    "answer adds `run_timeout_clamped: {requested, applied}` and a header "
    "`X-Run-Timeout-Clamped`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RunCodeRequest.model_json_schema()}},
        }
    },
    responses={
        400: {"description": "Bad input: `message` names the field"},
        503: {"description": "Every sandbox slot stayed busy (`Retry-After` says when to retry)"},
    },
)
async def run_code(request: Request, state: State) -> JSONResponse:
    """SandboxFusion ``/run_code``."""
    body = json_body(await request.body())
    if state.config.sandbox is None:
        return JSONResponse(sandbox_error_response("/run_code is disabled on this server"))
    if state.sandbox is None:
        return JSONResponse(
            sandbox_error_response(f"the Python sandbox is unavailable: {state.sandbox_error}")
        )
    body, requested = _sdk_compatible(body), None
    if state.config.run_timeout_above_max == "clamp":
        body, requested = _clamp_run_timeout(body, state.sandbox.config.max_timeout)
    try:
        response = await _unless_disconnected(
            request, arun_code_request(body, sandbox=state.sandbox)
        )
    except _ClientGone:
        return JSONResponse(error_body(CLIENT_CLOSED, "client closed request"), CLIENT_CLOSED)
    except SandboxRequestError as err:
        raise bad_input(err.field, str(err).removeprefix(f"{err.field}: ")) from err
    except SandboxBusy as err:
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
        return JSONResponse(error_body(503, str(err)), 503, headers=headers)
    except SandboxUnavailable as err:
        response = sandbox_error_response(f"the Python sandbox is unavailable: {err}")
    if requested is None:
        return JSONResponse(response)
    applied = float(body["run_timeout"])
    response[CLAMPED_FIELD] = {"requested": requested, "applied": applied}
    header = f"requested={requested:g}; applied={applied:g}"
    return JSONResponse(response, headers={CLAMPED_HEADER: header})
