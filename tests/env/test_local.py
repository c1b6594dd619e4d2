from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import redsearcher.env._local as local
from redsearcher.env import (
    IndexConfig,
    IndexFormatError,
    LocalEnvironment,
    build_index,
    default_index_dir,
)
from redsearcher.errors import UserError
from redsearcher.testing import small_world, tiny_world
from redsearcher.world import Document, Entity, World, WorldWriter


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, LocalEnvironment]:
    root = tmp_path_factory.mktemp("local")
    world = small_world(root / "w", entities=300, seed=1)
    build_index(root / "w", root / "i", progress=False)
    return world, LocalEnvironment.open(root / "i")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> LocalEnvironment:
    root = tmp_path_factory.mktemp("tiny")
    tiny_world(root / "w")
    build_index(root / "w", root / "i", progress=False)
    return LocalEnvironment.open(root / "i")


def test_search_finds_an_entity_page_by_its_label(small: tuple[World, LocalEnvironment]) -> None:
    world, env = small
    pages = {d.about: d.id for d in world.documents() if d.kind == "encyclopedia" and d.about}
    entities = [e for e in world.entities() if e.id in pages]
    sample = random.Random(0).sample(entities, 60)
    found = sum(pages[e.id] in [h.doc_id for h in env.search(e.label, k=3)] for e in sample)
    # Look-alike distractors share a label with another entity; all others must be top 3.
    assert found >= 0.9 * len(sample), f"{found}/{len(sample)}"


def test_search_answers_a_paraphrased_fact_question(
    small: tuple[World, LocalEnvironment], tiny: LocalEnvironment
) -> None:
    hits = tiny.search("Who was the director of the film The Quiet Harbor?", k=3)
    assert hits[0].doc_id == "D2"  # "The Quiet Harbor is a 1990 film directed by Marta Velden."
    world, env = small
    labels = {e.id: e.label for e in world.entities()}
    stating: dict[int, set[str]] = {}
    for p in world.provenance():
        stating.setdefault(p.fact_id, set()).add(p.doc_id)
    facts = [f for f in world.facts() if f.predicate == "born_in" and f.id in stating]
    sample = random.Random(1).sample(facts, 30)
    found = 0
    for f in sample:
        hits = env.search(f"In which city was {labels[f.subject]} born?", k=5)
        found += bool(stating[f.id] & {h.doc_id for h in hits})
    assert found >= 0.8 * len(sample), f"{found}/{len(sample)}"


def test_stop_words_do_not_change_results_and_stems_match(tiny: LocalEnvironment) -> None:
    with_stop = tiny.search("the quiet harbor of the", k=5)
    without = tiny.search("quiet harbor", k=5)
    assert [(h.doc_id, h.score) for h in with_stop] == [(h.doc_id, h.score) for h in without]
    assert tiny.search("the of and a") == []
    assert "D2" in [h.doc_id for h in tiny.search("directing", k=3)]  # text says "directed"
    assert {h.doc_id for h in tiny.search("harbors")} >= {"D2", "D3", "D8"}


def test_snippets_show_the_query_terms(small: tuple[World, LocalEnvironment]) -> None:
    _, env = small
    for hit in env.search("born citizenship", k=10):
        assert len(hit.snippet) <= 170
        assert "born" in hit.snippet.lower() or "citizen" in hit.snippet.lower()


def test_pages_are_disjoint_and_consistent(small: tuple[World, LocalEnvironment]) -> None:
    _, env = small
    first, second = env.search("film director", k=5), env.search("film director", k=5, page=2)
    both = env.search("film director", k=10)
    assert [h.doc_id for h in first + second] == [h.doc_id for h in both]
    assert env.search("film director", k=10, page=1000) == []
    assert env.search("film director") == env.search("film director")  # deterministic
    with pytest.raises(UserError):
        env.search("film", page=0)
    with pytest.raises(UserError):
        env.search("film", k=0)


def test_visit_accepts_url_variants(small: tuple[World, LocalEnvironment]) -> None:
    world, env = small
    doc = world.documents()[0]
    url = env.url_of(doc.id)
    assert url is not None and url.startswith("https://www.")
    bare = url.removeprefix("https://")
    for variant in (url, url + "/", "http://" + bare, bare, bare + "/", bare.removeprefix("www.")):
        page = env.visit(variant)
        assert page is not None and page.doc_id == doc.id, variant
        assert (page.title, page.text, page.kind) == (doc.title, doc.text, doc.kind)
    assert env.visit(url + "-nope") is None
    assert env.visit("") is None
    assert env.get(doc.id) == env.visit(url)
    assert env.get("no-such-id") is None


def test_search_hits_carry_document_fields(tiny: LocalEnvironment) -> None:
    hit = next(h for h in tiny.search("Velden family", k=5) if h.doc_id == "D4")
    assert (hit.kind, hit.published, hit.title) == ("news", "2001-05-06", "Velden family")
    assert "/2001/05/" in hit.url or hit.url.count("/") >= 3


