"""Limits and isolation knobs of the Python sandbox.

Every bound on a run lives here, in one typed model built once and passed to ``Sandbox``: the
defaults are sized for an agent's scratch computations (a few seconds, a few hundred MiB) on a
small shared machine, where eight runs at once must not starve the search server beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MiB = 1 << 20


class SandboxConfig(BaseModel):
    """Configuration of ``Sandbox``; a run never gets more than these limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bwrap_path: str = "bwrap"
    """The bubblewrap executable: a name looked up on ``PATH`` or a path. When it is missing or
    fails its self-test, the sandbox is unavailable (see ``insecure``)."""
    insecure: bool = False
    """Allow running code WITHOUT isolation (a plain subprocess with the same rlimits and
    timeouts) when bubblewrap is unavailable. Off by default; every result of such a run carries
    a note saying so. Where bubblewrap works it is always used, whatever this says."""
    python: Path | None = None
    """Interpreter that runs the code. ``None`` picks ``/usr/bin/python3`` when it exists (it
    lives under the read-only ``/usr`` bind), else the *base* interpreter of the running Python
    (``sys.base_prefix``, never a virtualenv), whose prefix is bound read-only."""
    extra_packages: tuple[str, ...] = ()
    """Top-level import names (e.g. ``("numpy",)``) installed in this Python's site-packages to
    expose, read-only and one by one, at ``/opt/redsearcher-site``. Only packages installed in a
    ``site-packages``/``dist-packages`` directory qualify (never the project); their
    dependencies must be listed too, and the sandbox interpreter must have the same
    ``major.minor`` version as this one. System packages under ``/usr`` (``apt-get install
    python3-numpy``) are visible without this."""
    timeout: float = Field(default=10.0, gt=0.0, le=3600.0)
    """Default wall-clock limit of one run, in seconds; the whole sandbox is killed past it."""
    max_timeout: float = Field(default=120.0, gt=0.0, le=3600.0)
    """Largest wall-clock limit a caller may ask for (``run(timeout=...)``, ``run_timeout``).
    120 s is what the peers send (DeepTraceHub's ``run_timeout: 120``); SandboxFusion itself
    has no cap. ``run`` refuses more; the HTTP twin clamps to it (``redsearcher.server``)."""
    cpu_time: int = Field(default=10, ge=1, le=3600)
    """CPU seconds per process (``RLIMIT_CPU``); past it the process gets ``SIGXCPU``."""
    memory_bytes: int = Field(default=1024 * MiB, ge=64 * MiB)
    """Address space per process (``RLIMIT_AS``); allocations past it raise ``MemoryError``."""
    max_processes: int = Field(default=64, ge=4, le=4096)
    """Processes and threads of one run (``RLIMIT_NPROC``, counted inside the run's own user
    namespace, so concurrent runs do not share it)."""
    max_open_files: int = Field(default=256, ge=32, le=65536)
    """Open file descriptors per process (``RLIMIT_NOFILE``)."""
    max_file_bytes: int = Field(default=16 * MiB, ge=MiB)
    """Largest file a process may write (``RLIMIT_FSIZE``)."""
    tmp_bytes: int = Field(default=16 * MiB, ge=MiB)
    """Size of the private ``/tmp`` (and of ``/dev/shm``): a tmpfs, the only writable place."""
    max_output_bytes: int = Field(default=MiB, ge=1024)
    """Bytes kept of stdout and of stderr each; a run that prints more is killed and its
    output marked truncated."""
    max_code_bytes: int = Field(default=256 * 1024, ge=1024)
    """Longest accepted code (UTF-8 bytes)."""
    max_stdin_bytes: int = Field(default=MiB, ge=0)
    """Longest accepted standard input (bytes)."""
    max_files: int = Field(default=32, ge=0, le=4096)
    """Most files a request may place in the working directory."""
    max_files_bytes: int = Field(default=8 * MiB, ge=0)
    """Total size of those files, decoded."""
    max_concurrency: int = Field(default=8, ge=1, le=256)
    """Runs executing at once; more wait their turn (threads of ``run`` and ``arun`` alike),
    first come first served, for at most ``queue_timeout``."""
    queue_timeout: float = Field(default=30.0, ge=0.0, le=3600.0)
    """Longest wait for a free run slot, in seconds; past it the run is refused with
    ``SandboxBusy`` (HTTP 503 with ``Retry-After``) instead of queueing behind a burst."""
    run_memory_bytes: int = Field(default=2048 * MiB, ge=64 * MiB)
    """Memory of one run, all its processes together (``memory_bytes`` caps each one, and a
    run may have ``max_processes``). Enforced by a cgroup (``memory.max``) where the host
    delegates one, else by the host summing the private memory of the run's processes every
    50 ms and killing the run past it. Eight runs at the default take at most 16 GiB."""
    cgroup: Path | Literal["auto", "off"] = "auto"
    """Where per-run cgroups go: ``auto`` uses this process's own cgroup v2 when the memory and
    pids controllers are delegated to its children (writable ``cgroup.subtree_control``),
    ``off`` never uses one, a path names a delegated cgroup v2 directory to create them in.
    Without one, memory is bounded by polling (see ``run_memory_bytes``)."""
    nice: int = Field(default=10, ge=0, le=19)
    """Scheduling niceness added to sandboxed processes, so a busy run yields to the host."""
    host_uid: int = Field(default=65534, ge=1)
    """Unprivileged host uid (and gid) that bubblewrap, or the insecure subprocess, runs as
    when this process is root: ``RLIMIT_NPROC`` does not bind root, and neither do file
    permissions. The interpreter and extra packages must be readable by it."""

    @field_validator("extra_packages")
    @classmethod
    def _identifiers(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        for name in names:
            if not name.isidentifier():
                raise ValueError(f"{name!r} is not a top-level import name")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> SandboxConfig:
        if self.timeout > self.max_timeout:
            raise ValueError(f"timeout ({self.timeout}) exceeds max_timeout ({self.max_timeout})")
        if self.max_files_bytes + self.max_code_bytes > self.tmp_bytes:
            raise ValueError(
                "max_files_bytes + max_code_bytes must fit in tmp_bytes "
                f"({self.max_files_bytes} + {self.max_code_bytes} > {self.tmp_bytes})"
            )
        return self
