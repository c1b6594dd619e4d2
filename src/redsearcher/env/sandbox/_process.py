"""Start one sandboxed process tree and watch it until it ends, is too slow or too loud.

One selector loop (no thread per pipe) feeds stdin, reads stdout and stderr up to a cap and
watches the launcher's exit through a pidfd. Whatever stops the run (deadline, output past the
cap, cancellation, memory past the run's budget) kills the launcher's whole process group with
SIGKILL. Under bubblewrap that is enough to end everything: the run's PID 1 dies with its parent
(``--die-with-parent``) and the kernel then kills the rest of the PID namespace. Without
bubblewrap (``Launch.marker`` set), the process group is killed again once the leader has
exited, and then every process of the tree and every process carrying the run's marker, to take
detached (``setsid``, double-forked) background children with it (see ``_tree``).

The memory budget of a run (all its processes together) is enforced by a cgroup where the
host delegates one (``_cgroup``; the kernel kills the run, and the watch only reads the verdict),
else by this loop: every ``POLL_S`` it sums the private memory of the run's process tree and
kills the tree when the sum is over the budget. A poll cannot see between two ticks, so a run
may overshoot by what it allocates in ``POLL_S`` (each process stays within ``RLIMIT_AS``).

The group is only ever signalled while its leader is still unreaped (alive or a zombie), so its
id cannot have been recycled by an unrelated process.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from redsearcher.env.sandbox._errors import SandboxError
from redsearcher.env.sandbox._tree import descendants, kill_tree, private_bytes

GRACE_S = 1.0
"""How long to keep draining pipes after the process ended or was killed."""
TICK_S = 0.1
"""Longest sleep between checks of the deadline and of cancellation."""
POLL_S = 0.05
"""How often the host measures a run's memory when no cgroup bounds it."""
POLL_COST_FACTOR = 10
"""Polls are at least this many times their own cost apart."""
CHUNK = 1 << 16


@dataclass
class Launch:
    """How to start one run: the command, its environment and what it inherits."""

    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    cwd: str | None = None
    user: int | None = None
    """Host uid (and gid) to switch to before exec; None keeps ours."""
    marker: str | None = None
    """The run's ``REDSEARCHER_SANDBOX_RUN`` value when it runs without isolation: its
    processes are swept by it (and by the process tree) when the run ends."""


@dataclass
class Outcome:
    """What the host saw of one run."""

    stdout: bytes
    stderr: bytes
    returncode: int
    elapsed: float
    stopped: str | None = None
    """Why the host killed the run: ``timeout``, ``output``, ``cancel``, ``memory``, or None."""
    truncated: tuple[str, ...] = ()
    """Streams cut at the output cap (``stdout``, ``stderr``)."""
    status: tuple[str, ...] = field(default=())
    """Lines the in-sandbox supervisor reported (``ready``, ``exit 0``, ...)."""


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _exited(pid: int) -> bool:
    """Whether ``pid`` has ended, without reaping it."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _read_status(fd: int) -> tuple[str, ...]:
    """The supervisor's status lines (bounded, non-blocking: writers may linger)."""
    os.set_blocking(fd, False)
    data = b""
    with contextlib.suppress(BlockingIOError, OSError):
        while len(data) < 4096:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    text = data[:4096].decode("ascii", "replace")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _spawn(launch: Launch) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            launch.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=launch.env,
            cwd=launch.cwd,
            pass_fds=launch.pass_fds,
            close_fds=True,
            start_new_session=True,
            user=launch.user,
            group=launch.user,
            extra_groups=None if launch.user is None else [],
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise SandboxError(f"could not start {launch.argv[0]}: {err}") from err


