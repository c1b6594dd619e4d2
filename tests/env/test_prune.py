"""MaxScore pruning returns exactly the full query's pages (``redsearcher.env._prune``)."""

from __future__ import annotations

import random

import pytest

import redsearcher.env._prune as prune
from redsearcher.env import LocalEnvironment, build_index
from redsearcher.env._index import top_rows
from redsearcher.testing import small_world


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> LocalEnvironment:
    root = tmp_path_factory.mktemp("prune")
    small_world(root / "w", entities=600, seed=3)
    build_index(root / "w", root / "i", progress=False)
    return LocalEnvironment.open(root / "i")


def _queries(env: LocalEnvironment, n: int) -> list[str]:
    """Page titles plus common words, the shape that makes pruning pay (rare + common terms)."""
    rng = random.Random(0)
    titles = [str(env.store.value(r, "title")) for r in range(len(env.store))]
    common = ["born in", "author of", "university", "located in", "film", "new", "north"]
    return [f"{rng.choice(titles)} {rng.choice(common)}" for _ in range(n)]


@pytest.mark.parametrize(("k", "offset"), [(10, 0), (3, 0), (5, 10), (50, 0)])
def test_pruned_pages_equal_the_full_query(
    env: LocalEnvironment, monkeypatch: pytest.MonkeyPatch, k: int, offset: int
) -> None:
    # A small World's postings are short: lower the thresholds so every path runs.
    monkeypatch.setattr(prune, "DIRECT_POSTINGS", 0)
    monkeypatch.setattr(prune, "SEED_POSTINGS", 40)
    monkeypatch.setattr(prune, "SEEK_COST", 0.0)
    text = env.text
    paths = {"full": 0, "restricted": 0}
    pruner = text._pruner
    restricted = pruner._restricted

    def counting(*args: object) -> list[tuple[int, float]]:
        paths["restricted"] += 1
        return restricted(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pruner, "_restricted", counting)
    for query in _queries(env, 300):
        plan = text.plan(query)
        want = top_rows(text.searcher, text.query(plan), k, offset)
        assert text.search(plan, k, offset) == want, query  # rows and scores, bit for bit
    assert paths["restricted"] > 50  # the pruned path was exercised, not only the fallback


def test_clause_maxima_are_the_highest_scores(env: LocalEnvironment) -> None:
    text = env.text
    pruner = text._pruner
    for clause in text.clauses(text.plan("Harbor university born film")):
        df, top = pruner.stats(clause)
        hits = top_rows(text.searcher, pruner.term_query(clause), max(df, 1), 0)
        assert df == len(hits)
        assert top == max((s for _, s in hits), default=0.0)


def test_phrase_and_empty_queries_bypass_pruning(env: LocalEnvironment) -> None:
    text = env.text
    plan = text.plan('"film director" university')
    assert plan.phrases
    assert text.search(plan, 10) == top_rows(text.searcher, text.query(plan), 10, 0)
    assert text.search(text.plan("the of and"), 10) == []
