"""Jina Reader's twin: ``POST /`` with ``{"url"}`` and ``GET /{url}``, text or JSON.

Tongyi's and DeepTraceHub's readers call ``https://r.jina.ai/{url}``; pointing them at this
server's base URL is the whole migration. ``Accept: application/json`` selects Jina's JSON
envelope (``code``, ``status``, ``data``); anything else gets Jina's text rendering. Both are
built by ``redsearcher.env._wire``.

A URL with no page in the World is answered like Jina answers a page it cannot load: HTTP 422
with ``{"data": null, "code": 422, "name": "AssertionFailureError", "status": 42206, "message",
"readableMessage"}`` in JSON, or the ``readableMessage`` line as text. A ``GET`` path that is not
URL-like at all (``/foo``) is an unknown route and gets 404 instead.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from redsearcher.env import Page, jina_json, jina_text
from redsearcher.server._guard import looks_like_url
from redsearcher.server._state import ApiError, ServerState, State, check_url, serper_key

__all__ = ["ReaderRequest", "page_candidates", "router"]

router = APIRouter(tags=["Jina Reader"])

_CHARS_PER_TOKEN = 4


class ReaderRequest(BaseModel):
    """A Jina Reader request body. Unknown fields (Jina's options) are ignored."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    url: str = Field(min_length=1)
    """The page to read, with or without ``https://`` (at most ``MAX_URL_CHARS``)."""


def page_candidates(url: str) -> list[str]:
    """The URLs to try for a reader path: as given, then with ``https://``/``http://``.

    Also repairs a scheme whose double slash a proxy collapsed (``https:/host`` -> ``https://``).
    """
    url = url.strip()
    for scheme in ("https:/", "http:/"):
        if url.startswith(scheme) and not url.startswith(scheme + "/"):
            url = scheme + "/" + url[len(scheme) :]
    if "://" in url:
        return [url]
    bare = url.lstrip("/")
    return [f"https://{bare}", f"http://{bare}", bare]


def _tokens(page: Page) -> int:
    return math.ceil(len(page.text) / _CHARS_PER_TOKEN)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "").lower()


async def _read(url: str, request: Request, state: ServerState) -> Response:
    check_url("url", url)
    env = state.environment

    def lookup() -> Page | None:
        for candidate in page_candidates(url):
            page = env.visit(candidate)
            if page is not None:
                return page
        return None

    page = await state.call(lookup)
    if page is None:
        message = f"Failed to goto {url}: no page at this URL in the World"
        readable = f"AssertionFailureError: {message}"
        if _wants_json(request):
            body = {
                "data": None,
                "code": 422,
                "name": "AssertionFailureError",
                "status": 42206,
                "message": message,
                "readableMessage": readable,
            }
            return JSONResponse(body, status_code=422)
        return PlainTextResponse(readable, status_code=422)
    if _wants_json(request):
        return JSONResponse(jina_json(page, _tokens(page)))
    return PlainTextResponse(jina_text(page))


_DOC = (
    "Jina Reader twin. Text by default (`Title:`, `URL Source:`, `Published Time:`?, "
    "`Markdown Content:`); with `Accept: application/json` the envelope "
    "`{code: 200, status: 20000, data: {title, description, url, content, publishedTime?, "
    "usage: {tokens}}}`. Unknown URL: 422 with Jina's `AssertionFailureError` shape."
)


@router.get("/", summary="What this server is", response_class=PlainTextResponse)
async def index() -> PlainTextResponse:
    """A one-paragraph description with a pointer to the OpenAPI spec."""
    return PlainTextResponse(
        "redsearcher local search environment: Serper (/search, /scholar, /maps), /route, "
        "Jina Reader (POST / or GET /{url}), Search-R1 /retrieve, ASearcher /access, "
        "DeepTraceHub /local/search and /local/crawl, SandboxFusion /run_code, /visit, "
        "/health, /metrics. OpenAPI spec: /openapi.json\n"
    )


@router.post(
    "/",
    summary="Read a page (Jina Reader, POST)",
    description=_DOC,
    dependencies=[Depends(serper_key)],
    responses={200: {"content": {"text/plain": {}, "application/json": {}}}},
)
async def read_post(body: ReaderRequest, request: Request, state: State) -> Response:
    """Jina Reader, body form."""
    return await _read(body.url, request, state)


@router.get(
    "/{url:path}",
    summary="Read a page (Jina Reader, GET)",
    description=_DOC + " The page's URL follows the slash, with or without scheme.",
    dependencies=[Depends(serper_key)],
    responses={200: {"content": {"text/plain": {}, "application/json": {}}}},
)
async def read_get(url: str, request: Request, state: State) -> Response:
    """Jina Reader, path form (the query string belongs to the page's URL)."""
    if not looks_like_url(url):
        raise ApiError(404, f"Not Found: no route GET /{url}")
    if request.url.query:
        url = f"{url}?{request.url.query}"
    return await _read(url, request, state)


@router.api_route(
    "/{path:path}",
    methods=["POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def unknown(path: str, request: Request) -> Response:
    """Unknown routes are 404 (not 405, which the reader's catch-all GET would cause)."""
    raise ApiError(404, f"Not Found: no route {request.method} /{path}")
