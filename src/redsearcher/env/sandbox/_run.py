"""``Sandbox``: run model-written Python and always come back with a ``RunResult``.

Bad code is the normal case here, never an exception: syntax errors and tracebacks finish with
a non-zero return code, crashes and kills end as ``"Error"``, slow code as
``"TimeLimitExceeded"``. Exceptions are kept for the caller's mistakes (``SandboxRequestError``),
a machine that cannot isolate code (``SandboxUnavailable``) and a sandbox that broke
(``SandboxError``).

``run`` blocks its thread; ``arun`` runs the same code on a pool of ``max_concurrency`` threads
owned by the sandbox, so an event loop never blocks and never starves its default executor.
Both take one of ``max_concurrency`` slots first, waiting at most ``queue_timeout``
(``SandboxBusy`` past it); ``arun`` waits on the event loop, not in a thread.

Every run is bounded in memory as a whole (``run_memory_bytes``): by its own cgroup where the
host delegates one, else by the host polling its processes; either way a run over its budget
ends as ``"Error"`` with a note saying so. Without bubblewrap every process of the run,
detached ones included, is killed when it ends, and its temporary directory is removed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import signal
import tempfile
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

from redsearcher._util import Closing
from redsearcher.env._types import RunResult
from redsearcher.env.sandbox._bwrap import (
    SANDBOX_UID,
    WORKDIR,
    Runtime,
    bwrap_flags,
    bwrap_launch,
    find_bwrap,
    memfd,
    plain_launch,
    resolve_interpreter,
    resolve_packages,
)
from redsearcher.env.sandbox._cgroup import EXTRA_PIDS, RunCgroup, find_cgroup
from redsearcher.env.sandbox._config import MiB, SandboxConfig
from redsearcher.env.sandbox._errors import INSTALL_HINT, SandboxError, SandboxUnavailable
from redsearcher.env.sandbox._inputs import Request, check_request, payload, rlimits
from redsearcher.env.sandbox._process import Outcome, execute
from redsearcher.env.sandbox._slots import Slots

logger = logging.getLogger(__name__)

FINISHED = "Finished"
TIME_LIMIT_EXCEEDED = "TimeLimitExceeded"
ERROR = "Error"
INSECURE_NOTE = (
    "insecure: this code ran WITHOUT isolation (bubblewrap unavailable, insecure=True); it "
    "could read the host's files and reach its network"
)
"""Note on every result of an unisolated run; notes starting ``insecure:`` are for operators
and are not shown to the model."""
SELF_TEST = "import os, sys; print(os.getuid(), sys.version_info[0], sys.version_info[1])"


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _ending(status: tuple[str, ...]) -> tuple[str, int] | None:
    """The supervisor's last word: ``("exit", code)`` or ``("signal", number)``."""
    for line in status:
        kind, _, value = line.partition(" ")
        if kind in ("exit", "signal") and value.isdigit():
            return kind, int(value)
    return None


def _result(outcome: Outcome, config: SandboxConfig, *, isolated: bool) -> RunResult:
    """Turn what the host saw into a ``RunResult`` (or raise if the sandbox never started)."""
    stdout = outcome.stdout.decode("utf-8", "replace")
    stderr = outcome.stderr.decode("utf-8", "replace")
    notes: list[str] = []
    for name in outcome.truncated:
        stopped = ", so the program was stopped" if outcome.stopped == "output" else ""
        notes.append(f"Output truncated: {name} exceeded {config.max_output_bytes} bytes{stopped}.")
    ending = _ending(outcome.status)
    status, code = ERROR, None
    if outcome.stopped == "timeout":
        status = TIME_LIMIT_EXCEEDED
    elif outcome.stopped == "cancel":
        notes.append("The run was cancelled.")
    elif outcome.stopped == "output":
        pass
    elif outcome.stopped == "memory":
        notes.append(
            f"The run used more than its memory budget of {config.run_memory_bytes // MiB} MiB "
            "(all its processes together), so it was killed."
        )
    elif ending is not None and ending[0] == "exit":
        status, code = FINISHED, ending[1]
    elif ending is not None and ending[1] == signal.SIGXCPU:
        status = TIME_LIMIT_EXCEEDED
        notes.append(f"The CPU time limit of {config.cpu_time} s was exceeded.")
    elif ending is not None:
        code = -ending[1]
        notes.append(f"The program was killed by {_signal_name(ending[1])}.")
    elif "setup-error" in outcome.status:
        pass
    elif "ready" not in outcome.status:
        detail = stderr.strip()[-2000:] or "no message"
        raise SandboxError(f"the sandbox did not start (exit {outcome.returncode}): {detail}")
    else:
        notes.append("The sandbox supervisor ended unexpectedly.")
    if not isolated:
        notes.append(INSECURE_NOTE)
    return RunResult(
        status=status,
        return_code=code,
        stdout=stdout,
        stderr=stderr,
        execution_time=round(outcome.elapsed, 4),
        notes=tuple(notes),
    )


def _execute(runtime: Runtime, request: Request, cancel: threading.Event | None) -> RunResult:
    """One run, start to finish, with every descriptor, directory and cgroup cleaned up."""
    config = runtime.config
    isolated = runtime.bwrap is not None
    root = None if isolated else Path(tempfile.mkdtemp(prefix="redsearcher-sandbox-"))
    workdir = WORKDIR if root is None else str(root / "work")
    limits = rlimits(config, nproc=isolated or runtime.drop_to is not None)
    fds: list[int] = []
    status_r = gate_w = -1
    cgroup: RunCgroup | None = None
    try:
        try:
            status_r, status_w = os.pipe()
            fds.append(status_w)
            data = payload(request, workdir=workdir, limits=limits, nice=config.nice)
            fds.append(memfd("payload", data))
            if root is None:
                launch, extra = bwrap_launch(runtime, fds[1], status_w)
                fds += extra
            else:
                launch = plain_launch(runtime, fds[1], status_w, root, uuid.uuid4().hex)
            if runtime.cgroup is not None:
                pids = config.max_processes + EXTRA_PIDS
                cgroup = RunCgroup(runtime.cgroup, memory=config.run_memory_bytes, pids=pids)
                gate_r, gate_w = os.pipe()
                fds.append(gate_r)
                launch = cgroup.gated(launch, runtime.interpreter.path, gate_r)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

        def admit(pid: int) -> None:
            nonlocal gate_w
            assert cgroup is not None
            fd, gate_w = gate_w, -1
            cgroup.admit(pid, fd)

        outcome = execute(
            launch,
            stdin=request.stdin,
            timeout=request.timeout,
            max_output=config.max_output_bytes,
            status_fd=status_r,
            close_after_spawn=tuple(fds),
            cancel=cancel,
            memory_budget=None if cgroup is not None else config.run_memory_bytes,
            on_spawn=None if cgroup is None else admit,
        )
        if cgroup is not None and outcome.stopped is None and cgroup.oom_killed():
            outcome.stopped = "memory"
    finally:
        for fd in (status_r, gate_w):
            if fd >= 0:
                os.close(fd)
        if cgroup is not None:
            cgroup.remove()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)
    return _result(outcome, config, isolated=isolated)


