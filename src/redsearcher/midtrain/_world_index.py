"""The World, indexed once for the Stage I generators: who states what, and who looks alike.

Generators build thousands of samples a second, so the per-sample work must be lookups: which
documents are about an entity, which facts a document states (provenance), which entities share
a label or a type. Columns are read once into plain lists and numpy CSR arrays; document texts
stay in one Arrow array and are converted only when a sample uses them, which keeps a
100k-entity World well under the benchmark's 2 GB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.errors import UserError
from redsearcher.world import World

__all__ = ["DocView", "FactView", "WorldIndex"]


@dataclass(frozen=True, slots=True)
class FactView:
    """One fact as the generators read it (``row`` is its position in the facts table)."""

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


@dataclass(frozen=True, slots=True)
class DocView:
    """One document's id, title, text and kind."""

    row: int
    id: str
    title: str
    text: str
    kind: str
    about: str | None


def _csr(keys: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Group ``values`` by integer ``keys`` in ``0..n-1`` (negative keys dropped)."""
    keep = keys >= 0
    keys, values = keys[keep], values[keep]
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, values[order]


class WorldIndex:
    """Entities, facts, documents and provenance of a World, addressed by row.

    Raises:
        UserError: when the World has no provenance rows (nothing says which document states
            which fact, so no target could be verified) or no documents.
    """

    def __init__(self, world: World) -> None:
        if world.count("documents") == 0:
            raise UserError(
                f"World {world.path}: the documents table is empty; grounding needs text"
            )
        if world.count("provenance") == 0:
            raise UserError(
                f"World {world.path}: the provenance table is empty; mid-training targets are "
                "verified against which documents state which facts"
            )
        self.world_hash = world.content_hash
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
                *("date_precision", "amount", "unit"),
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
        self.fact_row: dict[int, int] = {f: i for i, f in enumerate(self._f_id)}
        subj_rows = np.array([self.row_of.get(s, -1) for s in self._f_subj], dtype=np.int64)
        self.ent_fact_ptr, self.ent_fact_rows = _csr(
            subj_rows, np.arange(len(self._f_id), dtype=np.int64), n
        )

        docs = world.table("documents", ["id", "title", "text", "kind", "about"])
        self.doc_ids: list[str] = docs.column("id").to_pylist()
        self._titles = docs.column("title").combine_chunks()
        self._texts = docs.column("text").combine_chunks()
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
        )

    def doc(self, row: int) -> DocView:
        """The document at ``row`` (its text converted from Arrow now)."""
        return DocView(
            row,
            self.doc_ids[row],
            str(self._titles[row].as_py() or ""),
            str(self._texts[row].as_py() or ""),
            self._kinds[row],
            self._about[row],
        )

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
