"""Exact minimum source dispersion (MSD): the fewest documents whose union states the evidence.

MSD is the distributional difficulty label of a task (paper §3.1.2, eq. 4): a minimum set
cover of the evidence facts by the documents that state them (the World's provenance table).
Synthesis keeps tasks whose MSD is at least a target, so the value must be exact: greedy set
cover only gives an upper bound and can overstate MSD (it labels some 2-document tasks as
3-document ones), which would let exactly the single-page shortcuts the constraint exists to
reject slip through the filter, and put wrong difficulty labels into training data.

The cover is solved exactly as a 0/1 integer program with HiGHS (``scipy.optimize.milp``)
after reductions that preserve the optimum, repeated until none applies:

- *forced documents*: a fact stated by exactly one document needs that document; the facts
  it states are then covered and leave the problem;
- *dominated documents*: if the facts a document states (among those still to cover) are a
  subset of another's, any cover using it stays a cover, of the same size, with the other
  one instead; of two documents stating the same facts the smaller id is kept;
- *implied facts*: if every document that states fact f also states fact g, whatever covers
  f covers g, so g leaves the problem (of two facts with the same documents the smaller id is
  kept).

Evidence-free tasks and instances the reductions solve (one document stating everything is
such a case: it dominates every other document) never reach the solver, and neither do those
where the greedy cover meets the packing lower bound (facts no two of which share a document
each need their own), which proves it optimal.

Tie-breaking: the problem is built from sorted ids and HiGHS is deterministic, so the same
instance always gets the same cover, whatever order its mappings were built in. The cover is
then normalized by swapping any document for a smaller-id one that keeps it a cover (a local,
not a global, lexicographic minimum: a cheap post-pass instead of a second, much slower solve).
Documents passed as ``avoid`` (knowledge-base pages) sort after all others in that pass, run
over every document that states evidence, so a text page replaces a database page wherever it
can without growing the cover; MSD itself counts database pages as sources like any other
(they are pages an agent can find and read), so the preference never changes a task's MSD.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Cover", "covering_documents", "min_source_dispersion"]


@dataclass(frozen=True)
class Cover:
    """A minimum set of documents that together state every evidence fact."""

    size: int | None
    """The minimum source dispersion; None when some fact is stated by no document."""
    documents: tuple[str, ...]
    """One optimal cover, sorted by id (empty when ``size`` is None)."""
    uncovered: tuple[int, ...]
    """Evidence facts no (non-excluded) document states, sorted; ``size`` is None if any."""
    optimal: bool
    """True when ``size`` is proven minimal (always, unless the solver hit ``time_limit``;
    an uncoverable instance is proven too)."""


def _fact_ids(evidence: Iterable[int]) -> list[int]:
    facts = set()
    for f in evidence:
        if isinstance(f, bool):
            raise ValueError(f"evidence fact ids must be integers, got {f!r}")
        try:
            facts.add(operator.index(f))
        except TypeError:
            raise ValueError(f"evidence fact ids must be integers, got {f!r}") from None
    return sorted(facts)


def _doc_ids(docs: Iterable[str], what: str) -> set[str]:
    if isinstance(docs, str | bytes):
        raise ValueError(f"{what} must be an iterable of document ids, not the string {docs!r}")
    out = set(docs)
    for d in out:
        if not isinstance(d, str):
            raise ValueError(f"{what}: document ids must be strings, got {d!r}")
    return out


def _holders(
    facts: list[int], stated_by: Mapping[int, Iterable[str]], excluded: set[str]
) -> dict[int, set[str]]:
    """For each evidence fact, the non-excluded documents that state it."""
    return {f: _doc_ids(stated_by.get(f, ()), f"stated_by[{f}]") - excluded for f in facts}


def covering_documents(
    evidence: Iterable[int], stated_by: Mapping[int, Iterable[str]]
) -> dict[str, frozenset[int]]:
    """Which evidence facts each document states, for every document stating at least one.

    Shortcut checks use this to see at a glance whether one page states several coupled facts.

    Args:
        evidence: The evidence fact ids.
        stated_by: Fact id -> ids of the documents that state it (facts outside the evidence
            are ignored).

    Returns:
        Document id -> the evidence facts it states, in sorted document-id order.

    Raises:
        ValueError: A fact id is not an integer or a document id is not a string.
    """
    by_doc: dict[str, set[int]] = {}
    for f, docs in _holders(_fact_ids(evidence), stated_by, set()).items():
        for d in docs:
            by_doc.setdefault(d, set()).add(f)
    return {d: frozenset(by_doc[d]) for d in sorted(by_doc)}


def _reduce(docs: dict[str, int], need: int) -> tuple[list[str], dict[str, int], int]:
    """Apply the optimum-preserving reductions until none applies.

    ``docs`` maps a document to the bitmask of facts it states; ``need`` is the bitmask of
    facts still to cover. Returns the forced documents, the documents left and the facts left.
    """
    forced: list[str] = []
    while True:
        live = sorted(
            ((d, m & need) for d, m in docs.items() if m & need),
            key=lambda dm: (-dm[1].bit_count(), dm[0]),
        )
        kept: list[tuple[str, int]] = []
        for d, m in live:  # a dominating document comes first: more facts, or equal and smaller id
            if not any(m & ~k == 0 for _, k in kept):
                kept.append((d, m))
        kept.sort()
        docs = dict(kept)
        holders = {}
        for f in range(need.bit_length()):
            if need >> f & 1:
                holders[f] = sum(1 << i for i, (_, m) in enumerate(kept) if m >> f & 1)
        single = [f for f, h in holders.items() if h.bit_count() == 1]
        if single:
            for f in single:
                d, m = kept[holders[f].bit_length() - 1]
                if need >> f & 1:
                    forced.append(d)
                    need &= ~m
            continue
        implied = 0
        for f, hf in holders.items():
            for g, hg in holders.items():
                if g != f and hf & ~hg == 0 and (hf != hg or f < g):
                    implied |= 1 << g
        if implied & need:
            need &= ~implied
            continue
        return forced, docs, need


def _greedy(docs: dict[str, int], need: int) -> list[str]:
    """Greedy set cover (most new facts, then smallest id): the fallback when time runs out."""
    chosen = []
    while need:
        d = min(docs, key=lambda x: (-(docs[x] & need).bit_count(), x))
        chosen.append(d)
        need &= ~docs[d]
    return chosen


def _packing_bound(docs: dict[str, int], need: int) -> int:
    """A lower bound: facts no two of which share a document each need their own document."""
    holders = []
    for f in range(need.bit_length()):
        if need >> f & 1:
            holders.append(sum(1 << j for j, m in enumerate(docs.values()) if m >> f & 1))
    taken, count = 0, 0
    for h in sorted(holders, key=lambda h: (h.bit_count(), h)):
        if not h & taken:
            taken |= h
            count += 1
    return count


def _prefer_earlier(
    chosen: list[str],
    docs: dict[str, int],
    need: int,
    key: Callable[[str], tuple[bool, str]] = lambda d: (False, d),
) -> list[str]:
    """Swap chosen documents for earlier ones while the cover stays a cover (same size).

    Earlier is by ``key``: the smaller id, after any ranking the key puts first.
    """
    names = sorted(docs, key=key)
    cover = sorted(chosen)
    swapped = True
    while swapped:
        swapped = False
        for i, d in enumerate(cover):
            others = 0
            for o in cover[:i] + cover[i + 1 :]:
                others |= docs[o]
            missing = need & ~others
            better = next(
                (
                    e
                    for e in names
                    if key(e) < key(d) and e not in cover and missing & ~docs[e] == 0
                ),
                None,
            )
            if better is not None:
                cover[i] = better
                cover.sort()
                swapped = True
                break
    return cover


def _solve(docs: dict[str, int], need: int, time_limit: float) -> tuple[list[str], bool]:
    """Minimum cover of ``need`` by ``docs``; the cover and whether it is proven minimal.

    Greedy first: when it meets the packing lower bound it is optimal and HiGHS is not needed.
    """
    greedy = _greedy(docs, need)
    if len(greedy) <= _packing_bound(docs, need):
        return _prefer_earlier(greedy, docs, need), True

    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    names = sorted(docs)
    facts = [f for f in range(need.bit_length()) if need >> f & 1]
    rows, cols = [], []
    for j, d in enumerate(names):
        for i, f in enumerate(facts):
            if docs[d] >> f & 1:
                rows.append(i)
                cols.append(j)
    a = coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(facts), len(names))).tocsr()
    res = milp(
        np.ones(len(names)),
        constraints=LinearConstraint(a, lb=np.ones(len(facts)), ub=np.inf),
        integrality=np.ones(len(names)),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": 0.0, "presolve": True},
    )
    x = getattr(res, "x", None)
    if x is None:  # out of time before any solution
        return _prefer_earlier(greedy, docs, need), False
    picked = [d for d, v in zip(names, x, strict=True) if v > 0.5]
    proven = getattr(res, "status", None) == 0
    if not proven and len(greedy) < len(picked):
        picked = greedy
    return _prefer_earlier(picked, docs, need), proven


def min_source_dispersion(
    evidence: Iterable[int],
    stated_by: Mapping[int, Iterable[str]],
    *,
    exclude: Iterable[str] = (),
    avoid: Iterable[str] = (),
    time_limit: float = 10.0,
) -> Cover:
    """The minimum number of documents that together state every evidence fact.

    Args:
        evidence: The fact ids a solver must read (duplicates are ignored).
        stated_by: Fact id -> ids of the documents that state it, from the World's provenance
            table. Facts outside the evidence are ignored.
        exclude: Documents to treat as absent (for example a removed evidence document, to
            check the task still has a solution path without it).
        avoid: Documents a cover uses only where no other document keeps it at the same size
            (knowledge-base pages: when a text page and a database page state the same
            evidence, the cover names the text page). The size (MSD) never changes; the
            preference is a local swap pass like the id tie-break, not a second solve.
        time_limit: Seconds for the solver. When it runs out of time the best cover found
            (the greedy one at worst) is returned with ``optimal=False``.

    Returns:
        The cover; ``size`` is None and ``uncovered`` lists the culprits when some evidence
        fact is stated by no remaining document.

    Raises:
        ValueError: ``time_limit`` is not a positive number, a fact id is not an integer or a
            document id is not a string.
    """
    if not (isinstance(time_limit, int | float) and time_limit > 0 and math.isfinite(time_limit)):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    facts = _fact_ids(evidence)
    holders = _holders(facts, stated_by, _doc_ids(exclude, "exclude"))
    uncovered = tuple(f for f in facts if not holders[f])
    if uncovered:
        return Cover(size=None, documents=(), uncovered=uncovered, optimal=True)
    docs: dict[str, int] = {}
    for i, f in enumerate(facts):
        for d in holders[f]:
            docs[d] = docs.get(d, 0) | 1 << i
    everything = (1 << len(facts)) - 1
    # A set is used as is: synthesis passes the World's database pages on every call.
    avoided = avoid if isinstance(avoid, set | frozenset) else _doc_ids(avoid, "avoid")
    complete = sorted(
        (d for d, m in docs.items() if m == everything), key=lambda d: (d in avoided, d)
    )
    if not facts or complete:
        whole = tuple(complete[:1])
        return Cover(size=len(whole), documents=whole, uncovered=(), optimal=True)
    forced, rest, need = _reduce(docs, everything)
    optimal = True
    if need:
        solved, optimal = _solve(rest, need, time_limit)
        forced = [*forced, *solved]
    if avoided & set(forced):  # over all documents: the reductions dropped dominated pages
        forced = _prefer_earlier(forced, docs, everything, key=lambda d: (d in avoided, d))
    chosen = tuple(sorted(forced))
    return Cover(size=len(chosen), documents=chosen, uncovered=(), optimal=optimal)
