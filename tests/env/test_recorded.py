"""Record-and-replay in the index: recorded lists answer their queries, recorded pages their URLs.

The World is ingested from the committed recordings (``tests/fixtures/ingest/replay``); what a
query must return is read from the World's own ``recorded_searches`` table, so these tests say
"exactly what was recorded" without restating the fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyarrow import feather

from redsearcher.env import LocalEnvironment, build_index, normalize_query
from redsearcher.env._recorded import RECORDED_SEARCHES_FILE, URL_ALIASES_FILE, recorded_url
from redsearcher.testing import tiny_world
from redsearcher.world import World
from redsearcher.world.ingest import ingest_world, url_doc_id

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest" / "replay"
QUERY = "douglas adams birthplace"
BRITANNICA = "https://www.britannica.com/biography/Douglas-Adams"


@pytest.fixture(scope="module")
def replay_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    ingest_world(root / "world", replay=[FIXTURES])
    build_index(root / "world", root / "world.index", progress=False)
    return root / "world.index"


@pytest.fixture(scope="module")
def env(replay_index: Path) -> Iterator[LocalEnvironment]:
    with LocalEnvironment.open(replay_index) as opened:
        yield opened


def recorded(world_dir: Path, query: str) -> list[tuple[int, str, str | None, str | None]]:
    """(position, doc id, title, snippet) of ``query``'s recorded web results, by position."""
    rows = [
        (r.position, r.doc_id, r.title, r.snippet)
        for r in World.open(world_dir).iter_records("recorded_searches")
        if r.query == query and r.search_type == "search"
    ]
    return sorted(rows)


def test_a_recorded_query_answers_with_exactly_the_recorded_list(
    env: LocalEnvironment, replay_index: Path
) -> None:
    want = recorded(replay_index.parent / "world", QUERY)
    assert len(want) == 3
    hits = env.search(QUERY, 10)
    assert [(h.position, h.doc_id, h.title, h.snippet) for h in hits] == want
    # Links are the recorded pages' own URLs, which read back the same documents.
    for hit in hits:
        page = env.visit(hit.url)
        assert page is not None and page.doc_id == hit.doc_id


def test_case_and_whitespace_do_not_matter_but_words_do(env: LocalEnvironment) -> None:
    exact = [h.doc_id for h in env.search(QUERY, 10)]
    assert [h.doc_id for h in env.search("  Douglas   ADAMS\tbirthplace ", 10)] == exact
    other = env.search("douglas adams birthplaces", 10)
    assert all(h.position is None for h in other)  # an index answer, not the recording
    assert normalize_query(" A  b\nC ") == "a b c"


def test_num_and_page_select_a_window_of_recorded_positions(env: LocalEnvironment) -> None:
    full = env.search(QUERY, 10)
    page2 = env.search(QUERY, 2, page=2)
    assert [(h.position, h.doc_id) for h in page2] == [(3, full[2].doc_id)]
    assert [h.position for h in env.search(QUERY, 2)] == [1, 2]
    assert env.search(QUERY, 10, page=2) == []  # past the recording: never index hits mixed in


def test_positions_stay_as_recorded_when_a_result_was_dropped(
    env: LocalEnvironment, replay_index: Path
) -> None:
    # The recording of "st johns college" had a first result without a link (skipped by
    # ingest): the remaining result keeps position 2, as the engine numbered it.
    want = recorded(replay_index.parent / "world", "st johns college")
    assert [w[0] for w in want] == [2]
    assert [(h.position, h.doc_id) for h in env.search("St Johns College", 5)] == [(2, want[0][1])]


def test_unrecorded_queries_and_news_lists_fall_back_to_the_index(env: LocalEnvironment) -> None:
    hits = env.search("towel day fans", 5)
    assert hits and all(h.position is None and h.score > 0 for h in hits)
    # A recorded *news* list is not a web search answer (there is no /news twin).
    news = env.search("douglas adams news", 5)
    assert all(h.position is None for h in news)


def test_search_ids_follow_the_recording(env: LocalEnvironment) -> None:
    assert env.search_ids(QUERY, 10) == [h.doc_id for h in env.search(QUERY, 10)]


def test_recorded_pages_read_at_recorded_and_at_obfuscated_urls(
    env: LocalEnvironment, replay_index: Path
) -> None:
    page = env.visit(BRITANNICA)
    assert page is not None
    assert page.url == BRITANNICA and page.text.startswith("Douglas Adams, in full")
    assert env.visit("britannica.com/biography/Douglas-Adams/") == page
    assert env.url_of(url_doc_id(BRITANNICA)) == BRITANNICA
    aliases = feather.read_table(replay_index / URL_ALIASES_FILE).to_pylist()
    alias = next(a["url"] for a in aliases if env.store.value(a["row"], "doc_id") == page.doc_id)
    assert not alias.startswith("https://www.britannica.com")  # minted, on a synthetic host
    assert env.visit(alias) == page


def test_recorded_url_is_only_for_documents_named_by_their_url() -> None:
    assert recorded_url(url_doc_id(BRITANNICA), BRITANNICA) == BRITANNICA
    assert recorded_url("wiki:0123456789abcdef", BRITANNICA) is None
    assert recorded_url("web:0123456789abcdef", BRITANNICA) is None
    assert recorded_url(url_doc_id(BRITANNICA), None) is None


def test_first_spelling_of_a_query_wins(tmp_path: Path) -> None:
    lists = [
        {
            "searchParameters": {"q": q, "type": "search"},
            "organic": [{"title": t, "link": link, "snippet": t, "position": 1}],
        }
        for q, t, link in (
            ("Towel Day", "first", "https://a.example/one"),
            ("towel  day", "second", "https://b.example/two"),
        )
    ]
    (tmp_path / "rec.json").write_text(json.dumps(lists))
    ingest_world(tmp_path / "w", replay=[tmp_path / "rec.json"])
    build_index(tmp_path / "w", tmp_path / "i", progress=False)
    with LocalEnvironment.open(tmp_path / "i") as opened:
        assert [h.title for h in opened.search("TOWEL DAY", 10)] == ["first"]


def test_a_world_without_recordings_gets_no_replay_files(tmp_path: Path) -> None:
    tiny_world(tmp_path / "w")
    manifest = build_index(tmp_path / "w", tmp_path / "i", progress=False)
    assert not (tmp_path / "i" / RECORDED_SEARCHES_FILE).exists()
    assert not (tmp_path / "i" / URL_ALIASES_FILE).exists()
    assert set(manifest.counts) == {"documents", "cjk_documents", "papers", "places"}
    with LocalEnvironment.open(tmp_path / "i") as opened:
        hit = opened.search("film", 1)[0]
        assert hit.position is None and opened.visit(hit.url) is not None
