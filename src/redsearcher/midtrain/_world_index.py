"""The World, indexed once per run for every mid-training generator.

Generators build thousands of samples a second, so the per-sample work must be lookups: which
documents are about an entity, which facts a document states (provenance), which entities share
a label or a type (grounding), and which entity a name denotes, which facts a subject has for a
predicate, which subjects have a given value (the simulated tools). Columns are read once into
plain lists and numpy CSR arrays; document texts stay in one Arrow array, read when a sample
first uses one and converted per document, and the relation views the tools need are derived
from the same arrays when first asked. One index serves a run that makes Stage I and Stage II
kinds, which keeps a 100k-entity World well under the benchmarks' 2 GB.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Final, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.errors import UserError
from redsearcher.midtrain._generator import GenContext
from redsearcher.world import World

__all__ = ["DocView", "FactView", "WorldIndex", "fact_value", "world_index"]


class FactView(NamedTuple):
    """One fact as the generators read it (``row`` is its position in the facts table).

    A named tuple, not a frozen dataclass: generators make one per lookup, tens of thousands a
    second, and a tuple is built several times faster.
    """

    row: int
    id: int
    subject: str
    predicate: str
    kind: str
    object: str | None
    string: str | None
    date: str | None
    precision: int | None
    amount: float | None
    unit: str | None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class DocView:
    """One document's id, title, text and kind."""

    row: int
    id: str
    title: str
    text: str
    kind: str
    about: str | None


_QID: Final = re.compile(r"^Q\d+$")


