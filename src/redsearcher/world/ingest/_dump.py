"""``ingest_wikidata``: stream Wikidata dumps into the scratch store, with workers and resume.

The work splits in two. Workers (``_worker``, in ``IngestConfig.workers`` processes) parse
chunks of whole lines (``_chunks``), extract claims and write each chunk's rows to a run file
(``_runs``); the single writer here takes their results **in dump order**, applies what depends
on what came before (property entities, the report's problems, where the stream stands) and
appends the chunk's rows to the scratch tables with a few ``INSERT … SELECT`` statements, so
its cost per item and per fact is small and does not grow with the store. Duplicate records
and the ``id`` indexes are settled once the stream is over (``_dedupe``). Rows are numbered
by dump order, so the World is byte-identical for any number of workers, and a resumed run
(``_resume``) is byte-identical to an uninterrupted one.

Memory is independent of the number of items: rows go to SQLite per chunk, and what stays in
memory is the subclass graph (one list per class item, ~4M in the full dump, loaded after the
stream), property names and the filter's id sets.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from redsearcher.errors import InputFormatError
from redsearcher.world._store import WorldWriter
from redsearcher.world.ingest._chunks import Chunk, iter_chunks, ordered_map, prefetch
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._dedupe import settle_items
from redsearcher.world.ingest._filters import build_filter
from redsearcher.world.ingest._io import first_char
from redsearcher.world.ingest._properties import label_from_item
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay
from redsearcher.world.ingest._resume import Checkpoints, Position, fingerprint, restore_report
from redsearcher.world.ingest._runs import Offsets, load_run, release_run, run_name
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._types import ITEMS_DDL, TypeResolver, read_class_file, write_entities
from redsearcher.world.ingest._wikidata import PropertyMap
from redsearcher.world.ingest._worker import (
    ChunkResult,
    WorkerSetup,
    init_worker,
    parse_chunk,
    subclass_edges,
    watch_parent,
)

Task = tuple[int, Chunk | None]
"""A chunk of the file at an index; ``None`` marks the end of that file."""


def worker_count(config: IngestConfig) -> int:
    """The number of parsing processes (``workers``; 0: one per CPU)."""
    return config.workers or os.cpu_count() or 1


def _check_start(path: Path) -> None:
    start = first_char(path)
    if start is None:
        raise InputFormatError(path, "empty file: not a Wikidata JSON dump")
    if start not in "[{":
        raise InputFormatError(
            path, f"not a Wikidata JSON dump: starts with {start!r}, expected '[' or '{{'", line=1
        )


def _tasks(paths: Sequence[Path], config: IngestConfig, position: Position) -> Iterator[Task]:
    for index, path in enumerate(paths):
        if index < position.file:
            continue
        _check_start(path)
        offset, line = (position.offset, position.line) if index == position.file else (0, 0)
        for chunk in iter_chunks(path, config.chunk_bytes, offset, line):
            yield index, chunk
        yield index, None


def _parse_task(task: Task) -> tuple[int, int, ChunkResult | None]:
    index, chunk = task
    if chunk is None:
        return index, 0, None
    return index, chunk.size, parse_chunk(chunk, run_name(index, chunk.offset))


def _edges_task(task: Task) -> list[tuple[str, list[str]]]:
    return [] if task[1] is None else subclass_edges(task[1])


class _Writer:
    """Applies chunk results in order: the single-process ingest, minus the parsing."""

    def __init__(
        self,
        paths: Sequence[Path],
        config: IngestConfig,
        scratch: Scratch,
        props: PropertyMap,
        report: IngestReport,
        checkpoints: Checkpoints,
    ) -> None:
        self.paths = paths
        self.config = config
        self.scratch = scratch
        self.props = props
        self.report = report
        self.checkpoints = checkpoints
        db = scratch.db
        self.items = int(db.execute("SELECT COALESCE(MAX(n), 0) FROM items").fetchone()[0])
        """Item records before the next chunk (its rows are numbered after them)."""
        self.facts = int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM raw_facts").fetchone()[0])
        """Raw facts before the next chunk."""

    def apply(self, index: int, first_line: int, result: ChunkResult) -> None:
        """Report the chunk's skips and problems, note property entities, copy its rows."""
        path, report = self.paths[index], self.report
        if result.records:
            report.count("wikidata_records", result.records)
        for reason, n in sorted(result.skipped.items()):
            report.skip(reason, n=n)
        for kind, rel, payload in result.events:
            if kind == "property":
                self.props.names.from_dump[payload[0]] = payload[1]
            else:  # bad, bad_record, skip: a problem with its line
                report.skip(payload[0], file=path, line=first_line + rel, detail=payload[1])
        self.props.names.deferred |= result.deferred
        if result.run is not None:
            at = Offsets(index, first_line, self.items, self.facts)
            load_run(self.scratch.db, Path(result.run), at)
        self.items += result.items
        self.facts += result.facts

    def release(self, result: ChunkResult) -> None:
        """Commit the chunk's rows (if the checkpoint did not) and delete its run file."""
        if result.run is not None:
            release_run(self.scratch.db, Path(result.run))


