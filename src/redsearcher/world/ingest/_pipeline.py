"""``ingest_world``: the one entry point that combines the three sources into a World.

Order matters and is fixed: the Wikidata dumps first (entities, then facts numbered once every
entity is known), then Wikipedia pages (joined to those entities; they add ``links_to`` facts
and provenance), then recordings (whose search results may point at Wikipedia documents), then
the knowledge-base pages (``IngestConfig.kb_pages``; one ``database`` document per entity with
a fact, see ``_kb``), last so that the other documents keep their place in the table. All
rows go through one ``WorldWriter``, so the World appears only if every input was read; a
malformed input file raises ``InputFormatError`` and leaves nothing behind, while malformed
records are skipped and reported in the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from rich.console import Console

from redsearcher.errors import UserError
from redsearcher.world._manifest import Manifest
from redsearcher.world._store import WorldWriter
from redsearcher.world._vocab import PREDICATES
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._dump import ingest_wikidata
from redsearcher.world.ingest._io import detect_compression
from redsearcher.world.ingest._kb import DescriptionTap, write_kb_pages
from redsearcher.world.ingest._replay import expand, ingest_replay
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay, summary_table
from redsearcher.world.ingest._resume import state_dir
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._wikipedia import ingest_wikipedia

Paths = str | Path | Sequence[str | Path] | None


def _paths(value: Paths) -> list[Path]:
    if value is None:
        return []
    if isinstance(value, str | Path):
        return [Path(value)]
    return [Path(v) for v in value]


def _write_facts(
    scratch: Scratch,
    writer: WorldWriter,
    report: IngestReport,
    complete_symmetric: bool,
    batch_rows: int,
) -> None:
    """Number the facts and write them, straight from SQLite columns to Arrow.

    A full dump has hundreds of millions of facts, and a Python object per row (or per value)
    costs more than the rest of writing them; ``append_batch`` buffers the batches like
    records, so later facts (``links_to``) share the last row group as they always did.
    """
    symmetric = sorted(p.name for p in PREDICATES.values() if p.symmetric and complete_symmetric)
    _, dangling, completed = scratch.finalize_facts(symmetric)
    report.dangling = dangling
    report.count("symmetric_completed", completed)
    relations = attributes = 0
    for batch in scratch.fact_batches(batch_rows):
        entity = pc.sum(pc.equal(batch.column("kind"), "entity")).as_py() or 0
        relations += entity
        attributes += batch.num_rows - entity
        writer.append_batch("facts", batch)
    for key, n in (("relations", relations), ("attributes", attributes)):
        if n:
            report.count(key, n)


def ingest_world(
    out: str | Path,
    *,
    wikidata: Paths = None,
    wikipedia: Paths = None,
    replay: Paths = None,
    config: IngestConfig | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Manifest:
    """Build a World at ``out`` from real data.

    Args:
        out: The World directory to create.
        wikidata: Wikidata JSON dump(s) (``latest-all.json`` format; plain, ``.gz``, ``.bz2``).
        wikipedia: Wikipedia page text: JSON Lines or Parquet with ``title``, ``text`` and
            optionally ``url`` and ``links``.
        replay: Recorded Serper/Jina responses: JSON or JSONL files, or directories of them.
        config: Ingest settings (defaults when ``None``).
        overwrite: Replace an existing World at ``out`` (only once the new one is complete).
        progress: Show a progress display and print a summary (on stderr).

    Returns:
        The manifest of the new World; its ``report`` holds counts, skips by reason,
        ``dangling``, ``unjoined`` and the first problems with file and line.

    Raises:
        InputFormatError: when an input file is malformed as a whole (nothing is written).
        UserError: when there is nothing to ingest or ``out`` exists without ``overwrite``.
    """
    config = config or IngestConfig()
    out = Path(out)
    wikidata_paths, wikipedia_paths = _paths(wikidata), _paths(wikipedia)
    replay_paths = expand(_paths(replay))
    if not (wikidata_paths or wikipedia_paths or replay_paths):
        raise UserError("nothing to ingest: give a Wikidata dump, Wikipedia pages or recordings")
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists (pass overwrite=True / --overwrite)")
    for path in (*wikidata_paths, *wikipedia_paths, *replay_paths):
        detect_compression(path)  # fail on missing or misnamed files before writing anything
    source: dict[str, Any] = {
        "kind": "ingest",
        "wikidata": [str(p) for p in wikidata_paths],
        "wikipedia": [str(p) for p in wikipedia_paths],
        "replay": [str(p) for p in replay_paths],
        "config": config.source_dict(),
        "completeness": "complete" if config.complete_dump else "sample",
    }
    report = IngestReport(config.max_problems)
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        sources = (wikidata_paths, wikipedia_paths, replay_paths)
        writer = _run(out, source, overwrite, config, report, progress, sources)
    except BaseException:
        for directory in created:  # parents made for the World that never came
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    manifest = writer.manifest
    assert manifest is not None  # set by close() when the block succeeded
    if progress:
        Console(stderr=True).print(summary_table(manifest.report, manifest.counts))
    return manifest


def _run(
    out: Path,
    source: dict[str, Any],
    overwrite: bool,
    config: IngestConfig,
    report: IngestReport,
    progress: bool,
    sources: tuple[list[Path], list[Path], list[Path]],
) -> WorldWriter:
    wikidata_paths, wikipedia_paths, replay_paths = sources
    scratch_parent = config.scratch_dir or out.parent
    kb_pages = config.kb_pages and bool(wikidata_paths)
    world_writer = DescriptionTap if kb_pages else WorldWriter
    keep = state_dir(scratch_parent, out.name) if config.resume and wikidata_paths else None
    with (
        ProgressDisplay(progress) as display,
        Scratch(scratch_parent, out.name, keep=keep) as scratch,
        world_writer(
            out, source=source, overwrite=overwrite, batch_rows=config.batch_rows
        ) as writer,
    ):
        if isinstance(writer, DescriptionTap):
            writer.scratch = scratch
        if wikidata_paths:
            ingest_wikidata(wikidata_paths, config, scratch, writer, report, display)
            _write_facts(scratch, writer, report, config.complete_symmetric, config.batch_rows)
        if wikipedia_paths:
            ingest_wikipedia(wikipedia_paths, config, scratch, writer, report, display)
        if replay_paths:
            ingest_replay(replay_paths, config, scratch, writer, report, display)
        if kb_pages:  # last, so the other documents keep their order (and their URLs)
            write_kb_pages(config, scratch, writer, report, display)
        writer.report = report.to_dict()
    return writer
