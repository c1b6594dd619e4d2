"""``write_atomic``: a whole file that readers see complete or not at all.

Summaries, reports, CSVs, curated task sets and rewritten verdict files are replaced in one
step, so an interrupted job never leaves half a file where a good one stood. One helper for all
of them keeps the durability rule the same everywhere: a unique temporary file beside the target
(two writers never share one), ``fsync``, rename, then ``fsync`` of the directory so the rename
itself survives a power cut. Permissions are the usual 0644 (``mkstemp`` would leave 0600 and
hide a report from the other users of a shared machine).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | Path, content: str | Iterable[str], *, mode: int = 0o644) -> Path:
    """Write ``path`` whole or not at all; ``content`` is the text, or lines (JSON Lines).

    Each line is followed by a newline. Returns the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            if isinstance(content, str):
                handle.write(content)
            else:
                for line in content:
                    handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path
