"""After the stream: duplicate records removed, the ``id`` indexes built, ``P279`` edges loaded.

During the stream every record's rows are appended in dump order to tables indexed by their
row id only (``_runs``); checking each item against a unique ``id`` index, and inserting into
it, cost a random page access per item once the index outgrew the cache. Here the indexes are
built once (a sort), and the rare ids that occur more than once are settled as the single-pass
ingest settled them: a record is a ``duplicate_entity`` when an earlier record of its id was
kept, and then it counts for nothing (its drop or value skips are taken back out of the
report, its rows and facts are deleted). Records of an id before its first kept one stay
(their drop was counted, their ``P279`` edges count); the ``items`` row that remains per id is
the kept one's, else the first.

Duplicates are reported in dump order among the stream's problems, so the report does not
depend on the number of workers or on a resume.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redsearcher.world.ingest._report import IngestReport
from redsearcher.world.ingest._scratch import ALIAS_SEP, Scratch
from redsearcher.world.ingest._types import TypeResolver

_BATCH = 10_000


def settle_items(
    scratch: Scratch, paths: Sequence[Path], report: IngestReport, types: TypeResolver
) -> None:
    """Remove duplicate records, index ``items`` and ``entities`` by id, load ``P279`` edges."""
    db = scratch.db
    db.execute("CREATE INDEX IF NOT EXISTS items_id ON items (id)")  # holds n (the rowid)
    db.execute("CREATE TEMP TABLE gone (n INTEGER PRIMARY KEY, duplicate INTEGER NOT NULL)")
    _find(db)
    _report(db, paths, report)
    for table in ("entities", "item_parents"):
        db.execute(f"DELETE FROM {table} WHERE n IN (SELECT n FROM gone WHERE duplicate)")
    ranges = db.execute(  # streamed into the deletes: memory stays flat however many
        "SELECT i.facts_at, i.facts_at + i.facts_n FROM gone g JOIN items i ON i.n = g.n "
        "WHERE g.duplicate AND i.facts_at IS NOT NULL"
    )
    db.executemany("DELETE FROM raw_facts WHERE seq >= ? AND seq < ?", ranges)
    for child, parents in db.execute("SELECT id, parents FROM item_parents ORDER BY n"):
        types.add_subclass(child, parents.split(ALIAS_SEP))
    db.execute("DELETE FROM items WHERE n IN (SELECT n FROM gone)")
    db.execute("DROP TABLE gone")
    scratch.index_entities()


def _find(db: Any) -> None:
    """Fill ``gone`` with the records to delete (``duplicate``: to report as duplicates)."""
    cursor = db.execute(
        "SELECT i.id, i.n, i.kept FROM items i "
        "JOIN (SELECT id FROM items GROUP BY id HAVING COUNT(*) > 1) m ON m.id = i.id "
        "ORDER BY i.id, i.n"
    )
    current: list[tuple[int, int]] = []
    last: str | None = None
    out: list[tuple[int, int]] = []
    while rows := cursor.fetchmany(_BATCH):
        for eid, n, kept in rows:
            if eid != last:
                out.extend(_settle(current))
                current, last = [], eid
            current.append((n, kept))
        db.executemany("INSERT INTO gone VALUES (?, ?)", out)
        out.clear()
    db.executemany("INSERT INTO gone VALUES (?, ?)", _settle(current))


def _settle(records: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``(n, duplicate)`` of the records of one id (in dump order) whose rows go."""
    first_kept = next((i for i, (_, kept) in enumerate(records) if kept), None)
    if first_kept is None:  # never kept: not duplicates; the first row keeps the label
        return [(n, 0) for n, _ in records[1:]]
    before = [(n, 0) for n, _ in records[:first_kept]]
    return before + [(n, 1) for n, _ in records[first_kept + 1 :]]


def _report(db: Any, paths: Sequence[Path], report: IngestReport) -> None:
    """Take duplicates' skips back out of the report and report them, in dump order."""
    found: list[dict[str, Any]] = []
    count = 0
    cursor = db.execute(
        "SELECT i.id, i.file, i.line, i.dropped, i.skips FROM gone g JOIN items i ON i.n = g.n "
        "WHERE g.duplicate ORDER BY g.n"
    )
    while rows := cursor.fetchmany(_BATCH):
        for eid, file, line, dropped, skips in rows:
            path = str(paths[file])
            count += 1
            if dropped is not None:
                _uncount(report, dropped)
            for reason, detail in json.loads(skips) if skips else ():
                _uncount(report, reason)
                if detail:
                    _unreport(report, path, line, reason)
            if len(found) < report.max_problems:
                found.append(
                    {"file": path, "line": line, "reason": "duplicate_entity", "detail": eid}
                )
    if not count:
        return
    report.skipped["duplicate_entity"] += count
    report.problems_total += count
    order = {str(p): i for i, p in enumerate(paths)}
    merged = sorted(
        report.problems + found,
        key=lambda p: (order.get(p["file"], len(paths)), p["line"] or 0),
    )
    report.problems = merged[: report.max_problems]


def _uncount(report: IngestReport, reason: str) -> None:
    report.skipped[reason] -= 1
    if report.skipped[reason] <= 0:
        del report.skipped[reason]


def _unreport(report: IngestReport, path: str, line: int, reason: str) -> None:
    report.problems_total -= 1
    for index, problem in enumerate(report.problems):
        if problem["file"] == path and problem["line"] == line and problem["reason"] == reason:
            del report.problems[index]
            return
