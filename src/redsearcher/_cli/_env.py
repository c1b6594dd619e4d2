"""``redsearcher env ...``: index a World and serve it over the APIs agents already call."""

from __future__ import annotations

import typer

app = typer.Typer(help="The local search environment: index, serve, MCP.", no_args_is_help=True)
