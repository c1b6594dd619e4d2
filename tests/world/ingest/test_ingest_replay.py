from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from redsearcher.errors import InputFormatError
from redsearcher.world import World
from redsearcher.world.ingest import ingest_world, kind_for_url, url_doc_id, wiki_doc_id

BRITANNICA = "https://www.britannica.com/biography/Douglas-Adams"
ARXIV = "https://arxiv.org/abs/1706.03762"
PAN = "https://www.panmacmillan.com/"
WIKI = "https://en.wikipedia.org/wiki/Douglas_Adams"
BBC = "https://www.bbc.co.uk/news/entertainment-arts-13318011"
AP = "https://apnews.com/article/towel-day-douglas-adams"
JOH = "https://www.joh.cam.ac.uk/"


def web(url: str) -> str:
    return "web:" + hashlib.sha1(url.encode()).hexdigest()[:16]


# id -> (kind, title, published, source_url, text prefix)
DOCUMENTS = {
    web(BRITANNICA): (
        "web",
        "Douglas Adams | Biography, Books, & Facts | Britannica",
        "2024-03-07T10:00:00Z",
        BRITANNICA,
        "Douglas Adams, in full Douglas Noël Adams",
    ),
    web(ARXIV): (
        "paper_abstract",
        "Attention Is All You Need",
        None,
        ARXIV,
        "The dominant sequence",
    ),
    web(PAN): ("homepage", "Pan Macmillan", None, PAN, "Pan Macmillan is a publisher"),
    web(WIKI): ("snippet", "Douglas Adams - Wikipedia", None, WIKI, "Douglas Noël Adams was"),
    web(BBC): ("snippet", "Remembering Douglas Adams", None, BBC, "Ten years after"),
    web(AP): ("snippet", "Fans celebrate Towel Day", None, AP, "Fans of Douglas Adams"),
    web(JOH): (
        "snippet",
        "St John's College, University of Cambridge",
        None,
        JOH,
        "St John's College was founded",
    ),
}

SEARCHES = [
    ("douglas adams birthplace", "search", 1, web(WIKI), "Douglas Adams - Wikipedia"),
    ("douglas adams birthplace", "search", 2, web(BRITANNICA), DOCUMENTS[web(BRITANNICA)][1]),
    ("douglas adams birthplace", "search", 3, web(BBC), "Remembering Douglas Adams"),
    ("hitchhiker's guide publisher", "search", 1, web(PAN), "Pan Macmillan"),
    ("hitchhiker's guide publisher", "search", 2, web(WIKI), "Douglas Adams - Wikipedia"),
    ("douglas adams news", "news", 1, web(AP), "Fans celebrate Towel Day"),
    ("st johns college", "search", 2, web(JOH), "St John's College, University of Cambridge"),
]


def _searches(world: World) -> list[tuple[str, str, int, str, str | None]]:
    return [
        (r.query, r.search_type, r.position, r.doc_id, r.title)
        for r in world.iter_records("recorded_searches")
    ]


def test_replay_documents_and_searches(ingest: Callable[..., World], fixtures: Path) -> None:
    world = ingest(replay=fixtures / "replay")
    docs = {
        d.id: (d.kind, d.title, d.published, d.source_url, d.text[: len(DOCUMENTS[d.id][4])])
        for d in world.documents()
    }
    assert docs == DOCUMENTS
    assert all(url_doc_id(d.source_url or "") == d.id for d in world.documents())
    assert _searches(world) == SEARCHES
    assert world.count("entities") == world.count("facts") == 0
    report = world.manifest.report
    assert report["skipped"] == {
        "bad_json": 1,
        "duplicate_search": 1,
        "missing_field": 1,
        "reader_error": 1,
        "unknown_response": 1,
    }
    problems = [(Path(p["file"]).name, p["line"], p["reason"]) for p in report["problems"]]
    assert problems == [
        ("jina_pages.jsonl", 2, "reader_error"),
        ("jina_pages.jsonl", 3, "bad_json"),
        ("wrapped.jsonl", 4, "unknown_response"),
        ("wrapped.jsonl", 6, "missing_field"),
    ]


