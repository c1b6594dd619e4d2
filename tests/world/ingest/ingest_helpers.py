"""Helpers shared by the ingest tests (a uniquely named module, importable from them)."""

from __future__ import annotations

import json
from typing import Any

from redsearcher.world import Fact, World


def value(fact: Fact) -> Any:
    """The value of a fact as a comparable tuple."""
    if fact.kind == "entity":
        return fact.object
    if fact.kind == "date":
        return (fact.date, fact.date_precision)
    if fact.kind == "quantity":
        return (fact.amount, fact.unit)
    if fact.kind == "coordinate":
        return (fact.latitude, fact.longitude)
    return fact.string


def triples(world: World) -> list[tuple[int, str, str, Any]]:
    return [(f.id, f.subject, f.predicate, value(f)) for f in world.facts()]


def qualifiers(world: World) -> dict[tuple[str, str, Any], dict[str, Any]]:
    return {
        (f.subject, f.predicate, value(f)): json.loads(f.qualifiers)
        for f in world.facts()
        if f.qualifiers
    }
