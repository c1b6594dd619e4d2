"""Entity types from ``P31`` plus the ``P279`` subclass closure, and the deferred entity rows.

Real items are rarely instances of the exact class a type names: a big city is ``P31 Q1549591``
(big city), which is ``P279`` of ``Q515`` (city). So an entity's type is the **most specific
mapped class** among its ``P31`` classes and their ``P279`` ancestors: the class of the type
table reached in the fewest subclass steps (ties: ``P31`` order, then claim order). The type
table is the vocabulary's classes (``_vocab.ENTITY_TYPES``), the bundled ``data/types.tsv``
(subclasses a sample may not connect) and ``IngestConfig.type_map`` (the user's, which wins).

An entity that reaches no mapped class is still usable: its type is the English label of its
first labelled ``P31`` class (``"fictional human"``), else its own description, else ``item``
— never a Q-id, because types are read by people and realized into questions.

Subclass claims belong to class items that may come anywhere in the dump (after the items
that use them), so types are only known once the dump is read. Entity rows therefore wait in
the scratch store (table ``items``, which also keeps the labels of items dropped by filters,
for class labels and ``label_from_item``) and are written when the dump ends. Subclass edges
are held in memory: one list per class item (about 4 million edges in the full dump); an
optional ``class_id,parent_id`` file adds edges for classes a sample lacks.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.errors import InputFormatError
from redsearcher.world._schema import TABLES
from redsearcher.world._store import WorldWriter
from redsearcher.world._vocab import ENTITY_TYPES
from redsearcher.world.ingest._columns import Range, read_range
from redsearcher.world.ingest._io import detect_compression
from redsearcher.world.ingest._report import IngestReport
from redsearcher.world.ingest._scratch import Scratch

_QID = re.compile(r"^Q[1-9][0-9]*$")
_SEP = "\x1f"
_BATCH = 50_000  # item keys per query (write_entities)
ITEMS_DDL = """
CREATE TABLE IF NOT EXISTS items (
    n INTEGER PRIMARY KEY, id TEXT NOT NULL, kept INTEGER NOT NULL, label TEXT NOT NULL,
    lang_label TEXT, description TEXT, aliases TEXT NOT NULL, classes TEXT NOT NULL,
    file INTEGER NOT NULL, line INTEGER NOT NULL, dropped TEXT, skips TEXT, facts_at INTEGER,
    facts_n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS item_parents (n INTEGER PRIMARY KEY, id TEXT NOT NULL,
                                         parents TEXT NOT NULL);
"""
"""One row per record of the dump (``n``: dump order), appended by ``_runs.load_run``.

Beyond what types need (label, description, aliases, ``P31`` classes), a row keeps what it
takes to undo a record found to be a duplicate after the stream (``_dedupe``): its file index
and line, why a filter dropped it, its value skips (JSON) and the ``seq`` range of its raw facts.
``item_parents`` holds the ``P279`` parents of the records that have any.
"""


@cache
def bundled_types() -> dict[str, str]:
    """The vocabulary's classes plus ``data/types.tsv``: class Q-id -> type word."""
    table = {t.wikidata_class: t.name for t in ENTITY_TYPES.values()}
    text = files("redsearcher.world.ingest").joinpath("data/types.tsv").read_text("utf-8")
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            cid, word = line.split("\t")[:2]
            table[cid] = word
    return table


def read_class_file(path: Path) -> list[tuple[str, str]]:
    """``class_id,parent_id`` rows of a CSV file (a header row and ``#`` comments allowed).

    Raises:
        InputFormatError: a missing file or a row that is not two Q-ids (with its line).
    """
    detect_compression(path)  # a missing file is an InputFormatError naming it
    edges: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            if line == 1 and not _QID.match(cells[0]):
                continue  # header
            if len(cells) < 2 or not _QID.match(cells[0]) or not _QID.match(cells[1]):
                raise InputFormatError(
                    path, f"expected class_id,parent_id (two Q-ids), got {row!r}", line=line
                )
            edges.append((cells[0], cells[1]))
    return edges


def type_word(label: str) -> str:
    """A class label as a type word: first letter lower-cased unless it starts an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


class TypeResolver:
    """The type table and the subclass graph; answers an entity's type from its classes.

    Args:
        type_map: The user's ``{class: type}`` rows (override the bundled table).
        class_edges: Extra ``(class, parent)`` subclass edges (from a class file).
    """

    def __init__(self, type_map: dict[str, str], class_edges: Iterable[tuple[str, str]] = ()):
        self.table = {**bundled_types(), **type_map}
        self.parents: dict[str, list[str]] = {}
        self._memo: dict[str, tuple[int, str] | None] = {}
        for child, parent in class_edges:
            self.add_subclass(child, [parent])

    def add_subclass(self, child: str, parents: list[str]) -> None:
        """Record ``child P279 parent`` edges (in claim order, without repeats)."""
        known = self.parents.setdefault(child, [])
        known.extend(p for p in parents if p not in known and p != child)

    def direct(self, classes: Iterable[str]) -> str | None:
        """The type of the first class that the table maps itself (no closure)."""
        return next((self.table[c] for c in classes if c in self.table), None)

    def closest(self, cls: str) -> tuple[int, str] | None:
        """``(steps, type)`` of the mapped class nearest to ``cls`` through ``P279``."""
        if cls in self._memo:
            return self._memo[cls]
        found: tuple[int, str] | None = None
        seen = {cls}
        queue: deque[tuple[str, int]] = deque([(cls, 0)])
        while queue:  # breadth first: the first mapped class found is a nearest one
            node, steps = queue.popleft()
            if node in self.table:
                found = (steps, self.table[node])
                break
            for parent in self.parents.get(node, ()):
                if parent not in seen:
                    seen.add(parent)
                    queue.append((parent, steps + 1))
        self._memo[cls] = found
        return found

    def mapped(self, classes: Iterable[str]) -> str | None:
        """The type of the most specific mapped class over all of ``classes``."""
        best: tuple[int, str] | None = None
        for cls in classes:
            found = self.closest(cls)
            if found is not None and (best is None or found[0] < best[0]):
                best = found
        return None if best is None else best[1]


def write_entities(
    scratch: Scratch, writer: WorldWriter, resolver: TypeResolver, report: IngestReport
) -> None:
    """Resolve every kept item's type and write the entity rows in dump order.

    Rows go from SQLite to Arrow column by column (``_columns``) and a type is resolved once
    per distinct list of classes, not once per item: a full dump has ~110M items but far
    fewer class lists, and a Python object per item cost more than writing the table.
    """
    db = scratch.db
    labels: dict[str, str | None] = {}

    def class_label(cid: str) -> str | None:
        if cid not in labels:
            row = db.execute("SELECT lang_label FROM items WHERE id = ?", (cid,)).fetchone()
            labels[cid] = None if row is None else row[0]
        return labels[cid]

    def resolve(classes_text: str) -> tuple[str | None, str]:
        classes = classes_text.split(_SEP) if classes_text else []
        etype = resolver.mapped(classes)
        if etype is not None:
            return etype, "mapped"
        if (found := next(filter(None, map(class_label, classes)), None)) is not None:
            return type_word(found), "class_label"
        return None, "description"  # or "none": decided per row below

    how = dict.fromkeys(_HOW, 0)
    resolved: dict[str, tuple[str | None, str]] = {}
    schema = TABLES["entities"]
    columns = [(name, pa.string()) for name in ("id", "label", "description", "aliases", "classes")]
    top = db.execute("SELECT MAX(n) FROM items").fetchone()[0] or 0
    for start in range(1, top + 1, _BATCH):
        span = Range("items", "n", start, start + _BATCH - 1, where="kept = 1")
        _, (ids, names, descriptions, aliases, classes) = read_range(db, span, columns)
        if not len(ids):
            continue
        distinct = pc.unique(classes).to_pylist()
        for text in distinct:
            if text not in resolved:
                resolved[text] = resolve(text)
        found = [resolved[text] for text in distinct]
        types, kinds = _entity_types(classes, descriptions, distinct, found)
        for index, count in enumerate(np.bincount(kinds, minlength=len(_HOW))):
            how[_HOW[index]] += int(count)
        arrays = [ids, names, types, descriptions, _alias_lists(aliases)]
        arrays.append(pa.nulls(len(ids), pa.string()))
        writer.append_batch("entities", pa.RecordBatch.from_arrays(arrays, schema=schema))
    for key, value in how.items():
        if value:
            report.count(f"types_{key}", value)


_HOW = ("mapped", "class_label", "description", "none")
"""How an entity's type was found (``types_*`` counts in the report), in report order."""


def _entity_types(
    classes: pa.Array,
    descriptions: pa.Array,
    distinct: list[str],
    found: list[tuple[str | None, str]],
) -> tuple[pa.Array, np.ndarray]:
    """Each row's type and ``_HOW`` index, from the resolution of its class list.

    ``found[i]`` is the ``(type or None, how)`` of the class list ``distinct[i]``. A list
    that resolves to no type falls back, per row, to the description when there is one
    (``description``), else to ``item`` (``none``).
    """
    at = pc.index_in(classes, pa.array(distinct, pa.string()))
    types = pc.take(pa.array([f[0] for f in found], pa.string()), at)
    kinds = np.asarray([_HOW.index(f[1]) for f in found], dtype=np.int8)
    kinds = kinds[at.to_numpy(zero_copy_only=False)]
    has_description = pc.fill_null(pc.not_equal(descriptions, ""), False)
    unresolved = types.is_null().to_numpy(zero_copy_only=False)
    kinds[unresolved & ~has_description.to_numpy(zero_copy_only=False)] = _HOW.index("none")
    types = pc.coalesce(types, pc.if_else(has_description, descriptions, pa.scalar("item")))
    return types, kinds


def _alias_lists(joined: pa.Array) -> pa.Array:
    """Aliases joined by ``_SEP`` as lists; the empty string is the empty list."""
    lists = pc.split_pattern(joined, _SEP)
    empty = pc.equal(joined, "").to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    values = pc.list_flatten(lists).filter(pa.array(~empty[parents]))
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int32)
    lengths[empty] = 0
    offsets = np.zeros(len(joined) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=pa.list_(pa.string()))
