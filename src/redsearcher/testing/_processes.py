"""``sandbox_code_processes`` and ``wait_until``: what tests use to prove no sandbox run leaked.

A cancelled episode, a disconnected client or a killed run must leave no process behind. The
check looks only at this process's descendants (other test sessions on the same host run
sandboxes too) and recognises a sandboxed run by the script every run executes,
``work/main.py``, whether it runs under bubblewrap or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["sandbox_code_processes", "wait_until"]


def sandbox_code_processes() -> list[int]:
    """Pids of this process's live descendants running a sandboxed ``main.py``."""
    import psutil  # type: ignore[import-untyped]  # a dev-extra dependency, loaded on use

    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and any(
                part.endswith("work/main.py") for part in proc.cmdline()
            ):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def wait_until(condition: Callable[[], object], timeout: float, poll_s: float = 0.01) -> float:
    """Seconds until ``condition()`` is true; ``AssertionError`` past ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out waiting"
        time.sleep(poll_s)
    return time.monotonic() - start
