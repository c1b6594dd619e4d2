"""Uniqueness: the question's constraints, solved as a CSP over the whole knowledge graph.

A task is only verifiable if its constraint set has exactly one solution in the World —
distractor look-alikes included. Variables are the answer and latent nodes (observed nodes are
bound to the entities the question names); domains are World entities of the node's type.
Search is backtracking with candidates *generated* from already-bound neighbours (the objects
of a relation fact, the entities sharing a value) and intersected over all of them (forward
checking), never enumerated over a type when a neighbour exists; unary constraints (fuzzed
attributes, routes, citation ranges, day counts) are evaluated once, vectorized, into
candidate sets. The next variable is the one with the fewest consistent values (fail-first),
ties broken by the tree decomposition's elimination order (reverse), which keeps the frontier
of the search within a bag of the decomposition.

Distinct hidden variables bind distinct entities: "a person who directed a film starring their
child" means two people. A hidden variable may bind an entity the question names, though: the
question does not say "another film", so a reader counts the named film among the answers when
it fits every clause ("a film featuring A, who appears in 'Beloved'" admits 'Beloved' itself).
Counting it as a rival keeps uniqueness true as read.

Search stops at ``limit`` solutions or after ``budget`` candidate checks;
an exhausted budget is reported, never silently read as unique.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from redsearcher.log import Constraint
from redsearcher.synth._conditions import compass, compass_index, passing, route_minutes
from redsearcher.synth._kg import KnowledgeGraph

__all__ = ["Solutions", "satisfies", "solve", "unary_candidates"]

_BINARY = ("relation", "same")


@dataclass
class Solutions:
    """What the search found."""

    count: int = 0
    """Solutions (full assignments, or distinct answers with ``distinct``), capped at the limit."""
    assignments: list[dict[str, int]] = field(default_factory=list)
    answers: set[int] = field(default_factory=set)
    """Distinct entity rows bound to the answer variable across the solutions found."""
    complete: bool = True
    """False when the budget ran out before the search finished."""
    checks: int = 0

    @property
    def unique(self) -> bool:
        """Exactly one solution, proven."""
        return self.complete and self.count == 1


def _pred(kg: KnowledgeGraph, c: Constraint) -> int:
    return kg.pred_code(c.predicate)


def unary_candidates(
    kg: KnowledgeGraph, c: Constraint, bound: Mapping[str, int]
) -> np.ndarray | None:
    """Entity rows passing a unary constraint (sorted), or None for binary constraints."""
    if c.kind in _BINARY:
        return None
    if c.condition is None:
        raise ValueError(f"{c.kind} constraint on {c.subject} has no condition")
    if c.kind == "route":
        anchor = bound.get(c.object or "")
        if anchor is None:
            raise ValueError(f"route constraint on {c.subject}: anchor {c.object} is not bound")
        pred = kg.pred_code("coordinates")
        origin = kg.values(anchor, pred)
        rows = np.flatnonzero(kg.f.pred == pred)
        if not origin or not len(rows):
            return np.empty(0, np.int64)
        lat, lon = kg.f.lat[rows], kg.f.lon[rows]
        minutes = route_minutes(origin[0], lat, lon, c.condition.unit or "driving")
        ok = (minutes >= (c.condition.low or 0.0)) & (minutes <= (c.condition.high or np.inf))
        if c.condition.value:
            ok &= compass(origin[0], lat, lon) == compass_index(str(c.condition.value))
        return np.unique(kg.f.subj[rows[ok]])
    pred = _pred(kg, c)
    if pred < 0:
        return np.empty(0, np.int64)
    return passing(kg, pred, c.condition)


def _generate(kg: KnowledgeGraph, c: Constraint, var: str, other: int) -> np.ndarray:
    """Candidates for ``var`` given that the constraint's other variable is bound to ``other``."""
    pred = _pred(kg, c)
    if pred < 0:
        return np.empty(0, np.int64)
    if c.kind == "relation":
        return kg.objects(other, pred) if c.object == var else kg.subjects(other, pred)
    shared = kg.objects(other, pred)
    if not len(shared):
        return np.empty(0, np.int64)
    return np.unique(np.concatenate([kg.subjects(int(v), pred) for v in shared]))


def satisfies(kg: KnowledgeGraph, c: Constraint, rows: Mapping[str, int]) -> bool:
    """Whether a binary constraint holds between bound variables."""
    pred = _pred(kg, c)
    s, o = rows[c.subject], rows[c.object or ""]
    if pred < 0:
        return False
    if c.kind == "relation":
        return kg.relation_fact(s, pred, o) >= 0
    if c.kind == "same":
        return bool(np.intersect1d(kg.objects(s, pred), kg.objects(o, pred)).size)
    raise ValueError(f"{c.kind} is not a binary constraint")