def test_search_results_point_at_wikipedia_documents(
    ingest: Callable[..., World], fixtures: Path
) -> None:
    world = ingest(
        wikidata=fixtures / "wikidata.json",
        wikipedia=fixtures / "wikipedia.jsonl",
        replay=[fixtures / "replay" / "serper_douglas.json", fixtures / "replay" / "wrapped.jsonl"],
    )
    wiki = wiki_doc_id("Douglas Adams")
    searches = _searches(world)
    assert [s[3] for s in searches if s[0] == "douglas adams birthplace"] == [
        wiki,
        web(BRITANNICA),  # no reader page in these files: a snippet document
        web(BBC),
    ]
    assert ("hitchhiker's guide publisher", "search", 2, wiki, "Douglas Adams - Wikipedia") in (
        searches
    )
    docs = {d.id: d for d in world.documents()}
    assert web(WIKI) not in docs
    assert docs[web(BRITANNICA)].kind == "snippet"
    assert docs[wiki].about == "Q42"


def test_pages_of_results_and_wrappers(ingest: Callable[..., World], tmp_path: Path) -> None:
    page2 = {
        "searchParameters": {"q": "q", "type": "search", "num": 2, "page": 2},
        "organic": [
            {"title": "c", "link": "https://c.example/x", "snippet": "C", "position": 1},
            {"title": "d", "link": "https://d.example/x#frag", "snippet": "D", "position": 2},
        ],
    }
    page1 = {"searchParameters": {"q": "q", "num": 2}, "organic": [{"link": "https://a.example/"}]}
    reader = {
        "request": {"url": "http://d.example/x"},
        "response": {"code": 200, "data": {"url": "https://D.example/x", "content": "page d"}},
    }
    maps = {"searchParameters": {"q": "cafe", "type": "places"}, "places": [{"title": "Cafe"}]}
    path = tmp_path / "rec.json"
    path.write_text(json.dumps([page2, page1, reader, 7, maps]))
    world = ingest(replay=path)
    assert [(r.position, r.doc_id) for r in world.iter_records("recorded_searches")] == [
        (3, web("https://c.example/x")),
        (4, web("https://d.example/x")),  # the reader page, found by its normalized URL
        (1, web("https://a.example/")),
    ]
    kinds = {d.source_url: d.kind for d in world.documents()}
    assert kinds == {
        "https://D.example/x": "web",
        "https://c.example/x": "snippet",
        "https://a.example/": "snippet",
    }
    assert world.manifest.report["problems"] == [
        {"file": str(path), "line": None, "reason": "not_an_object", "detail": "list item 4"}
    ]
    assert world.manifest.report["skipped"] == {"not_an_object": 1, "unsupported_search_type": 1}


def test_kind_heuristic() -> None:
    assert kind_for_url("https://en.wikipedia.org/wiki/X") == "encyclopedia"
    assert kind_for_url("https://arxiv.org/abs/1") == "paper_abstract"
    assert kind_for_url("https://example.org/paper.pdf") == "paper_abstract"
    assert kind_for_url("https://www.reuters.com/world/x") == "news"
    assert kind_for_url("https://example.org/news/today") == "news"
    assert kind_for_url("https://old.reddit.com/r/x") == "forum"
    assert kind_for_url("https://www.example.org") == "homepage"
    assert kind_for_url("https://www.example.org/about") == "web"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"page.json": b"<html><body>captcha</body></html>"}, "not a JSON Lines"),
        ({"cache.jsonl.gz": b"{}"}, "not gzip"),
        ({"notes.txt": b"no json here"}, "no .json/.jsonl files"),
    ],
)
def test_malformed_recordings_fail(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    inputs = tmp_path / "rec"
    inputs.mkdir()
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    with pytest.raises(InputFormatError, match=message):
        ingest_world(tmp_path / "world", replay=inputs, progress=False)
    assert {p.name for p in tmp_path.iterdir()} == {"rec"}
