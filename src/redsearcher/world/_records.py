"""Plain record types for code that builds or reads Worlds row by row.

Bulk paths (the generator, large ingests) write Arrow batches directly; these dataclasses are for
small Worlds, tests and the per-record parts of ingest. Field names equal the column names in
``_schema``, so a record converts to a row by ``dataclasses.asdict``-like access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from redsearcher.world._schema import PRECISION_DAY


@dataclass(frozen=True, slots=True)
class Entity:
    """A node of the knowledge graph."""

    id: str
    label: str
    type: str
    description: str | None = None
    aliases: tuple[str, ...] = ()
    distractor_of: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    """One statement ``subject predicate object-or-value``; ``kind`` says which value is set.

    Build facts with the ``relation``/``date``/``quantity``/``string``/``coordinate``
    constructors rather than by hand, so exactly the columns of the kind are filled.
    """

    id: int
    subject: str
    predicate: str
    kind: str
    object: str | None = None
    string: str | None = None
    date: str | None = None
    date_precision: int | None = None
    amount: float | None = None
    unit: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    qualifiers: str | None = None

    @staticmethod
    def _q(qualifiers: dict[str, Any] | None) -> str | None:
        return json.dumps(qualifiers, sort_keys=True) if qualifiers else None

    @classmethod
    def relation(
        cls,
        id: int,
        subject: str,
        predicate: str,
        obj: str,
        qualifiers: dict[str, Any] | None = None,
    ) -> Fact:
        """A relation between two entities."""
        return cls(id, subject, predicate, "entity", object=obj, qualifiers=cls._q(qualifiers))

    @classmethod
    def date_value(
        cls,
        id: int,
        subject: str,
        predicate: str,
        date: str,
        precision: int = PRECISION_DAY,
        qualifiers: dict[str, Any] | None = None,
    ) -> Fact:
        """A date attribute; ``date`` is ISO ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""
        return cls(
            id,
            subject,
            predicate,
            "date",
            date=date,
            date_precision=precision,
            qualifiers=cls._q(qualifiers),
        )

    @classmethod
    def quantity(
        cls,
        id: int,
        subject: str,
        predicate: str,
        amount: float,
        unit: str | None = None,
        qualifiers: dict[str, Any] | None = None,
    ) -> Fact:
        """A numeric attribute with an optional unit."""
        return cls(
            id,
            subject,
            predicate,
            "quantity",
            amount=float(amount),
            unit=unit,
            qualifiers=cls._q(qualifiers),
        )

    @classmethod
    def string_value(
        cls,
        id: int,
        subject: str,
        predicate: str,
        value: str,
        qualifiers: dict[str, Any] | None = None,
    ) -> Fact:
        """A string attribute (occupation, genre, address, ...)."""
        return cls(id, subject, predicate, "string", string=value, qualifiers=cls._q(qualifiers))

    @classmethod
    def coordinate(
        cls, id: int, subject: str, predicate: str, latitude: float, longitude: float
    ) -> Fact:
        """A globe coordinate (WGS84 degrees)."""
        return cls(
            id,
            subject,
            predicate,
            "coordinate",
            latitude=float(latitude),
            longitude=float(longitude),
        )

    @property
    def qualifier_dict(self) -> dict[str, Any]:
        """The qualifiers decoded from JSON (empty when none)."""
        return json.loads(self.qualifiers) if self.qualifiers else {}


@dataclass(frozen=True, slots=True)
class Document:
    """A text that states some facts; which ones is recorded in provenance."""

    id: str
    title: str
    text: str
    kind: str
    published: str | None = None
    language: str = "en"
    mentions: tuple[str, ...] = ()
    about: str | None = None
    source_url: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Document ``doc_id`` states fact ``fact_id``."""

    doc_id: str
    fact_id: int


@dataclass(frozen=True, slots=True)
class RecordedSearch:
    """One result of a recorded search: ``query`` returned ``doc_id`` at ``position``."""

    query: str
    search_type: str
    position: int
    doc_id: str
    title: str | None = None
    snippet: str | None = None


RECORD_TYPES: dict[str, type] = {
    "entities": Entity,
    "facts": Fact,
    "documents": Document,
    "provenance": Provenance,
    "recorded_searches": RecordedSearch,
}

__all__ = ["Document", "Entity", "Fact", "Provenance", "RecordedSearch", "field"]
