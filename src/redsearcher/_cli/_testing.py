"""``redsearcher testing ...``: run the test doubles from the command line."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Test doubles: the scripted OpenAI-compatible chat server.", no_args_is_help=True
)
