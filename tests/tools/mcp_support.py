"""``redsearcher env mcp --transport http`` as a subprocess, for the MCP tests over real HTTP."""

from __future__ import annotations

import contextlib
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

EXE = Path(sys.executable).parent / "redsearcher"


@contextlib.contextmanager
def serving_mcp(index: Path, *args: str) -> Iterator[str]:
    """Serve ``index`` over streamable HTTP on a free loopback port; yield the endpoint URL.

    ``args`` are more ``env mcp`` options; the sandbox is off. The server must exit cleanly
    (status 0) on SIGINT.
    """
    cmd = [str(EXE), "env", "mcp", str(index), "--transport", "http", "--port", "0"]
    proc = subprocess.Popen([*cmd, "--no-sandbox", *args], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "the MCP server printed no URL in time"
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp"), url
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