@pytest.fixture(scope="module")
def chinese(tmp_path_factory: pytest.TempPathFactory) -> LocalEnvironment:
    root = tmp_path_factory.mktemp("zh")
    with WorldWriter(root / "w", source={"kind": "fixture"}) as w:
        w.add_entities([Entity("E1", "北京大学", "university"), Entity("E2", "Harwick", "city")])
        w.add_documents(
            [
                Document("D1", "北京大学", "北京大学是一所位于北京的综合性大学，创建于1898年。",
                         "encyclopedia", language="zh", about="E1"),
                Document("D2", "上海", "上海是中国的一座城市，位于长江入海口。", "encyclopedia",
                         language="zh"),
                Document("D3", "Harwick", "Harwick is a city with a large university.",
                         "encyclopedia", about="E2"),
            ]
        )  # fmt: skip
    build_index(root / "w", root / "i", progress=False)
    return LocalEnvironment.open(root / "i")


def test_chinese_documents_are_found_by_chinese_queries(chinese: LocalEnvironment) -> None:
    assert chinese.manifest.counts["cjk_documents"] == 2
    hits = chinese.search("北京大学")
    assert hits[0].doc_id == "D1"
    assert "北京大学" in hits[0].snippet
    assert chinese.search("哪所大学创建于1898年")[0].doc_id == "D1"
    assert chinese.search("长江")[0].doc_id == "D2"
    assert [h.doc_id for h in chinese.search("university")] == ["D3"]
    page = chinese.visit(hits[0].url)
    assert page is not None and page.language == "zh"


def test_concurrent_readers_get_the_same_answers(small: tuple[World, LocalEnvironment]) -> None:
    world, env = small
    queries = [e.label for e in world.entities()[:40]]
    expected = [env.search(q, k=5) for q in queries]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda q: env.search(q, k=5), queries * 4))
    assert got == expected * 4


def test_manifest_records_world_hash_and_config(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    manifest = build_index(tmp_path / "w", config=IndexConfig(title_boost=3.0), progress=False)
    out = default_index_dir(tmp_path / "w")
    assert out == tmp_path / "w.index"
    on_disk = json.loads((out / "index.json").read_text())
    assert on_disk["world_content_hash"] == world.content_hash == manifest.world_content_hash
    assert on_disk["config"]["title_boost"] == 3.0
    assert on_disk["counts"]["documents"] == 8
    with pytest.raises(UserError, match="already exists"):
        build_index(tmp_path / "w", progress=False)


def test_a_failed_build_leaves_nothing_and_keeps_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny_world(tmp_path / "w")

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(local, "build_places", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(tmp_path / "w", tmp_path / "i", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]
    monkeypatch.undo()
    build_index(tmp_path / "w", tmp_path / "i", progress=False)
    monkeypatch.setattr(local, "build_places", boom)
    with pytest.raises(RuntimeError):
        build_index(tmp_path / "w", tmp_path / "i", overwrite=True, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i", "w"]
    with LocalEnvironment.open(tmp_path / "i") as env:
        assert env.search("Quiet Harbor")[0].title == "The Quiet Harbor"


def test_opening_something_else_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(IndexFormatError, match="not a search index"):
        LocalEnvironment.open(tmp_path)
    (tmp_path / "index.json").write_text('{"format_version": 99}')
    with pytest.raises(IndexFormatError):
        LocalEnvironment.open(tmp_path)


def test_hybrid_search_fuses_bm25_and_dense_rankings(small: tuple[World, LocalEnvironment]) -> None:
    from redsearcher.env import reciprocal_rank_fusion

    _, env = small
    hybrid = LocalEnvironment.open(env.directory)

    class FakeDense:  # stands in for the faiss index: a fixed ranking of rows
        def search(self, query: str, n: int) -> list[int]:
            return [5, 3, 1, 0][:n]

    hybrid._dense = FakeDense()
    query = "film director"
    sparse = [row for row, _ in env.text.search(env.text.plan(query), 100)]
    want = reciprocal_rank_fusion([sparse, [5, 3, 1, 0]], k=60)[:10]
    hits = hybrid.search(query, k=10)
    assert [h.doc_id for h in hits] == [env.store.value(r, "doc_id") for r, _ in want]
    assert [h.score for h in hits] == [s for _, s in want]
    page2 = hybrid.search(query, k=5, page=2)
    assert [h.doc_id for h in page2] == [h.doc_id for h in hits[5:]]


def test_search_ids_rank_like_search(tmp_path: Path) -> None:
    from redsearcher.env import LocalEnvironment, build_index
    from redsearcher.testing import small_world

    small_world(tmp_path / "w")
    build_index(tmp_path / "w", tmp_path / "i", progress=False)
    with LocalEnvironment.open(tmp_path / "i") as env:
        for query in ("film director", "university founded", "Harwick", "zzzz"):
            assert env.search_ids(query, 7) == [h.doc_id for h in env.search(query, 7)]
