"""The supervisor that runs inside the sandbox, before and around the model's code.

Its source is passed to the sandbox interpreter with ``-c`` (the project directory is not
visible in there), so it imports only the standard library and runs on any Python 3.8+.

Why a supervisor instead of exec'ing the code directly:

* Limits are set here, *inside* the sandbox, on an unprivileged uid, where ``RLIMIT_NPROC``
  binds; no ``preexec_fn`` runs Python code in a forked child of a threaded server.
* Files are written by the sandboxed uid into the private tmpfs, never onto the host disk.
* As PID 1 of the run's PID namespace (``bwrap --as-pid-1``) it reaps orphans, so a fork bomb's
  zombies do not eat the process budget, and it cannot be signalled by the code (the kernel
  drops signals to a namespace's init that it has no handler for). When the code's main
  process ends, this process exits and the kernel kills everything left in the namespace.
* Without bubblewrap (no PID namespace) it is a child subreaper instead: orphans, detached
  (``setsid``, double-forked) ones included, are reparented to it rather than to the host's
  init, and when the code's main process ends it kills and reaps all of them before it
  reports, so no background process outlives the run.
* It reports the code's exact fate on a status pipe (``ready``, then ``exit N`` or
  ``signal N``): exit statuses of 128+N from bubblewrap are ambiguous, and a missing ``ready``
  tells a broken sandbox from broken code.

Protocol: ``argv[1]`` is a memfd holding a JSON payload (code, files, limits, working
directory), ``argv[2]`` the write end of the status pipe.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import resource
import signal
import sys
import time
from typing import Any

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def report(fd: int, line: str) -> None:
    """Write one status line; a closed pipe only means the host stopped listening."""
    with contextlib.suppress(OSError):
        os.write(fd, (line + "\n").encode())


def read_payload(fd: int) -> dict[str, Any]:
    """The JSON payload in the memfd ``fd`` (read with pread: the offset is shared)."""
    size = os.fstat(fd).st_size
    chunks = []
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(size - offset, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    os.close(fd)
    payload: dict[str, Any] = json.loads(b"".join(chunks))
    return payload


def undumpable() -> None:
    """Keep the code (same uid) from ptracing this process or reading its fds via /proc."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:
        pass


def subreaper() -> bool:
    """Become the reaper of our orphans (outside a PID namespace); whether it worked."""
    try:
        import ctypes

        return int(ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except Exception:
        return False


def children() -> list[int]:
    """Our live children (orphans we adopted included), from ``/proc``."""
    me = str(os.getpid()).encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/" + name + "/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and fields[1] == me and fields[0] != b"Z":
            found.append(int(name))
    return found


def end_orphans() -> None:
    """Kill and reap every process left below us, until none is left (or 2 s passed)."""
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        left = children()
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
        if not left:
            return
        time.sleep(0.01)


def write_file(path: str, data: bytes) -> None:
    """Create ``path`` (and its parents) exclusively, without following links."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def close_inherited() -> None:
    """Close every descriptor above stderr before the code starts."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 4096))
    for fd in fds:
        if fd > 2:
            with contextlib.suppress(OSError):
                os.close(fd)


def set_limit(which: int, soft: int, hard: int) -> None:
    """Lower a limit; never above the hard limit this process already has."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
    resource.setrlimit(which, (min(soft, hard), hard))


def wait_for(pid: int, reaper: bool) -> int:
    """Wait for ``pid``; as a reaper (PID 1, subreaper), reap every other orphan on the way."""
    if not reaper:
        return os.waitpid(pid, 0)[1]
    while True:
        child, status = os.wait()
        if child == pid:
            return status


def main() -> None:
    """Set limits, write the files, run the code, report how it ended."""
    status_fd = int(sys.argv[2])
    payload = read_payload(int(sys.argv[1]))
    os.umask(0o077)
    undumpable()
    with contextlib.suppress(OSError):
        os.nice(int(payload["nice"]))
    for name, (soft, hard) in payload["limits"].items():
        set_limit(getattr(resource, name), soft, hard)
    workdir = payload["workdir"]
    script = os.path.join(workdir, payload["script"])
    try:
        write_file(script, payload["code"].encode("utf-8"))
        for name, data in payload["files"].items():
            write_file(os.path.join(workdir, name), base64.b64decode(data))
    except OSError as err:
        sys.stderr.write(f"The sandbox could not write the files of this run: {err}\n")
        sys.stderr.flush()
        report(status_fd, "setup-error")
        os._exit(1)
    argv = [sys.executable, "-B", "-s", script]
    env = dict(os.environ)
    reaper = os.getpid() == 1 or subreaper()
    report(status_fd, "ready")
    pid = os.fork()
    if pid == 0:
        try:
            close_inherited()
            os.execve(argv[0], argv, env)
        except BaseException as err:
            os.write(2, f"The sandbox could not start Python: {err}\n".encode())
        os._exit(127)
    status = wait_for(pid, reaper)
    if reaper and os.getpid() != 1:
        end_orphans()
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        report(status_fd, f"signal {signum}")
        os._exit(128 + signum)
    code = os.WEXITSTATUS(status)
    report(status_fd, f"exit {code}")
    os._exit(code)


if __name__ == "__main__":
    main()
