"""Files a task comes with, read once per episode for the Python tool's working directory.

Benchmarks such as GAIA hand the solver a spreadsheet, a PDF, a script or a recording beside
the question. The common harness behaviour is to put the file where the agent's code can open
it and to say so in the question; here that place is the ``PythonInterpreter`` run's working
directory, filled through the sandbox's ``files`` field (SandboxFusion's wire format), so the
in-process sandbox, our HTTP server and a real SandboxFusion all receive the same request.

Each file is read once, when the episode starts, and bounded before it is read: a file the
sandbox would refuse would otherwise turn every tool call of the episode into the same error,
and a multi-gigabyte file named by mistake would be read whole into every episode's memory.
The bound is the sandbox's own: one run's files may total ``max_files_bytes`` (8 MiB by
default, below the 16 MiB per-file cap). Failures are :class:`AttachmentError`, naming the task
and the file, for the loop to record as the episode's error rather than crash a rollout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from redsearcher.env.sandbox import SandboxConfig
from redsearcher.errors import RedsearcherError
from redsearcher.log import AttachmentRecord

__all__ = [
    "ATTACHMENT_TOOL",
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "Attachment",
    "AttachmentError",
    "as_files",
    "attachment_name",
    "read_attachments",
]


def _sandbox_default(field: str) -> int:
    value = SandboxConfig.model_fields[field].default
    assert isinstance(value, int)
    return value


#: The most bytes a task's attachments may hold together: what the default sandbox accepts in
#: one run's ``files`` (the smaller of its per-file and all-files bounds).
DEFAULT_MAX_ATTACHMENT_BYTES = min(
    _sandbox_default("max_file_bytes"), _sandbox_default("max_files_bytes")
)

#: The tool whose runs see a task's attachments; without it offered, an episode has no way to
#: open them, so it is given neither the files nor the line naming them (a tool-free regime).
ATTACHMENT_TOOL = "PythonInterpreter"

# The sandbox writes the code itself under this name; a file of that name would be refused.
_RESERVED = "main.py"


class AttachmentError(RedsearcherError):
    """A task's attachment cannot be given to its episode (missing, too large, badly named)."""


@dataclass(frozen=True)
class Attachment:
    """One attachment's bytes under the name the Python tool's working directory gives it."""

    name: str
    data: bytes

    def record(self) -> AttachmentRecord:
        """What a trajectory keeps of it: name, size and SHA-256, never the bytes."""
        digest = hashlib.sha256(self.data).hexdigest()
        return AttachmentRecord(name=self.name, size=len(self.data), sha256=digest)


def attachment_name(path: str) -> str:
    """The base name a task's attachment path gets in the working directory."""
    return Path(path).name


def read_attachments(
    task_id: str, paths: Sequence[str], *, max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
) -> list[Attachment]:
    """Read a task's attachments, each under its base name.

    Args:
        task_id: Named in every error.
        paths: ``Task.attachments``.
        max_bytes: Bound on all the files together (the sandbox's, by default).

    Raises:
        AttachmentError: naming the task and the file, when one is missing or unreadable,
            the files exceed ``max_bytes``, two share a base name, or a name cannot be a file
            of the working directory.
    """
    attachments: list[Attachment] = []
    seen: set[str] = set()
    total = 0
    for path in paths:
        name = attachment_name(path)
        where = f"task {task_id!r}: attachment {path!r}"
        if not _usable(name):
            raise AttachmentError(f"{where}: {name!r} is not a usable file name")
        if name == _RESERVED:
            raise AttachmentError(f"{where}: the name {_RESERVED!r} is the sandbox's own script")
        if name in seen:
            raise AttachmentError(f"{where}: another attachment of the task is also named {name!r}")
        seen.add(name)
        data = _read_bounded(Path(path), max_bytes - total, where, max_bytes)
        total += len(data)
        attachments.append(Attachment(name, data))
    return attachments


def _usable(name: str) -> bool:
    """A name the sandbox takes and one line of the question can show (UTF-8, no controls)."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # an undecodable byte of the file system's name
        return False
    return 0 < size <= 255 and name not in (".", "..") and all(ord(c) >= 32 for c in name)


def _read_bounded(path: Path, left: int, where: str, limit: int) -> bytes:
    """The file's bytes, reading at most ``left + 1`` (a file growing meanwhile stays bounded)."""
    try:
        if not path.is_file():
            raise AttachmentError(f"{where}: file not found")
        if path.stat().st_size > left:
            raise AttachmentError(
                f"{where}: {path.stat().st_size} bytes, more than the sandbox's limit of "
                f"{limit} bytes for a task's files"
            )
        with path.open("rb") as handle:
            data = handle.read(left + 1)
    except OSError as err:
        raise AttachmentError(f"{where}: cannot read it: {err.strerror or err}") from err
    if len(data) > left:
        raise AttachmentError(
            f"{where}: more than the sandbox's limit of {limit} bytes for a task's files"
        )
    return data


def as_files(attachments: Sequence[Attachment]) -> Mapping[str, bytes]:
    """The ``files`` mapping a sandbox run takes (name -> bytes)."""
    return {a.name: a.data for a in attachments}
