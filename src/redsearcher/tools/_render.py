"""Tool results as the text a model reads: one renderer for the server, MCP and the agent.

Renders from the *wire* JSON (Serper, SandboxFusion shapes), not from our records, so an agent
pointed at the real services and one pointed at the local environment see identical text — and
SFT data built from either carries the same rendering. Strings follow Tongyi DeepResearch's
harness (``inference/tool_search.py``, ``tool_scholar.py``, ``tool_visit.py``); maps and routes,
which Tongyi lacks, are this package's own in the same manner. These are the ``tongyi`` render
style; ``deeptracehub`` is :mod:`redsearcher.tools._render_deeptracehub`, and
:mod:`redsearcher.tools._render_styles` picks between them per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SEPARATOR = "\n=======\n"
VISIT_FAILED_EVIDENCE = (
    "The provided webpage content could not be accessed. Please check the URL or file format."
)
VISIT_FAILED_SUMMARY = (
    "The webpage content could not be processed, and therefore, no information is available."
)


def join_blocks(blocks: Iterable[str]) -> str:
    """Join per-query (or per-URL) blocks with the ``=======`` line the peers use."""
    return SEPARATOR.join(blocks)


def no_results(query: str) -> str:
    """What a search with no hits renders to."""
    return f"No results found for '{query}'. Try with a more general query."


def render_search(query: str, response: Mapping[str, Any]) -> str:
    """A Serper ``/search`` response as Markdown web results."""
    organic = response.get("organic") or []
    if not organic:
        return no_results(query)
    items = []
    for i, page in enumerate(organic, 1):
        date = f"\nDate published: {page['date']}" if page.get("date") else ""
        source = f"\nSource: {page['source']}" if page.get("source") else ""
        snippet = f"\n{page['snippet']}" if page.get("snippet") else ""
        items.append(f"{i}. [{page['title']}]({page['link']}){date}{source}\n{snippet}")
    return (
        f"A Google search for '{query}' found {len(items)} results:\n\n## Web Results\n"
        + "\n\n".join(items)
    )


def render_scholar(query: str, response: Mapping[str, Any]) -> str:
    """A Serper ``/scholar`` response as Markdown scholar results."""
    organic = response.get("organic") or []
    if not organic:
        return no_results(query)
    items = []
    for i, paper in enumerate(organic, 1):
        link = f"pdfUrl: {paper['pdfUrl']}" if paper.get("pdfUrl") else "no available link"
        info = (
            f"\npublicationInfo: {paper['publicationInfo']}" if paper.get("publicationInfo") else ""
        )
        year = f"\nDate published: {paper['year']}" if paper.get("year") is not None else ""
        cited = f"\ncitedBy: {paper['citedBy']}" if paper.get("citedBy") is not None else ""
        snippet = f"\n{paper['snippet']}" if paper.get("snippet") else ""
        items.append(f"{i}. [{paper['title']}]({link}){info}{year}{cited}\n{snippet}")
    return (
        f"A Google scholar for '{query}' found {len(items)} results:\n\n## Scholar Results\n"
        + "\n\n".join(items)
    )


def render_places(query: str, response: Mapping[str, Any]) -> str:
    """A Serper ``/maps`` response as Markdown place results."""
    places = response.get("places") or []
    if not places:
        return no_results(query)
    items = []
    for i, p in enumerate(places, 1):
        lines = [f"{i}. **{p['title']}**"]
        if p.get("category") or p.get("type"):
            lines.append(f"Category: {p.get('category') or p.get('type')}")
        if p.get("address"):
            lines.append(f"Address: {p['address']}")
        if p.get("rating") is not None:
            count = f" ({p['ratingCount']} reviews)" if p.get("ratingCount") is not None else ""
            lines.append(f"Rating: {p['rating']}{count}")
        if p.get("phoneNumber"):
            lines.append(f"Phone: {p['phoneNumber']}")
        if p.get("website"):
            lines.append(f"Website: {p['website']}")
        lines.append(f"Coordinates: {p['latitude']}, {p['longitude']}")
        if p.get("placeId"):
            lines.append(f"Place ID: {p['placeId']}")
        items.append("\n".join(lines))
    return (
        f"A Google Maps search for '{query}' found {len(items)} results:\n\n## Places Results\n"
        + "\n\n".join(items)
    )


def render_route(response: Mapping[str, Any]) -> str:
    """Our routing response as one line."""
    o, d = response["origin"], response["destination"]
    return (
        f"Route from {o['name']} to {d['name']} by {response['mode']}: "
        f"{response['distance_km']} km, about {response['duration_minutes']:g} minutes."
    )


def render_visit(url: str, goal: str, evidence: str, summary: str) -> str:
    """A goal-directed visit result."""
    return (
        f"The useful information in {url} for user goal {goal} as follows: \n\n"
        f"Evidence in page: \n{evidence}\n\nSummary: \n{summary}\n\n"
    )


def render_visit_failed(url: str, goal: str) -> str:
    """The fixed text for a page that could not be read."""
    return render_visit(url, goal, VISIT_FAILED_EVIDENCE, VISIT_FAILED_SUMMARY)
