"""Exact minimum source dispersion: known optima, reductions, tie-breaking, brute force."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.synth._dispersion import (
    Cover,
    _greedy,
    _prefer_earlier,
    _solve,
    covering_documents,
    min_source_dispersion,
)

Stated = dict[int, list[str]]


def stated_from_docs(docs: Mapping[str, set[int]]) -> Stated:
    """Invert doc -> facts into the fact -> docs provenance mapping the API takes."""
    out: Stated = {}
    for d, facts in docs.items():
        for f in facts:
            out.setdefault(f, []).append(d)
    return out


def covers(cover: Cover, evidence: set[int], stated: Mapping[int, list[str]]) -> bool:
    chosen = set(cover.documents)
    return all(chosen & set(stated.get(f, [])) for f in evidence)


@pytest.fixture
def milp_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count calls to the solver (the module imports it from scipy.optimize at call time)."""
    calls: list[int] = []
    real = scipy.optimize.milp

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "milp", counting)
    return calls


# --- known optima -----------------------------------------------------------------------------


def test_greedy_picks_three_where_two_suffice() -> None:
    docs = {"left": {1, 2, 3}, "right": {4, 5, 6}, "mid": {2, 3, 4, 5}}
    stated = stated_from_docs(docs)
    masks = {d: sum(1 << (f - 1) for f in fs) for d, fs in docs.items()}
    assert len(_greedy(masks, 0b111111)) == 3  # the instance does fool greedy
    cover = min_source_dispersion(range(1, 7), stated)
    assert cover == Cover(size=2, documents=("left", "right"), uncovered=(), optimal=True)


def test_classic_greedy_trap() -> None:
    # The classic bad case for greedy: two rows of 7 facts, and columns of 8, 4 and 2 facts that
    # each take half from either row. Greedy takes the columns (each is bigger than what a row
    # still adds): 3 documents; the optimum is the two rows. (Every fact has two documents and
    # no document is a subset of another; merging facts with the same documents shrinks it to
    # 2 rows x 3 columns, where the cover is then proven by the packing bound.)
    docs = {
        "row1": set(range(1, 8)),
        "row2": set(range(8, 15)),
        "col1": {1, 2, 3, 4, 8, 9, 10, 11},
        "col2": {5, 6, 12, 13},
        "col3": {7, 14},
    }
    stated = stated_from_docs(docs)
    masks = {d: sum(1 << (f - 1) for f in fs) for d, fs in docs.items()}
    assert len(_greedy(masks, (1 << 14) - 1)) == 3
    cover = min_source_dispersion(range(1, 15), stated)
    assert cover == Cover(size=2, documents=("row1", "row2"), uncovered=(), optimal=True)


@pytest.mark.parametrize(("n", "optimum"), [(4, 2), (5, 3), (7, 4), (10, 5)])
def test_cycle_of_pairs(n: int, optimum: int, milp_calls: list[int]) -> None:
    # Document i states facts i and i+1 (mod n): ceil(n/2) documents. For even n greedy meets
    # the packing bound (n/2 facts with pairwise disjoint documents); odd n needs the solver.
    stated = stated_from_docs({f"d{i:02d}": {i, (i + 1) % n} for i in range(n)})
    cover = min_source_dispersion(range(n), stated)
    assert cover.size == optimum == math.ceil(n / 2) and cover.optimal
    assert covers(cover, set(range(n)), stated)
    assert bool(milp_calls) == (n % 2 == 1)


def test_planted_cover_among_many_documents() -> None:
    # 20 facts; 4 planted documents of 5 facts each; 196 decoys of at most 4 facts. Any cover
    # needs >= 4 documents (at most 5 facts each), so the optimum is exactly 4.
    rng = random.Random(3)
    facts = list(range(20))
    docs = {f"planted{i}": set(facts[5 * i : 5 * i + 5]) for i in range(4)}
    docs |= {f"decoy{j:03d}": set(rng.sample(facts, rng.randint(1, 4))) for j in range(196)}
    stated = stated_from_docs(docs)
    cover = min_source_dispersion(facts, stated)
    assert (cover.size, cover.optimal) == (4, True)
    assert covers(cover, set(facts), stated)
    assert min_source_dispersion(reversed(facts), stated) == cover


