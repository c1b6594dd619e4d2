from __future__ import annotations

from redsearcher.env._types import Page, Paper, Place, Route, SearchHit
from redsearcher.env._wire import (
    jina_json,
    jina_text,
    route_json,
    serper_maps,
    serper_scholar,
    serper_search,
)
from redsearcher.tools._render import (
    join_blocks,
    render_places,
    render_route,
    render_scholar,
    render_search,
    render_visit,
    render_visit_failed,
)

HITS = [
    SearchHit(
        "D1",
        "https://www.northgate-herald.com/a",
        "Marta Velden",
        "Born in Harwick.",
        3.2,
        "news",
        "2001-05-06",
    ),
    SearchHit("D2", "https://people.example.org/b", "Ilse Velden", "An actor.", 2.0, "homepage"),
]


def test_search_wire_and_rendering_exact() -> None:
    resp = serper_search("velden", HITS, num=2, page=2)
    assert resp["searchParameters"] == {
        "q": "velden",
        "gl": "us",
        "hl": "en",
        "type": "search",
        "num": 2,
        "page": 2,
        "engine": "google",
    }
    assert [o["position"] for o in resp["organic"]] == [3, 4]
    assert resp["organic"][0] == {
        "title": "Marta Velden",
        "link": "https://www.northgate-herald.com/a",
        "snippet": "Born in Harwick.",
        "position": 3,
        "date": "May 6, 2001",
    }
    assert "date" not in resp["organic"][1]
    assert render_search("velden", resp) == (
        "A Google search for 'velden' found 2 results:\n\n## Web Results\n"
        "1. [Marta Velden](https://www.northgate-herald.com/a)\nDate published: May 6, 2001\n\nBorn in Harwick."
        "\n\n"
        "2. [Ilse Velden](https://people.example.org/b)\n\nAn actor."
    )
    assert render_search("zzz", serper_search("zzz", [])) == (
        "No results found for 'zzz'. Try with a more general query."
    )
    assert join_blocks(["a", "b"]) == "a\n=======\nb"


def test_scholar_wire_and_rendering() -> None:
    paper = Paper(
        "E9",
        "On Tree Decompositions",
        "https://journals.example.net/p/9",
        "We study.",
        ("A Ostholt", "B Varden"),
        "Journal of Graph Algorithms",
        2014,
        1203,
        "https://journals.example.net/p/9.pdf",
    )
    resp = serper_scholar("tree", [paper])
    item = resp["organic"][0]
    assert (
        item["publicationInfo"]
        == "A Ostholt, B Varden - Journal of Graph Algorithms, 2014 - journals.example.net"
    )
    assert (item["year"], item["citedBy"], item["pdfUrl"], item["position"]) == (
        2014,
        1203,
        "https://journals.example.net/p/9.pdf",
        1,
    )
    assert render_scholar("tree", resp) == (
        "A Google scholar for 'tree' found 1 results:\n\n## Scholar Results\n"
        "1. [On Tree Decompositions](pdfUrl: https://journals.example.net/p/9.pdf)\n"
        "publicationInfo: A Ostholt, B Varden - Journal of Graph Algorithms, 2014 - journals.example.net\n"
        "Date published: 2014\ncitedBy: 1203\n\nWe study."
    )


def test_scholar_without_pdf_links_the_paper_page() -> None:
    paper = Paper("E9", "T", "https://journals.example.net/p/9", "S")
    item = serper_scholar("t", [paper])["organic"][0]
    assert item["pdfUrl"] == "https://journals.example.net/p/9"
    assert "year" not in item and "citedBy" not in item
    assert "1. [T](pdfUrl: https://journals.example.net/p/9)" in render_scholar(
        "t", serper_scholar("t", [paper])
    )


def test_maps_route_and_visit_rendering() -> None:
    place = Place(
        "E3",
        "Harwick Market Hall",
        "12 Ostholt Lane, Harwick",
        51.2,
        4.4,
        "market hall",
        "cid-1",
        "pl-1",
        4.5,
        120,
        "https://hall.example.com",
    )
    resp = serper_maps("hall", [place])
    p = resp["places"][0]
    assert (p["latitude"], p["longitude"], p["ratingCount"], p["placeId"], p["cid"]) == (
        51.2,
        4.4,
        120,
        "pl-1",
        "cid-1",
    )
    text = render_places("hall", resp)
    assert "## Places Results\n1. **Harwick Market Hall**\nCategory: market hall\n" in text
    assert "Rating: 4.5 (120 reviews)" in text and "Coordinates: 51.2, 4.4" in text
    route = Route("Harwick", "Ostrand", "driving", 152.04, 114.0, (51.2, 4.4), (51.3, 2.3))
    assert render_route(route_json(route)) == (
        "Route from Harwick to Ostrand by driving: 152.0 km, about 114 minutes."
    )
    assert render_visit("u", "g", "ev", "sum") == (
        "The useful information in u for user goal g as follows: \n\n"
        "Evidence in page: \nev\n\nSummary: \nsum\n\n"
    )
    assert "could not be accessed" in render_visit_failed("u", "g")


def test_jina_shapes() -> None:
    page = Page("D1", "https://x.example.com/a", "T", "Body text.", "news", "2001-05-06")
    assert jina_text(page) == (
        "Title: T\n\nURL Source: https://x.example.com/a\n\nPublished Time: 2001-05-06\n\n"
        "Markdown Content:\nBody text."
    )
    assert (
        jina_text(Page("D1", "u", "T", "B", "web"))
        == "Title: T\n\nURL Source: u\n\nMarkdown Content:\nB"
    )
    j = jina_json(page, tokens=3)
    assert (j["code"], j["status"]) == (200, 20000)
    assert j["data"] == {
        "title": "T",
        "description": "Body text.",
        "url": "https://x.example.com/a",
        "content": "Body text.",
        "usage": {"tokens": 3},
        "publishedTime": "2001-05-06",
    }
