"""Run files: a chunk's scratch rows, written by the worker that parsed it, copied by the writer.

The single writer used to receive every item, name and fact of a chunk as pickled Python tuples
and insert them one by one into tables with unique ``id`` indexes. Unpickling, per-row Python
and random-order B-tree inserts made it the slowest serial part of a full-dump ingest (32 µs
per item + 5.6 µs per fact, growing as the indexes outgrew the page cache). Now the worker
writes its chunk's rows to a small SQLite file of its own (one per chunk, named by file index
and offset, so neither the number of workers nor a resume changes a byte), numbered from 1 within
the chunk; the writer attaches the file and copies each table with one ``INSERT … SELECT``
that adds the chunk's offsets (items before it, facts before it, lines before it). The copy
runs in SQLite's C code, appends to tables that have no index but their row id, and releases
the GIL for the reader thread.

Nothing here decides duplicates: rows of every record go in, in dump order, and the ``id``
indexes are built once the stream is over (``_dedupe``).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redsearcher.world.ingest._scratch import FACT_COLUMNS

_ITEM_COLUMNS = (
    "id, kept, label, lang_label, description, aliases, classes, line, dropped, skips, "
    "facts_at, facts_n"
)
_RUN_DDL = f"""
CREATE TABLE items (n INTEGER PRIMARY KEY, {_ITEM_COLUMNS});
CREATE TABLE entities (n INTEGER PRIMARY KEY, id, label, aliases, title_key);
CREATE TABLE raw_facts (seq INTEGER PRIMARY KEY, {FACT_COLUMNS});
CREATE TABLE parents (n INTEGER PRIMARY KEY, id, parents);
"""
_SCHEMA = "run"


@dataclass(slots=True)
class RunRows:
    """The rows of one chunk, numbered from 1 (``n`` per record, ``seq`` per raw fact).

    ``items`` rows hold the columns of ``_types.ITEMS_DDL`` but ``file`` (the writer knows it),
    with ``line`` relative to the chunk and ``facts_at`` the chunk-local ``seq`` of the
    record's first raw fact.
    """

    items: list[tuple[Any, ...]] = field(default_factory=list)
    entities: list[tuple[Any, ...]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    parents: list[tuple[int, str, str]] = field(default_factory=list)


def write_run(path: Path, rows: RunRows) -> None:
    """Write ``rows`` to ``path`` (through a temporary name: no half-written file there)."""
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    db = sqlite3.connect(part)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_RUN_DDL)
        for table, width, data in (
            ("items", 13, rows.items),
            ("entities", 5, rows.entities),
            ("raw_facts", 13, rows.facts),
            ("parents", 3, rows.parents),
        ):
            if data:
                db.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * width)})", data)
        db.commit()
    finally:
        db.close()
    os.replace(part, path)


@dataclass(frozen=True, slots=True)
class Offsets:
    """Where a chunk's rows go: its file index, and the lines, items and facts before it."""

    file: int
    line: int
    n: int
    seq: int


def load_run(db: sqlite3.Connection, path: Path, at: Offsets) -> None:
    """Append the rows of the run file ``path`` to the scratch tables, renumbered by ``at``.

    The copy is left uncommitted (it commits with the chunk's checkpoint); ``release_run``
    commits it and detaches the file.
    """
    if db.in_transaction:  # ATTACH is refused inside a transaction
        db.commit()
    db.execute(f"ATTACH DATABASE ? AS {_SCHEMA}", (str(path),))
    db.execute(
        f"""INSERT INTO main.items (n, file, {_ITEM_COLUMNS})
        SELECT n + :n, :file, id, kept, label, lang_label, description, aliases, classes,
               line + :line, dropped, skips, facts_at + :seq, facts_n
        FROM {_SCHEMA}.items ORDER BY n""",
        {"n": at.n, "file": at.file, "line": at.line, "seq": at.seq},
    )
    db.execute(
        f"""INSERT INTO main.entities (n, id, label, aliases, title_key)
        SELECT n + ?, id, label, aliases, title_key FROM {_SCHEMA}.entities ORDER BY n""",
        (at.n,),
    )
    db.execute(
        f"""INSERT INTO main.raw_facts (seq, {FACT_COLUMNS})
        SELECT seq + ?, {FACT_COLUMNS} FROM {_SCHEMA}.raw_facts ORDER BY seq""",
        (at.seq,),
    )
    db.execute(
        f"""INSERT INTO main.item_parents (n, id, parents)
        SELECT n + ?, id, parents FROM {_SCHEMA}.parents ORDER BY n""",
        (at.n,),
    )


def release_run(db: sqlite3.Connection, path: Path) -> None:
    """Commit what ``load_run`` copied, detach the run file and delete it."""
    if db.in_transaction:
        db.commit()
    db.execute(f"DETACH DATABASE {_SCHEMA}")
    path.unlink()


def run_name(file: int, offset: int) -> str:
    """The run file of the chunk at decompressed ``offset`` of input ``file``."""
    return f"{file}-{offset}.sqlite"
