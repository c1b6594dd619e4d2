"""Per-run cgroups (v2): the kernel bounds a run's memory and processes, all of them together.

Where the host delegates a cgroup v2 subtree to us with the ``memory`` and ``pids`` controllers
enabled for children, every run gets a child cgroup with ``memory.max`` (``run_memory_bytes``),
``memory.swap.max`` 0, ``memory.oom.group`` 1 (an out-of-memory kill takes the whole run, not
one process) and ``pids.max``. That is exact where polling (``_tree``) can only sample, and it
also holds processes that left the run's process tree.

Detection (``SandboxConfig.cgroup``): ``auto`` looks at this process's own cgroup, and uses it
only when its ``cgroup.subtree_control`` already lists ``memory`` and ``pids`` (or accepts
them) and a child can be created; cgroup v1 hosts, hybrid hosts without those v2 controllers
and containers without delegation fall back to polling, silently. A path names a delegated
directory explicitly (for example a systemd unit with ``Delegate=yes`` whose service process
sits in a leaf child); there a failure is a ``ConfigError``, since the operator asked for it.

A process has to enter its cgroup before it can allocate or fork, so the launcher is started
behind a *gate*: a one-line Python that waits for one byte on a pipe, then execs the real
command. The host writes the gate's pid into ``cgroup.procs`` and only then opens the gate.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Literal

from redsearcher.env.sandbox._errors import SandboxError
from redsearcher.env.sandbox._process import Launch
from redsearcher.errors import ConfigError

logger = logging.getLogger(__name__)

CONTROLLERS = ("memory", "pids")
EXTRA_PIDS = 8
"""Processes of the sandbox machinery itself (bubblewrap, the supervisor) above
``max_processes``."""
GATE = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "if os.read(fd, 1) != b'1':\n"
    "    os._exit(125)\n"
    "os.close(fd)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def _own_cgroup() -> Path | None:
    """This process's cgroup v2 directory, or None on a cgroup v1-only host."""
    mount = None
    with contextlib.suppress(OSError), open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split(" ", 1)[0] == "cgroup2":
                mount = left.split()[4]
                break
    if mount is None:
        return None
    with contextlib.suppress(OSError), open("/proc/self/cgroup", encoding="utf-8") as f:
        for line in f:
            if line.startswith("0::"):
                return Path(mount) / line[3:].strip().lstrip("/")
    return None


def _usable(base: Path) -> str | None:
    """None when run cgroups can be made under ``base``, else why not."""
    try:
        available = (base / "cgroup.controllers").read_text().split()
    except OSError as err:
        return f"{base} is not a cgroup v2 directory ({err.strerror})"
    missing = [name for name in CONTROLLERS if name not in available]
    if missing:
        return f"{base} lacks the {'/'.join(missing)} controller(s)"
    subtree = base / "cgroup.subtree_control"
    try:
        enabled = subtree.read_text().split()
        wanted = [name for name in CONTROLLERS if name not in enabled]
        if wanted:
            subtree.write_text(" ".join(f"+{name}" for name in wanted))
        probe = base / f"redsearcher-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        return f"cannot create cgroups with memory and pids under {base} ({err.strerror})"
    return None


def find_cgroup(setting: Path | Literal["auto", "off"]) -> Path | None:
    """The cgroup v2 directory to create run cgroups in, or None to poll instead.

    Raises:
        ConfigError: ``setting`` is a path that cannot be used.
    """
    if setting == "off":
        return None
    if isinstance(setting, Path):
        problem = _usable(setting)
        if problem is not None:
            raise ConfigError(f"sandbox.cgroup: {problem}")
        return setting
    base = _own_cgroup()
    if base is None:
        return None
    problem = _usable(base)
    if problem is not None:
        logger.info("run memory is bounded by polling, not by a cgroup: %s", problem)
        return None
    return base


class RunCgroup:
    """The cgroup of one run: created with its limits, entered through the gate, removed.

    Args:
        parent: The delegated cgroup directory (``find_cgroup``).
        memory: ``memory.max`` in bytes.
        pids: ``pids.max``.

    Raises:
        SandboxError: The cgroup could not be created or limited.
    """

    def __init__(self, parent: Path, *, memory: int, pids: int) -> None:
        self.path = parent / f"redsearcher-run-{uuid.uuid4().hex}"
        try:
            self.path.mkdir()
        except OSError as err:
            raise SandboxError(f"could not create the run's cgroup {self.path}: {err}") from err
        try:
            self._write("memory.max", str(memory))
            self._write("pids.max", str(pids))
            for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                if (self.path / name).exists():
                    self._write(name, value)
        except SandboxError:
            self.remove()
            raise

    def _write(self, name: str, value: str) -> None:
        try:
            (self.path / name).write_text(value)
        except OSError as err:
            raise SandboxError(f"could not set {self.path / name} to {value}: {err}") from err

    def gated(self, launch: Launch, python: str, gate_fd: int) -> Launch:
        """``launch`` behind the gate that waits on ``gate_fd`` (a pipe's read end)."""
        argv = [python, "-I", "-S", "-c", GATE, str(gate_fd), *launch.argv]
        launch.argv = argv
        launch.pass_fds = (*launch.pass_fds, gate_fd)
        return launch

    def admit(self, pid: int, gate_w: int) -> None:
        """Move the gated process ``pid`` into this cgroup, then let it run.

        Raises:
            SandboxError: It could not be moved (the gate stays shut: the process exits).
        """
        try:
            self._write("cgroup.procs", str(pid))
            os.write(gate_w, b"1")
        finally:
            os.close(gate_w)

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the run for memory."""
        with contextlib.suppress(OSError, ValueError):
            for line in (self.path / "memory.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key in ("oom_kill", "oom_group_kill") and int(value) > 0:
                    return True
        return False

    def kill(self) -> None:
        """SIGKILL every process in the cgroup (``cgroup.kill`` where the kernel has it)."""
        if (self.path / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (self.path / "cgroup.kill").write_text("1")
                return
        for _ in range(20):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                return
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill what is left and remove the cgroup (retried while its processes die)."""
        self.kill()
        for _ in range(200):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.005)
        logger.warning("could not remove the run cgroup %s", self.path)
