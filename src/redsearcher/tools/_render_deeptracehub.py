"""Tool results as DeepTraceHub's harness shows them to a model (the ``deeptracehub`` style).

DeepTraceHub (``RedSearchAgent/DeepTraceHub``) is the harness REDSearcher's released
trajectories come from, and its formatters differ from Tongyi's in ways a trained model notices:
web results are numbered from 0 (its ``SerpEntry.rank``), scholar results carry ``Publication
Info:`` / ``Cited by:`` / ``Snippet:`` labels and fall back to the paper's link, maps results say
"found N places" with fields indented by three spaces, and every multi-block answer is
``strip()``-ed after joining. Relative Serper dates ("3 days ago") are made absolute against the
caller's clock, as its ``convert_date`` does. These functions reproduce those strings from the
same Serper wire JSON the Tongyi renderers read (:mod:`redsearcher.tools._render`); where each
string comes from is listed in ``tests/fixtures/render/README.md``.

Where DeepTraceHub reads a field with ``dict.get`` and a truthiness test, so do these functions,
so a missing, empty or zero field disappears exactly as it does there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from redsearcher.tools._render import SEPARATOR

__all__ = [
    "absolute_date",
    "join_blocks",
    "no_results",
    "render_places",
    "render_scholar",
    "render_search",
]

#: DeepTraceHub removes this YouTube boilerplate from web and scholar snippets.
_VIDEO_BOILERPLATE = "Your browser can't play this video."

_RELATIVE = re.compile(
    r"(\d+)\s+(hour|hours|day|days|week|weeks|month|months|year|years)\s+ago", re.IGNORECASE
)

# ``strftime("%b")`` in the C/English locale the peer runs under; spelled out so the output does
# not depend on this process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def absolute_date(text: Any, now: datetime) -> Any:
    """Serper's relative ``date`` ("3 days ago") as DeepTraceHub's absolute form.

    Hours, days and weeks give ``Mon DD, YYYY`` (day zero-padded), months ``Mon, YYYY``, years
    ``YYYY``. Anything else (an absolute date, "1 minute ago") comes back stripped of surrounding
    whitespace; a value that is not a non-empty string comes back unchanged.

    Args:
        text: The ``date`` field as Serper sent it.
        now: The moment "ago" counts from (DeepTraceHub uses the local time of the call).
    """
    if not text or not isinstance(text, str):
        return text
    text = text.strip()
    match = _RELATIVE.match(text)
    if match is None:
        return text
    amount, unit = int(match.group(1)), match.group(2).lower().removesuffix("s")
    if unit in ("hour", "day", "week"):
        try:
            then = now - timedelta(**{f"{unit}s": amount})
        except OverflowError:  # "99999999 days ago": the peer's call fails; keep the text
            return text
        return f"{_MONTHS[then.month - 1]} {then.day:02d}, {then.year}"
    if unit == "month":
        # Only the month and year are shown, so clamping the day (as relativedelta does) is moot.
        months = now.year * 12 + now.month - 1 - amount
        return f"{_MONTHS[months % 12]}, {months // 12}"
    return str(now.year - amount)


def join_blocks(blocks: Iterable[str]) -> str:
    """Per-query (or per-URL) blocks joined by the ``=======`` line, then stripped."""
    return SEPARATOR.join(blocks).strip()


def no_results(query: str) -> str:
    """What a scholar search with no hits renders to (web search has no such text)."""
    return f"No results found for '{query}'. Try with a more general query."


def render_search(query: str, response: Mapping[str, Any], *, now: datetime) -> str:
    """A Serper ``/search`` response as DeepTraceHub's web results, numbered from 0.

    No hits still give the header ("found 0 results"), as DeepTraceHub never special-cases them.
    """
    items = []
    for rank, page in enumerate(response.get("organic") or []):
        date = page.get("date", "")
        source = page.get("source", "")
        snippet = page.get("snippet", "")
        date_line = f"\nDate published: {absolute_date(date, now)}" if date != "" else ""
        source_line = f"\nSource: {source}" if source != "" else ""
        snippet_line = f"\n{snippet}" if snippet != "" else ""
        item = (
            f"{rank}. [{page.get('title', '')}]({page.get('link', '')})"
            f"{date_line}{source_line}\n{snippet_line}"
        )
        items.append(item.replace(_VIDEO_BOILERPLATE, ""))
    return (
        f"A Google search for '{query}' found {len(items)} results:\n\n## Web Results\n"
        + "\n\n".join(items)
    )


def render_scholar(query: str, response: Mapping[str, Any]) -> str:
    """A Serper ``/scholar`` response as DeepTraceHub's scholar results."""
    organic = response.get("organic") or []
    if not organic:
        return no_results(query)
    items = []
    for i, paper in enumerate(organic, 1):
        if paper.get("pdfUrl"):
            link = f"pdfUrl: {paper['pdfUrl']}"
        elif paper.get("link"):
            link = f"link: {paper['link']}"
        else:
            link = "no available link"
        info = paper.get("publicationInfo")
        info = f"\nPublication Info: {info}" if info else ""
        year = f"\nDate published: {paper['year']}" if paper.get("year") else ""
        cited = f"\nCited by: {paper['citedBy']}" if paper.get("citedBy") else ""
        snippet = f"\nSnippet: {paper['snippet']}" if paper.get("snippet") else ""
        item = f"{i}. [{paper.get('title', '')}]({link}){info}{year}{cited}{snippet}"
        items.append(item.replace(_VIDEO_BOILERPLATE, ""))
    return (
        f"A Google Scholar search for '{query}' found {len(items)} results:\n\n"
        "## Scholar Results\n" + "\n\n".join(items)
    )


def render_places(query: str, response: Mapping[str, Any]) -> str:
    """A Serper ``/maps`` response as DeepTraceHub's place results (fields indented 3 spaces)."""
    places = response.get("places") or []
    if not places:
        return f"No results found for '{query}'. Try with a different query."
    items = []
    for i, p in enumerate(places, 1):
        text = f"{i}. **{p.get('title', '')}**"
        if p.get("category"):
            text += f"\n   Category: {p['category']}"
        if p.get("address"):
            text += f"\n   Address: {p['address']}"
        if p.get("rating") is not None:
            text += f"\n   Rating: {p['rating']}"
            if p.get("ratingCount"):
                text += f" ({p['ratingCount']} reviews)"
        if p.get("phoneNumber"):
            text += f"\n   Phone: {p['phoneNumber']}"
        if p.get("website"):
            text += f"\n   Website: {p['website']}"
        if p.get("latitude") is not None and p.get("longitude") is not None:
            text += f"\n   Coordinates: ({p['latitude']}, {p['longitude']})"
        if p.get("placeId"):
            text += f"\n   Place ID: {p['placeId']}"
        items.append(text)
    return (
        f"A Google Maps search for '{query}' found {len(items)} places:\n\n## Places Results\n"
        + "\n\n".join(items)
    )
