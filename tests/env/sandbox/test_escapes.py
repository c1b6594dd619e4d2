"""Escape attempts that the sandbox must contain, every time.

Each probe prints a JSON verdict per attempt (``ok:...`` or ``denied:<exception>``), so a probe
that silently failed to run cannot pass. Where it makes sense, the same probe is run once
without isolation (``insecure``) and must then *succeed*: that shows the probe and the host-side
check are able to see an escape.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import assert_no_leftovers, open_isolated, small_config

import redsearcher
from redsearcher.env.sandbox import Sandbox

PROBE = r"""
import json, os, sys

def attempt(fn):
    try:
        value = fn()
    except BaseException as err:
        return "denied:" + type(err).__name__
    return "ok:" + (value if isinstance(value, str) else repr(value))[:300]

def read(path):
    with open(path, "rb") as fh:
        return fh.read(4096).decode("utf-8", "replace")

def write(path, text="pwned"):
    with open(path, "w") as fh:
        fh.write(text)
    return "written"

verdicts = {}
"""

PROJECT = Path(redsearcher.__file__).resolve().parents[2]


def probe(box: Sandbox, body: str, **kwargs: object) -> dict[str, str]:
    result = box.run(PROBE + body + "\nprint(json.dumps(verdicts))", **kwargs)  # type: ignore[arg-type]
    assert result.status == "Finished" and result.return_code == 0, result
    verdicts: dict[str, str] = json.loads(result.stdout.strip().splitlines()[-1])
    return verdicts


@pytest.fixture
def listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """A TCP server on the host's 127.0.0.1 that records every connection it accepts."""
    with accepting(socket.socket(), ("127.0.0.1", 0)) as (server, accepted):
        yield server.getsockname()[1], accepted


@pytest.fixture
def abstract_listener() -> Iterator[tuple[str, list[socket.socket]]]:
    """A server on a host abstract unix socket (the kind D-Bus and X11 use)."""
    name = "redsearcher-test-" + secrets.token_hex(8)
    with accepting(socket.socket(socket.AF_UNIX), "\0" + name) as (_, accepted):
        yield name, accepted


@contextlib.contextmanager
def accepting(
    server: socket.socket, address: object
) -> Iterator[tuple[socket.socket, list[socket.socket]]]:
    """Listen on ``address`` and record every accepted connection until the block ends."""
    server.bind(address)
    server.listen(8)
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server, accepted
    stop.set()
    thread.join()
    server.close()
    for conn in accepted:
        conn.close()


# -- reading the host --------------------------------------------------------------------------


