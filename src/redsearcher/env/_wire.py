"""Records -> the JSON shapes of the services agent code already calls.

Field names follow ``shared/reference/wire-formats.md`` exactly (Serper search/scholar/maps,
Jina Reader). The server, the MCP server and tests build responses only through these
functions, so every twin of an API answers in one consistent shape.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from redsearcher.env._types import Page, Paper, Place, Route, SearchHit


def source_of(url: str) -> str:
    """The site name Serper shows as ``source`` (the host without ``www.``)."""
    host = urlsplit(url if "//" in url else "//" + url).hostname or ""
    return host.removeprefix("www.")


def serper_search(
    query: str,
    hits: list[SearchHit],
    *,
    num: int = 10,
    page: int = 1,
    gl: str = "us",
    hl: str = "en",
    search_type: str = "search",
) -> dict[str, Any]:
    """A Serper ``/search`` response; ``position`` is 1-based across pages."""
    params: dict[str, Any] = {
        "q": query,
        "gl": gl,
        "hl": hl,
        "type": search_type,
        "num": num,
        "engine": "google",
    }
    if page != 1:
        params["page"] = page
    organic = []
    for i, h in enumerate(hits):
        item: dict[str, Any] = {
            "title": h.title,
            "link": h.url,
            "snippet": h.snippet,
            "position": (page - 1) * num + i + 1,
        }
        if h.published:
            item["date"] = h.published
        organic.append(item)
    return {"searchParameters": params, "organic": organic, "credits": 1}


def publication_info(paper: Paper) -> str:
    """Scholar's one-line byline: ``A Author, B Author - Venue, 2014 - site``."""
    authors = ", ".join(paper.authors[:3]) + ("…" if len(paper.authors) > 3 else "")
    venue = ", ".join(x for x in (paper.venue, str(paper.year) if paper.year else None) if x)
    return " - ".join(x for x in (authors, venue, source_of(paper.url)) if x)


def serper_scholar(
    query: str, papers: list[Paper], *, num: int = 10, page: int = 1
) -> dict[str, Any]:
    """A Serper ``/scholar`` response."""
    organic = []
    for i, p in enumerate(papers):
        item: dict[str, Any] = {
            "title": p.title,
            "link": p.url,
            "snippet": p.snippet,
            "publicationInfo": publication_info(p),
            "id": p.entity_id,
            "position": (page - 1) * num + i + 1,
        }
        # Tongyi-style renderers show only pdfUrl as the link; without one the model could not
        # open the paper, so the paper's page stands in (the reader serves it).
        item["pdfUrl"] = p.pdf_url or p.url
        if p.year is not None:
            item["year"] = p.year
        if p.cited_by is not None:
            item["citedBy"] = p.cited_by
        organic.append(item)
    params = {"q": query, "type": "scholar", "num": num, "page": page, "engine": "google-scholar"}
    return {"searchParameters": params, "organic": organic, "credits": 1}


def serper_maps(query: str, places: list[Place], *, num: int = 10, page: int = 1) -> dict[str, Any]:
    """A Serper ``/maps`` (places) response."""
    out = []
    for i, p in enumerate(places):
        item: dict[str, Any] = {
            "position": (page - 1) * num + i + 1,
            "title": p.title,
            "address": p.address,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "category": p.category,
            "type": p.category,
            "types": [p.category],
            "cid": p.cid,
            "placeId": p.place_id,
        }
        if p.rating is not None:
            item["rating"] = p.rating
        if p.rating_count is not None:
            item["ratingCount"] = p.rating_count
        if p.website:
            item["website"] = p.website
        if p.phone_number:
            item["phoneNumber"] = p.phone_number
        out.append(item)
    params = {"q": query, "type": "maps", "page": page, "engine": "google"}
    return {"searchParameters": params, "places": out, "credits": 3}


def route_json(route: Route) -> dict[str, Any]:
    """Our routing endpoint's response (Serper has no routing twin; see the server docs)."""
    return {
        "origin": {
            "name": route.origin,
            "latitude": route.origin_coordinates[0],
            "longitude": route.origin_coordinates[1],
        },
        "destination": {
            "name": route.destination,
            "latitude": route.destination_coordinates[0],
            "longitude": route.destination_coordinates[1],
        },
        "mode": route.mode,
        "distance_km": round(route.distance_km, 1),
        "duration_minutes": round(route.duration_min, 1),
    }


def jina_text(page: Page) -> str:
    """Jina Reader's plain-text response."""
    published = f"Published Time: {page.published}\n\n" if page.published else ""
    return (
        f"Title: {page.title}\n\nURL Source: {page.url}\n\n{published}"
        f"Markdown Content:\n{page.text}"
    )


def jina_json(page: Page, tokens: int) -> dict[str, Any]:
    """Jina Reader's JSON response (``Accept: application/json``)."""
    data: dict[str, Any] = {
        "title": page.title,
        "description": page.text[:200],
        "url": page.url,
        "content": page.text,
        "usage": {"tokens": tokens},
    }
    if page.published:
        data["publishedTime"] = page.published
    return {"code": 200, "status": 20000, "data": data}
