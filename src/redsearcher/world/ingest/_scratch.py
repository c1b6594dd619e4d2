"""A temporary SQLite store that keeps ingest's memory independent of the dump size.

Three things need look-ups across the whole input: whether a relation's object entity exists
(known only once the dump is read), which entity a Wikipedia title joins to, and which facts
are about the entities a document mentions. Holding those in Python dicts would cost memory in
proportion to the facts; here they live on disk in an indexed SQLite file next to the output,
which is deleted when ingest ends, whether it succeeded or not.

Facts are first written *raw* in dump order (``raw_facts``, keyed by their order ``seq``); once
every entity is known, ``finalize_facts`` drops the dangling ones and numbers the rest 1, 2, ...
in one SQL statement, which keeps fact ids deterministic.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from redsearcher.world._records import Fact
from redsearcher.world._schema import TABLES
from redsearcher.world.ingest._columns import Range, read_range

_FACT_COLUMNS = (
    "subject, predicate, kind, object, string, date, date_precision, amount, unit, "
    "latitude, longitude, qualifiers"
)
FACT_COLUMNS = _FACT_COLUMNS
"""The columns of a fact row (``fact_row``), for the run files that workers write."""
_CHUNK = 500
_CACHE_KIB = 1 << 20  # 1 GiB at most; SQLite allocates pages as they are used
_ALIAS_SEP = "\x1f"  # aliases are stored joined by the ASCII unit separator
ALIAS_SEP = _ALIAS_SEP

_DDL = f"""
CREATE TABLE entities (n INTEGER PRIMARY KEY, id TEXT NOT NULL, label TEXT NOT NULL,
                       aliases TEXT NOT NULL, title_key TEXT);
CREATE TABLE raw_facts (seq INTEGER PRIMARY KEY, {_FACT_COLUMNS});
CREATE TABLE facts (id INTEGER PRIMARY KEY, {_FACT_COLUMNS});
CREATE TABLE links (subject TEXT NOT NULL, object TEXT NOT NULL, fact_id INTEGER NOT NULL,
                    PRIMARY KEY (subject, object)) WITHOUT ROWID;