# --- trivial cases and reductions (no solver) -------------------------------------------------


def test_no_evidence(milp_calls: list[int]) -> None:
    assert min_source_dispersion([], {1: ["a"]}) == Cover(0, (), (), True)
    assert not milp_calls


def test_one_document_states_everything(milp_calls: list[int]) -> None:
    stated = {1: ["z-page", "b", "all"], 2: ["all", "c"], 3: ["all", "b", "c"]}
    assert min_source_dispersion([1, 2, 3], stated).documents == ("all",)
    # Two complete documents: the smaller id wins.
    stated = {1: ["whole2", "whole1"], 2: ["whole1", "whole2"]}
    assert min_source_dispersion([1, 2], stated).documents == ("whole1",)
    assert not milp_calls


def test_forced_and_dominated_documents(milp_calls: list[int]) -> None:
    # Fact 1 only in "a" (forced); "b" is dominated by "c"; fact 4 is implied by fact 3.
    stated = {1: ["a"], 2: ["b", "c"], 3: ["c", "d"], 4: ["c", "d", "e"]}
    cover = min_source_dispersion([1, 2, 3, 4], stated)
    assert cover == Cover(size=2, documents=("a", "c"), uncovered=(), optimal=True)
    assert not milp_calls


# --- uncoverable facts and exclusion ----------------------------------------------------------


def test_uncovered_facts() -> None:
    stated = {1: ["a"], 2: [], 3: ["b"]}
    cover = min_source_dispersion([3, 1, 2, 4], stated)  # 4 is not in the mapping at all
    assert cover == Cover(size=None, documents=(), uncovered=(2, 4), optimal=True)


def test_exclude_changes_the_answer() -> None:
    stated = {1: ["whole", "a"], 2: ["whole", "b"], 3: ["whole", "a", "c"]}
    assert min_source_dispersion([1, 2, 3], stated).documents == ("whole",)
    without = min_source_dispersion([1, 2, 3], stated, exclude={"whole"})
    assert (without.size, without.documents) == (2, ("a", "b"))
    gone = min_source_dispersion([1, 2, 3], stated, exclude=["whole", "b"])
    assert (gone.size, gone.uncovered) == (None, (2,))


# --- determinism and tie-breaking -------------------------------------------------------------


def test_ties_prefer_earlier_ids() -> None:
    # Facts 0..3 on a 4-cycle of pair documents: {b, d} and {a, c} are both optimal.
    stated = stated_from_docs({"a": {0, 1}, "b": {1, 2}, "c": {2, 3}, "d": {3, 0}})
    assert min_source_dispersion(range(4), stated).documents == ("a", "c")
    # A single fact many documents state: the first id.
    assert min_source_dispersion([1], {1: ["d", "c", "b", "a"]}).documents == ("a",)


def test_prefer_earlier_swaps_for_smaller_ids() -> None:
    docs = {"a": 0b0110, "b": 0b0011, "c": 0b1100, "x": 0b0011, "y": 0b1100}
    assert _prefer_earlier(["x", "y"], docs, 0b1111) == ["b", "c"]
    # "a" alone cannot replace "x" (fact 0 would be lost), and "b" is already taken.
    assert _prefer_earlier(["b", "y"], docs, 0b1111) == ["b", "c"]


def test_same_instance_same_cover_whatever_the_order() -> None:
    rng = random.Random(11)
    docs = {f"doc{j}": set(rng.sample(range(12), 3)) for j in range(30)}
    stated = stated_from_docs(docs)
    first = min_source_dispersion(range(12), stated)
    for seed in range(4):
        shuffle = random.Random(seed)
        items = list(stated.items())
        shuffle.shuffle(items)
        mixed = {f: shuffle.sample(ds, len(ds)) for f, ds in items}
        evidence = shuffle.sample(range(12), 12) * 2  # duplicates are ignored
        assert min_source_dispersion(evidence, mixed) == first