class Sandbox(Closing):
    """Runs model-written Python isolated by bubblewrap, within ``SandboxConfig``'s limits.

    Constructing one only checks that bubblewrap exists; ``start`` (or the first run) picks the
    interpreter and runs a self-test; ``close`` stops the threads behind ``arun``. Usable as a
    context manager. Thread-safe.

    Args:
        config: Limits and isolation settings; the defaults when None.

    Raises:
        SandboxUnavailable: bubblewrap is missing and ``config.insecure`` is False.
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._bwrap = find_bwrap(self.config.bwrap_path)
        if self._bwrap is None and not self.config.insecure:
            raise SandboxUnavailable(
                f"bubblewrap ({self.config.bwrap_path!r}) was not found; {INSTALL_HINT}"
            )
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()
        self.slots = Slots(self.config.max_concurrency, self.config.queue_timeout)
        """The run slots (``busy`` and ``waiting`` tell how loaded the sandbox is)."""
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False

    def __enter__(self) -> Self:
        self.start()
        return self

    @property
    def isolated(self) -> bool:
        """Whether runs are isolated by bubblewrap (starts the sandbox if needed)."""
        return self._started().bwrap is not None

    @property
    def memory_bound(self) -> str:
        """How a run's total memory is bounded: ``cgroup`` or ``poll`` (starts the sandbox)."""
        return "poll" if self._started().cgroup is None else "cgroup"

    def start(self) -> None:
        """Pick the interpreter and self-test the isolation (idempotent).

        Raises:
            SandboxUnavailable: bubblewrap fails here and ``config.insecure`` is False, or the
                interpreter does not run.
            ConfigError: ``python`` or ``extra_packages`` would expose the project or cannot
                be used.
        """
        self._started()

    async def astart(self) -> None:
        """``start`` off the event loop."""
        await asyncio.get_running_loop().run_in_executor(self._pool(), self.start)

    def close(self) -> None:
        """Stop accepting runs and let the ``arun`` threads end (runs in flight finish)."""
        with self._lock:
            self._closed = True
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def run(
        self,
        code: str,
        *,
        stdin: str | bytes | None = None,
        timeout: float | None = None,
        files: Mapping[str, str | bytes] | None = None,
    ) -> RunResult:
        """Run ``code`` as a Python script and wait for it.

        Args:
            code: The program (it runs as ``/tmp/work/main.py`` with ``/tmp/work`` as cwd).
            stdin: Standard input (text is UTF-8 encoded).
            timeout: Wall-clock seconds; ``config.timeout`` when None, at most
                ``config.max_timeout``.
            files: Files to place in the working directory before the code starts, by relative
                path; text is written UTF-8 encoded, bytes as they are.

        Returns:
            The outcome; never raises for anything the code does.

        Raises:
            SandboxRequestError: An argument is of the wrong type or out of bounds.
            SandboxUnavailable: See ``start``.
            SandboxError: The sandbox itself broke.
        """
        request = check_request(self.config, code, stdin=stdin, timeout=timeout, files=files)
        return self._run(request, None)

    async def arun(
        self,
        code: str,
        *,
        stdin: str | bytes | None = None,
        timeout: float | None = None,
        files: Mapping[str, str | bytes] | None = None,
    ) -> RunResult:
        """``run`` without blocking the event loop; cancelling it kills the run.

        The slot is awaited on the event loop; once the run is cancelled, its process tree
        is killed within ``TICK_S`` (0.1 s) and the slot is free again when it is gone.

        Args:
            code: See ``run``.
            stdin: See ``run``.
            timeout: See ``run``.
            files: See ``run``.

        Returns:
            The outcome; never raises for anything the code does.

        Raises:
            SandboxRequestError: An argument is of the wrong type or out of bounds.
            SandboxBusy: No run slot came free within ``queue_timeout``.
            SandboxUnavailable: See ``start``.
            SandboxError: The sandbox itself broke.
        """
        request = check_request(self.config, code, stdin=stdin, timeout=timeout, files=files)
        pool = self._pool()
        await self.slots.aacquire()
        cancel = threading.Event()
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(pool, functools.partial(self._in_slot, request, cancel))
        except BaseException:
            self.slots.release()
            raise
        try:
            return await future
        except asyncio.CancelledError:
            cancel.set()
            raise

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("this Sandbox is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self.config.max_concurrency,
                    thread_name_prefix="redsearcher-sandbox",
                )
            return self._executor

    def _run(self, request: Request, cancel: threading.Event | None) -> RunResult:
        if self._closed:
            raise RuntimeError("this Sandbox is closed")
        self.slots.acquire()
        return self._in_slot(request, cancel)

    def _in_slot(self, request: Request, cancel: threading.Event | None) -> RunResult:
        """Run ``request`` in the slot the caller took, and give the slot back after."""
        try:
            if self._closed:
                raise RuntimeError("this Sandbox is closed")
            return _execute(self._started(), request, cancel)
        finally:
            self.slots.release()

    def _started(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                self._runtime = self._open()
            return self._runtime

    def _open(self) -> Runtime:
        config = self.config
        interpreter = resolve_interpreter(config)
        packages = resolve_packages(config.extra_packages, interpreter)
        cgroup = find_cgroup(config.cgroup)
        if self._bwrap is not None:
            flags = bwrap_flags(self._bwrap)
            runtime = Runtime(config, interpreter, packages, self._bwrap, flags, cgroup)
            problem = self._self_test(runtime)
            if problem is None:
                if "--size" not in runtime.bwrap_flags:
                    logger.warning("this bubblewrap cannot cap the size of /tmp (no --size)")
                return runtime
            problem = f"bubblewrap ({self._bwrap}) failed its self-test: {problem}"
            if runtime.drop_to is not None:
                problem += (
                    f" (it runs as uid {runtime.drop_to}: the interpreter {interpreter.path} "
                    "must be readable by that uid; unprivileged user namespaces must be allowed)"
                )
        else:
            problem = f"bubblewrap ({config.bwrap_path!r}) was not found"
        if not config.insecure:
            raise SandboxUnavailable(f"{problem}; {INSTALL_HINT}")
        logger.warning("model-written code will run WITHOUT isolation (insecure=True): %s", problem)
        runtime = Runtime(config, interpreter, packages, None, cgroup=cgroup)
        failure = self._self_test(runtime)
        if failure is not None:
            raise SandboxUnavailable(f"{interpreter.path} failed its self-test: {failure}")
        return runtime

    @staticmethod
    def _self_test(runtime: Runtime) -> str | None:
        """Run a one-line program; None when it worked, else what went wrong."""
        request = Request(code=SELF_TEST, stdin=b"", files={}, timeout=30.0)
        try:
            result = _execute(runtime, request, None)
        except (SandboxError, OSError) as err:
            return str(err)
        words = result.stdout.split()
        if result.status != FINISHED or result.return_code != 0 or len(words) != 3:
            return f"status {result.status}, exit {result.return_code}: {result.stderr[-2000:]}"
        if runtime.bwrap is not None and words[0] != str(SANDBOX_UID):
            return f"the code ran as uid {words[0]}, not {SANDBOX_UID}"
        return None
