"""The World as an in-memory graph for task synthesis: CSR adjacency, typed values, provenance.

Synthesis asks millions of small questions — "which relation facts leave this entity", "which
entities are a film's directors", "which documents state this fact" — so the World's tables are
loaded once into flat numpy arrays with CSR (compressed sparse row) indexes by subject, by
object and by fact. Strings stay in Arrow arrays and are decoded only on access, which keeps a
100k-entity World at a few hundred MB.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.world import (
    DISCOVERY_ONLY_PREDICATES,
    SYMMETRIC_PREDICATES,
    TOOL_ONLY_PREDICATES,
    World,
)

__all__ = ["TIME_QUALIFIERS", "TIME_VARYING_RELATIONS", "KnowledgeGraph", "Value"]

Value = str | float | tuple[float, float] | None
"""A fact's object: an entity index as ``str`` of the id, a date/string, an amount, or lat/lon."""

#: Labels or descriptions of entities that are lists, categories or other meta pages — never
#: good seeds (the paper's filter against list- or meta-like entities).
_META_PREFIXES = ("list of", "category:", "template:", "wikipedia:", "portal:", "index of")

#: A raw Wikidata id inside a label: ingest falls back to the id when an item has no label.
_ID_IN_LABEL = re.compile(r"\b[QP]\d+\b")


#: Relations an entity has one object of at a time (Wikidata lists past ones beside the
#: current one): several objects make the fact time-varying, usable only when all are dated.
TIME_VARYING_RELATIONS = frozenset(
    {
        "capital",
        "chairperson",
        "chief_executive_officer",
        "director_manager",
        "head_coach",
        "head_of_government",
        "head_of_state",
    }
)

#: Qualifier keys that date a statement, as ingest names them (the vocabulary predicate of
#: ``P585``, else the property id).
TIME_QUALIFIERS = ("point_in_time", "start_time", "end_time", "P585", "P580", "P582")
_DATED = '"(' + "|".join(TIME_QUALIFIERS) + ')"'
_YEAR = re.compile(r"-?\d{1,4}")


SPARSE_SHARE = 0.5
"""Below this share of stated facts a World's provenance is sparse (``sparse_provenance``): the
shared real sample without knowledge-base pages states 0.56% of its facts."""


def _is_name(label: str | None, eid: str) -> bool:
    """Whether a label can be printed: an English-like name, not the id or an id-like string.

    Ingest keeps the configured language's label, else any language's, else the id. A World
    does not record which, so a label with no Latin letter (another script) or holding an id
    is treated as missing: such an entity may stand in a solution, never as a named node.
    """
    if not label or label == eid or _ID_IN_LABEL.search(label):
        return False
    return any("a" <= ch.lower() <= "z" for ch in label)


