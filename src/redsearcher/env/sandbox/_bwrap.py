"""What the sandboxed code sees, and the command lines that set it up.

Under bubblewrap the code gets a fresh, mostly empty root: ``/usr`` (and the ``/bin``, ``/lib*``
links into it) read-only; in ``/etc`` only generated ``passwd``, ``group``, ``hosts`` and
``nsswitch.conf`` (files only: no DNS) plus the host's ``ld.so.cache`` and ``alternatives``
links; a private ``/proc`` of its own PID namespace; a minimal ``/dev`` with a size-capped
``/dev/shm``; and a size-capped tmpfs at ``/tmp`` — with ``/dev/shm`` the only writable places,
gone when the run ends. Nothing of the host's home, the project or the virtualenv is mounted;
the interpreter is ``/usr/bin/python3`` (or the base interpreter's prefix, bound read-only), and
extra packages are bound one directory each.

The bubblewrap options travel through a memfd (``--args FD``) rather than argv, so even the
run's own ``/proc/1/cmdline`` shows no host paths, and bubblewrap itself is started with an
empty environment: the host's variables never enter the process tree at all (a forked process's
``/proc/PID/environ`` shows the environment it was *exec'd* with, ``--clearenv`` or not).

Without bubblewrap (``insecure=True``) the same supervisor runs as a plain subprocess in a
private temporary directory, as an unprivileged uid when we are root.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.env.sandbox._errors import INSTALL_HINT, SandboxUnavailable
from redsearcher.env.sandbox._process import Launch
from redsearcher.env.sandbox._tree import MARKER_VAR
from redsearcher.errors import ConfigError

SANDBOX_UID = 65534
WORKDIR = "/tmp/work"
SITE = "/opt/redsearcher-site"
BOOT_SOURCE = (Path(__file__).with_name("_boot.py")).read_text(encoding="utf-8")
ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
HOST_FILES = ("/etc/ld.so.cache", "/etc/alternatives")
ETC_FILES = {
    "/etc/passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:/tmp:/usr/sbin/nologin\n",
    "/etc/group": f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\n",
    "/etc/hosts": "127.0.0.1 localhost\n127.0.1.1 sandbox\n::1 localhost ip6-localhost\n",
    "/etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
}
_PROBE = "import sys; print(sys.base_prefix); print(sys.version_info[0], sys.version_info[1])"


@dataclass(frozen=True)
class Interpreter:
    """The Python that runs sandboxed code."""

    path: str
    """Resolved executable (no symlink, so no virtualenv ``pyvenv.cfg`` applies)."""
    prefix: str
    """Its ``sys.base_prefix``; bound read-only when outside ``/usr``."""
    version: tuple[int, int]


@dataclass(frozen=True)
class Runtime:
    """How this machine runs sandboxed code; decided once by ``Sandbox.start``."""

    config: SandboxConfig
    interpreter: Interpreter
    packages: tuple[tuple[str, str], ...]
    """(host directory, name under the site directory) of each extra package."""
    bwrap: str | None
    """The bubblewrap executable, or None when running without isolation."""
    bwrap_flags: frozenset[str] = frozenset()
    """Optional bubblewrap flags this version knows (``--size``, ``--disable-userns``)."""
    cgroup: Path | None = None
    """The delegated cgroup v2 directory runs get their own cgroup in; None: memory is
    bounded by polling (see ``SandboxConfig.cgroup``)."""

    @property
    def drop_to(self) -> int | None:
        """Host uid to switch to before starting anything (only when we are root)."""
        return self.config.host_uid if os.geteuid() == 0 else None


def find_bwrap(name: str) -> str | None:
    """The bubblewrap executable for ``name`` (a PATH name or a path), or None."""
    return shutil.which(name)


def bwrap_flags(bwrap: str) -> frozenset[str]:
    """Which optional flags ``bwrap --help`` lists."""
    try:
        text = subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, env={}, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        raise SandboxUnavailable(f"{bwrap} does not run ({err}); {INSTALL_HINT}") from err
    return frozenset(flag for flag in ("--size", "--disable-userns") if flag in text)


def _is_under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def resolve_interpreter(config: SandboxConfig) -> Interpreter:
    """Pick and probe the sandbox interpreter (see ``SandboxConfig.python``).

    Raises:
        SandboxUnavailable: It does not exist or does not run.
        ConfigError: Its prefix would expose this project.
    """
    if config.python is not None:
        chosen = str(config.python)
    elif os.access("/usr/bin/python3", os.X_OK):
        chosen = "/usr/bin/python3"
    else:
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        chosen = str(Path(sys.base_prefix) / "bin" / f"python{version}")
    path = os.path.realpath(chosen)
    try:
        probe = subprocess.run(
            [path, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=15,
            env={},
            check=True,
        )
        prefix_line, version_line = probe.stdout.splitlines()[:2]
        major, minor = (int(part) for part in version_line.split())
    except (OSError, ValueError, subprocess.SubprocessError) as err:
        raise SandboxUnavailable(f"the sandbox interpreter {chosen} does not run: {err}") from err
    prefix = os.path.realpath(prefix_line)
    project = str(Path(__file__).resolve().parents[3])
    if prefix == "/" or _is_under(project, prefix):
        raise ConfigError(f"sandbox interpreter {chosen}: its prefix {prefix} holds the project")
    return Interpreter(path=path, prefix=prefix, version=(major, minor))


def resolve_packages(
    names: tuple[str, ...], interpreter: Interpreter
) -> tuple[tuple[str, str], ...]:
    """Host directories to bind for ``extra_packages``.

    Each package's directory, its ``<name>.libs`` (vendored shared libraries) and its
    ``dist-info`` (for ``importlib.metadata``).

    Raises:
        ConfigError: A name is not installed here, not in a site-packages directory, or the
            sandbox interpreter's version differs from ours.
    """
    if not names:
        return ()
    if interpreter.version != tuple(sys.version_info[:2]):
        raise ConfigError(
            f"extra_packages need a sandbox interpreter of Python "
            f"{sys.version_info[0]}.{sys.version_info[1]}, but {interpreter.path} is "
            f"{interpreter.version[0]}.{interpreter.version[1]}"
        )
    mounts: list[tuple[str, str]] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            raise ConfigError(f"extra_packages: {name!r} is not installed")
        if spec.submodule_search_locations:
            location = Path(next(iter(spec.submodule_search_locations))).resolve()
        elif spec.origin:
            location = Path(spec.origin).resolve()
        else:
            raise ConfigError(f"extra_packages: {name!r} has no location on disk")
        parent = location.parent
        if parent.name not in ("site-packages", "dist-packages"):
            raise ConfigError(
                f"extra_packages: {name!r} lives in {parent}, not in a site-packages directory"
            )
        found = [location]
        found += [p for p in (parent / f"{name}.libs",) if p.is_dir()]
        found += sorted(parent.glob(f"{name}-*.dist-info"))
        mounts += [(str(p), p.name) for p in found]
    return tuple(mounts)


def memfd(name: str, data: bytes) -> int:
    """An in-memory file holding ``data``, its offset at 0, to pass to a child."""
    fd = os.memfd_create(name)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def sandbox_env(*, home: str, pythonpath: str | None, marker: str | None = None) -> dict[str, str]:
    """The whole environment of sandboxed code: nothing is inherited from the host.

    ``marker`` tags an unisolated run's processes, so the host can find them all (``_tree``).
    """
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        # Thread pools sized to the host's cores would hit RLIMIT_NPROC (threads count).
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
    }
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    if marker:
        env[MARKER_VAR] = marker
    return env


def _bwrap_options(runtime: Runtime, etc_fds: dict[str, int]) -> list[str]:
    config = runtime.config
    opts = ["--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net"]
    opts += ["--unshare-uts", "--unshare-cgroup-try"]
    if "--disable-userns" in runtime.bwrap_flags:
        opts.append("--disable-userns")
    opts += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    opts += ["--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL"]
    opts.append("--clearenv")
    env = sandbox_env(home="/tmp", pythonpath=SITE if runtime.packages else None)
    for key, value in env.items():
        opts += ["--setenv", key, value]
    opts += ["--ro-bind", "/usr", "/usr"]
    for path in ROOT_LINKS:
        if os.path.islink(path):
            opts += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            opts += ["--ro-bind", path, path]
    for path in HOST_FILES:
        opts += ["--ro-bind-try", path, path]
    for path, fd in etc_fds.items():
        opts += ["--ro-bind-data", str(fd), path]
    prefix = runtime.interpreter.prefix
    if not _is_under(runtime.interpreter.path, "/usr"):
        opts += ["--ro-bind", prefix, prefix]
    for host, name in runtime.packages:
        opts += ["--ro-bind", host, f"{SITE}/{name}"]
    opts += ["--proc", "/proc", "--dev", "/dev"]
    size = ["--size", str(config.tmp_bytes)] if "--size" in runtime.bwrap_flags else []
    opts += [*size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev"]
    opts += [*size, "--tmpfs", "/tmp", "--dir", WORKDIR, "--remount-ro", "/", "--chdir", WORKDIR]
    return opts


def bwrap_launch(runtime: Runtime, payload_fd: int, status_fd: int) -> tuple[Launch, list[int]]:
    """The bubblewrap command of one run, and the descriptors to close once it started."""
    assert runtime.bwrap is not None
    etc_fds: dict[str, int] = {}
    try:
        for path, text in ETC_FILES.items():
            etc_fds[path] = memfd(path, text.encode())
        options = _bwrap_options(runtime, etc_fds)
        args_fd = memfd("bwrap-args", b"".join(opt.encode() + b"\0" for opt in options))
    except BaseException:
        for fd in etc_fds.values():
            os.close(fd)
        raise
    fds = [args_fd, *etc_fds.values()]
    argv = [runtime.bwrap, "--args", str(args_fd), "--"]
    argv += [runtime.interpreter.path, "-I", "-S", "-c", BOOT_SOURCE]
    argv += [str(payload_fd), str(status_fd)]
    launch = Launch(argv=argv, env={}, pass_fds=(*fds, payload_fd, status_fd), user=runtime.drop_to)
    return launch, fds


def plain_launch(
    runtime: Runtime, payload_fd: int, status_fd: int, root: Path, marker: str
) -> Launch:
    """The unisolated command of one run, in the private directory ``root``.

    ``root/work`` is the working directory (and ``HOME`` and ``TMPDIR``: the code's temporary
    files are removed with it) and ``root/site`` holds links to extra packages; ``marker``
    tags every process of the run.
    """
    site = root / "site"
    site.mkdir()
    for host, name in runtime.packages:
        (site / name).symlink_to(host)
    (root / "work").mkdir()
    if runtime.drop_to is not None:
        for path in (root, root / "work"):
            os.chown(path, runtime.drop_to, runtime.drop_to)
    argv = [runtime.interpreter.path, "-I", "-S", "-c", BOOT_SOURCE, str(payload_fd)]
    argv.append(str(status_fd))
    pythonpath = str(site) if runtime.packages else None
    env = sandbox_env(home=str(root / "work"), pythonpath=pythonpath, marker=marker)
    return Launch(
        argv=argv,
        env=env,
        pass_fds=(payload_fd, status_fd),
        cwd=str(root / "work"),
        user=runtime.drop_to,
        marker=marker,
    )
