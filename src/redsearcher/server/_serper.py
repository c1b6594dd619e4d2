"""Serper's twin (``/search``, ``/scholar``, ``/maps``) and our routing endpoint (``/route``).

Request fields are Serper's, so Tongyi's ``tool_search.py``, DeepTraceHub's ``tools/search.py``
or any ``requests.post("https://google.serper.dev/search", ...)`` works by changing the base URL.
Responses are built only by ``redsearcher.env._wire``; this module adds what the builders do not
know about (Serper echoes ``location``, ``tbs`` and ``autocorrect`` in ``searchParameters``).
A JSON *list* of query objects is Serper's batch form and gets a list of responses. A batch
is bounded by its total query bytes and results, not by its length (``check_batch``), and a
long one is looked up in chunks (``ServerState.call_chunks``) so single searches interleave.

``organic[].date`` is Google's display form (``Sep 1, 2025``), as real Serper returns it, or
the World's ISO value: the server's ``serper_dates`` setting (``redsearcher.env._wire``).

``tbs`` (time filters) and ``location`` are accepted and echoed but do not filter: the World's
documents have publication dates only where their kind has one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from redsearcher.env import (
    SearchEnvironment,
    route_json,
    serper_maps,
    serper_scholar,
    serper_search,
)
from redsearcher.server._config import ServerConfig
from redsearcher.server._state import (
    ApiError,
    ServerState,
    State,
    check_batch,
    check_max,
    serper_key,
)

__all__ = [
    "LANES",
    "MapsQuery",
    "RouteQuery",
    "SerperQuery",
    "answer",
    "router",
]

router = APIRouter(dependencies=[Depends(serper_key)], tags=["Serper"])


class SerperQuery(BaseModel):
    """One Serper query (``/search`` and ``/scholar``). Unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    q: str = Field(min_length=1)
    """The query text."""
    num: int = Field(default=10, ge=1)
    """Results per page (at most the server's ``max_num``, 100 by default)."""
    page: int = Field(default=1, ge=1)
    """1-based page; positions continue across pages (page 2 of 10 starts at 11)."""
    gl: str = "us"
    """Country code; echoed in ``searchParameters``."""
    hl: str = "en"
    """Language code; echoed in ``searchParameters``."""
    location: str | None = None
    """Location name; echoed, does not filter."""
    tbs: str | None = None
    """Time filter such as ``qdr:y``; echoed, does not filter."""
    autocorrect: bool = True
    """Serper's spelling correction flag; echoed (queries are never rewritten)."""


class MapsQuery(BaseModel):
    """One Serper maps (places) query. Unknown fields (``ll``, ``location``) are ignored."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    q: str = Field(min_length=1)
    """What to look for: a place name, category or city."""
    page: int = Field(default=1, ge=1)
    """1-based page of places."""
    num: int = Field(default=10, ge=1)
    """Places per page (at most ``max_num``)."""


class RouteQuery(BaseModel):
    """A route between two places of the World, by name (our endpoint; Serper has none)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    origin: str = Field(min_length=1)
    """Where the route starts: a place or city name as the maps search knows it."""
    destination: str = Field(min_length=1)
    """Where the route ends: a place or city name."""
    mode: Literal["driving", "walking", "bicycling", "transit", "flying"] = "driving"
    """Travel mode; sets the speed model behind ``duration_minutes``."""


def _one_or_batch(value: Any) -> str:
    return "batch" if isinstance(value, list) else "single"


SearchInput = Annotated[
    Annotated[SerperQuery, Tag("single")] | Annotated[list[SerperQuery], Tag("batch")],
    Discriminator(_one_or_batch),
]
MapsInput = Annotated[
    Annotated[MapsQuery, Tag("single")] | Annotated[list[MapsQuery], Tag("batch")],
    Discriminator(_one_or_batch),
]
SearchBody = Annotated[
    SearchInput, Body(description="One query object, or a list of them (Serper's batch form).")
]
MapsBody = Annotated[MapsInput, Body(description="One maps query, or a list of them.")]

_SEARCH_DOC = (
    "Serper twin. Response: `searchParameters`, `organic[]` (`title`, `link`, `snippet`, "
    "1-based `position`, `date` when the page has one, in Google's form such as `Sep 1, 2025`) "
    "and `credits`. A list body gets a list."
)