def _keep_classes(
    paths: Sequence[Path], config: IngestConfig, edges: list[tuple[str, str]], workers: int
) -> list[tuple[str, str]]:
    """``edges`` plus, with ``class_pass``, every ``P279`` edge of the dumps."""
    if not (config.keep_class and config.class_pass):
        return edges
    found = list(edges)
    tasks = prefetch(_tasks(paths, config, Position()))
    me = os.getpid() if workers > 1 else None
    for pairs in ordered_map(_edges_task, tasks, workers, _class_setup, (me,)):
        found.extend((child, parent) for child, parents in pairs for parent in parents)
    return found


def _class_setup(parent: int | None) -> None:
    """The class pass needs no worker state, only the watch on its parent."""
    if parent is not None:
        watch_parent(parent)


def ingest_wikidata(
    paths: Sequence[Path],
    config: IngestConfig,
    scratch: Scratch,
    writer: WorldWriter,
    report: IngestReport,
    display: ProgressDisplay,
) -> None:
    """Stream the dumps: items, raw facts and names to ``scratch``; entities to ``writer``.

    ``Special:EntityData`` files (``{"entities": {"Q42": {...}}}`` on one line) are read too.
    When the dumps are read, deferred properties are named, item values of string predicates
    become labels, stubs are added (``IngestConfig.stubs``) and the entities are written with
    their resolved types. Call ``Scratch.finalize_facts`` afterwards to number the facts and
    drop dangling ones.
    """
    edges = read_class_file(config.class_file) if config.class_file else []
    props = PropertyMap(config, TypeResolver(config.type_map, edges))
    scratch.db.executescript(ITEMS_DDL)
    checkpoints = Checkpoints(scratch.db, config.resume, fingerprint(list(paths), config))
    saved = checkpoints.load(scratch.directory)
    position = Position()
    workers = worker_count(config)
    if saved is not None:
        position = saved.position
        restore_report(report, saved.report)
        props.names.from_dump.update(saved.from_dump)
        props.names.deferred |= saved.deferred
        classes = None if saved.keep_classes is None else frozenset(saved.keep_classes)
        item_filter = replace(build_filter(config, []), classes=classes)  # no second class pass
    else:
        item_filter = build_filter(config, _keep_classes(paths, config, edges, workers))
        checkpoints.save_classes(item_filter.classes)
    if not position.streamed:
        run = _Writer(paths, config, scratch, props, report, checkpoints)
        runs = scratch.directory / "runs"
        shutil.rmtree(runs, ignore_errors=True)  # a killed run's files: redone from the checkpoint
        runs.mkdir()
        _stream(run, display, position, WorkerSetup(config, item_filter, runs), workers)
        shutil.rmtree(runs)
    checkpoints.hold()
    settle_items(scratch, paths, report, props.types)
    report.count("entities", scratch.db.execute("SELECT COUNT(*) FROM entities").fetchone()[0])
    report.predicates = {
        pid: sorted({p.name for p in preds}) for pid, preds in sorted(props.map.items())
    }
    for pid, name in props.names.finish(scratch, report).items():
        report.predicates[pid] = [name]
    label_from_item(scratch, report)
    if config.stubs:
        add_stubs(scratch, report)
    write_entities(scratch, writer, props.types, report)


def _stream(
    apply: _Writer, display: ProgressDisplay, position: Position, setup: WorkerSetup, workers: int
) -> None:
    paths, report, props, checkpoints = apply.paths, apply.report, apply.props, apply.checkpoints
    tasks = prefetch(_tasks(paths, apply.config, position))
    tracker = None
    if position.file < len(paths):
        tracker = display.task(f"wikidata {paths[position.file].name}")
    parent = os.getpid() if workers > 1 else None
    for index, size, result in ordered_map(
        _parse_task, tasks, workers, init_worker, (setup, parent)
    ):
        path = paths[index]
        if result is None:  # the end of a file
            if position.good == 0 and position.bad > 0:
                raise InputFormatError(
                    path,
                    "no line holds a JSON object: not a JSON Lines file",
                    line=position.first_bad,
                )
            if tracker is not None:
                tracker.done()
            position.next_file()
            if position.file < len(paths):
                tracker = display.task(f"wikidata {paths[position.file].name}")
            continue
        if position.first_bad is None and (bad := result.first_bad()) is not None:
            position.first_bad = position.line + bad
        apply.apply(index, position.line, result)
        if tracker is not None:
            tracker.advance(result.records)
        position.offset += size
        position.line += result.lines
        position.good += result.good
        position.bad += result.bad
        checkpoints.commit(position, report, props.names.from_dump, props.names.deferred)
        apply.release(result)
    position.streamed = True
    checkpoints.commit(position, report, props.names.from_dump, props.names.deferred)


def add_stubs(scratch: Scratch, report: IngestReport) -> None:
    """Make the dropped items that a kept item's relation points at label-only entities.

    They keep their label, description and type but no aliases, sitelink title or claims of
    their own; the relation that needed them is then not dangling.
    """
    db = scratch.db
    marked = db.execute(
        "UPDATE items SET kept = 2 WHERE kept = 0 AND (id IN (SELECT object FROM raw_facts "
        "WHERE kind = 'entity') OR id IN (SELECT subject FROM raw_facts WHERE kind = 'entity'))"
    ).rowcount
    db.execute(
        "INSERT INTO entities (id, label, aliases, title_key) "
        "SELECT id, label, '', NULL FROM items WHERE kept = 2 ORDER BY n"
    )
    db.execute("UPDATE items SET kept = 1 WHERE kept = 2")
    if marked:
        report.count("stubs", marked)
