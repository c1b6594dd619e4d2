"""What the local search environment returns, independent of any wire format.

Backends (the tantivy index, the places and scholar stores, the sandbox) return these records;
the HTTP server, the MCP server and the agent's tools turn them into each peer's wire format or
into the text a model reads (``redsearcher.tools._render``). Keeping one record per concept is
what lets every API twin stay consistent with the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One ranked document for a web search."""

    doc_id: str
    url: str
    title: str
    snippet: str
    score: float
    kind: str
    published: str | None = None
    position: int | None = None
    """The 1-based rank a recorded engine gave this result (replay); None: its place in the
    list, counted from the page's start, as for every index hit."""


@dataclass(frozen=True, slots=True)
class Page:
    """A document as a reader returns it."""

    doc_id: str
    url: str
    title: str
    text: str
    kind: str
    published: str | None = None
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Paper:
    """A scholarly record as the scholar search returns it."""

    entity_id: str
    title: str
    url: str
    snippet: str
    authors: tuple[str, ...] = ()
    venue: str | None = None
    year: int | None = None
    cited_by: int | None = None
    pdf_url: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A place as the maps search returns it."""

    entity_id: str
    title: str
    address: str
    latitude: float
    longitude: float
    category: str
    cid: str
    place_id: str
    rating: float | None = None
    rating_count: int | None = None
    website: str | None = None
    phone_number: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A route between two resolved places (deterministic from their coordinates)."""

    origin: str
    destination: str
    mode: str
    distance_km: float
    duration_min: float
    origin_coordinates: tuple[float, float] = (0.0, 0.0)
    destination_coordinates: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of running model-written code in the sandbox."""

    status: str  # "Finished" | "TimeLimitExceeded" | "Error"
    return_code: int | None
    stdout: str
    stderr: str
    execution_time: float
    notes: tuple[str, ...] = field(default=())


class SearchEnvironment(Protocol):
    """The read side of a World as the tools see it.

    All methods are synchronous and fast; servers call them from a thread pool, off the event
    loop.
    """

    def search(self, query: str, k: int = 10, page: int = 1) -> list[SearchHit]:
        """BM25 (optionally hybrid) web search; ``page`` is 1-based."""
        ...

    def visit(self, url: str) -> Page | None:
        """The page at an obfuscated URL, or None when no such page exists."""
        ...

    def scholar(self, query: str, k: int = 10, page: int = 1) -> list[Paper]:
        """Scholarly search over papers (title, authors, venue)."""
        ...

    def places(self, query: str, k: int = 10, page: int = 1) -> list[Place]:
        """Places search (name, category, city)."""
        ...

    def route(self, origin: str, destination: str, mode: str = "driving") -> Route | None:
        """Distance and duration between two places or cities, by name; None if unresolved."""
        ...
