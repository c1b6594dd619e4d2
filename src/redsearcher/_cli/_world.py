"""``redsearcher world ...``: build, ingest and inspect Worlds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from redsearcher._cli._densify import densify
from redsearcher._cli._ingest import export_dump, ingest
from redsearcher.config import load_config
from redsearcher.errors import WorldFormatError
from redsearcher.world import HIST_BINS, World, WorldInfo, world_info
from redsearcher.world.generate import GeneratorConfig, generate_world

app = typer.Typer(help="Build, ingest and inspect Worlds.", no_args_is_help=True)
app.command("ingest")(ingest)
app.command("export-dump")(export_dump)
app.command("densify")(densify)

console = Console()


@app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", help="World directory to create.")],
    entities: Annotated[int | None, typer.Option(help="Approximate number of entities.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    docs_per_entity: Annotated[float | None, typer.Option(help="Scale of secondary pages.")] = None,
    dispersion: Annotated[
        float | None, typer.Option(help="Chance a secondary page states a fact.")
    ] = None,
    article_coverage: Annotated[
        float | None, typer.Option(help="Chance the main page states a fact.")
    ] = None,
    object_side: Annotated[
        float | None, typer.Option(help="Chance a page of the object states it.")
    ] = None,
    distractor_rate: Annotated[
        float | None, typer.Option(help="Share of entities with a look-alike.")
    ] = None,
    noise_rate: Annotated[
        float | None, typer.Option(help="Noise documents per entity document.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Rendering processes (0 = auto).")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config (section 'world').")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing World.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Generate a deterministic synthetic World (same seed and knobs, same content hash)."""
    cfg = load_config(
        GeneratorConfig,
        "world",
        file=config,
        overrides={
            "entities": entities,
            "seed": seed,
            "docs_per_entity": docs_per_entity,
            "dispersion": dispersion,
            "article_coverage": article_coverage,
            "object_side": object_side,
            "distractor_rate": distractor_rate,
            "noise_rate": noise_rate,
            "workers": workers,
        },
    )
    manifest = generate_world(cfg, out, overwrite=overwrite, progress=not quiet)
    if not quiet:
        counts = ", ".join(f"{v:,} {k}" for k, v in manifest.counts.items() if v)
        console.print(f"[green]World written to[/] {out}: {counts}")
        console.print(f"content hash {manifest.content_hash}")


@app.command("info")
def info(
    world: Annotated[Path, typer.Argument(help="World directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    verify: Annotated[
        bool, typer.Option(help="Re-hash all rows and compare to the manifest.")
    ] = False,
) -> None:
    """Counts by type, degree statistics and how many documents state each fact."""
    w = World.open(world)
    if verify and w.recompute_hash() != w.content_hash:
        raise WorldFormatError(f"{world}: content does not match the manifest's content hash")
    summary = world_info(w)
    if as_json:
        typer.echo(json.dumps(summary.model_dump(mode="json"), indent=2))
    else:
        print_info(summary, console)
        if verify:
            console.print("[green]verified:[/] content matches the manifest hash")


def print_info(info: WorldInfo, out: Console) -> None:
    """Render a World summary as tables and a histogram."""
    out.print(f"[bold]World[/] {info.path}  [dim]{info.content_hash[:16]}[/]")
    out.print(
        f"source: {info.source.get('kind', '?')}  "
        + "  ".join(f"{k}={v:,}" for k, v in info.counts.items())
    )
    types = Table("entity type", "count", title="Entities", title_justify="left")
    for k, v in info.entity_types.items():
        types.add_row(k, f"{v:,}")
    types.add_row("[dim]of which look-alike distractors[/]", f"{info.distractor_entities:,}")
    kinds = Table("document kind", "count", title="Documents", title_justify="left")
    for k, v in info.document_kinds.items():
        kinds.add_row(k, f"{v:,}")
    out.print(types, kinds)
    deg = Table(
        "degree",
        "mean",
        "median",
        "p99",
        "max",
        title=f"Relations ({info.relations:,})",
        title_justify="left",
    )
    for name, d in (("out", info.out_degree), ("in", info.in_degree), ("total", info.total_degree)):
        deg.add_row(name, f"{d.mean:.2f}", f"{d.median:g}", f"{d.p99:g}", f"{d.max}")
    out.print(deg)
    hist = Table(
        "documents stating it",
        "facts",
        "",
        title="Documents per fact (coordinates excluded)",
        title_justify="left",
    )
    peak = max(info.docs_per_fact_text.values(), default=1) or 1
    for b in HIST_BINS:
        v = info.docs_per_fact_text.get(b, 0)
        hist.add_row(b, f"{v:,}", "█" * max(0, round(40 * v / peak)))
    out.print(hist)
    out.print(f"facts stated in 2+ documents: [bold]{100 * info.share_stated_2plus:.1f}%[/]")
