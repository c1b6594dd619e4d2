from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.env import LocalEnvironment, build_index, normalize_url
from redsearcher.env._urls import TEMPLATE_WORDS, TEMPLATES, UrlMinter, slugify
from redsearcher.testing import small_world
from redsearcher.world import World

HASH = "ab" * 32


def words(text: str) -> set[str]:
    """Letter runs after folding accents; digits (dates, thread numbers) are not words."""
    folded = unicodedata.normalize("NFKD", text).lower()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return set(re.findall(r"[^\W\d_]+", folded))


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, LocalEnvironment]:
    root = tmp_path_factory.mktemp("urls")
    world = small_world(root / "w", entities=300, seed=3)
    build_index(root / "w", root / "i", progress=False)
    return world, LocalEnvironment.open(root / "i")


def test_every_url_is_realistic_and_leaks_nothing_beyond_its_title(
    indexed: tuple[World, LocalEnvironment],
) -> None:
    world, env = indexed
    entity_ids = {e.id.lower() for e in world.entities()}
    hosts = set()
    for doc in world.documents():
        url = env.url_of(doc.id)
        assert url is not None
        assert re.fullmatch(r"https://[a-z0-9.-]+\.(com|org|net|cn)(/[^\s?#]*)?", url), url
        assert "wiki" not in url.lower()
        extra = words(url) - words(doc.title) - TEMPLATE_WORDS
        assert not extra, (url, doc.title, extra)
        # Neither the document id nor any entity id (E12 ...) shows in the URL.
        tokens = set(re.findall(r"[a-z0-9]+", url.lower()))
        assert doc.id.lower() not in tokens
        assert not tokens & entity_ids, url
        hosts.add(url.split("/")[2])
    assert len(hosts) >= 15  # a spread of sites, not one domain with paths


def test_urls_are_a_bijection_with_documents(indexed: tuple[World, LocalEnvironment]) -> None:
    world, env = indexed
    urls = {}
    for doc in world.documents():
        url = env.url_of(doc.id)
        assert url is not None
        urls[normalize_url(url)] = doc.id
        page = env.visit(url)
        assert page is not None and page.doc_id == doc.id
    assert len(urls) == world.count("documents")


def test_minting_is_deterministic_and_keyed_by_the_world_hash() -> None:
    docs = [(f"D{i}", f"Title {i % 7}", "news", "person", "2014-03-02") for i in range(200)]

    def mint(content_hash: str) -> list[str]:
        minter = UrlMinter(content_hash)
        return [minter.mint(*d) for d in docs]

    assert mint(HASH) == mint(HASH)
    assert mint(HASH) != mint("cd" * 32)


def test_colliding_titles_get_distinct_urls_made_of_their_words() -> None:
    minter = UrlMinter(HASH)
    urls = [minter.mint(f"D{i}", "Lars Fenby", "encyclopedia", "person") for i in range(50)]
    assert len({normalize_url(u) for u in urls}) == 50
    for url in urls:
        assert words(url) - TEMPLATE_WORDS <= {"lars", "fenby"}
    homepages = [minter.mint(f"H{i}", "Lars Fenby | Home", "homepage", "person") for i in range(5)]
    assert "https://www.lars-fenby.com" in homepages
    assert len(set(homepages)) == 5


def test_news_urls_carry_the_publication_date_and_cjk_documents_get_cjk_sites() -> None:
    minter = UrlMinter(HASH)
    dated = [minter.mint(f"N{i}", "Harbor opens", "news", None, "2014-03-02") for i in range(30)]
    assert any("/2014/03/" in u for u in dated)
    assert all("harbor-opens" in u or re.search(r"/\d+$", u) for u in dated)
    zh = minter.mint("Z1", "北京大学", "encyclopedia", "university", language="zh")
    assert zh.split("/")[2].endswith(".cn") and zh.endswith("/北京大学")


def test_normalize_url_accepts_the_spellings_agents_use() -> None:
    canonical = normalize_url("https://www.x-site.com/a/b-c")
    for variant in (
        "http://www.x-site.com/a/b-c/",
        "www.x-site.com/a/b-c",
        "  HTTPS://WWW.X-SITE.COM/a/b-c#top ",
        "https://www.x-site.com/a/b-c?utm_source=agent",
        "https://www.x-site.com/a/b%2Dc",
    ):
        assert normalize_url(variant) == canonical, variant


def test_templates_never_name_an_encyclopedia_brand() -> None:
    for templates in TEMPLATES.values():
        for t in templates:
            assert "wiki" not in t.host and "pedia" not in t.host


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_slugs_only_use_title_words(title: str) -> None:
    slug = slugify(title)
    assert words(slug) <= words(title)
    assert len(slug) <= 80
    assert "/" not in slug and "?" not in slug and "#" not in slug


def test_rebuilding_gives_identical_urls(tmp_path: Path) -> None:
    world = small_world(tmp_path / "w", entities=120, seed=5)
    build_index(tmp_path / "w", tmp_path / "a", progress=False)
    build_index(tmp_path / "w", tmp_path / "b", progress=False)
    with LocalEnvironment.open(tmp_path / "a") as a, LocalEnvironment.open(tmp_path / "b") as b:
        for doc in world.documents():
            assert a.url_of(doc.id) == b.url_of(doc.id)
