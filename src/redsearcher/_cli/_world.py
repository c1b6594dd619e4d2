"""``redsearcher world ...``: build, ingest and inspect Worlds."""

from __future__ import annotations

import typer

from redsearcher._cli._ingest import export_dump, ingest

app = typer.Typer(help="Build, ingest and inspect Worlds.", no_args_is_help=True)
app.command("ingest")(ingest)
app.command("export-dump")(export_dump)
