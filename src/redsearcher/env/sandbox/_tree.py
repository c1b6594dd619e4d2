"""The host's view of one run's processes: who they are, how much memory they hold, kill them.

Where no cgroup bounds a run (see ``_cgroup``), the host itself has to find the run's processes
to measure and to end them, from ``/proc`` alone (no psutil in the runtime dependencies, and
``/proc/PID/task/TID/children`` is missing on some kernels):

* the *tree*: the launcher and every process whose parent chain leads to it. Under bubblewrap
  this is the whole run, detached or not: orphans are reparented to the run's PID 1, inside the
  tree. Without bubblewrap the in-sandbox supervisor is a child subreaper, so orphans stay in
  the tree while it lives;
* the *marker*: without bubblewrap, a process that escaped the tree (its supervisor was killed
  first) is still found by the run's unique ``REDSEARCHER_SANDBOX_RUN`` value in the
  environment it was exec'd with (``/proc/PID/environ``). Code that deliberately re-execs
  without it escapes: there is no isolation in that mode, and the docs say so.

Memory is counted as resident minus shared pages (``/proc/PID/statm``): what the run's own
allocations cost the host, not the interpreter's libraries, which every process maps from the
same page cache. Copy-on-write pages shared after ``fork`` are counted once per process, so the
sum errs on the side of killing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

MARKER_VAR = "REDSEARCHER_SANDBOX_RUN"
"""Environment variable that tags every process of an unisolated run."""
PAGE = os.sysconf("SC_PAGE_SIZE")
SWEEP_ROUNDS = 20
"""Most kill-and-look-again rounds: a fork racing the kill adds a round, not an escape."""


def _parents() -> dict[int, int]:
    """Every live process's parent, by pid (processes that vanish meanwhile are skipped)."""
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[0] != b"Z":
            parents[int(name)] = int(fields[1])
    return parents


def descendants(root: int) -> set[int]:
    """``root`` and every live (non-zombie) process below it."""
    children: dict[int, list[int]] = {}
    parents = _parents()
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found = {root} if root in parents else set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def private_bytes(pids: set[int]) -> int:
    """Resident, unshared memory of ``pids`` together (see the module docstring)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                fields = f.read().split()
        except OSError:
            continue
        if len(fields) >= 3:
            total += max(0, int(fields[1]) - int(fields[2])) * PAGE
    return total


def marked(marker: str) -> set[int]:
    """Processes exec'd with ``REDSEARCHER_SANDBOX_RUN=marker`` in their environment."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found: set[int] = set()
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.add(int(name))
    return found


def _kill(pids: set[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def kill_tree(root: int | None, marker: str | None) -> int:
    """SIGKILL the tree under ``root`` (excluding ``root``) and every process with ``marker``.

    Looks again after each round until nothing is left, so a process forked during the kill
    is caught in the next round. ``root`` itself is the caller's child and its to reap; it is
    left alone so that its pid cannot be recycled while we still signal by pid.

    Returns:
        How many processes were signalled.
    """
    killed = 0
    for _ in range(SWEEP_ROUNDS):
        pids = descendants(root) - {root} if root is not None else set()
        if marker is not None:
            pids |= marked(marker)
        pids.discard(os.getpid())
        if not pids:
            break
        _kill(pids)
        killed += len(pids)
        time.sleep(0.005)
    return killed
