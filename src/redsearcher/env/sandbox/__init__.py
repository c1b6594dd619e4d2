"""The Python sandbox for model-written code (the ``PythonInterpreter`` tool, ``/run_code``).

Threat model. The code is written by a model that reads untrusted web pages, so it is treated
as hostile: it may try to read the host's secrets (``/etc/shadow``, the project and its data,
the user's home, the server's environment variables and API keys), reach the network (exfiltrate,
attack local services on 127.0.0.1), damage or fill the host (write outside its scratch space,
fork bombs, memory bombs, endless loops, endless output), signal or ptrace host processes, or
gain privileges. The sandbox must contain all of that *every* time, and still return a result
the model can read. Kernel exploits and CPU side channels are out of scope (no seccomp filter
yet: the code may call any syscall, without capabilities, without new privileges and without
new user namespaces).

How. Every run starts a fresh bubblewrap sandbox:

* namespaces: user (the code is uid 65534, no capabilities, ``no_new_privs``), PID (it sees only
  its own processes; killing the run's PID 1 ends them all), network (only a loopback of its
  own: no route out, no DNS), IPC, UTS, cgroup; nested user namespaces disabled (bubblewrap
  0.8+);
* filesystem: ``/usr`` read-only, generated ``/etc/{passwd,group,hosts,nsswitch.conf}``, a
  private ``/proc`` and minimal ``/dev``, and a tmpfs ``/tmp`` (size-capped where bubblewrap
  has ``--size``) — with ``/dev/shm`` the only writable place, discarded after the run; the
  interpreter is ``/usr/bin/python3`` (or the base interpreter's prefix read-only), never the
  virtualenv or the project;
* environment: bubblewrap itself starts with an empty environment and the code gets a fixed
  minimal one, so no host variable exists anywhere in the sandbox;
* limits: rlimits on CPU time, address space, processes (bound because the sandbox maps to an
  unprivileged host uid, never root), file size, open files and core dumps; a wall-clock
  deadline and an output cap, past which the host kills the whole process tree; a memory
  budget for the whole run (``run_memory_bytes``), enforced by a per-run cgroup v2 where the
  host delegates one, else by the host polling the run's processes every 50 ms;
* concurrency: at most ``max_concurrency`` runs at once; others wait, first come first served,
  up to ``queue_timeout``, then get ``SandboxBusy``; a cancelled ``arun`` (a client that hung
  up) kills its run at once and frees its slot.

Without bubblewrap the sandbox refuses to run (``SandboxUnavailable``, which says how to install
it) unless ``SandboxConfig(insecure=True)`` allows a plain subprocess with the same limits; every
result of such a run says it ran WITHOUT isolation. Such a run still gets a private temporary
directory (cwd, ``HOME``, ``TMPDIR``) removed after it, and all its processes, detached ones
included, are killed when it ends (a subreaper supervisor, the process tree, and a per-run
environment marker); it can read and write anything its uid can, elsewhere on the host.

Residual risks: without a cgroup, the memory budget is sampled, so a run may overshoot it by
what it allocates in 50 ms (each process stays within ``memory_bytes``), and the private
``/tmp`` tmpfs (``tmp_bytes``) is not counted in it; CPU is shared (processes are niced);
there is no seccomp filter.
"""

from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.env.sandbox._errors import (
    SandboxBusy,
    SandboxError,
    SandboxRequestError,
    SandboxUnavailable,
)
from redsearcher.env.sandbox._fusion import (
    arun_code_request,
    parse_run_code_request,
    render_run_result,
    run_code_request,
    run_code_response,
    sandbox_error_response,
)
from redsearcher.env.sandbox._run import Sandbox

__all__ = [
    "Sandbox",
    "SandboxBusy",
    "SandboxConfig",
    "SandboxError",
    "SandboxRequestError",
    "SandboxUnavailable",
    "arun_code_request",
    "parse_run_code_request",
    "render_run_result",
    "run_code_request",
    "run_code_response",
    "sandbox_error_response",
]
