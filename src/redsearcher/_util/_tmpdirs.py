"""Hidden sibling directories of atomic builds, and removing the ones killed builds left.

Why: a World (and an index) is built in ``.NAME.tmp-<hex>`` beside ``NAME`` and renamed into
place when complete, so an interrupted build never looks finished. But ``kill -9`` runs no
cleanup, and the half-written directory — often gigabytes — stayed forever. So each build
directory records its writer (``.writer``: pid and host), and the next build of the same
``NAME`` removes the siblings whose writer is dead. A directory whose writer is alive, runs on
another host (a shared filesystem: its pid means nothing here) or cannot be told is left alone,
as is one without a writer record younger than an hour (another build may be creating it).

``.NAME.old-<hex>`` is the previous ``NAME`` during the final swap; once ``NAME`` exists again
it is garbage (a build killed while deleting it left it behind) and is removed too.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

__all__ = ["OWNER_FILE", "make_build_dir", "release_build_dir", "remove_stale_build_dirs"]

#: The file in a build directory naming its writer: ``<pid> <host>``.
OWNER_FILE = ".writer"

#: A build directory without a writer record is left alone while younger than this (seconds).
_UNOWNED_GRACE_S = 3600.0


def make_build_dir(out: Path) -> Path:
    """Remove stale siblings of ``out``, then create ``.NAME.tmp-<hex>`` owned by this process.

    Raises:
        OSError: when the directory cannot be created.
    """
    remove_stale_build_dirs(out)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    (tmp / OWNER_FILE).write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
    return tmp


def release_build_dir(tmp: Path) -> None:
    """Remove the writer record before ``tmp`` is renamed into place (it is no build's any more)."""
    (tmp / OWNER_FILE).unlink(missing_ok=True)


def remove_stale_build_dirs(out: Path) -> list[Path]:
    """Delete the build directories of ``out`` that dead writers left; the ones removed."""
    removed = []
    pattern = glob.escape(f".{out.name}.")
    candidates = [*out.parent.glob(pattern + "tmp-*"), *out.parent.glob(pattern + "old-*")]
    for entry in sorted(candidates):
        if entry.is_dir() and not entry.is_symlink() and _stale(entry, out):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _stale(entry: Path, out: Path) -> bool:
    if ".old-" in entry.name[len(out.name) + 1 :]:
        return out.exists()  # else it may be the only copy, mid-swap
    try:
        record = (entry / OWNER_FILE).read_text(encoding="utf-8").split()
    except FileNotFoundError:
        try:
            return time.time() - entry.stat().st_mtime > _UNOWNED_GRACE_S
        except OSError:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    if len(record) != 2 or not record[0].isdigit() or record[1] != socket.gethostname():
        return False
    return not _alive(int(record[0]))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True