class _Watch:
    """The state of one running process tree as the selector loop sees it."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        stdin: bytes,
        max_output: int,
        *,
        marker: str | None = None,
        memory_budget: int | None = None,
    ) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.max_output = max_output
        self.marker = marker
        self.memory_budget = memory_budget
        self.next_poll = 0.0
        self.sel = selectors.DefaultSelector()
        self.names = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
        self.buffers = {"stdout": bytearray(), "stderr": bytearray()}
        self.open_reads = set(self.names)
        self.truncated: list[str] = []
        self.stopped: str | None = None
        self.ended_at: float | None = None
        self.pending = memoryview(stdin)
        self.pidfd: int | None = None
        for fd in self.names:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ, self.on_read)
        if self.pending:
            os.set_blocking(proc.stdin.fileno(), False)
            self.sel.register(proc.stdin.fileno(), selectors.EVENT_WRITE, self.on_write)
        else:
            proc.stdin.close()
        with contextlib.suppress(OSError, AttributeError):
            self.pidfd = os.pidfd_open(proc.pid)
            self.sel.register(self.pidfd, selectors.EVENT_READ, self.on_exit)

    def stop(self, reason: str) -> None:
        """Kill the whole group, once, unless the process already ended by itself."""
        if self.stopped is None and self.ended_at is None:
            self.stopped = reason
            _killpg(self.proc.pid)
            if self.marker is not None:
                kill_tree(self.proc.pid, self.marker)

    def over_budget(self, now: float) -> bool:
        """Whether the run's processes together hold more than the budget (polled)."""
        if self.memory_budget is None or now < self.next_poll:
            return False
        over = private_bytes(descendants(self.proc.pid)) > self.memory_budget
        # A host with thousands of processes makes a scan of /proc cost milliseconds: poll
        # less often there, so the watch never takes more than a tenth of a core.
        self.next_poll = now + max(POLL_S, POLL_COST_FACTOR * (time.monotonic() - now))
        return over

    def on_exit(self, fd: int) -> None:
        """The leader exited (not reaped yet, so its group id is still ours to kill)."""
        self.ended_at = time.monotonic()
        self.sel.unregister(fd)
        _killpg(self.proc.pid)

    def on_write(self, fd: int) -> None:
        """Feed the next chunk of stdin; close it when done or when the reader is gone."""
        assert self.proc.stdin is not None
        try:
            self.pending = self.pending[os.write(fd, self.pending[:CHUNK]) :]
        except BlockingIOError:
            return
        except OSError:
            self.pending = self.pending[:0]
        if not self.pending:
            self.sel.unregister(fd)
            self.proc.stdin.close()

    def on_read(self, fd: int) -> None:
        """Keep output up to the cap; past it, stop the run and drain the rest."""
        try:
            chunk = os.read(fd, CHUNK)
        except BlockingIOError:
            return
        if not chunk:
            self.sel.unregister(fd)
            self.open_reads.discard(fd)
            return
        name = self.names[fd]
        buf = self.buffers[name]
        room = self.max_output - len(buf)
        if len(chunk) > room:
            buf += chunk[:room]
            if name not in self.truncated:
                self.truncated.append(name)
            self.stop("output")
        else:
            buf += chunk

    def loop(self, deadline: float, cancel: threading.Event | None) -> None:
        """Serve events until the tree ended and its pipes closed (or a grace period passed)."""
        hard_stop: float | None = None
        while True:
            now = time.monotonic()
            if self.ended_at is None and self.pidfd is None and _exited(self.proc.pid):
                self.ended_at = now
                _killpg(self.proc.pid)
            if self.ended_at is None:
                if now >= deadline:
                    self.stop("timeout")
                elif cancel is not None and cancel.is_set():
                    self.stop("cancel")
                elif self.over_budget(now):
                    self.stop("memory")
            if self.ended_at is not None and not self.open_reads:
                return
            if hard_stop is None and (self.ended_at is not None or self.stopped is not None):
                hard_stop = now + GRACE_S
            if hard_stop is not None and now >= hard_stop:
                return
            waits = [TICK_S if self.pidfd is not None else TICK_S / 5]
            if self.stopped is None and self.ended_at is None:
                waits.append(deadline - now)
                if self.memory_budget is not None:
                    waits.append(self.next_poll - now)
            if hard_stop is not None:
                waits.append(hard_stop - now)
            for key, _ in self.sel.select(max(0.0, min(waits))):
                key.data(int(key.fd))

    def close(self) -> int:
        """Kill what may still run, close our ends, reap the leader; its exit status."""
        self.sel.close()
        if self.pidfd is not None:
            os.close(self.pidfd)
        if self.proc.returncode is None and self.ended_at is None:
            _killpg(self.proc.pid)
        if self.marker is not None:
            kill_tree(self.proc.pid, self.marker)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        return self.proc.wait()


def execute(
    launch: Launch,
    *,
    stdin: bytes,
    timeout: float,
    max_output: int,
    status_fd: int,
    close_after_spawn: tuple[int, ...] = (),
    cancel: threading.Event | None = None,
    memory_budget: int | None = None,
    on_spawn: Callable[[int], None] | None = None,
) -> Outcome:
    """Run ``launch`` to the end and collect what it printed.

    Args:
        launch: The command.
        stdin: Bytes fed to its standard input (then closed).
        timeout: Wall-clock seconds before the whole process group is killed.
        max_output: Bytes kept of stdout and of stderr each; more kills the run.
        status_fd: Read end of the supervisor's status pipe (closed by the caller).
        close_after_spawn: Our copies of descriptors the child inherited, closed once it runs.
        cancel: Set from another thread to kill the run early.
        memory_budget: Bytes the run's processes may hold together, polled every ``POLL_S``;
            None when a cgroup bounds the run (or nothing does).
        on_spawn: Called with the launcher's pid as soon as it exists, before anything is
            fed to it (to move it into the run's cgroup).

    Raises:
        SandboxError: The launcher could not be started at all.
    """
    start = time.monotonic()
    try:
        proc = _spawn(launch)
    finally:
        for fd in close_after_spawn:
            with contextlib.suppress(OSError):
                os.close(fd)
    try:
        if on_spawn is not None:
            on_spawn(proc.pid)
        watch = _Watch(proc, stdin, max_output, marker=launch.marker, memory_budget=memory_budget)
    except BaseException:
        _killpg(proc.pid)
        if launch.marker is not None:
            kill_tree(proc.pid, launch.marker)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        proc.wait()
        raise
    try:
        watch.loop(start + timeout, cancel)
    finally:
        returncode = watch.close()
    end = watch.ended_at if watch.ended_at is not None else time.monotonic()
    return Outcome(
        stdout=bytes(watch.buffers["stdout"]),
        stderr=bytes(watch.buffers["stderr"]),
        returncode=returncode,
        elapsed=end - start,
        stopped=watch.stopped,
        truncated=tuple(watch.truncated),
        status=_read_status(status_fd),
    )
