"""Which constraints may carry uniqueness on a sample World, and which drafts are whole.

A sample World (``kg.completeness == "sample"``) holds a slice of reality: a constraint that
leaves one candidate inside it may leave thousands on the real web. The first reading of real
tasks found uniqueness resting on three kinds of near-empty clue, so these are *weak*:

- a shared value over a low-cardinality predicate ("same citizenship as B"), or that
  predicate's value named outright ("a citizen of Greece"): few distinct objects for many
  subjects means every value is shared by a crowd in reality;
- a date coarser than a year ("born in the mid-1950s", "in the 1950s");
- an edge to a hidden node with no clue of its own ("appears in a film"): it only says that
  some entity of a large class exists.

Weak constraints stay in the question as extra clues, but the uniqueness check on a sample
World runs without them, so a task never rests on them. A complete World (synthetic, or a full
dump) keeps every constraint: there the World *is* reality.

Separately, every World rejects a draft whose hidden nodes (latent ones and the answer) do not
all reach the answer through hidden nodes: a component tied to the rest only by a named entity
("There is also a person (A) who … works for University of Jena") says nothing about the answer
and reads as filler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from weakref import WeakKeyDictionary

import numpy as np

from redsearcher.log import Constraint, NodeRole
from redsearcher.synth._kg import KnowledgeGraph

__all__ = ["COARSE_DATE_OPS", "hidden_connected", "low_cardinality", "strong_constraints"]

COARSE_DATE_OPS = frozenset({"decade", "year_range"})
"""Date conditions coarser than one year."""

_SUBJECTS_PER_VALUE = 10.0
"""A predicate whose values are each shared, on average, by at least this many subjects in the
World is low-cardinality (country of citizenship, award received...): its values are crowds in
reality. A sample understates the crowd (it holds a few subjects per value), hence the low bar;
on the shared real sample ``citizen_of`` has 12.7 subjects per value and ``award_received``
10.8, the next (``production_company``) 7.9."""

_COUNTRY_SHARE = 0.5
"""A predicate whose values are mostly countries is low-cardinality whatever the sample's
ratio: a country is a crowd of people, places and organizations."""


_CACHE: WeakKeyDictionary[KnowledgeGraph, np.ndarray] = WeakKeyDictionary()
"""Per World, one pass over its facts: the table is the same for every draft."""


def low_cardinality(kg: KnowledgeGraph, pred: int) -> bool:
    """Whether ``pred``'s values are each shared by many subjects (a "same" on it is weak)."""
    table = _CACHE.get(kg)
    if table is None:
        table = _CACHE[kg] = _compute(kg)
    return bool(table[pred]) if 0 <= pred < len(table) else False


def _compute(kg: KnowledgeGraph) -> np.ndarray:
    f = kg.f
    size = int(f.pred.max()) + 1 if len(f.pred) else 0
    out = np.zeros(max(size, len(kg.predicates)), dtype=bool)
    rel = f.obj >= 0
    country = kg.type_names.index("country") if "country" in kg.type_names else -1
    for pred in np.unique(f.pred[rel]).tolist():
        mask = rel & (f.pred == pred)
        subjects = len(np.unique(f.subj[mask]))
        values = np.unique(f.obj[mask])
        countries = float(np.mean(kg.types[values] == country)) if len(values) else 0.0
        out[pred] = len(values) > 0 and (
            subjects / len(values) >= _SUBJECTS_PER_VALUE or countries >= _COUNTRY_SHARE
        )
    return out


def _weak(kg: KnowledgeGraph, c: Constraint, roles: Mapping[str, NodeRole]) -> bool:
    if c.kind == "same":
        return low_cardinality(kg, kg.pred_code(c.predicate))
    if c.kind == "relation" and roles.get(c.object or "") == "observed":
        return low_cardinality(kg, kg.pred_code(c.predicate))  # "a citizen of Greece"
    if c.kind == "attribute" and c.condition is not None:
        return c.condition.op in COARSE_DATE_OPS
    return False


def strong_constraints(
    kg: KnowledgeGraph, constraints: Sequence[Constraint], roles: Mapping[str, NodeRole]
) -> list[Constraint]:
    """The constraints a sample World's uniqueness check may use (all of them on a complete one).

    Drops weak clues, then, until nothing changes, every edge to a latent node that no other
    remaining constraint touches (its only clue would be its type).
    """
    if kg.completeness != "sample":
        return list(constraints)
    kept = [c for c in constraints if not _weak(kg, c, roles)]
    while True:
        touches: dict[str, int] = {}
        for c in kept:
            for v in {c.subject, c.object} - {None}:
                assert v is not None
                touches[v] = touches.get(v, 0) + 1
        bare = {v for v, n in touches.items() if n == 1 and roles.get(v) == "latent"}
        drop = [c for c in kept if c.object is not None and ({c.subject, c.object} & bare)]
        if not drop:
            return kept
        kept = [c for c in kept if c not in drop]


def hidden_connected(
    constraints: Sequence[Constraint], roles: Mapping[str, NodeRole], answer: str
) -> bool:
    """Whether every hidden node reaches the answer through hidden nodes only."""
    hidden = {v for v, r in roles.items() if r != "observed"}
    adj: dict[str, set[str]] = {v: set() for v in hidden}
    for c in constraints:
        if c.object is not None and c.subject in hidden and c.object in hidden:
            adj[c.subject].add(c.object)
            adj[c.object].add(c.subject)
    seen, stack = {answer}, [answer]
    while stack:
        for w in adj[stack.pop()] - seen:
            seen.add(w)
            stack.append(w)
    return seen >= hidden