def test_host_files_project_home_and_venv_are_invisible(sandbox: Sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    targets = {
        "shadow": "/etc/shadow",
        "project": str(PROJECT / "pyproject.toml"),
        "package": redsearcher.__file__,
        "venv": str(Path(sys.prefix) / "pyvenv.cfg"),
        "host_tmp": str(secret),
        "home": str(Path.home()),
        "root": "/root",
        "work": "/work",
        "run": "/run",
        "var": "/var",
        "sys": "/sys",
    }
    verdicts = probe(
        sandbox,
        f"targets = {targets!r}\n"
        "for name, path in targets.items():\n"
        "    verdicts[name] = attempt(lambda: os.listdir(path) if os.path.isdir(path) "
        "else read(path))\n"
        "    verdicts[name + '_exists'] = str(os.path.exists(path))\n",
    )
    for name in targets:
        assert verdicts[name].startswith("denied:"), (name, verdicts[name])
        assert verdicts[name + "_exists"] == "False", name


def test_host_files_control_is_readable_without_isolation(insecure: Sandbox) -> None:
    verdicts = probe(
        insecure,
        f"verdicts['project'] = attempt(lambda: read({str(PROJECT)!r} + '/pyproject.toml'))",
    )
    assert verdicts["project"].startswith("ok:"), verdicts


def test_server_environment_is_invisible(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "tok" + secrets.token_hex(12)
    monkeypatch.setenv("REDSEARCHER_TEST_SECRET", token)
    result = sandbox.run(
        "import os\n"
        "print(dict(os.environ))\n"
        "for pid in ['self', '1'] + [p for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n"
        "        print(pid, open(f'/proc/{pid}/environ', 'rb').read())\n"
        "    except OSError as err:\n"
        "        print(pid, type(err).__name__)\n"
    )
    assert result.status == "Finished" and result.return_code == 0, result
    assert "PATH" in result.stdout  # the probe did read environments
    assert token not in result.stdout + result.stderr
    assert "REDSEARCHER_TEST_SECRET" not in result.stdout


def test_pid_namespace_hides_host_processes(sandbox: Sandbox) -> None:
    verdicts = probe(
        sandbox,
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        f"verdicts['host_pid_visible'] = str({os.getpid()} in pids and {os.getpid()} > 10)\n"
        "verdicts['count'] = str(len(pids))\n"
        "verdicts['cmdline1'] = attempt(lambda: read('/proc/1/cmdline'))\n",
    )
    assert verdicts["host_pid_visible"] == "False"
    assert int(verdicts["count"]) < 5, verdicts
    assert "/work/main" not in verdicts["cmdline1"] and ".venv" not in verdicts["cmdline1"]


# -- network ---------------------------------------------------------------------------------

NETWORK = """
import socket
verdicts['tcp'] = attempt(lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2).close())
verdicts['udp'] = attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', {udp_port})))
verdicts['interfaces'] = attempt(lambda: ','.join(name for _, name in socket.if_nameindex()))
verdicts['resolv_conf'] = str(os.path.exists('/etc/resolv.conf'))
def unix(name):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        sock.connect('\\0' + name)
verdicts['abstract'] = attempt(lambda: unix({name!r}))
"""
# Every target above is on this host's loopback: even a broken sandbox sends nothing outside.


@pytest.fixture
def udp_listener() -> Iterator[tuple[int, socket.socket]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock.getsockname()[1], sock
    sock.close()


def received(sock: socket.socket) -> bool:
    time.sleep(0.3)
    try:
        return bool(sock.recv(16))
    except BlockingIOError:
        return False


def network_probe(box: Sandbox, port: int, udp_port: int, name: str) -> dict[str, str]:
    return probe(box, NETWORK.format(port=port, udp_port=udp_port, name=name))


def test_no_network(
    sandbox: Sandbox,
    listener: tuple[int, list[socket.socket]],
    udp_listener: tuple[int, socket.socket],
    abstract_listener: tuple[str, list[socket.socket]],
) -> None:
    (port, accepted), (udp_port, udp), (name, accepted_unix) = (
        listener,
        udp_listener,
        abstract_listener,
    )
    verdicts = network_probe(sandbox, port, udp_port, name)
    assert verdicts["tcp"].startswith("denied:"), verdicts
    assert verdicts["abstract"].startswith("denied:"), verdicts
    assert verdicts["interfaces"] == "ok:lo", verdicts
    assert verdicts["resolv_conf"] == "False"
    assert not received(udp)
    assert accepted == [] and accepted_unix == []


def test_no_name_resolution(sandbox: Sandbox) -> None:
    # The sandbox resolves from files only (no resolv.conf, no route): no query can leave it.
    verdicts = probe(
        sandbox,
        "import socket\n"
        "verdicts['dns'] = attempt(lambda: socket.getaddrinfo('example.com', 443))\n"
        "verdicts['localhost'] = attempt(lambda: socket.getaddrinfo('localhost', 80)[0][4][0])\n",
    )
    assert verdicts["dns"].startswith("denied:gaierror"), verdicts
    assert verdicts["localhost"] in ("ok:127.0.0.1", "ok:::1"), verdicts


def test_network_control_connects_without_isolation(
    insecure: Sandbox,
    listener: tuple[int, list[socket.socket]],
    udp_listener: tuple[int, socket.socket],
    abstract_listener: tuple[str, list[socket.socket]],
) -> None:
    (port, accepted), (udp_port, udp), (name, _) = listener, udp_listener, abstract_listener
    verdicts = network_probe(insecure, port, udp_port, name)
    assert verdicts["tcp"] == "ok:None", verdicts
    assert verdicts["abstract"] == "ok:None", verdicts
    assert received(udp)
    deadline = time.monotonic() + 2
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(accepted) == 1


# -- the filesystem ----------------------------------------------------------------------------


def test_writes_outside_tmp_fail_and_tmp_is_private(sandbox: Sandbox) -> None:
    name = "redsearcher-escape-" + secrets.token_hex(8)
    outside = ["/" + name, "/usr/" + name, "/etc/" + name, "/dev/" + name, "/proc/" + name]
    outside += [str(PROJECT / name), f"/home/{name}"]
    verdicts = probe(
        sandbox,
        f"for path in {outside!r}:\n"
        "    verdicts[path] = attempt(lambda: write(path))\n"
        f"verdicts['tmp'] = attempt(lambda: write('/tmp/{name}'))\n"
        f"verdicts['shm'] = attempt(lambda: write('/dev/shm/{name}'))\n"
        f"verdicts['big'] = attempt(lambda: write('/tmp/big', 'x' * (40 << 20)))\n",
    )
    for path in outside:
        assert verdicts[path].startswith("denied:"), (path, verdicts[path])
        assert not Path(path).exists()
    assert verdicts["tmp"] == "ok:written" and verdicts["shm"] == "ok:written"
    assert not Path("/tmp", name).exists()
    assert not Path("/dev/shm", name).exists()
    assert verdicts["big"].startswith("denied:"), verdicts["big"]  # tmpfs size / RLIMIT_FSIZE


def test_tmp_control_leaks_without_isolation(insecure: Sandbox) -> None:
    name = "redsearcher-escape-" + secrets.token_hex(8)
    host = Path("/tmp", name)
    try:
        verdicts = probe(insecure, f"verdicts['tmp'] = attempt(lambda: write('/tmp/{name}'))")
        assert verdicts["tmp"] == "ok:written"
        assert host.exists()
    finally:
        host.unlink(missing_ok=True)


# -- privileges and other processes ---------------------------------------------------------------


def test_cannot_become_root(sandbox: Sandbox) -> None:
    verdicts = probe(
        sandbox,
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "verdicts['uid'] = str(os.getuid())\n"
        "verdicts['setuid'] = attempt(lambda: os.setuid(0))\n"
        "verdicts['setgid'] = attempt(lambda: os.setgid(0))\n"
        "verdicts['unshare_user'] = str(libc.unshare(0x10000000))\n"
        "status = read('/proc/self/status')\n"
        "verdicts['caps'] = [l for l in status.splitlines() if l.startswith('CapEff')][0]\n"
        "verdicts['nnp'] = [l for l in status.splitlines() if l.startswith('NoNewPrivs')][0]\n",
    )
    assert verdicts["uid"] == "65534"
    assert verdicts["setuid"].startswith("denied:")  # EPERM, or EINVAL: uid 0 is unmapped
    assert verdicts["setgid"].startswith("denied:")
    assert verdicts["unshare_user"] == "-1"
    assert verdicts["caps"].split()[-1] == "0000000000000000"
    assert verdicts["nnp"].split()[-1] == "1"


def test_cannot_signal_or_ptrace_host_processes(sandbox: Sandbox) -> None:
    victim = subprocess.Popen(["sleep", "30"])
    try:
        verdicts = probe(
            sandbox,
            "import ctypes, signal\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            f"verdicts['kill'] = attempt(lambda: os.kill({victim.pid}, signal.SIGKILL))\n"
            f"verdicts['kill_parent'] = attempt(lambda: os.kill({os.getpid()}, signal.SIGKILL))\n"
            f"verdicts['ptrace'] = str(libc.ptrace(16, {victim.pid}, 0, 0))\n"
            "verdicts['kill_init'] = attempt(lambda: os.kill(1, signal.SIGKILL))\n"
            "verdicts['kill_all'] = attempt(lambda: os.kill(-1, signal.SIGKILL))\n",
        )
        assert verdicts["kill"].startswith("denied:"), verdicts
        assert verdicts["ptrace"] == "-1"
        time.sleep(0.2)
        assert victim.poll() is None, "a host process was killed from inside the sandbox"
    finally:
        victim.kill()
        victim.wait()


# -- resource exhaustion ---------------------------------------------------------------------------

FORK_COUNT = """
import os, time
n = 0
while True:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    n += 1
print(n)
"""

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""


@pytest.fixture(scope="module")
def small_box() -> Iterator[Sandbox]:
    box = open_isolated(small_config(max_processes=16, timeout=2.0))
    yield box
    box.close()


def test_process_limit_binds_inside_the_sandbox(small_box: Sandbox) -> None:
    result = small_box.run(FORK_COUNT)
    assert result.status == "Finished" and result.return_code == 0, result
    assert 0 < int(result.stdout) < 16
    assert result.execution_time < 2.0  # sleeping children die with the main process
    assert_no_leftovers()


def test_fork_bomb_is_contained(small_box: Sandbox) -> None:
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(small_box.run(FORK_BOMB)))
    start = time.monotonic()
    thread.start()
    worst = 0.0
    while thread.is_alive():
        t = time.monotonic()
        subprocess.run(["true"], check=True)
        worst = max(worst, time.monotonic() - t)
        time.sleep(0.1)
    elapsed = time.monotonic() - start
    result = done[0]
    assert getattr(result, "status", None) == "TimeLimitExceeded", result
    assert elapsed < 2.0 + 4.0  # the deadline, plus slack for a loaded CI machine
    assert worst < 1.5, f"the host stalled for {worst:.2f} s"
    assert_no_leftovers()


def test_memory_bomb_fails(sandbox: Sandbox) -> None:
    result = sandbox.run("x = bytearray(4 << 30)\nprint('allocated')")
    assert result.status == "Finished" and result.return_code == 1
    assert "MemoryError" in result.stderr and "allocated" not in result.stdout
    result = sandbox.run(
        "chunks = []\n"
        "while True:\n"
        "    chunks.append(bytearray(64 << 20))\n"
        "    print(len(chunks) * 64, flush=True)\n",
        timeout=sandbox.config.max_timeout,  # page-zeroing is slow on a loaded machine
    )
    assert "MemoryError" in result.stderr, result
    assert int(result.stdout.split()[-1]) < 1024  # MiB: stopped by the 1 GiB address space


def test_infinite_loop_times_out(sandbox: Sandbox) -> None:
    start = time.monotonic()
    result = sandbox.run("print('started', flush=True)\nwhile True:\n    pass", timeout=2)
    elapsed = time.monotonic() - start
    assert result.status == "TimeLimitExceeded" and result.return_code is None
    assert result.stdout == "started\n"  # output before the deadline is kept
    assert 2.0 <= result.execution_time < 4.0 and elapsed < 5.0
    assert_no_leftovers()


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_huge_output_is_truncated_and_killed(sandbox: Sandbox, stream: str) -> None:
    result = sandbox.run(f"import sys\nwhile True:\n    sys.{stream}.write('x' * 65536)")
    cap = sandbox.config.max_output_bytes
    assert result.status == "Error" and result.return_code is None
    assert len(getattr(result, stream)) == cap
    assert any(note.startswith(f"Output truncated: {stream}") for note in result.notes)
    assert result.execution_time < 2.0
    assert_no_leftovers()


def test_background_processes_end_with_the_run(sandbox: Sandbox) -> None:
    result = sandbox.run(
        "import subprocess, os\n"
        "subprocess.Popen(['sleep', '60'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    import time; time.sleep(60)\n"
        "print('bye')\n"
    )
    assert result.status == "Finished" and result.stdout == "bye\n"
    assert result.execution_time < 2.0
    assert_no_leftovers()
