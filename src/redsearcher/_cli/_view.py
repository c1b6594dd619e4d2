"""``redsearcher view RUN_DIR``: browse runs and read trajectories in a local web page.

A thin layer over :class:`redsearcher.eval.ViewServer`: it serves on ``127.0.0.1`` only, prints
the URL and serves until interrupted (Ctrl-C).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["view"]


def view(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory, or a directory with runs below it (bench).")
    ],
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Loopback port (0: a free one).")
    ] = 8765,
    tasks: Annotated[
        Path | None,
        typer.Option("--tasks", help="The runs' task file (default: found from the run)."),
    ] = None,
    judge: Annotated[
        str | None, typer.Option("--judge", help="Whose verdicts to show (verdicts-JUDGE.jsonl).")
    ] = None,
) -> None:
    """Serve a trajectory viewer for RUN_DIR on 127.0.0.1 until interrupted."""
    from redsearcher.eval import ViewServer

    server = ViewServer(run_dir, port=port, tasks=tasks, judge=judge).start()
    typer.echo(f"viewer: {server.base_url} (Ctrl-C to stop)")
    try:
        wait_until_interrupted(server.base_url)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def wait_until_interrupted(url: str) -> None:
    """Block until Ctrl-C (a seam: tests replace it to use the served ``url`` and return)."""
    import threading

    threading.Event().wait()