CREATE TABLE descriptions (id TEXT PRIMARY KEY, description TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE urls (url TEXT PRIMARY KEY, doc_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE searches (query TEXT NOT NULL, search_type TEXT NOT NULL, page INTEGER NOT NULL,
                       PRIMARY KEY (query, search_type, page)) WITHOUT ROWID;
"""


def fact_row(fact: Fact) -> tuple[Any, ...]:
    return (
        fact.subject,
        fact.predicate,
        fact.kind,
        fact.object,
        fact.string,
        fact.date,
        fact.date_precision,
        fact.amount,
        fact.unit,
        fact.latitude,
        fact.longitude,
        fact.qualifiers,
    )


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class Scratch:
    """The scratch store; a context manager that deletes its directory on exit.

    Args:
        parent: Directory to create the scratch directory in.
        name: A name hint (the output World's name).
    """

    def __init__(self, parent: Path, name: str, *, keep: Path | None = None) -> None:
        self._parent = parent
        self._name = name
        self._keep = keep
        self._dir: Path | None = None
        self._db: sqlite3.Connection | None = None
        self.next_fact_id = 1
        self._object_index = False
        self._label_index = False
        self._title_index = False

    def __enter__(self) -> Scratch:
        """Open the store; with ``keep`` (a resumable ingest) reopen the one left there.

        A kept store uses a rollback journal so that a killed process leaves its last commit
        intact (see ``_resume``), and it survives a failed ingest; a temporary one needs
        neither.
        """
        self._parent.mkdir(parents=True, exist_ok=True)
        if self._keep is not None:
            self._keep.mkdir(parents=True, exist_ok=True)
            self._dir = self._keep
        else:
            self._dir = Path(tempfile.mkdtemp(prefix=f".{self._name}.scratch-", dir=self._parent))
        db = sqlite3.connect(self._dir / "scratch.sqlite")
        journal = "journal_mode=DELETE" if self._keep is not None else "journal_mode=OFF"
        # A large page cache: the id indexes are built after the stream (a sort), but the
        # post-stream joins still probe them in random order.
        for pragma in (journal, "synchronous=OFF", f"cache_size=-{_CACHE_KIB}"):
            db.execute(f"PRAGMA {pragma}")
        existing = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'entities'").fetchone()
        if existing is None:
            db.executescript(_DDL)
        self._db = db
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None and (self._keep is None or exc_type is None):
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = None

    @property
    def directory(self) -> Path:
        """The directory holding the store."""
        if self._dir is None:
            raise RuntimeError("scratch store is not open")
        return self._dir

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection."""
        if self._db is None:
            raise RuntimeError("scratch store is not open")
        return self._db

    # -- entities ----------------------------------------------------------------------------
    def add_entities(self, rows: Iterable[tuple[str, str, tuple[str, ...], str | None]]) -> None:
        """Add ``(id, label, aliases, title_key)`` rows (a dump's come through ``_runs``)."""
        self.db.executemany(
            "INSERT INTO entities (id, label, aliases, title_key) VALUES (?, ?, ?, ?)",
            ((i, label, _ALIAS_SEP.join(aliases), key) for i, label, aliases, key in rows),
        )

    def index_entities(self) -> None:
        """Build the unique ``id`` index of ``entities`` (once its rows are all in).

        The stream appends rows in dump order, which is random in id order: inserting them
        into this index one by one cost a page read each once it outgrew the cache. Building
        it afterwards is one sort. Raises ``sqlite3.IntegrityError`` on a duplicate id (the
        ingest removes them first, ``_dedupe``).
        """
        self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS entities_id ON entities (id)")

    def add_descriptions(self, rows: Iterable[tuple[str, str]]) -> None:
        """Add ``(id, description)`` rows (only knowledge-base pages read them back)."""
        self.db.executemany("INSERT OR IGNORE INTO descriptions VALUES (?, ?)", rows)

    def iter_entity_facts(
        self, skip: Sequence[str] = ()
    ) -> Iterator[tuple[str, str, str | None, list[Fact]]]:
        """``(id, label, description, facts)`` per entity with facts, in dump order.

        Facts are the numbered ones, by id; those of the predicates in ``skip`` are left out.
        One join streams the whole table, so memory stays one entity's facts. ``CROSS JOIN``
        pins SQLite's plan to entities outside (in ``n`` order) and the ``facts_spo`` index
        inside, so only each entity's few facts are sorted, never the whole table.
        """
        marks = ",".join("?" * len(skip))
        where = f"WHERE f.predicate NOT IN ({marks})" if skip else ""
        cursor = self.db.execute(
            f"""SELECT e.id, e.label, d.description, f.id, {_prefixed("f")}
            FROM entities e CROSS JOIN facts f ON f.subject = e.id
            LEFT JOIN descriptions d ON d.id = e.id
            {where}
            ORDER BY e.n, f.id""",
            tuple(skip),
        )
        current: tuple[str, str, str | None] | None = None
        facts: list[Fact] = []
        while rows := cursor.fetchmany(10_000):
            for eid, label, description, *fact in rows:
                if current is not None and current[0] != eid:
                    yield (*current, facts)
                    facts = []
                current = (eid, label, description)
                facts.append(Fact(*fact))
        if current is not None:
            yield (*current, facts)

    def entity_by_title(self, key: str) -> str | None:
        """The first entity (in dump order) whose normalized sitelink title is ``key``."""
        if not self._title_index:  # built once the stream is over, not row by row during it
            self.db.execute("CREATE INDEX IF NOT EXISTS entities_title ON entities (title_key)")
            self._title_index = True
        row = self.db.execute(
            "SELECT id FROM entities WHERE title_key = ? ORDER BY n LIMIT 1", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def names(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Label followed by aliases, for each of ``ids`` that exists."""
        out: dict[str, tuple[str, ...]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for eid, label, aliases in self.db.execute(
                f"SELECT id, label, aliases FROM entities WHERE id IN ({marks})",
                tuple(chunk),
            ):
                out[eid] = (label, *aliases.split(_ALIAS_SEP)) if aliases else (label,)
        return out

    # -- facts -------------------------------------------------------------------------------
    def add_raw_facts(self, facts: Iterable[Fact]) -> None:
        """Add facts in dump order (their ``id`` is ignored; numbering comes later)."""
        self.db.executemany(
            f"INSERT INTO raw_facts ({_FACT_COLUMNS}) VALUES ({','.join('?' * 12)})",
            (fact_row(f) for f in facts),
        )

    def add_raw_fact_rows(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add facts already turned into rows by ``fact_row`` (by a worker process)."""
        self.db.executemany(
            f"INSERT INTO raw_facts ({_FACT_COLUMNS}) VALUES ({','.join('?' * 12)})", rows
        )

    def finalize_facts(self, symmetric: Sequence[str]) -> tuple[int, int, int]:
        """Drop dangling raw facts, number the rest from 1, and complete symmetric relations.

        A fact is dangling when its subject or its (entity) object is not an ingested entity.
        For each ``s p o`` of a predicate in ``symmetric`` without a stored ``o p s``, the
        reverse is appended after all dump facts (once per pair, with the first fact's
        qualifiers).

        Returns:
            ``(kept, dangling, completed)`` fact counts.
        """
        db = self.db
        raw = db.execute("SELECT COUNT(*) FROM raw_facts").fetchone()[0]
        # Ids come from SQLite's rowid rule (an inserted row without one gets the largest so
        # far + 1), in ``seq`` order: 1, 2, ... like ``ROW_NUMBER()`` would give, without the
        # window function's sorted copy of every row (half the cost of this statement).
        kept = db.execute(
            f"""INSERT INTO facts ({_FACT_COLUMNS})
            SELECT {_prefixed("r")}
            FROM raw_facts r
            WHERE EXISTS (SELECT 1 FROM entities e WHERE e.id = r.subject)
              AND (r.kind != 'entity' OR EXISTS (SELECT 1 FROM entities e WHERE e.id = r.object))
            ORDER BY r.seq"""
        ).rowcount
        _check_dense(db, kept)
        db.execute("DROP TABLE raw_facts")
        db.execute("CREATE INDEX facts_spo ON facts (subject, predicate, object)")
        completed = 0
        if symmetric:
            marks = ",".join("?" * len(symmetric))
            completed = db.execute(
                f"""INSERT INTO facts (id, {_FACT_COLUMNS})
                SELECT ? + ROW_NUMBER() OVER (ORDER BY m.first_id), m.object, m.predicate,
                       'entity', m.subject, NULL, NULL, NULL, NULL, NULL, NULL, NULL, m.qualifiers
                FROM (SELECT MIN(f.id) AS first_id, f.subject, f.predicate, f.object, f.qualifiers
                      FROM facts f
                      WHERE f.kind = 'entity' AND f.predicate IN ({marks})
                        AND f.subject != f.object
                        AND NOT EXISTS (SELECT 1 FROM facts r WHERE r.subject = f.object
                                        AND r.predicate = f.predicate AND r.object = f.subject)
                      GROUP BY f.subject, f.predicate, f.object) m
                ORDER BY m.first_id""",
                (kept, *symmetric),
            ).rowcount
            _check_dense(db, kept + completed)
        self.next_fact_id = kept + completed + 1
        return kept, raw - kept, completed

    def fact_batches(self, batch: int) -> Iterator[pa.RecordBatch]:
        """The numbered facts in id order, as Arrow batches of the ``facts`` table's schema.

        Each batch holds the facts of ``batch`` consecutive ids (numbering leaves no gaps, so
        all but the last are full), read column by column in C (``_columns``): a full dump
        has billions of facts, and a Python object per value cost more than all the rest of
        writing them.
        """
        low, high = self.db.execute("SELECT MIN(id), MAX(id) FROM facts").fetchone()
        if low is None:
            return
        schema = TABLES["facts"]
        columns = [(f.name, f.type) for f in schema][1:]
        for start in range(low, high + 1, batch):
            ids, values = read_range(
                self.db, Range("facts", "id", start, start + batch - 1), columns
            )
            if len(ids):
                arrays = [pa.array(ids, type=pa.int64()), *values]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def iter_facts(self, batch: int = 10_000) -> Iterator[Fact]:
        """The numbered facts in id order."""
        cursor = self.db.execute(f"SELECT id, {_FACT_COLUMNS} FROM facts ORDER BY id")
        while rows := cursor.fetchmany(batch):
            for row in rows:
                yield Fact(*row)

    def facts_about(self, subjects: Sequence[str]) -> list[Fact]:
        """Numbered facts whose subject is one of ``subjects``, by id."""
        out: list[Fact] = []
        for chunk in _chunks(subjects):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT id, {_FACT_COLUMNS} FROM facts WHERE subject IN ({marks})",
                tuple(chunk),
            )
            out.extend(Fact(*row) for row in rows)
        out.sort(key=lambda f: f.id)
        return out

    def add_link(self, subject: str, obj: str) -> tuple[int, bool]:
        """The fact id of ``subject links_to obj``: ``(id, True)`` when it is new."""
        row = self.db.execute(
            "SELECT fact_id FROM links WHERE subject = ? AND object = ?", (subject, obj)
        ).fetchone()
        if row is not None:
            return int(row[0]), False
        fact_id = self.next_fact_id
        self.next_fact_id += 1
        self.db.execute("INSERT INTO links VALUES (?, ?, ?)", (subject, obj, fact_id))
        return fact_id, True

    # -- documents and searches --------------------------------------------------------------
    def add_doc(self, doc_id: str) -> bool:
        """Register a document id; False when it was already there."""
        cursor = self.db.execute("INSERT OR IGNORE INTO docs VALUES (?)", (doc_id,))
        return cursor.rowcount == 1

    def add_url(self, url: str, doc_id: str) -> None:
        """Map a normalized URL to the document holding its page (first mapping wins)."""
        self.db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?)", (url, doc_id))

    def doc_for_url(self, url: str) -> str | None:
        """The document of a normalized URL, if any."""
        row = self.db.execute("SELECT doc_id FROM urls WHERE url = ?", (url,)).fetchone()
        return None if row is None else str(row[0])

    def add_search(self, query: str, search_type: str, page: int) -> bool:
        """Register a recorded result page; False when it was recorded before."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO searches VALUES (?, ?, ?)", (query, search_type, page)
        )
        return cursor.rowcount == 1

    # -- Wikipedia titles and redirects (``_wikipedia``) ---------------------------------------
    def has_entity(self, entity_id: str) -> bool:
        """Whether ``entity_id`` is an ingested entity."""
        row = self.db.execute("SELECT 1 FROM entities WHERE id = ?", (entity_id,)).fetchone()
        return row is not None

    def add_wiki_titles(self, rows: Iterable[tuple[str, str, bool]]) -> None:
        """Record ``(title_key, entity id, is_redirect)`` rows of Wikipedia pages.

        A page's own title wins over a redirect of the same title, and otherwise the first
        row of a title wins, so the table is the same whatever order the pages come in.
        """
        db = self.db
        db.execute(
            """CREATE TABLE IF NOT EXISTS wiki_titles (key TEXT PRIMARY KEY, item TEXT NOT NULL,
                   redirect INTEGER NOT NULL) WITHOUT ROWID"""
        )
        db.executemany(
            """INSERT INTO wiki_titles VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET item = excluded.item, redirect = excluded.redirect
            WHERE excluded.redirect < wiki_titles.redirect""",
            ((key, item, int(redirect)) for key, item, redirect in rows),
        )

    def wiki_title_item(self, key: str) -> tuple[str, bool] | None:
        """``(entity id, reached through a redirect)`` of a recorded title key, if any."""
        try:
            row = self.db.execute(
                "SELECT item, redirect FROM wiki_titles WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.OperationalError:  # no page recorded a title yet
            return None
        return None if row is None else (str(row[0]), bool(row[1]))

    # -- fact detection (``_statements``) -------------------------------------------------------
    def _index_objects(self) -> sqlite3.Connection:
        # Built on first use (after ``finalize_facts``, so it covers the completed symmetric
        # facts too); ingests without Wikipedia pages never pay for it.
        if not self._object_index:
            self.db.execute("CREATE INDEX IF NOT EXISTS facts_object ON facts (object, subject)")
            self._object_index = True
        return self.db

    def facts_to(self, objects: Sequence[str], subjects: Sequence[str] | None = None) -> list[Fact]:
        """Numbered entity facts whose object is one of ``objects``, by id.

        With ``subjects``, only those whose subject is one of them (a hub's incoming facts
        from the entities a page names, not its millions of citizens).
        """
        db = self._index_objects()
        out: list[Fact] = []
        for chunk in _chunks(objects):
            marks = ",".join("?" * len(chunk))
            query = (
                f"SELECT id, {_FACT_COLUMNS} FROM facts WHERE object IN ({marks})"
                " AND kind = 'entity'"
            )
            if subjects is None:
                out.extend(Fact(*row) for row in db.execute(query, tuple(chunk)))
                continue
            for part in _chunks(subjects):
                subject_marks = ",".join("?" * len(part))
                rows = db.execute(f"{query} AND subject IN ({subject_marks})", (*chunk, *part))
                out.extend(Fact(*row) for row in rows)
        out.sort(key=lambda f: f.id)
        return out

    def count_to(self, obj: str) -> int:
        """How many entity facts have ``obj`` as their object."""
        row = (
            self._index_objects()
            .execute("SELECT COUNT(*) FROM facts WHERE object = ? AND kind = 'entity'", (obj,))
            .fetchone()
        )
        return int(row[0])

    def label_owners(self, names: Sequence[str]) -> dict[str, set[str]]:
        """For each of ``names`` that is some entity's label: the ids of those entities.

        Fact detection uses it to veto an alias that is another entity's label (``Great
        Britain`` is an alias of the United Kingdom and the label of the island). The label
        index is built on first use.
        """
        db = self.db
        if not self._label_index:
            db.execute("CREATE INDEX IF NOT EXISTS entities_label ON entities (label)")
            self._label_index = True
        out: dict[str, set[str]] = {}
        for chunk in _chunks(names):
            marks = ",".join("?" * len(chunk))
            for label, eid in db.execute(
                f"SELECT label, id FROM entities WHERE label IN ({marks})", tuple(chunk)
            ):
                out.setdefault(label, set()).add(eid)
        return out


def _check_dense(db: sqlite3.Connection, count: int) -> None:
    """Fact ids must be exactly 1..count (``fact_batches`` and provenance rely on it)."""
    top = db.execute("SELECT MAX(id) FROM facts").fetchone()[0] or 0
    if top != count:
        raise RuntimeError(f"facts numbered up to {top} for {count} facts: ids are not dense")


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in _FACT_COLUMNS.split(","))
