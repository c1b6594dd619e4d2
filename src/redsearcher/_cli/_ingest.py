"""``redsearcher world ingest`` / ``export-dump``: thin wrappers over ``redsearcher.world.ingest``.

The heavy imports (pyarrow, the ingest package) happen inside the commands so that
``redsearcher --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from redsearcher.errors import ConfigError

_console = Console(stderr=True)


def ingest(
    out: Annotated[Path, typer.Option("--out", help="The World directory to create.")],
    wikidata: Annotated[
        list[Path] | None,
        typer.Option(
            "--wikidata", help="Wikidata JSON dump (latest-all.json[.gz|.bz2]); repeatable."
        ),
    ] = None,
    wikipedia: Annotated[
        list[Path] | None,
        typer.Option(
            "--wikipedia",
            help="Wikipedia pages: JSONL/Parquet (title, text[, url, links]), WikiExtractor "
            "--json, a CirrusSearch dump or an Enterprise HTML dump (.tar.gz); repeatable.",
        ),
    ] = None,
    wikipedia_format: Annotated[
        str | None,
        typer.Option(
            "--wikipedia-format",
            help="Format of the --wikipedia inputs: auto (detect per file, the default), "
            "jsonl, parquet, wikiextractor, cirrus or enterprise.",
        ),
    ] = None,
    replay: Annotated[
        list[Path] | None,
        typer.Option(
            "--replay",
            help="Recorded Serper/Jina responses: a JSON/JSONL file or a directory; repeatable.",
        ),
    ] = None,
    prop: Annotated[
        list[str] | None,
        typer.Option(
            "--property",
            help="Extra Wikidata property: P123=predicate_name, or P123 to name it from its "
            "English label; repeatable.",
        ),
    ] = None,
    all_properties: Annotated[
        bool | None,
        typer.Option(
            "--all-properties/--no-all-properties",
            help="Also extract every other property, named from its English label.",
        ),
    ] = None,
    type_flags: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="Extra type table row Q123=type word (subclasses follow via P279); repeatable.",
        ),
    ] = None,
    class_file: Annotated[
        Path | None,
        typer.Option(
            "--class-file",
            help="CSV of class_id,parent_id subclass edges for classes the dump lacks.",
        ),
    ] = None,
    require_sitelink: Annotated[
        bool | None,
        typer.Option(
            "--require-sitelink/--no-require-sitelink",
            help="Keep only entities with a Wikipedia sitelink.",
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Language of labels and pages (en).")
    ] = None,
    kb_pages: Annotated[
        bool | None,
        typer.Option(
            "--kb-pages/--no-kb-pages",
            help="Write a database-style page per entity stating its facts (default: on).",
        ),
    ] = None,
    complete_dump: Annotated[
        bool | None,
        typer.Option(
            "--complete-dump/--sample",
            help="The inputs are a complete Wikidata dump (default: a sample; tasks then "
            "record that their uniqueness holds within the World only).",
        ),
    ] = None,
    keep_class: Annotated[
        list[str] | None,
        typer.Option(
            "--keep-class",
            help="Keep only instances of this class or its P279 subclasses; repeatable.",
        ),
    ] = None,
    class_pass: Annotated[
        bool | None,
        typer.Option(
            "--class-pass/--no-class-pass",
            help="With --keep-class, first read the dumps for P279 edges (default: on; off: "
            "--class-file alone).",
        ),
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option("--ids", help="Keep only the items listed in this file (one Q-id a line)."),
    ] = None,
    min_sitelinks: Annotated[
        int | None,
        typer.Option("--min-sitelinks", help="Keep only items with at least N sitelinks."),
    ] = None,
    languages: Annotated[
        str | None,
        typer.Option(
            "--languages",
            help="Label languages in order of preference (en,de); items with a label in none "
            "of them are dropped.",
        ),
    ] = None,
    stubs: Annotated[
        bool | None,
        typer.Option(
            "--stubs/--no-stubs",
            help="Keep filtered-out items that kept items point at as label-only entities.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Parsing processes (0: one per CPU; default 1)."),
    ] = None,
    resume: Annotated[
        bool | None,
        typer.Option(
            "--resume/--no-resume",
            help="Checkpoint after every chunk and continue an interrupted ingest of the same "
            "inputs (state in .<out>.ingest-resume next to --out).",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file with an 'ingest' section.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing World at --out.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or summary.")
    ] = False,
) -> None:
    """Ingest real data (Wikidata, Wikipedia, recorded searches) into a World."""
    from redsearcher.config import load_config
    from redsearcher.world.ingest import (
        IngestConfig,
        ingest_world,
        parse_property_flags,
        parse_type_flags,
    )

    overrides: dict[str, Any] = {
        "require_sitelink": require_sitelink,
        "language": language,
        "all_properties": all_properties,
        "kb_pages": kb_pages,
        "complete_dump": complete_dump,
        "class_file": class_file,
        "wikipedia_format": wikipedia_format,
        "keep_class": keep_class or None,
        "class_pass": class_pass,
        "ids_file": ids_file,
        "min_sitelinks": min_sitelinks,
        "languages": [x.strip() for x in languages.split(",") if x.strip()] if languages else None,
        "stubs": stubs,
        "workers": workers,
        "resume": resume,
    }
    try:
        bare = [p.strip() for p in prop or () if "=" not in p]
        if mapped := [p for p in prop or () if "=" in p]:
            overrides["property_map"] = parse_property_flags(mapped)
        if type_flags:
            overrides["type_map"] = parse_type_flags(type_flags)
    except ValueError as err:
        raise ConfigError(str(err)) from err
    settings = load_config(IngestConfig, "ingest", file=config, overrides=overrides)
    if bare:
        try:
            settings = settings.adding_properties(bare)
        except ValueError as err:  # pydantic's ValidationError names the bad id
            raise ConfigError(f"--property: {err}") from err
    manifest = ingest_world(
        out,
        wikidata=wikidata,
        wikipedia=wikipedia,
        replay=replay,
        config=settings,
        overwrite=overwrite,
        progress=not quiet,
    )
    counts = ", ".join(f"{k}={v:,}" for k, v in manifest.counts.items())
    typer.echo(f"wrote {out} ({counts}; content hash {manifest.content_hash[:16]})")


def export_dump(
    world: Annotated[Path, typer.Argument(help="The World directory to export.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the dump files into.")],
    language: Annotated[
        str, typer.Option("--language", help="Language of labels and sitelinks.")
    ] = "en",
) -> None:
    """Export a World as a Wikidata JSON dump (wikidata.json.gz) plus Wikipedia JSONL."""
    from redsearcher.world.ingest import export_dump as _export

    written = _export(world, out, language=language)
    typer.echo(
        f"wrote {written.wikidata} ({written.entities:,} entities, {written.claims:,} claims) "
        f"and {written.wikipedia} ({written.documents:,} pages)"
    )
