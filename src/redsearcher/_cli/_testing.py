"""``redsearcher testing ...``: run the test doubles from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from redsearcher.errors import UserError

app = typer.Typer(
    help="Test doubles: the scripted OpenAI-compatible chat server.", no_args_is_help=True
)


def parse_latency(value: str) -> float | tuple[float, float]:
    """Parse ``--latency``: ``S`` seconds, or ``MIN,MAX`` for a uniform range.

    Raises:
        UserError: for anything else.
    """
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1 and parts[0] >= 0:
        return parts[0]
    if len(parts) == 2 and 0 <= parts[0] <= parts[1]:
        return (parts[0], parts[1])
    raise UserError(f"--latency: expected seconds 'S' or a range 'MIN,MAX', got {value!r}")


@app.command("chat-server")
def chat_server(
    script: Annotated[
        Path, typer.Option("--script", help="Script file (YAML or JSON).", show_default=False)
    ],
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one (printed).")] = 0,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    latency: Annotated[
        str, typer.Option(help="Delay before each answer: seconds 'S' or a range 'MIN,MAX'.")
    ] = "0",
    error_rate: Annotated[
        float, typer.Option(help="Probability of an injected 500/429 (consumes no step).")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the latency/error RNG.")] = 0,
) -> None:
    """Serve scripted chat completions until Ctrl-C; exit 1 if steps were unused or wrong."""
    from redsearcher.testing import serve_chat_server

    if not 0.0 <= error_rate <= 1.0:
        raise UserError(f"--error-rate: expected a probability in [0, 1], got {error_rate}")
    server = serve_chat_server(
        script,
        on_ready=lambda s: typer.echo(s.base_url),
        host=host,
        port=port,
        latency_s=parse_latency(latency),
        error_rate=error_rate,
        seed=seed,
    )
    problems = server.problems()
    typer.echo(
        f"served {len(server.chat_requests)} chat request(s); "
        f"{len(server.unused_steps())} unused step(s), {len(server.failures)} failure(s)"
    )
    for line in problems:
        typer.echo(f"  {line}")
    if problems:
        # SystemExit, not typer.Exit: the root ``main`` runs click with standalone_mode=False,
        # where a typer.Exit code is returned instead of becoming the process's exit status.
        raise SystemExit(1)
