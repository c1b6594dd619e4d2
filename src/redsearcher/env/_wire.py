"""Records -> the JSON shapes of the services agent code already calls.

Field names follow ``shared/reference/wire-formats.md`` exactly (Serper search/scholar/maps,
Jina Reader). The server, the MCP server and tests build responses only through these
functions, so every twin of an API answers in one consistent shape.

Dates: real Serper returns Google's display form in ``organic[].date`` (``Sep 1, 2025``, or
``3 days ago`` for a recent page), not ISO; :func:`google_date` writes that form from the
World's ``published`` value. A World has no clock, so the relative forms appear only against
a reference "now" the caller supplies. Month names are a fixed English table, never the
locale's (``strftime("%b")`` would follow ``LC_TIME``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from redsearcher.env._types import Page, Paper, Place, Route, SearchHit

#: ``google``: Google's display form (``Sep 1, 2025``); ``iso``: the World's value unchanged.
DateStyle = Literal["google", "iso"]

#: Google's month abbreviations (``Sep``, not ``Sept``).
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Pages published less than this before "now" get a relative date, as on Google.
RELATIVE_SPAN = timedelta(days=7)

_YEAR = re.compile(r"\d{4}")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _parse_date(value: str) -> datetime | None:
    """An ISO 8601 date or date-time, or an RFC 2822 one (Jina's ``publishedTime``)."""
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _ago(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'} ago"


def google_date(published: str, now: datetime | None = None) -> str:
    """``published`` in the form Google shows, and Serper returns, under a result.

    ``2025-09-01`` (or a date-time, or an RFC 2822 date) -> ``Sep 1, 2025``; a year-month
    ``2025-09`` -> ``Sep 2025``; a bare year stays as it is. With ``now``, a moment in the
    ``RELATIVE_SPAN`` before it becomes ``N minutes ago`` (at least 1), ``N hours ago`` or
    ``N days ago``; a date without a time counts from the start of its day, and a value
    without a timezone (``now`` too) is UTC. Anything else, such as a date already in Google's
    form, is returned unchanged.

    Args:
        published: The page's publication date as the World stores it.
        now: The reference moment of relative dates; None gives absolute dates only.

    Returns:
        The display form.
    """
    text = published.strip()
    if _YEAR.fullmatch(text):
        return text
    year_month = _YEAR_MONTH.fullmatch(text)
    if year_month:
        month = int(year_month[2])
        return f"{MONTHS[month - 1]} {year_month[1]}" if 1 <= month <= 12 else published
    moment = _parse_date(text)
    if moment is None:
        return published
    if now is not None:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        seconds = (reference - aware).total_seconds()
        if 0 <= seconds < RELATIVE_SPAN.total_seconds():
            if seconds < 3600:
                return _ago(max(1, int(seconds // 60)), "minute")
            if seconds < 86400:
                return _ago(int(seconds // 3600), "hour")
            return _ago(int(seconds // 86400), "day")
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def serper_date(published: str, style: DateStyle = "google", now: datetime | None = None) -> str:
    """The ``date`` of a Serper result in ``style`` (see :data:`DateStyle`)."""
    return google_date(published, now) if style == "google" else published


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
    date_style: DateStyle = "google",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A Serper ``/search`` response; ``position`` is 1-based across pages.

    ``date_style`` and ``now`` shape each result's ``date`` (:func:`serper_date`): Google's
    form by default, as real Serper answers, so the in-process tools (``LocalBackend``) read
    like the HTTP server with its default ``serper_dates``.
    """
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
            "position": h.position if h.position is not None else (page - 1) * num + i + 1,
        }
        if h.published:
            item["date"] = serper_date(h.published, date_style, now)
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
