"""Helpers of the sandbox tests: small limits, an isolated sandbox or a skip, leftover checks.

Without bubblewrap the isolated tests skip on a developer machine but fail under CI (``CI`` set):
a green CI must never hide an escape suite that did not run.
"""

from __future__ import annotations

import contextlib
import os
import time

import psutil
import pytest

from redsearcher.env.sandbox import Sandbox, SandboxConfig, SandboxUnavailable

MARKERS = ("work/main.py", "supervisor that runs inside the sandbox")


def small_config(**overrides: object) -> SandboxConfig:
    """Limits small enough for fast tests."""
    fields: dict[str, object] = {
        "timeout": 3.0,
        "max_timeout": 10.0,
        "cpu_time": 5,
        "max_processes": 32,
        "max_output_bytes": 64 * 1024,
    }
    fields.update(overrides)
    return SandboxConfig.model_validate(fields)


def open_isolated(config: SandboxConfig) -> Sandbox:
    """A started bubblewrap sandbox, or skip (fail under CI) when this machine has none."""
    try:
        box = Sandbox(config)
        box.start()
    except SandboxUnavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"bubblewrap is required under CI: {err}")
        pytest.skip(f"bubblewrap unavailable: {err}")
    assert box.isolated
    return box


def sandbox_processes() -> list[str]:
    """Command lines of live sandboxed processes (supervisors and code) on this host."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
            continue
        if any(marker in cmdline for marker in MARKERS):
            found.append(f"{proc.pid}: {cmdline[:80]}")
    return found


def assert_no_leftovers(wait_s: float = 3.0) -> None:
    """Fail when sandboxed processes outlive their run (after a short teardown grace)."""
    deadline = time.monotonic() + wait_s
    while (left := sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes left behind: {left[:5]}"
    bwraps = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if child.name() == "bwrap" and child.status() != psutil.STATUS_ZOMBIE:
                bwraps.append(child.pid)
    assert not bwraps, f"bubblewrap processes left behind: {bwraps}"


def own_runs() -> list[int]:
    """This test process's live sandbox processes (bubblewrap, supervisors, code).

    Unlike ``sandbox_processes`` it ignores other test sessions' sandboxes on a shared host, so
    timing assertions about *our* run cannot be confused by theirs; it cannot see a process
    that left the tree (the escape tests use ``sandbox_processes`` for that).
    """
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(child.cmdline())
            if any(marker in cmdline for marker in MARKERS) or child.name() == "bwrap":
                found.append(child.pid)
        except psutil.Error:
            continue
    return found


def assert_no_own_leftovers(wait_s: float = 3.0) -> None:
    """Fail when our sandbox processes outlive their run (after a short teardown grace)."""
    deadline = time.monotonic() + wait_s
    while (left := own_runs()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"processes left behind: {left[:5]}"
