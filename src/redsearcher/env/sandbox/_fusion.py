r"""SandboxFusion's ``/run_code`` on top of ``Sandbox``, and the text a model reads of a run.

Agents trained against ByteDance's SandboxFusion (DeepTraceHub, Tongyi DeepResearch) post
``{"code", "language": "python", "run_timeout", ...}`` and read ``run_result.stdout``/``stderr``;
this module speaks exactly that, so they can point at our server unchanged. Requests are held
to the fields a Python run has: anything else (other languages, ``fetch_files``, unknown keys)
is rejected with a ``SandboxRequestError`` naming the field, which HTTP layers answer with 4xx.

Status mapping: ``Success`` when the program finished with return code 0, ``Failed`` when it
failed, crashed or timed out (``run_result.status`` tells which), ``SandboxError`` when the
sandbox itself broke. ``files`` values are base64, as in SandboxFusion.

``render_run_result`` follows the DeepTraceHub/Tongyi PythonInterpreter tool: ``stdout:\n…``,
``stderr:\n…``, a timeout line, ``Finished execution.`` when there is nothing to show.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from typing import Any

from redsearcher.env._types import RunResult
from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.env.sandbox._errors import SandboxError, SandboxRequestError
from redsearcher.env.sandbox._inputs import check_timeout
from redsearcher.env.sandbox._run import FINISHED, TIME_LIMIT_EXCEEDED, Sandbox

FIELDS = ("code", "language", "compile_timeout", "run_timeout", "stdin", "files")
TIMEOUT_TEXT = "[PythonInterpreter Error] TimeoutError: Execution timed out."
EMPTY_TEXT = "Finished execution."
OPERATOR_PREFIX = "insecure:"
"""Notes for operators, not for the model (``render_run_result`` leaves them out)."""


@functools.lru_cache(maxsize=1)
def _default_sandbox() -> Sandbox:
    return Sandbox()


def parse_run_code_request(body: object, config: SandboxConfig) -> tuple[str, dict[str, Any]]:
    """Validate a ``/run_code`` body; returns the code and the keyword arguments of ``run``.

    Raises:
        SandboxRequestError: A field is unknown, missing, of the wrong type or out of bounds.
    """
    if not isinstance(body, Mapping):
        raise SandboxRequestError("body", "must be a JSON object")
    for key in body:
        if key not in FIELDS:
            raise SandboxRequestError(str(key), "is not a field of a Python run_code request")
    code = body.get("code")
    if not isinstance(code, str):
        raise SandboxRequestError("code", "is required and must be a string")
    language = body.get("language")
    if language != "python":
        raise SandboxRequestError("language", f"must be 'python', not {language!r}")
    compile_timeout = body.get("compile_timeout")
    if compile_timeout is not None and (
        isinstance(compile_timeout, bool)
        or not isinstance(compile_timeout, int | float)
        or not 0 <= compile_timeout < float("inf")
    ):
        raise SandboxRequestError("compile_timeout", "must be a non-negative number of seconds")
    timeout = check_timeout("run_timeout", body.get("run_timeout"), config)
    stdin = body.get("stdin")
    if stdin is not None and not isinstance(stdin, str):
        raise SandboxRequestError("stdin", "must be a string")
    return code, {"stdin": stdin, "timeout": timeout, "files": _decode_files(body, config)}


def _decode_files(body: Mapping[str, object], config: SandboxConfig) -> dict[str, bytes] | None:
    files = body.get("files")
    if files is None:
        return None
    if not isinstance(files, Mapping):
        raise SandboxRequestError("files", "must map file names to base64 contents")
    if len(files) > config.max_files:
        raise SandboxRequestError(
            "files", f"has {len(files)} entries, more than the limit of {config.max_files}"
        )
    decoded: dict[str, bytes] = {}
    for name, value in files.items():
        field = f"files[{name!r}]"
        if not isinstance(value, str):
            raise SandboxRequestError(field, "must be a base64 string")
        if len(value) > 4 * (config.max_file_bytes // 3 + 1):
            raise SandboxRequestError(field, f"is larger than {config.max_file_bytes} bytes")
        try:
            decoded[name] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            raise SandboxRequestError(field, f"is not valid base64 ({err})") from err
    return decoded


def run_code_response(result: RunResult) -> dict[str, Any]:
    """A ``RunResult`` as SandboxFusion's ``/run_code`` response."""
    success = result.status == FINISHED and result.return_code == 0
    return {
        "status": "Success" if success else "Failed",
        "message": "\n".join(result.notes),
        "compile_result": None,
        "run_result": {
            "status": result.status,
            "execution_time": result.execution_time,
            "return_code": result.return_code,
            "stdout": result.stdout,
            "stderr": result.stderr,
        },
    }


def sandbox_error_response(message: str) -> dict[str, Any]:
    """SandboxFusion's answer when the sandbox itself failed (same keys as a run)."""
    return {
        "status": "SandboxError",
        "message": message,
        "compile_result": None,
        "run_result": {
            "status": "Error",
            "execution_time": 0.0,
            "return_code": None,
            "stdout": "",
            "stderr": "",
        },
    }


def run_code_request(body: Mapping[str, Any], *, sandbox: Sandbox | None = None) -> dict[str, Any]:
    """Serve one SandboxFusion ``/run_code`` request (blocking).

    Args:
        body: The decoded JSON request.
        sandbox: Where to run; a shared default ``Sandbox()`` when None.

    Returns:
        The response JSON: ``status``, ``message``, ``compile_result`` (null), ``run_result``.

    Raises:
        SandboxRequestError: The request is invalid (a ``ValueError``: answer 4xx).
        SandboxUnavailable: Code cannot run isolated on this machine.
    """
    box = sandbox if sandbox is not None else _default_sandbox()
    code, kwargs = parse_run_code_request(body, box.config)
    try:
        return run_code_response(box.run(code, **kwargs))
    except SandboxError as err:
        return sandbox_error_response(str(err))


async def arun_code_request(
    body: Mapping[str, Any], *, sandbox: Sandbox | None = None
) -> dict[str, Any]:
    """``run_code_request`` without blocking the event loop.

    Args:
        body: The decoded JSON request.
        sandbox: Where to run; a shared default ``Sandbox()`` when None.

    Returns:
        The response JSON, as ``run_code_request``.

    Raises:
        SandboxRequestError: The request is invalid (a ``ValueError``: answer 4xx).
        SandboxUnavailable: Code cannot run isolated on this machine.
    """
    box = sandbox if sandbox is not None else _default_sandbox()
    code, kwargs = parse_run_code_request(body, box.config)
    try:
        return run_code_response(await box.arun(code, **kwargs))
    except SandboxError as err:
        return sandbox_error_response(str(err))


def render_run_result(result: RunResult) -> str:
    """What the model reads of a run (DeepTraceHub's PythonInterpreter text)."""
    parts = []
    if result.stdout:
        parts.append(f"stdout:\n{result.stdout}")
    if result.stderr:
        parts.append(f"stderr:\n{result.stderr}")
    if result.status == TIME_LIMIT_EXCEEDED:
        parts.append(TIMEOUT_TEXT)
    for note in result.notes:
        for line in note.splitlines():
            if line.strip() and not line.startswith(OPERATOR_PREFIX):
                parts.append(f"[PythonInterpreter Error] {line}")
    text = "\n".join(parts)
    return text if text.strip() else EMPTY_TEXT
