"""Exact minimum source dispersion: the fewest documents whose union states all the evidence.

MSD is a difficulty label (paper §3.1.2): a task whose evidence sits in one page is one lookup
however tangled its graph. It is a minimum set cover — NP-hard in general, tiny in practice
(tens of facts, hundreds of candidate documents) — so it is solved exactly as a 0/1 integer
program with HiGHS (``scipy.optimize.milp``): minimise the documents picked subject to every
fact being stated by at least one picked document.

Two safe reductions shrink the program first: a fact stated by a single document forces that
document (every cover contains it); a document whose evidence facts are a subset of another's
can be dropped (swapping it for the superset never enlarges a cover). Ties between optimal
covers are broken deterministically by a tiny lexicographic cost perturbation (document *i* in
sorted order costs ``1 + i * eps`` with ``n * eps < 1``), so the same input always yields the
same cover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Cover", "covering_documents", "min_source_dispersion"]


@dataclass(frozen=True)
class Cover:
    """A minimum cover of the evidence facts by documents."""

    size: int | None
    """The MSD; None when some fact is stated by no document."""
    documents: tuple[str, ...]
    """One optimal cover, sorted."""
    uncovered: tuple[int, ...]
    """Facts stated by no (non-excluded) document; then ``size`` is None."""
    optimal: bool
    """Whether optimality is proven (False only if the solver hit its time limit)."""


def covering_documents(
    evidence: Iterable[int], stated_by: Mapping[int, Iterable[str]]
) -> dict[str, frozenset[int]]:
    """Document id -> the evidence facts it states."""
    out: dict[str, set[int]] = {}
    for fact in evidence:
        for doc in stated_by.get(fact, ()):
            out.setdefault(doc, set()).add(fact)
    return {d: frozenset(f) for d, f in out.items()}


def min_source_dispersion(
    evidence: Iterable[int],
    stated_by: Mapping[int, Iterable[str]],
    *,
    exclude: Iterable[str] = (),
    time_limit: float = 10.0,
) -> Cover:
    """The fewest documents that together state every evidence fact.

    Args:
        evidence: Fact ids to cover.
        stated_by: Fact id -> ids of the documents stating it.
        exclude: Documents treated as absent (e.g. removed from the corpus).
        time_limit: Seconds the integer program may take.

    Raises:
        ValueError: for a non-positive time limit.
    """
    if time_limit <= 0:
        raise ValueError(f"time_limit must be positive, got {time_limit}")
    facts = sorted(set(evidence))
    banned = set(exclude)
    docs = {
        d: f
        for d, f in covering_documents(
            facts, {f: [d for d in stated_by.get(f, ()) if d not in banned] for f in facts}
        ).items()
    }
    uncovered = tuple(f for f in facts if not any(f in s for s in docs.values()))
    if uncovered:
        return Cover(None, (), uncovered, True)
    if not facts:
        return Cover(0, (), (), True)
    forced: set[str] = set()
    for f in facts:
        holders = [d for d, s in docs.items() if f in s]
        if len(holders) == 1:
            forced.add(holders[0])
    left = set(facts) - {f for d in forced for f in docs[d]}
    candidates = _undominated(
        {d: s & left for d, s in docs.items() if d not in forced and s & left}
    )
    if not left:
        return Cover(len(forced), tuple(sorted(forced)), (), True)
    whole = [d for d, s in candidates.items() if s >= left]
    if whole:
        chosen = {min(whole)}
        return Cover(len(forced) + 1, tuple(sorted(forced | chosen)), (), True)
    picked, optimal = _solve(sorted(left), candidates, time_limit)
    chosen_all = forced | set(picked)
    return Cover(len(chosen_all), tuple(sorted(chosen_all)), (), optimal)


def _undominated(docs: dict[str, frozenset[int]]) -> dict[str, frozenset[int]]:
    """Drop documents whose facts are a subset of another's (keep the smaller id on ties)."""
    names = sorted(docs, key=lambda d: (-len(docs[d]), d))
    kept: dict[str, frozenset[int]] = {}
    for d in names:
        if not any(docs[d] <= s for s in kept.values()):
            kept[d] = docs[d]
    return kept


def _solve(
    facts: list[int], docs: dict[str, frozenset[int]], time_limit: float
) -> tuple[list[str], bool]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    names = sorted(docs)
    row = {f: i for i, f in enumerate(facts)}
    a = np.zeros((len(facts), len(names)))
    for j, d in enumerate(names):
        for f in docs[d]:
            a[row[f], j] = 1.0
    eps = 1.0 / (len(names) + 1) ** 2
    cost = 1.0 + eps * np.arange(len(names))
    result = milp(
        cost,
        constraints=LinearConstraint(a, lb=np.ones(len(facts)), ub=np.inf),
        integrality=np.ones(len(names)),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit},
    )
    if result.x is None:  # time limit without a feasible point: every candidate is a cover
        return names, False
    picked = [names[j] for j in np.flatnonzero(result.x > 0.5)]
    return picked, bool(result.status == 0)
