"""Checking a run request against the configured bounds, and packing it for the supervisor.

Every size is bounded before anything starts, and every failure names the field, so the HTTP
layer can answer 4xx with a useful message. File names are held to plain relative paths: under
bubblewrap a bad name could only hurt the run's own tmpfs, but the insecure mode writes on the
host disk, and one rule for both keeps requests portable.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.env.sandbox._errors import SandboxRequestError

SCRIPT = "main.py"
"""Name of the code's file in the working directory (reserved: no file may take it)."""
MAX_NAME_BYTES = 255
MAX_DEPTH = 8


@dataclass(frozen=True)
class Request:
    """A validated run request."""

    code: str
    stdin: bytes
    files: dict[str, bytes]
    timeout: float


def _text(field: str, value: object, limit: int) -> bytes:
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
    elif isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise SandboxRequestError(field, f"is not valid UTF-8 text ({err.reason})") from err
    else:
        raise SandboxRequestError(field, f"must be text, not {type(value).__name__}")
    if len(data) > limit:
        raise SandboxRequestError(field, f"is {len(data)} bytes, more than the limit of {limit}")
    return data


def check_name(name: object) -> str:
    """A file name, if it is a plain relative path inside the working directory.

    Raises:
        SandboxRequestError: It is absolute, empty, has ``.``/``..``/empty components, is too
            long or deep, or is the reserved script name.
    """
    field = f"files[{name!r}]"
    if not isinstance(name, str) or not name:
        raise SandboxRequestError(field, "a file name must be a non-empty string")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError as err:
        raise SandboxRequestError(field, "a file name must be valid UTF-8") from err
    if size > MAX_NAME_BYTES or "\0" in name:
        raise SandboxRequestError(field, f"a file name must be under {MAX_NAME_BYTES} bytes")
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise SandboxRequestError(
            field, "must be a relative path without empty, '.' or '..' components"
        )
    if len(parts) > MAX_DEPTH:
        raise SandboxRequestError(field, f"is nested deeper than {MAX_DEPTH} levels")
    if name == SCRIPT:
        raise SandboxRequestError(field, f"{SCRIPT!r} is reserved for the code itself")
    return name


def check_timeout(field: str, value: object, config: SandboxConfig) -> float:
    """A timeout in seconds within ``(0, max_timeout]``; None means the default."""
    if value is None:
        return config.timeout
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SandboxRequestError(field, "must be a number of seconds")
    if not 0 < value <= config.max_timeout:
        raise SandboxRequestError(
            field, f"must be more than 0 and at most {config.max_timeout:g} seconds, not {value}"
        )
    return float(value)


def check_request(
    config: SandboxConfig,
    code: object,
    *,
    stdin: object = None,
    timeout: object = None,
    files: object = None,
) -> Request:
    """Validate a run request against ``config``.

    Raises:
        SandboxRequestError: A field is of the wrong type or out of bounds.
    """
    if not isinstance(code, str):
        raise SandboxRequestError("code", f"must be a string, not {type(code).__name__}")
    _text("code", code, config.max_code_bytes)
    stdin_bytes = b"" if stdin is None else _text("stdin", stdin, config.max_stdin_bytes)
    checked: dict[str, bytes] = {}
    if files is not None:
        if not isinstance(files, Mapping):
            raise SandboxRequestError("files", "must map file names to contents")
        if len(files) > config.max_files:
            raise SandboxRequestError(
                "files", f"has {len(files)} entries, more than the limit of {config.max_files}"
            )
        total = 0
        for name, content in files.items():
            name = check_name(name)
            data = _text(f"files[{name!r}]", content, config.max_file_bytes)
            total += len(data)
            checked[name] = data
        if total > config.max_files_bytes:
            raise SandboxRequestError(
                "files", f"total {total} bytes, more than the limit of {config.max_files_bytes}"
            )
        for name in checked:
            parts = name.split("/")
            for depth in range(1, len(parts)):
                if "/".join(parts[:depth]) in checked:
                    raise SandboxRequestError(
                        f"files[{name!r}]", "lies under a name that is also a file"
                    )
    return Request(
        code=code,
        stdin=stdin_bytes,
        files=checked,
        timeout=check_timeout("timeout", timeout, config),
    )


def rlimits(config: SandboxConfig, *, nproc: bool) -> dict[str, list[int]]:
    """The rlimits the supervisor sets on itself (and so on the code), by ``resource`` name.

    ``nproc`` is False where ``RLIMIT_NPROC`` would count the host user's own processes (the
    insecure mode run by a non-root user), which would make any fork fail.
    """
    limits = {
        "RLIMIT_CPU": [config.cpu_time, config.cpu_time + 1],
        "RLIMIT_AS": [config.memory_bytes, config.memory_bytes],
        "RLIMIT_NOFILE": [config.max_open_files, config.max_open_files],
        "RLIMIT_FSIZE": [config.max_file_bytes, config.max_file_bytes],
        "RLIMIT_CORE": [0, 0],
    }
    if nproc:
        limits["RLIMIT_NPROC"] = [config.max_processes, config.max_processes]
    return limits


def payload(request: Request, *, workdir: str, limits: dict[str, list[int]], nice: int) -> bytes:
    """The JSON the supervisor reads: what to write, where, and under which limits."""
    return json.dumps(
        {
            "workdir": workdir,
            "script": SCRIPT,
            "code": request.code,
            "files": {
                name: base64.b64encode(data).decode("ascii") for name, data in request.files.items()
            },
            "limits": limits,
            "nice": nice,
        }
    ).encode("utf-8")
