"""Exact minimum source dispersion against hand-built optima and brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.synth._dispersion import covering_documents, min_source_dispersion


def test_greedy_is_beaten() -> None:
    # Greedy picks the big middle document first and then needs two more; the optimum is the
    # two halves.
    stated = {
        1: ["left", "mid"], 2: ["left", "mid"], 3: ["left", "tiny1"],
        4: ["right", "mid"], 5: ["right", "mid"], 6: ["right", "tiny2"],
    }  # fmt: skip
    cover = min_source_dispersion(range(1, 7), stated)
    assert (cover.size, cover.documents, cover.optimal) == (2, ("left", "right"), True)


def test_trivial_cases_and_forced_documents() -> None:
    assert min_source_dispersion([], {}).size == 0
    assert min_source_dispersion([1, 2], {1: ["a", "b"], 2: ["b"]}).documents == ("b",)
    cover = min_source_dispersion([1, 2, 3], {1: ["a"], 2: ["b", "c"], 3: ["c"]})
    assert cover.documents == ("a", "c")


def test_uncoverable_and_excluded() -> None:
    cover = min_source_dispersion([1, 2], {1: ["a"], 2: []})
    assert cover.size is None and cover.uncovered == (2,)
    stated = {1: ["whole", "a"], 2: ["whole", "b"], 3: ["whole", "c"]}
    assert min_source_dispersion([1, 2, 3], stated).documents == ("whole",)
    assert min_source_dispersion([1, 2, 3], stated, exclude={"whole"}).size == 3
    assert min_source_dispersion([1], stated, exclude={"whole", "a"}).uncovered == (1,)
    with pytest.raises(ValueError, match="time_limit"):
        min_source_dispersion([1], stated, time_limit=0)


def test_deterministic_among_ties() -> None:
    stated = {1: ["d", "c", "b", "a"]}
    assert {min_source_dispersion([1], stated).documents for _ in range(5)} == {("a",)}
    assert covering_documents([1], stated)["c"] == frozenset({1})


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.integers(0, 9),
        st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=4, unique=True),
        min_size=1,
        max_size=8,
    )
)
def test_matches_brute_force(stated: dict[int, list[str]]) -> None:
    docs = covering_documents(stated, stated)
    names = sorted(docs)
    best = next(
        k
        for k in range(1, len(names) + 1)
        for combo in itertools.combinations(names, k)
        if set().union(*(docs[d] for d in combo)) >= set(stated)
    )
    cover = min_source_dispersion(stated, stated)
    assert cover.size == best and cover.optimal
    assert set().union(*(docs[d] for d in cover.documents)) >= set(stated)