def _number(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"


def _same(entity_id: str) -> str:
    return entity_id


def fact_value(fact: FactView, label: Callable[[str], str] = _same) -> str:
    """A fact's value as a tool returns it and an answer states it (entity: ``label`` of it).

    Without ``label`` ids stay ids: the form :meth:`WorldIndex.subjects_with` matches.
    """
    if fact.kind == "entity":
        return label(str(fact.object))
    if fact.kind == "date":
        # Cut to the stated precision (9 year, 10 month): "1952", never "1952-01-01".
        iso = str(fact.date).lstrip("+")
        precision = fact.precision or 11
        return iso[:10] if precision >= 11 else iso[:7] if precision == 10 else iso[:4]
    if fact.kind == "quantity":
        # Ingested units are Wikidata items ("Q7727"): their label when the World has it,
        # else the bare number (an id is no answer).
        unit = label(fact.unit) if fact.unit else None
        if unit and _QID.match(unit):
            unit = None
        amount = float(fact.amount)  # type: ignore[arg-type]  # a quantity has an amount
        return f"{_number(amount)} {unit}" if unit else _number(amount)
    if fact.kind == "coordinate":
        return f"{fact.latitude:.4f}, {fact.longitude:.4f}"
    return str(fact.string)


def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``values`` by integer ``keys`` in ``0..n-1`` (negative keys dropped)."""
    keep = keys >= 0
    keys, values = keys[keep], values[keep]
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, values[order]


def world_index(ctx: GenContext) -> WorldIndex:
    """The context's World index, built once and shared by every generator of the run."""
    found = ctx.cache.get("world_index")
    if not isinstance(found, WorldIndex):
        found = WorldIndex(ctx.world)
        ctx.cache["world_index"] = found
    return found


class WorldIndex:
    """Entities, facts, documents and provenance of a World, addressed by row.

    The one index of a run (:func:`world_index`): grounding reads its documents and provenance,
    the tool dialogues its relation views (:meth:`named`, :meth:`functional`,
    :meth:`facts_for`, :meth:`subjects_with`), each built from the same columns when first used.

    Raises:
        UserError: when the World has no provenance rows (nothing says which document states
            which fact, so no target could be verified) or no documents.
    """

    def __init__(self, world: World) -> None:
        if world.count("documents") == 0:
            raise UserError(
                f"World {world.path}: the documents table is empty; mid-training samples cite "
                "documents"
            )
        if world.count("provenance") == 0:
            raise UserError(
                f"World {world.path}: the provenance table is empty; mid-training targets are "
                "verified against which documents state which facts"
            )
        self.world_hash = world.content_hash
        self._world = world
        self._literals: dict[str, dict[str, list[int]]] = {}
        ent = world.table("entities", ["id", "label", "type", "description", "distractor_of"])
        self.ids: list[str] = ent.column("id").to_pylist()
        self.labels: list[str] = ent.column("label").to_pylist()
        self.types: list[str] = ent.column("type").to_pylist()
        self.descriptions: list[str | None] = ent.column("description").to_pylist()
        self.distractor_of: list[str | None] = ent.column("distractor_of").to_pylist()
        self.row_of: dict[str, int] = {e: i for i, e in enumerate(self.ids)}
        n = len(self.ids)

        facts = world.table(
            "facts",
            [
                *("id", "subject", "predicate", "kind", "object", "string", "date"),
                *("date_precision", "amount", "unit", "latitude", "longitude"),
            ],
        )
        self._f_id: list[int] = facts.column("id").to_pylist()
        self._f_subj: list[str] = facts.column("subject").to_pylist()
        self._f_pred: list[str] = facts.column("predicate").to_pylist()
        self._f_kind: list[str] = facts.column("kind").to_pylist()
        self._f_obj: list[str | None] = facts.column("object").to_pylist()
        self._f_string: list[str | None] = facts.column("string").to_pylist()
        self._f_date: list[str | None] = facts.column("date").to_pylist()
        self._f_prec: list[int | None] = facts.column("date_precision").to_pylist()
        self._f_amount: list[float | None] = facts.column("amount").to_pylist()
        self._f_unit: list[str | None] = facts.column("unit").to_pylist()
        # Few facts are coordinates: a dict by row, not two more columns for the collector.
        lats = facts.column("latitude").to_pylist()
        lons = facts.column("longitude").to_pylist()
        self._coords: dict[int, tuple[float | None, float | None]] = {
            r: (lat, lon)
            for r, (lat, lon) in enumerate(zip(lats, lons, strict=True))
            if lat is not None or lon is not None
        }
        del lats, lons
        self.fact_row: dict[int, int] = {f: i for i, f in enumerate(self._f_id)}
        subj_rows = np.array([self.row_of.get(s, -1) for s in self._f_subj], dtype=np.int64)
        self._subj_rows = subj_rows
        self.ent_fact_ptr, self.ent_fact_rows = _csr(
            subj_rows, np.arange(len(self._f_id), dtype=np.int64), n
        )

        docs = world.table("documents", ["id", "kind", "about"])
        self.doc_ids: list[str] = docs.column("id").to_pylist()
        self._kinds: list[str] = docs.column("kind").to_pylist()
        self._about: list[str | None] = docs.column("about").to_pylist()
        self.doc_row: dict[str, int] = {d: i for i, d in enumerate(self.doc_ids)}
        about_rows = np.array(
            [self.row_of.get(a, -1) if a else -1 for a in self._about], dtype=np.int64
        )
        self.about_ptr, self.about_docs = _csr(
            about_rows, np.arange(len(self.doc_ids), dtype=np.int64), n
        )
        mentions = world.table("documents", ["mentions"]).column("mentions").combine_chunks()
        assert isinstance(mentions, pa.ListArray)
        flat = pc.list_flatten(mentions).to_pylist()
        parents = pc.list_parent_indices(mentions).to_numpy()
        mention_rows = np.array([self.row_of.get(m, -1) for m in flat], dtype=np.int64)
        self.mention_ptr, self.mention_docs = _csr(mention_rows, parents.astype(np.int64), n)

        prov = world.table("provenance", ["doc_id", "fact_id"])
        p_doc = np.array(
            [self.doc_row.get(d, -1) for d in prov.column("doc_id").to_pylist()], np.int64
        )
        p_fact = np.array(
            [self.fact_row.get(f, -1) for f in prov.column("fact_id").to_pylist()], np.int64
        )
        ok = (p_doc >= 0) & (p_fact >= 0)
        p_doc, p_fact = p_doc[ok], p_fact[ok]
        self.doc_fact_ptr, self.doc_facts = _csr(p_doc, p_fact, len(self.doc_ids))
        self.fact_doc_ptr, self.fact_docs = _csr(p_fact, p_doc, len(self._f_id))
        self.is_database = np.array([k == "database" for k in self._kinds], dtype=bool)
        """By document row: a knowledge-base page (``Key: value`` lines), not prose."""
        own = (subj_rows[p_fact] == about_rows[p_doc]) & (subj_rows[p_fact] >= 0)
        prose = own & ~self.is_database[p_doc]
        self.prose_centrals = np.unique(about_rows[p_doc[prose]])
        """Entity rows with a prose page about them that states one of their own facts."""

        type_codes = {t: i for i, t in enumerate(sorted(set(self.types)))}
        self.type_names = sorted(type_codes)
        codes = np.array([type_codes[t] for t in self.types], dtype=np.int64)
        self.type_ptr, self.type_ents = _csr(codes, np.arange(n, dtype=np.int64), len(type_codes))
        self.type_code = type_codes
        by_label: dict[str, list[int]] = {}
        for i, label in enumerate(self.labels):
            by_label.setdefault(label, []).append(i)
        self.same_label = {k: v for k, v in by_label.items() if len(v) > 1}
        """Labels several entities share: the look-alikes a reader must not confuse."""
        self.distractors: dict[int, list[int]] = {}
        """By entity row: the entities marked ``distractor_of`` it."""
        for i, target in enumerate(self.distractor_of):
            if target is not None and target in self.row_of:
                self.distractors.setdefault(self.row_of[target], []).append(i)

    # -- lookups -----------------------------------------------------------------------------
    @cached_property
    def _doc_texts(self) -> tuple[pa.Array, pa.Array]:
        """Titles and texts of all documents, read when a sample first shows one.

        Read here rather than in ``__init__``: they are most of a World's bytes, and a run
        of tool dialogues alone never shows a page.
        """
        docs = self._world.table("documents", ["title", "text"])
        return docs.column("title").combine_chunks(), docs.column("text").combine_chunks()

    def fact(self, row: int) -> FactView:
        """The fact at ``row``."""
        return FactView(
            row,
            self._f_id[row],
            self._f_subj[row],
            self._f_pred[row],
            self._f_kind[row],
            self._f_obj[row],
            self._f_string[row],
            self._f_date[row],
            self._f_prec[row],
            self._f_amount[row],
            self._f_unit[row],
            *self._coords.get(row, (None, None)),
        )

    def doc(self, row: int) -> DocView:
        """The document at ``row`` (its text converted from Arrow now)."""
        titles, texts = self._doc_texts
        return DocView(
            row,
            self.doc_ids[row],
            str(titles[row].as_py() or ""),
            str(texts[row].as_py() or ""),
            self._kinds[row],
            self._about[row],
        )

    def value_text(self, row: int) -> str:
        """The value of fact row ``row`` as a tool returns it (an entity: its label)."""
        return fact_value(self.fact(row), self.label)

    def about_of(self, doc: int) -> str | None:
        """The entity id document row ``doc`` is about, if any."""
        return self._about[doc]

    def facts_of(self, ent: int) -> np.ndarray:
        """Rows of the facts whose subject is entity row ``ent``."""
        return self.ent_fact_rows[self.ent_fact_ptr[ent] : self.ent_fact_ptr[ent + 1]]

    def docs_about(self, ent: int) -> np.ndarray:
        """Rows of the documents about entity row ``ent``."""
        return self.about_docs[self.about_ptr[ent] : self.about_ptr[ent + 1]]

    def docs_mentioning(self, ent: int) -> np.ndarray:
        """Rows of the documents that mention entity row ``ent``."""
        return self.mention_docs[self.mention_ptr[ent] : self.mention_ptr[ent + 1]]

    def facts_stated(self, doc: int) -> np.ndarray:
        """Rows of the facts document row ``doc`` states (provenance)."""
        return self.doc_facts[self.doc_fact_ptr[doc] : self.doc_fact_ptr[doc + 1]]

    def stating_docs(self, fact: int) -> np.ndarray:
        """Rows of the documents that state fact row ``fact`` (provenance)."""
        return self.fact_docs[self.fact_doc_ptr[fact] : self.fact_doc_ptr[fact + 1]]

    def entities_of_type(self, type_name: str) -> np.ndarray:
        """Rows of the entities of ``type_name``."""
        code = self.type_code.get(type_name)
        if code is None:
            return np.zeros(0, dtype=np.int64)
        return self.type_ents[self.type_ptr[code] : self.type_ptr[code + 1]]

    def label(self, entity_id: str) -> str:
        """The label of ``entity_id`` (the id itself when unknown)."""
        row = self.row_of.get(entity_id)
        return self.labels[row] if row is not None else entity_id

    def look_alikes(self, ent: int) -> list[int]:
        """Entities easy to confuse with ``ent``: same label, or marked ``distractor_of`` it."""
        out = [r for r in self.same_label.get(self.labels[ent], []) if r != ent]
        out.extend(self.distractors.get(ent, ()))
        own = self.distractor_of[ent]
        if own is not None and own in self.row_of:
            out.append(self.row_of[own])
        return list(dict.fromkeys(out))

    # -- relations: what the simulated tools answer ---------------------------------------------
    # Derived from the arrays above when a tool generator first asks, so a Stage I run pays
    # nothing for them and a run of both kinds reads the World once.
    @cached_property
    def predicates(self) -> list[str]:
        """Predicates present in the World's facts, sorted."""
        return sorted(set(self._f_pred))

    @cached_property
    def _pred_code(self) -> dict[str, int]:
        return {p: i for i, p in enumerate(self.predicates)}

    @cached_property
    def _pred_codes(self) -> np.ndarray:
        """By fact row: the position of its predicate in :attr:`predicates`."""
        code = self._pred_code
        return np.array([code[p] for p in self._f_pred], dtype=np.int64)

    @cached_property
    def _functional(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR by entity row: the rows of its facts alone for their predicate, by predicate."""
        n_pred = max(len(self.predicates), 1)
        known = np.flatnonzero(self._subj_rows >= 0)
        keys = self._subj_rows[known] * n_pred + self._pred_codes[known]
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], known[order]
        alone = np.ones(len(keys), dtype=bool)
        same = keys[1:] == keys[:-1]
        alone[1:] &= ~same
        alone[:-1] &= ~same
        return _csr(keys[alone] // n_pred, rows[alone], len(self.ids))

    @cached_property
    def single_valued(self) -> np.ndarray:
        """By entity row: whether some predicate has exactly one fact about the entity."""
        ptr, _ = self._functional
        return np.diff(ptr) > 0

    def facts_for(self, ent: int, predicate: str) -> list[int]:
        """Rows of the facts of entity row ``ent`` with ``predicate``, in World order."""
        preds = self._f_pred
        return [r for r in self.facts_of(ent).tolist() if preds[r] == predicate]

    def functional(self, ent: int) -> list[tuple[str, int]]:
        """``(predicate, fact row)`` for each predicate with exactly one fact about ``ent``.

        Sorted by predicate. Only such a relation makes a chain whose answer is unique.
        """
        ptr, rows = self._functional
        preds = self._f_pred
        return [(preds[r], r) for r in rows[ptr[ent] : ptr[ent + 1]].tolist()]

    def object_row(self, fact: int) -> int:
        """The entity row fact row ``fact`` points at; -1 for a literal or an outside object."""
        obj = self._f_obj[fact] if self._f_kind[fact] == "entity" else None
        row = self.row_of.get(obj) if obj is not None else None
        return -1 if row is None else row

    @cached_property
    def _by_name(self) -> dict[str, list[int]]:
        """Lower-cased label or alias -> entity rows (World order); aliases read only here."""
        aliases = self._world.table("entities", ["aliases"]).column("aliases").to_pylist()
        by_name: dict[str, list[int]] = {}
        for row, (label, names) in enumerate(zip(self.labels, aliases, strict=True)):
            for name in {label.lower(), *(a.lower() for a in names or ())}:
                by_name.setdefault(name, []).append(row)
        return by_name

    def named(self, name: str) -> list[int]:
        """Rows of the entities whose label or an alias is ``name`` (any case), World order."""
        return self._by_name.get(name.lower(), [])

    @cached_property
    def _by_object(self) -> tuple[dict[str, list[int]], np.ndarray, np.ndarray, np.ndarray]:
        """Lower-cased id -> entity rows; entity-valued facts sorted by (object, predicate).

        The sort key is ``object row * predicates + predicate code``, so the facts giving one
        predicate one object are a ``searchsorted`` range, in World order (stable sort); the
        last array holds their subjects' rows.
        """
        folded: dict[str, list[int]] = {}
        for row, entity in enumerate(self.ids):
            folded.setdefault(entity.lower(), []).append(row)
        row_of = self.row_of
        objects = np.array(
            [
                row_of.get(o, -1) if k == "entity" and o is not None else -1
                for o, k in zip(self._f_obj, self._f_kind, strict=True)
            ],
            dtype=np.int64,
        )
        rows = np.flatnonzero(objects >= 0)
        keys = objects[rows] * max(len(self.predicates), 1) + self._pred_codes[rows]
        order = np.argsort(keys, kind="stable")
        rows = rows[order]
        return folded, keys[order], rows, self._subj_rows[rows]

    def _literal_rows(self, predicate: str) -> dict[str, list[int]]:
        """Value text -> rows of ``predicate``'s facts whose value is no known entity.

        Dates, numbers, strings and objects outside the World, keyed as :func:`fact_value`
        writes them without labels (lower-cased); built per predicate when first asked.
        """
        found = self._literals.get(predicate)
        if found is None:
            found = {}
            code = self._pred_code.get(predicate)
            rows = np.flatnonzero(self._pred_codes == code) if code is not None else ()
            for r in (int(r) for r in rows):
                if self._f_kind[r] != "entity":
                    key = fact_value(self.fact(r)).lower()
                elif self.object_row(r) < 0 and self._f_obj[r] is not None:
                    key = str(self._f_obj[r]).lower()
                else:
                    continue
                found.setdefault(key, []).append(r)
            self._literals[predicate] = found
        return found

    def subjects_with(self, predicate: str, value: str) -> list[int]:
        """Entity rows whose ``predicate`` has ``value``, one per fact, in World order.

        ``value`` is an entity id or the value's text as :func:`fact_value` writes it without
        labels, matched case-insensitively (``find_entities`` takes either).
        """
        code = self._pred_code.get(predicate)
        if code is None:
            return []
        key = value.lower()
        subjects = self._subj_rows
        found = [(r, int(subjects[r])) for r in self._literal_rows(predicate).get(key, ())]
        folded, keys, facts, subjects_of = self._by_object
        for ent in folded.get(key, ()):
            k = ent * max(len(self.predicates), 1) + code
            lo, hi = int(keys.searchsorted(k)), int(keys.searchsorted(k, "right"))
            found.extend(zip(facts[lo:hi].tolist(), subjects_of[lo:hi].tolist(), strict=True))
        found.sort()
        return [s for _, s in found if s >= 0]
