from __future__ import annotations

from collections import defaultdict

import pytest

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.testing import small_world
from redsearcher.world import World


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, LocalEnvironment]:
    root = tmp_path_factory.mktemp("scholar")
    world = small_world(root / "w", entities=400, seed=4)
    build_index(root / "w", root / "i", progress=False)
    return world, LocalEnvironment.open(root / "i")


def expected_papers(world: World) -> dict[str, dict[str, object]]:
    """Each paper's record as the World's facts state it (computed independently)."""
    labels = {e.id: e.label for e in world.entities()}
    papers: dict[str, dict[str, object]] = {
        e.id: {"title": e.label, "authors": [], "venue": None, "year": None, "cited_by": None}
        for e in world.entities()
        if e.type == "paper"
    }
    authors: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for f in world.facts():
        if f.predicate == "author_of" and f.object in papers:
            authors[f.object].append((f.id, labels[f.subject]))
        elif f.subject in papers:
            rec = papers[f.subject]
            if f.predicate == "published_in":
                rec["venue"] = labels[f.object or ""]
            elif f.predicate == "publication_date":
                rec["year"] = int((f.date or "")[:4])
            elif f.predicate == "citation_count":
                rec["cited_by"] = int(f.amount or 0)
    for pid, pairs in authors.items():
        papers[pid]["authors"] = [name for _, name in sorted(pairs)]
    return papers


def test_papers_say_exactly_what_the_facts_say(indexed: tuple[World, LocalEnvironment]) -> None:
    world, env = indexed
    expected = expected_papers(world)
    assert len(expected) >= 20
    abstracts = {d.about: d.id for d in world.documents() if d.kind == "paper_abstract"}
    for pid, want in expected.items():
        hits = env.scholar(str(want["title"]), k=10)
        got = next((p for p in hits if p.entity_id == pid), None)
        assert got is not None, want["title"]
        assert got.title == want["title"]
        assert list(got.authors) == want["authors"]
        assert (got.venue, got.year, got.cited_by) == (
            want["venue"],
            want["year"],
            want["cited_by"],
        )
        page = env.visit(got.url)
        assert page is not None and page.doc_id == abstracts[pid]
        assert got.snippet and got.snippet.strip(".") in page.text.replace("\n\n", " ")


def test_scholar_searches_authors_and_venues(indexed: tuple[World, LocalEnvironment]) -> None:
    world, env = indexed
    expected = expected_papers(world)
    pid, rec = next((p, r) for p, r in expected.items() if r["authors"] and r["venue"])
    author = rec["authors"][0]  # type: ignore[index]
    by_author = env.scholar(str(author), k=20)
    assert pid in {p.entity_id for p in by_author}
    assert all(author in p.authors for p in by_author[:3])
    by_venue = env.scholar(str(rec["venue"]), k=5)
    assert by_venue and all(p.venue == rec["venue"] for p in by_venue)


def test_scholar_pages(indexed: tuple[World, LocalEnvironment]) -> None:
    _, env = indexed
    both = env.scholar("learning", k=6)
    assert [
        p.entity_id for p in env.scholar("learning", k=3) + env.scholar("learning", k=3, page=2)
    ] == [p.entity_id for p in both]
    assert env.scholar("zzqx unheardof") == []
