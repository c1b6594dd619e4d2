"""Root Typer app; sub-command groups are attached from their own modules."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from redsearcher.errors import UserError

app = typer.Typer(
    name="redsearcher",
    help="Deep-search agents end to end: worlds, environments, task synthesis, agents, rollouts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)


def _attach() -> None:
    # Imported here so that `import redsearcher._cli` stays cheap and there is no import cycle.
    from redsearcher._cli import (
        _bench,
        _env,
        _export,
        _midtrain,
        _rollout,
        _run,
        _synth,
        _testing,
        _world,
    )

    app.add_typer(_world.app, name="world")
    app.add_typer(_env.app, name="env")
    app.add_typer(_testing.app, name="testing")
    app.command("run")(_run.run)
    app.command("rollout")(_rollout.rollout)
    app.add_typer(_export.app, name="export")
    app.command("synth")(_synth.synth)
    app.command("verify")(_synth.verify)
    app.command("bench")(_bench.bench)
    app.command("midtrain")(_midtrain.midtrain)


_attach()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one red line and exit code 2."""
    try:
        # standalone_mode=False makes click *return* a typer.Exit code instead of exiting.
        rc = app(args=argv, standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except UserError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as err:  # click usage errors arrive as ClickException subclasses
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise
