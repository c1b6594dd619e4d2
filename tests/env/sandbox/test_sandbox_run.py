"""What ``Sandbox.run``/``arun`` return for ordinary and broken code, and how requests are bounded."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pydantic
import pytest
from sandbox_helpers import assert_no_leftovers, open_isolated, small_config

import redsearcher
from redsearcher.env.sandbox import (
    Sandbox,
    SandboxConfig,
    SandboxRequestError,
    SandboxUnavailable,
)
from redsearcher.errors import ConfigError, UserError


def test_stdout_stderr_and_return_code(sandbox: Sandbox) -> None:
    result = sandbox.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)")
    assert (result.status, result.return_code) == ("Finished", 3)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    assert result.notes == ()
    assert 0 < result.execution_time < 2


def test_syntax_errors_and_exceptions_are_results(sandbox: Sandbox) -> None:
    syntax = sandbox.run("def broken(:\n    pass")
    assert (syntax.status, syntax.return_code) == ("Finished", 1)
    assert "SyntaxError" in syntax.stderr
    raised = sandbox.run("print('before')\nraise KeyError('boom')")
    assert (raised.status, raised.return_code, raised.stdout) == ("Finished", 1, "before\n")
    assert 'File "/tmp/work/main.py", line 2' in raised.stderr and "KeyError" in raised.stderr


def test_crash_is_an_error_with_the_signal(sandbox: Sandbox) -> None:
    result = sandbox.run("import ctypes\nctypes.string_at(0)")
    assert (result.status, result.return_code) == ("Error", -11)
    assert result.notes == ("The program was killed by SIGSEGV.",)


def test_stdin_text_and_bytes(sandbox: Sandbox) -> None:
    code = "import sys\ndata = sys.stdin.buffer.read()\nprint(len(data), data[:5])"
    assert sandbox.run(code, stdin="héllo").stdout == "6 b'h\\xc3\\xa9ll'\n"
    big = bytes(range(256)) * 2048  # 512 KiB: more than a pipe buffer
    assert sandbox.run(code, stdin=big).stdout == f"{len(big)} {big[:5]!r}\n"
    assert sandbox.run("print(input('x'))").stderr.endswith("EOFError: EOF when reading a line\n")


def test_files_are_written_to_the_working_directory(sandbox: Sandbox) -> None:
    files: dict[str, str | bytes] = {
        "data.txt": "tëxt",
        "blob.bin": b"\x00\xff",
        "pkg/helper.py": "VALUE = 42\n",
    }
    result = sandbox.run(
        "import os\nfrom pkg.helper import VALUE\n"
        "print(os.getcwd(), VALUE, open('data.txt').read(), open('blob.bin', 'rb').read())\n"
        "print(sorted(os.listdir('.')))",
        files=files,
    )
    assert result.return_code == 0, result
    assert result.stdout.splitlines() == [
        "/tmp/work 42 tëxt b'\\x00\\xff'",
        "['blob.bin', 'data.txt', 'main.py', 'pkg']",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"code": 42}, "code"),
        ({"code": "x" * 300_000}, "code"),
        ({"code": "\ud800"}, "code"),
        ({"stdin": "x" * (2 << 20)}, "stdin"),
        ({"stdin": 3}, "stdin"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 11}, "timeout"),
        ({"timeout": True}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"files": ["a"]}, "files"),
        ({"files": {f"f{i}": "" for i in range(40)}}, "files"),
        ({"files": {"../escape": "x"}}, "files['../escape']"),
        ({"files": {"/etc/passwd": "x"}}, "files['/etc/passwd']"),
        ({"files": {"a//b": "x"}}, "files['a//b']"),
        ({"files": {"./a": "x"}}, "files['./a']"),
        ({"files": {"main.py": "x"}}, "files['main.py']"),
        ({"files": {"a": "x", "a/b": "y"}}, "files['a/b']"),
        ({"files": {"x" * 300: "x"}}, "files['" + "x" * 300 + "']"),
        ({"files": {"big": b"x" * (17 << 20)}}, "files['big']"),
        ({"files": {"a": 1}}, "files['a']"),
    ],
)
def test_requests_out_of_bounds_name_the_field(
    sandbox: Sandbox, kwargs: dict[str, Any], field: str
) -> None:
    args = {"code": "print(1)", **kwargs}
    code = args.pop("code")
    with pytest.raises(SandboxRequestError) as caught:
        sandbox.run(code, **args)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, UserError)


def test_total_size_of_files_is_bounded(sandbox: Sandbox) -> None:
    files: dict[str, str | bytes] = {f"f{i}": b"x" * (3 << 20) for i in range(3)}
    with pytest.raises(SandboxRequestError, match="total") as caught:
        sandbox.run("pass", files=files)
    assert caught.value.field == "files"


def test_concurrent_aruns_are_correct_and_do_not_block_the_loop(sandbox: Sandbox) -> None:
    async def main() -> tuple[list[Any], int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        runs = [
            sandbox.arun(
                f"import sys, time\ntime.sleep(0.3)\nprint({i} * int(sys.stdin.read()))",
                stdin=str(i),
            )
            for i in range(8)
        ]
        results = await asyncio.gather(*runs)
        stop.set()
        await task
        return results, ticks

    start = time.monotonic()
    results, ticks = asyncio.run(main())
    assert [r.stdout for r in results] == [f"{i * i}\n" for i in range(8)]
    assert all(r.status == "Finished" and r.return_code == 0 for r in results)
    assert ticks > 20  # the loop kept running while the sandboxes worked
    assert time.monotonic() - start < 5


def test_cancelling_arun_kills_the_run(sandbox: Sandbox) -> None:
    async def main() -> float:
        task = asyncio.create_task(sandbox.arun("while True:\n    pass", timeout=8))
        await asyncio.sleep(0.5)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - start

    assert asyncio.run(main()) < 4.0  # well before the run's own 8 s timeout, even on a slow CI
    assert_no_leftovers()


def test_cpu_limit_ends_busy_code() -> None:
    box = open_isolated(small_config(cpu_time=1, timeout=8))
    try:
        result = box.run("while True:\n    pass")
    finally:
        box.close()
    assert result.status == "TimeLimitExceeded" and result.return_code is None
    assert result.notes == ("The CPU time limit of 1 s was exceeded.",)
    assert result.execution_time < 4


def test_extra_packages_are_bound_read_only() -> None:
    try:
        box = open_isolated(small_config(extra_packages=("numpy",)))
    except ConfigError as err:
        pytest.skip(f"numpy cannot be bound here: {err}")
    try:
        result = box.run(
            "import json, numpy, os\nprint(numpy.arange(5).sum(), numpy.__file__)\n"
            "print(json.dumps(os.listdir('/opt/redsearcher-site')))\n"
            "open(os.path.join(os.path.dirname(numpy.__file__), 'x'), 'w')"
        )
    finally:
        box.close()
    lines = result.stdout.splitlines()
    assert lines[0] == "10 /opt/redsearcher-site/numpy/__init__.py", result
    names = json.loads(lines[1])
    assert "numpy" in names and all(name.startswith("numpy") for name in names), names
    assert "Read-only file system" in result.stderr


def test_extra_packages_never_bind_the_project() -> None:
    with pytest.raises(ConfigError, match="site-packages"):
        Sandbox(small_config(extra_packages=("redsearcher",))).start()
    with pytest.raises(ConfigError, match="not installed"):
        Sandbox(small_config(extra_packages=("no_such_package_xyz",))).start()


def test_missing_bubblewrap_is_unavailable_with_install_hint() -> None:
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap") as caught:
        Sandbox(SandboxConfig(bwrap_path="/nonexistent/bwrap"))
    assert isinstance(caught.value, UserError)


def test_failing_bubblewrap_is_unavailable() -> None:
    box = Sandbox(SandboxConfig(bwrap_path="/bin/false"))
    with pytest.raises(SandboxUnavailable, match="self-test"):
        box.start()


def test_insecure_mode_runs_unisolated_with_limits_and_a_note(insecure: Sandbox) -> None:
    assert not insecure.isolated
    result = insecure.run(
        "import resource, os, sys\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU))\n"
        "print(open('input.txt').read(), sys.stdin.read(), os.getcwd().endswith('/work'))",
        stdin="in",
        files={"input.txt": "file"},
    )
    assert result.status == "Finished" and result.return_code == 0, result
    assert result.stdout.splitlines() == [f"{1 << 30} (5, 6)", "file in True"]
    assert any("WITHOUT isolation" in note for note in result.notes)
    slow = insecure.run(
        "import subprocess\nsubprocess.Popen(['sleep', '60'])\nwhile True:\n    pass", timeout=1
    )
    assert slow.status == "TimeLimitExceeded"
    assert any("WITHOUT isolation" in note for note in slow.notes)
    assert_no_leftovers()


def test_config_rejects_inconsistent_limits() -> None:
    with pytest.raises(pydantic.ValidationError, match="max_timeout"):
        SandboxConfig(timeout=30, max_timeout=10)
    with pytest.raises(pydantic.ValidationError, match="tmp_bytes"):
        SandboxConfig(tmp_bytes=1 << 20)
    with pytest.raises(pydantic.ValidationError):
        SandboxConfig(extra_packages=("numpy.linalg",))


def test_closed_sandbox_refuses_runs() -> None:
    box = Sandbox(small_config(bwrap_path="/nonexistent/bwrap", insecure=True))
    box.close()
    with pytest.raises(RuntimeError, match="closed"):
        box.run("print(1)")


def test_interpreter_is_not_the_virtualenv(sandbox: Sandbox) -> None:
    result = sandbox.run(
        "import sys\nprint(sys.prefix == sys.base_prefix, sys.executable, sys.path)"
    )
    assert result.stdout.split()[0] == "True"
    project = str(Path(redsearcher.__file__).resolve().parents[2])
    assert sys.prefix not in result.stdout and project not in result.stdout, result.stdout
