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
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from redsearcher.env.sandbox import (
    Sandbox,
    SandboxRequestError,
    SandboxUnavailable,
    arun_code_request,
    sandbox_error_response,
)
from redsearcher.errors import UserError
from redsearcher.server._state import ServerState, State, bad_input, json_body, open_key

__all__ = ["RunCodeRequest", "open_sandbox", "router", "sandbox_status"]

log = logging.getLogger(__name__)

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
    """Wall-clock seconds (at most the sandbox's ``max_timeout``); the sandbox default if null."""
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
    """``ready``, ``disabled`` or ``unavailable: <why>`` (shown by ``/health``)."""
    if state.sandbox is not None:
        return "ready"
    if state.config.sandbox is None:
        return "disabled"
    return f"unavailable: {state.sandbox_error}"


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


@router.post(
    "/run_code",
    summary="Run Python (SandboxFusion /run_code)",
    description="Response: `{status: Success|Failed|SandboxError, message, compile_result, "
    "run_result: {status: Finished|TimeLimitExceeded|Error, execution_time, return_code, "
    "stdout, stderr}}` with HTTP 200, as SandboxFusion. An invalid field is 400 naming it.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RunCodeRequest.model_json_schema()}},
        }
    },
    responses={400: {"description": "Bad input: `message` names the field"}},
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
    try:
        response = await arun_code_request(_sdk_compatible(body), sandbox=state.sandbox)
    except SandboxRequestError as err:
        raise bad_input(err.field, str(err).removeprefix(f"{err.field}: ")) from err
    except SandboxUnavailable as err:
        response = sandbox_error_response(f"the Python sandbox is unavailable: {err}")
    return JSONResponse(response)