def _batch(state: ServerState, body: Any) -> list[Any]:
    queries = body if isinstance(body, list) else [body]
    check_batch(state.config, "queries", [q.q for q in queries], [q.num for q in queries])
    for i, query in enumerate(queries):
        prefix = f"[{i}]." if isinstance(body, list) else ""
        check_max(f"{prefix}num", query.num, state.config.max_num)
        check_max(f"{prefix}page", query.page, state.config.max_page)
        check_max(f"{prefix}q (characters)", len(query.q), state.config.max_query_chars)
    return queries


def _echo(out: dict[str, Any], query: SerperQuery) -> dict[str, Any]:
    params = out["searchParameters"]
    for name in ("location", "tbs"):
        if getattr(query, name) is not None:
            params[name] = getattr(query, name)
    params["autocorrect"] = query.autocorrect
    return out


def _search_one(env: SearchEnvironment, q: SerperQuery, cfg: ServerConfig) -> dict[str, Any]:
    hits = env.search(q.q, q.num, q.page)
    out = serper_search(
        q.q,
        hits,
        num=q.num,
        page=q.page,
        gl=q.gl,
        hl=q.hl,
        date_style=cfg.serper_dates,
        now=cfg.serper_now,
    )
    return _echo(out, q)


def _scholar_one(env: SearchEnvironment, q: SerperQuery, cfg: ServerConfig) -> dict[str, Any]:
    return serper_scholar(q.q, env.scholar(q.q, q.num, q.page), num=q.num, page=q.page)


def _maps_one(env: SearchEnvironment, q: MapsQuery, cfg: ServerConfig) -> dict[str, Any]:
    return serper_maps(q.q, env.places(q.q, q.num, q.page), num=q.num, page=q.page)


async def answer(state: ServerState, body: Any, one: Callable[..., dict[str, Any]]) -> Any:
    """Answer a validated body (one query, or Serper's batch list) off the event loop.

    ``one(env, query, config)`` answers a single query; a batch gets a list of answers. A
    single query, or a short batch, is one thread-pool hop; a long batch is cut in chunks.
    """
    queries = _batch(state, body)
    env, cfg = state.environment, state.config
    results = await state.call_chunks(lambda chunk: [one(env, q, cfg) for q in chunk], queries)
    return results if isinstance(body, list) else results[0]


#: The endpoints the ASGI fast lane (``_fastlane``) may answer without FastAPI's routing and
#: dependency solving: path -> (the body's type, its answer). The routes below call the same
#: answers, so both paths give the same bytes.
LANES: dict[str, tuple[Any, Callable[..., dict[str, Any]]]] = {
    "/search": (SearchInput, _search_one),
    "/scholar": (SearchInput, _scholar_one),
    "/maps": (MapsInput, _maps_one),
}


@router.post("/search", summary="Web search (Serper /search)", description=_SEARCH_DOC)
async def search(body: SearchBody, state: State) -> JSONResponse:
    """Serper web search."""
    return JSONResponse(await answer(state, body, _search_one))


@router.post(
    "/scholar",
    summary="Scholar search (Serper /scholar)",
    description="Serper twin. `organic[]`: `title`, `link`, `pdfUrl`?, `snippet`, "
    "`publicationInfo`, `year`, `citedBy`, `id`, `position`.",
)
async def scholar(body: SearchBody, state: State) -> JSONResponse:
    """Serper scholar search."""
    return JSONResponse(await answer(state, body, _scholar_one))


@router.post(
    "/maps",
    summary="Places search (Serper /maps)",
    description="Serper twin. `places[]`: `title`, `address`, `latitude`, `longitude`, "
    "`rating`?, `ratingCount`?, `category`, `phoneNumber`?, `website`?, `cid`, `placeId`.",
)
async def maps(body: MapsBody, state: State) -> JSONResponse:
    """Serper maps (places) search."""
    return JSONResponse(await answer(state, body, _maps_one))


@router.post(
    "/route",
    summary="Route between two places (ours)",
    description="Distance and duration between two places or cities of the World, by name. "
    "Response: `origin`/`destination` (`name`, `latitude`, `longitude`), `mode`, "
    "`distance_km`, `duration_minutes`. An unresolved name gives 404 with a message.",
)
async def route(body: RouteQuery, state: State) -> JSONResponse:
    """Our routing endpoint (Serper has no routing twin)."""
    check_max("origin (characters)", len(body.origin), state.config.max_query_chars)
    check_max("destination (characters)", len(body.destination), state.config.max_query_chars)
    found = await state.call(state.environment.route, body.origin, body.destination, body.mode)
    if found is None:
        raise ApiError(
            404,
            f"no route: could not resolve origin {body.origin!r} or destination "
            f"{body.destination!r} to a place of this World (try the names /maps returns)",
        )
    return JSONResponse(route_json(found))