def _csr(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and the permutation that groups ``keys`` (``-1`` keys are dropped)."""
    valid = np.flatnonzero(keys >= 0)
    order = valid[np.argsort(keys[valid], kind="stable")]
    counts = np.bincount(keys[valid], minlength=size)
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, order.astype(np.int64)


@dataclass
class _Facts:
    fid: np.ndarray
    subj: np.ndarray
    pred: np.ndarray
    kind: np.ndarray
    obj: np.ndarray
    string: pa.Array
    date: pa.Array
    precision: np.ndarray
    amount: np.ndarray
    lat: np.ndarray
    lon: np.ndarray


class KnowledgeGraph:
    """Entities, facts and provenance of a World, indexed for synthesis.

    Entities and facts are addressed by *row* (0-based int); ``entity_id``/``row_of`` and
    ``fact_id``/``fact_row`` convert to and from the World's ids.
    """

    KINDS = ("entity", "date", "quantity", "string", "coordinate")

    def __init__(self, world: World) -> None:
        self.world_hash = world.content_hash
        self.completeness = world.completeness
        """``sample`` when the World is a slice of reality: uniqueness holds within it only."""
        ent = world.table(
            "entities", ["id", "label", "type", "aliases", "description", "distractor_of"]
        )
        self.ids: list[str] = ent.column("id").to_pylist()
        self.row_of: dict[str, int] = {e: i for i, e in enumerate(self.ids)}
        self._labels = ent.column("label").combine_chunks()
        self._aliases = ent.column("aliases").combine_chunks()
        self._descriptions = ent.column("description").combine_chunks()
        self.is_named = np.array(
            [
                _is_name(label, eid)
                for label, eid in zip(self._labels.to_pylist(), self.ids, strict=True)
            ],
            dtype=bool,
        )
        """Entities with a printable (English, Latin-script, id-free) label: the only ones a
        question may name or describe as a node."""
        types = ent.column("type").to_pylist()
        self.type_names: list[str] = sorted(set(types))
        type_code = {t: i for i, t in enumerate(self.type_names)}
        self.type_code: dict[str, int] = type_code
        """Type name -> its code in ``types`` (built once: a real World has thousands)."""
        self.types = np.array([type_code[t] for t in types], dtype=np.int16)
        self.is_distractor = ent.column("distractor_of").is_valid().to_numpy(zero_copy_only=False)
        n = len(self.ids)

        facts = world.table("facts")
        self.predicates: list[str] = sorted(set(facts.column("predicate").to_pylist()))
        pred_code = {p: i for i, p in enumerate(self.predicates)}
        kind_code = {k: i for i, k in enumerate(self.KINDS)}

        def ent_rows(col: str) -> np.ndarray:
            values = facts.column(col).to_pylist()
            return np.array([self.row_of.get(v, -1) if v else -1 for v in values], np.int64)

        def floats(col: str) -> np.ndarray:
            return np.asarray(facts.column(col).to_numpy(zero_copy_only=False), dtype=np.float64)

        precision = facts.column("date_precision").fill_null(0)
        self.f = _Facts(
            fid=facts.column("id").to_numpy(),
            subj=ent_rows("subject"),
            pred=np.array([pred_code[p] for p in facts.column("predicate").to_pylist()], np.int16),
            kind=np.array([kind_code[k] for k in facts.column("kind").to_pylist()], np.int8),
            obj=ent_rows("object"),
            string=facts.column("string").combine_chunks(),
            date=facts.column("date").combine_chunks(),
            precision=precision.to_numpy().astype(np.int8),
            amount=floats("amount"),
            lat=floats("latitude"),
            lon=floats("longitude"),
        )
        self._fid_order = np.argsort(self.f.fid, kind="stable")
        self.out_ptr, self.out_rows = _csr(self.f.subj, n)
        rel = np.where(self.f.kind == kind_code["entity"], self.f.obj, -1)
        self.in_ptr, self.in_rows = _csr(rel, n)

        prov = world.table("provenance", ["doc_id", "fact_id"])
        self.doc_ids: list[str] = sorted(set(prov.column("doc_id").to_pylist()))
        doc_code = {d: i for i, d in enumerate(self.doc_ids)}
        prov_rows = self.fact_rows(prov.column("fact_id").to_numpy())
        prov_docs = np.array([doc_code[d] for d in prov.column("doc_id").to_pylist()], np.int64)
        self.st_ptr, order = _csr(prov_rows, len(self.f.fid))
        self.st_docs = prov_docs[order]

        docs = world.table("documents", ["id", "kind", "mentions", "about", "text"])
        self.document_count = docs.num_rows
        database = docs.filter(pc.equal(docs.column("kind"), "database")).column("id")
        self.database_docs: frozenset[str] = frozenset(database.to_pylist())
        """Knowledge-base pages (kind ``database``): covers name a text page instead where
        one keeps the cover at the same size."""
        self.page_chars = np.zeros(n, dtype=np.int64)
        """By entity row: characters of its longest text page (``about`` it, not a knowledge-
        base page); 0 where it has none. The seed cascade's page-length thresholds use it."""
        text = docs.filter(pc.invert(pc.equal(docs.column("kind"), "database")))
        lengths = pc.utf8_length(text.column("text")).to_pylist()
        for eid, chars in zip(text.column("about").to_pylist(), lengths, strict=True):
            row = self.row_of.get(eid) if eid else None
            if row is not None and chars:
                self.page_chars[row] = max(int(self.page_chars[row]), int(chars))
        flat = pc.list_flatten(docs.column("mentions"))
        counts = pc.value_counts(flat).flatten() if len(flat) else None
        self.mentions = np.zeros(n, dtype=np.int64)
        if counts is not None:
            for eid, c in zip(counts[0].to_pylist(), counts[1].to_pylist(), strict=True):
                row = self.row_of.get(eid)
                if row is not None:
                    self.mentions[row] = c
        self.tool_only = np.array(
            [pred_code[p] for p in TOOL_ONLY_PREDICATES if p in pred_code], dtype=np.int16
        )
        self.symmetric = np.array(
            [p in SYMMETRIC_PREDICATES for p in self.predicates] or [False], dtype=bool
        )
        """By predicate code: ``s p o`` means ``o p s`` (one edge, however many facts)."""
        self.discovery_only = np.array(
            [p in DISCOVERY_ONLY_PREDICATES for p in self.predicates] or [False], dtype=bool
        )
        """By predicate code: may lead graph discovery, never becomes a question constraint."""

        self.dated = self._dated(facts)
        """By fact row: the statement carries a point-in-time, start or end time qualifier."""
        self.time_varying = self._time_varying()
        """By fact row: its subject has other, different values of the same predicate (a
        quantity or date, or a relation of ``TIME_VARYING_RELATIONS``): several populations,
        several heads of government, conflicting birth dates."""
        self.constraint_ok = ~self.time_varying
        """By fact row: whether the fact may carry a question constraint or a graph edge. A
        time-varying relation is kept when every one of its values is dated (the relation
        held at some time, which the clause's past tense states); a time-varying quantity
        when every value has its own point in time or start year, which the constraint
        states (``Condition.at``: "a population of about 38,000 in 2020"); a time-varying
        date never (two birth years are a conflict, not a series)."""
        for rows in self._varying_groups:
            kind = self.f.kind[rows[0]]
            if kind == kind_code["entity"] and self.dated[rows].all():
                self.constraint_ok[rows] = True
            elif kind == kind_code["quantity"]:
                times = [self.time_of(int(r)) for r in rows]
                if None not in times and len(set(times)) == len(times):
                    self.constraint_ok[rows] = True

    # -- time-varying facts --------------------------------------------------------------
    def time_of(self, row: int) -> str | None:
        """The year a fact's value holds at: its point in time, else its start time."""
        if not self.dated[row]:
            return None
        data = json.loads(self._qualifiers[row].as_py() or "{}")
        for key in ("point_in_time", "P585", "start_time", "P580"):
            value = data.get(key)
            value = value[0] if isinstance(value, list) and value else value
            if isinstance(value, str) and (year := _YEAR.match(value)):
                return year.group(0)
        return None

    def _dated(self, facts: pa.Table) -> np.ndarray:
        if "qualifiers" not in facts.column_names:
            self._qualifiers = pa.nulls(facts.num_rows, pa.string())
            return np.zeros(facts.num_rows, dtype=bool)
        self._qualifiers = facts.column("qualifiers").combine_chunks()
        hit = pc.match_substring_regex(facts.column("qualifiers"), _DATED).fill_null(False)
        return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)

    def _time_varying(self) -> np.ndarray:
        """Mark facts whose (subject, predicate) holds several different values."""
        f = self.f
        varying = np.zeros(len(f.fid), dtype=bool)
        self._varying_groups: list[np.ndarray] = []
        relation_codes = [i for i, p in enumerate(self.predicates) if p in TIME_VARYING_RELATIONS]
        kinds = np.array([self.KINDS.index("quantity"), self.KINDS.index("date")], np.int8)
        entity = self.KINDS.index("entity")
        candidate = np.isin(f.kind, kinds) | (
            (f.kind == entity) & np.isin(f.pred, np.array(relation_codes, np.int16))
        )
        rows = np.flatnonzero(candidate & (f.subj >= 0))
        if not len(rows):
            return varying
        keys = f.subj[rows] * len(self.predicates) + f.pred[rows].astype(np.int64)
        order = np.argsort(keys, kind="stable")
        rows, keys = rows[order], keys[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b - a < 2:
                continue
            group = rows[a:b]
            if len({self._value_key(int(r)) for r in group}) > 1:
                varying[group] = True
                self._varying_groups.append(group)
        return varying

    def _value_key(self, row: int) -> Any:
        """What two values of a predicate must share to be one value (a date's year)."""
        kind = self.kind(row)
        if kind == "entity":
            return int(self.f.obj[row])
        if kind == "quantity":
            return float(self.f.amount[row])
        value = self.f.date[row].as_py()
        return value[:5] if value and value.startswith("-") else (value or "")[:4]

    # -- entities ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def label(self, row: int) -> str:
        """The entity's label."""
        return str(self._labels[row].as_py())

    def aliases(self, row: int) -> list[str]:
        """The entity's aliases."""
        return list(self._aliases[row].as_py() or [])

    def description(self, row: int) -> str | None:
        """The entity's description (Wikidata's short gloss), if any."""
        value = self._descriptions[row].as_py()
        return str(value) if value else None

    def type_of(self, row: int) -> str:
        """The entity's type name."""
        return self.type_names[int(self.types[row])]

    def of_type(self, type_name: str) -> np.ndarray:
        """Rows of every entity of a type (cached)."""
        return self._by_type.get(type_name, np.empty(0, np.int64))

    @cached_property
    def _by_type(self) -> dict[str, np.ndarray]:
        return {t: np.flatnonzero(self.types == i) for i, t in enumerate(self.type_names)}

    @cached_property
    def shared_name(self) -> np.ndarray:
        """By entity row: True where its label is another named entity's label or alias.

        Such a name does not pick one entity ("A Star Is Born": four films; "John Adams": an
        alias of John Quincy Adams), so a question should not name it: the reader cannot
        tell which is meant. Case-insensitive; only named entities count.
        """
        owners: dict[str, set[int]] = {}
        labels = self._labels.to_pylist()
        aliases = self._aliases.to_pylist()
        for row in np.flatnonzero(self.is_named).tolist():
            for name in (labels[row], *(aliases[row] or ())):
                if name:
                    owners.setdefault(name.casefold(), set()).add(row)
        out = np.zeros(len(self.ids), dtype=bool)
        for row in np.flatnonzero(self.is_named).tolist():
            out[row] = len(owners.get((labels[row] or "").casefold(), ())) > 1
        return out

    def is_meta(self, row: int) -> bool:
        """Whether the entity looks like a list, category or other meta page."""
        return self.label(row).casefold().startswith(_META_PREFIXES)

    # -- facts -------------------------------------------------------------------------------
    def fact_rows(self, fids: np.ndarray) -> np.ndarray:
        """Rows of World fact ids (``-1`` for unknown ids)."""
        fids = np.asarray(fids, dtype=np.int64)
        pos = np.searchsorted(self.f.fid, fids, sorter=self._fid_order)
        pos = np.minimum(pos, len(self.f.fid) - 1)
        rows = self._fid_order[pos] if len(self.f.fid) else np.full(len(fids), -1)
        return np.where(self.f.fid[rows] == fids, rows, -1) if len(rows) else rows

    def fact_row(self, fid: int) -> int:
        """The row of one World fact id, or -1."""
        return int(self.fact_rows(np.array([fid]))[0])

    def fact_id(self, row: int) -> int:
        """The World id of a fact row."""
        return int(self.f.fid[row])

    def pred(self, row: int) -> str:
        """The predicate of a fact row."""
        return self.predicates[int(self.f.pred[row])]

    def pred_code(self, name: str) -> int:
        """The code of a predicate (-1 when the World has none)."""
        try:
            return self.predicates.index(name)
        except ValueError:
            return -1

    def kind(self, row: int) -> str:
        """The value kind of a fact row."""
        return self.KINDS[int(self.f.kind[row])]

    def value(self, row: int) -> Any:
        """The object of a fact row: entity row, date string, amount, string or (lat, lon)."""
        kind = self.kind(row)
        if kind == "entity":
            return int(self.f.obj[row])
        if kind == "date":
            return self.f.date[row].as_py()
        if kind == "quantity":
            return float(self.f.amount[row])
        if kind == "string":
            return self.f.string[row].as_py()
        return (float(self.f.lat[row]), float(self.f.lon[row]))

    def facts_of(self, row: int) -> np.ndarray:
        """Fact rows whose subject is entity ``row``."""
        return self.out_rows[self.out_ptr[row] : self.out_ptr[row + 1]]

    def facts_into(self, row: int) -> np.ndarray:
        """Relation fact rows whose object is entity ``row``."""
        return self.in_rows[self.in_ptr[row] : self.in_ptr[row + 1]]

    def values(self, row: int, pred: int) -> list[Any]:
        """Values of predicate code ``pred`` on entity ``row``."""
        rows = self.facts_of(row)
        return [self.value(int(r)) for r in rows[self.f.pred[rows] == pred]]

    def objects(self, row: int, pred: int) -> np.ndarray:
        """Entity rows ``o`` with a fact ``row -pred-> o``."""
        rows = self.facts_of(row)
        return np.asarray(self.f.obj[rows[(self.f.pred[rows] == pred) & (self.f.obj[rows] >= 0)]])

    def subjects(self, row: int, pred: int) -> np.ndarray:
        """Entity rows ``s`` with a fact ``s -pred-> row``."""
        rows = self.facts_into(row)
        return np.asarray(self.f.subj[rows[self.f.pred[rows] == pred]])

    def relation_fact(self, subj: int, pred: int, obj: int) -> int:
        """The row of a fact ``subj -pred-> obj``, or -1."""
        rows = self.facts_of(subj)
        hit = rows[(self.f.pred[rows] == pred) & (self.f.obj[rows] == obj)]
        return int(hit[0]) if len(hit) else -1

    def degree(self, row: int) -> int:
        """Relation facts in and out of an entity."""
        out = self.facts_of(row)
        return int((self.f.obj[out] >= 0).sum()) + len(self.facts_into(row))

    # -- provenance --------------------------------------------------------------------------
    def stated_by(self, fact_row: int) -> list[str]:
        """Ids of the documents whose text states a fact."""
        docs = self.st_docs[self.st_ptr[fact_row] : self.st_ptr[fact_row + 1]]
        return [self.doc_ids[int(d)] for d in docs]

    def stated_fact_count(self) -> int:
        """How many facts at least one document states."""
        return int((np.diff(self.st_ptr) > 0).sum())

    @cached_property
    def sparse_provenance(self) -> bool:
        """Whether most facts lack a source (a text-only World such as ``--no-kb-pages``).

        There a graph walked over unstated facts can never be covered by evidence, so
        synthesis walks stated facts only (``_graph``) and may hide countries (``_draft``).
        Worlds with knowledge-base pages state every fact and are unaffected, and so is a
        World that states none (a bare test graph): there is nothing to prefer.
        """
        stated = self.stated_fact_count()  # none at all: nothing to prefer, sample as before
        return 0 < stated < SPARSE_SHARE * len(self.f.fid)

    def is_tool_only(self, fact_row: int) -> bool:
        """Whether the fact's predicate is one only a tool serves (no document states it)."""
        return bool(np.isin(self.f.pred[fact_row], self.tool_only))