def test_solver_timeout_falls_back_to_a_valid_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    def timed_out(*args: Any, **kwargs: Any) -> Any:
        return SimpleNamespace(status=1, x=None)

    monkeypatch.setattr(scipy.optimize, "milp", timed_out)
    stated = stated_from_docs({f"d{i}": {i, (i + 1) % 7} for i in range(7)})
    cover = min_source_dispersion(range(7), stated, time_limit=0.01)
    assert not cover.optimal and covers(cover, set(range(7)), stated)
    assert cover.size == len(cover.documents) >= 4


# --- covering_documents -----------------------------------------------------------------------


def test_covering_documents() -> None:
    stated = {1: ["b", "a"], 2: ["b"], 3: [], 9: ["z"]}
    out = covering_documents([1, 2, 3, 2], stated)
    assert out == {"a": frozenset({1}), "b": frozenset({1, 2})}
    assert list(out) == ["a", "b"]  # sorted by id; fact 9 is not evidence


# --- invalid input ----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [0, -1, -0.5, math.nan, math.inf])
def test_invalid_time_limit(limit: float) -> None:
    with pytest.raises(ValueError, match="time_limit"):
        min_source_dispersion([1], {1: ["a"]}, time_limit=limit)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: min_source_dispersion([1], {1: "doc-a"}), "not the string"),
        (lambda: min_source_dispersion([1], {1: ["a", 7]}), "must be strings"),
        (lambda: min_source_dispersion(["1"], {1: ["a"]}), "must be integers"),
        (lambda: min_source_dispersion([True], {1: ["a"]}), "must be integers"),
        (lambda: min_source_dispersion([1], {1: ["a"]}, exclude="a"), "not the string"),
        (lambda: covering_documents([1], {1: "a"}), "not the string"),
    ],
)
def test_invalid_input(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- brute force ------------------------------------------------------------------------------


def brute_force(
    evidence: set[int], stated: Mapping[int, list[str]], exclude: set[str]
) -> int | None:
    holders = {f: set(stated.get(f, [])) - exclude for f in evidence}
    if any(not h for h in holders.values()):
        return None
    names = sorted(set().union(*holders.values()))
    return next(
        k
        for k in range(len(names) + 1)
        for combo in itertools.combinations(names, k)
        if all(holders[f] & set(combo) for f in evidence)
    )


@settings(max_examples=200, deadline=None)
@given(
    evidence=st.sets(st.integers(0, 9), max_size=9),
    stated=st.dictionaries(
        st.integers(0, 11),
        st.lists(st.sampled_from("abcdefghij"), max_size=5, unique=True),
        max_size=12,
    ),
    exclude=st.sets(st.sampled_from("abcdefghij"), max_size=3),
)
def test_matches_brute_force(evidence: set[int], stated: Stated, exclude: set[str]) -> None:
    cover = min_source_dispersion(evidence, stated, exclude=exclude)
    expected = brute_force(evidence, stated, exclude)
    assert cover.size == expected and cover.optimal
    if expected is None:
        assert cover.uncovered and all(
            not set(stated.get(f, [])) - exclude for f in cover.uncovered
        )
        assert cover.documents == ()
    else:
        assert cover.uncovered == () and len(cover.documents) == expected
        assert covers(cover, evidence, stated) and not set(cover.documents) & exclude
        assert list(cover.documents) == sorted(cover.documents)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(1, (1 << 8) - 1), min_size=1, max_size=9).filter(
        lambda masks: (sum(1 << i for i in range(8)) & ~_union(masks)) == 0
    )
)
def test_solver_alone_matches_brute_force(masks: list[int]) -> None:
    # The integer program without the reductions in front of it.
    docs = {f"d{i}": m for i, m in enumerate(masks)}
    everything = (1 << 8) - 1
    chosen, proven = _solve(docs, everything, 10.0)
    best = next(
        k
        for k in range(1, len(masks) + 1)
        for combo in itertools.combinations(masks, k)
        if _union(combo) == everything
    )
    assert proven and len(chosen) == best and _union([docs[d] for d in chosen]) == everything


def _union(masks: Iterable[int]) -> int:
    out = 0
    for m in masks:
        out |= m
    return out
