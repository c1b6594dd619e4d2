"""What a killed ``world build --overwrite`` (or ``env index``) leaves is removed by the next build.

A ``kill -9`` runs no cleanup, so the hidden ``.NAME.tmp-<hex>`` directory of the build stays.
Each such directory records its writer (pid and host); the next build of the same NAME removes
the ones whose writer is dead, and leaves a live writer's, another host's, and a fresh one that
has no record yet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from redsearcher._util import OWNER_FILE
from redsearcher.env import build_index
from redsearcher.testing import tiny_world
from redsearcher.testing._worlds import TINY_ENTITIES
from redsearcher.world import WorldWriter


@pytest.fixture
def live_pid() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid names no process now
    return child.pid


def leftover(out: Path, suffix: str, owner: str | None, *, age_s: float = 0.0) -> Path:
    """A build directory as a killed build leaves it: some output, maybe a writer record."""
    path = out.parent / f".{out.name}.{suffix}"
    path.mkdir()
    (path / "entities.parquet").write_bytes(b"half written")
    if owner is not None:
        (path / OWNER_FILE).write_text(owner)
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def build_world(out: Path) -> None:
    with WorldWriter(out, overwrite=True) as writer:
        writer.add_entities(TINY_ENTITIES)


def build_world_index(out: Path) -> None:
    world = out.parent / "world"
    if not world.exists():
        tiny_world(world)
    build_index(world, out, overwrite=True, progress=False)


@pytest.mark.parametrize("build", [build_world, build_world_index], ids=["world", "index"])
def test_the_next_build_removes_dead_writers_leftovers_only(
    tmp_path: Path, live_pid: int, build: Callable[[Path], None]
) -> None:
    out = tmp_path / "w"
    build(out)  # an existing World (index): the .old- leftover below is garbage
    host = socket.gethostname()
    dead = leftover(out, "tmp-dead0001", f"{dead_pid()} {host}\n")
    stale = leftover(out, "tmp-0ld00001", None, age_s=2 * 3600)  # made before writer records
    old = leftover(out, "old-0ld00002", None)  # a swap killed while deleting the old one
    live = leftover(out, "tmp-live0001", f"{live_pid} {host}\n")
    elsewhere = leftover(out, "tmp-else0001", f"{dead_pid()} another-host\n")
    fresh = leftover(out, "tmp-new00001", None)  # another build is creating it right now
    other = leftover(tmp_path / "w2", "tmp-dead0002", f"{dead_pid()} {host}\n")  # not ours

    build(out)

    assert not dead.exists() and not stale.exists() and not old.exists()
    assert live.exists() and elsewhere.exists() and fresh.exists() and other.exists()
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".w."))
    assert hidden == sorted(p.name for p in (live, elsewhere, fresh))
    assert not (out / OWNER_FILE).exists()  # the finished build carries no writer record


def test_a_build_in_progress_records_its_writer(tmp_path: Path) -> None:
    out = tmp_path / "w"
    with WorldWriter(out) as writer:
        (building,) = tmp_path.glob(".w.tmp-*")
        assert (building / OWNER_FILE).read_text().split() == [
            str(os.getpid()),
            socket.gethostname(),
        ]
        writer.add_entities(TINY_ENTITIES)
    assert not building.exists() and not (out / OWNER_FILE).exists()
