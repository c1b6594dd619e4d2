"""Running the scripted chat server for a test block or from the command line.

Two ways in, one server: :func:`scripted_chat_server` wraps a ``with`` block (and reads script
files), :func:`serve_chat_server` serves until a signal so the CLI can be a thin wrapper that
other processes (a vLLM-style client under test, a shell script) talk to.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from redsearcher.testing._chat_server import ScriptedChatServer
from redsearcher.testing._script import Script, Step, load_scripts

__all__ = ["scripted_chat_server", "serve_chat_server"]


@contextmanager
def scripted_chat_server(
    scripts: Script | Step | Sequence[Script] | Sequence[Step] | str | Path, **options: Any
) -> Iterator[ScriptedChatServer]:
    """Run a :class:`ScriptedChatServer` for the ``with`` block (e.g. inside a pytest fixture).

    Args:
        scripts: Scripts or steps, or the path of a script file (see ``load_scripts``).
        **options: Keyword arguments of :class:`ScriptedChatServer`.

    Yields:
        The started server; a clean exit stops it and asserts every step was used.
    """
    if isinstance(scripts, str | Path):
        scripts = load_scripts(scripts)
    with ScriptedChatServer(scripts, **options) as server:
        yield server


def serve_chat_server(
    script_file: str | Path,
    *,
    on_ready: Callable[[ScriptedChatServer], None] | None = None,
    stop: threading.Event | None = None,
    **options: Any,
) -> ScriptedChatServer:
    """Serve the scripts of ``script_file`` until SIGINT/SIGTERM (or ``stop`` is set).

    Signal handlers are installed only when called from the main thread, and restored after.

    Args:
        script_file: A script file (see ``load_scripts``).
        on_ready: Called with the started server (the CLI prints its base URL).
        stop: Set it to stop serving from another thread.
        **options: Keyword arguments of :class:`ScriptedChatServer`.

    Returns:
        The stopped server; its ``problems()`` list unused steps and failures.

    Raises:
        InputFormatError: for an invalid script file.
    """
    server = ScriptedChatServer(load_scripts(script_file), **options)
    done = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        server.start()
        if on_ready is not None:
            on_ready(server)
        # A timed wait keeps the main thread responsive to signals and notices a dead server.
        while not done.wait(0.2) and server.running:
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return server