def solve(
    kg: KnowledgeGraph,
    types: Mapping[str, str],
    constraints: Sequence[Constraint],
    *,
    bound: Mapping[str, int],
    answer: str,
    limit: int = 2,
    distinct: bool = False,
    budget: int = 200_000,
    order_hint: Iterable[str] = (),
) -> Solutions:
    """Find up to ``limit`` solutions of the constraints.

    Args:
        kg: The World.
        types: Variable -> entity type name, for every variable (bound ones included).
        constraints: The question's constraints over those variables.
        bound: Observed variables and the entity rows the question names.
        answer: The answer variable.
        limit: Stop after this many solutions (2 proves non-uniqueness).
        distinct: Count distinct answer entities instead of full assignments (a shortcut check
            only cares whether the answer is pinned).
        budget: Candidate checks before giving up (``complete`` becomes False).
        order_hint: Variables in tree-decomposition elimination order, for tie-breaking.

    Raises:
        ValueError: for a constraint naming an unknown variable.
    """
    variables = list(types)
    for c in constraints:
        for v in (c.subject, c.object):
            if v is not None and v not in types:
                raise ValueError(f"constraint {c.kind} {c.predicate} names unknown variable {v}")
    unary: dict[str, np.ndarray] = {}
    for c in constraints:
        cand = unary_candidates(kg, c, bound)
        if cand is not None:
            unary[c.subject] = (
                cand if c.subject not in unary else np.intersect1d(unary[c.subject], cand)
            )
    binary = [c for c in constraints if c.kind in _BINARY]
    hint = {v: i for i, v in enumerate(reversed(list(order_hint)))}
    result = Solutions()
    if any(not len(unary[v]) for v in unary):
        return result
    unary_sets = {v: frozenset(a.tolist()) for v, a in unary.items()}
    for v, r in bound.items():
        if v in unary_sets and r not in unary_sets[v]:
            return result
    rows = dict(bound)
    for c in binary:
        if c.subject in bound and c.object in bound and not satisfies(kg, c, rows):
            return result
    links: dict[str, list[tuple[int, str]]] = {v: [] for v in variables}
    for i, c in enumerate(binary):
        links[c.subject].append((i, c.object or ""))
        links[c.object or ""].append((i, c.subject))
    want = {v: kg.type_code.get(types[v], -1) for v in variables}
    cache: dict[tuple[int, str, int], frozenset[int]] = {}

    def generated(i: int, var: str, other: int) -> frozenset[int]:
        key = (i, var, other)
        got = cache.get(key)
        if got is None:
            got = cache[key] = frozenset(_generate(kg, binary[i], var, other).tolist())
        return got

    def candidates(var: str) -> list[int] | None:
        """Values consistent with every bound neighbour (None: no bound neighbour yet)."""
        sets = [generated(i, var, rows[w]) for i, w in links[var] if w in rows]
        if not sets:
            return None
        sets.sort(key=len)
        base = sets[0]
        if var in unary_sets:
            sets.append(unary_sets[var])
        used = {r for v, r in rows.items() if v not in bound}
        code = want[var]
        return sorted(
            x
            for x in base
            if x not in used and kg.types[x] == code and all(x in other for other in sets[1:])
        )

    free = [v for v in variables if v not in bound]

    def record() -> bool:
        ans = rows[answer]
        if not distinct or ans not in result.answers:
            result.count += 1
            result.answers.add(ans)
            result.assignments.append(dict(rows))
        return result.count >= limit

    def search() -> bool:
        open_vars = [v for v in free if v not in rows]
        if not open_vars:
            return record()
        best: tuple[float, int, str] | None = None
        best_cands: list[int] = []
        for v in open_vars:  # fail-first: the variable with the fewest consistent values
            cands = candidates(v)
            if cands is None:
                continue
            if not cands:
                return False
            key = (float(len(cands)), hint.get(v, len(hint)), v)
            if best is None or key < best:
                best, best_cands = key, cands
        if best is None:  # no bound neighbour anywhere: start from a (filtered) type domain
            var = min(
                open_vars,
                key=lambda v: (len(unary[v]) if v in unary else len(kg.of_type(types[v])), v),
            )
            pool = unary[var] if var in unary else kg.of_type(types[var])
            used = {r for v, r in rows.items() if v not in bound}
            best_cands = [
                int(x) for x in pool.tolist() if x not in used and kg.types[x] == want[var]
            ]
        else:
            var = best[2]
        for cand in best_cands:
            result.checks += 1
            if result.checks > budget:
                result.complete = False
                return True
            rows[var] = cand
            stop = search()
            del rows[var]
            if stop:
                return True
        return False

    search()
    return result
