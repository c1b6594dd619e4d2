r"""The open-source retrievers' twins: Search-R1, ASearcher and DeepTraceHub's local search.

Endpoints: ``/retrieve`` (Search-R1), ``/access`` (ASearcher), ``/local/search`` and
``/local/crawl`` (DeepTraceHub's ``LOCAL_SEARCH_URL``/``LOCAL_CRAWL_URL``).

These are what RL frameworks call during rollouts (verl's ``SearchTool``, slime's example,
ASearcher's local mode), so they answer in the exact shapes those clients index into:
``result[i][j]["document"]["contents"]`` with scores, ``result[i]["contents"]`` for pages, and
``synthesis_url``/``abstract`` for DeepTraceHub. ``contents`` follows wiki-18:
``"\"Title\"\ntext"``, the text cut to ``passage_chars``; with ``retrieve.passages: words``
the text is instead the page's best ~100-word window on one line (``_passages``), as in the
wiki-18 corpus itself.

A ``/retrieve`` batch has no count cap by default: Search-R1 sends every active trajectory's
query in one call (hundreds) and reads ``result`` without checking the status, so a 400 kills
its run. The batch is bounded by its query bytes and by queries x ``topk`` instead
(``check_batch``). The ranked hits and their page texts are looked up together, one thread
hop per chunk of 16 queries (``ServerState.call_chunks``), not one per query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from redsearcher.env import Page, SearchEnvironment, SearchHit
from redsearcher.server._config import ServerConfig
from redsearcher.server._passages import best_window
from redsearcher.server._state import State, check_batch, check_max, check_url, open_key

__all__ = [
    "AccessRequest",
    "CrawlRequest",
    "LocalSearchRequest",
    "RetrieveRequest",
    "lead",
    "router",
]

router = APIRouter(dependencies=[Depends(open_key)])

_ABSTRACT_WORDS = 100


class RetrieveRequest(BaseModel):
    """A Search-R1 retriever request (verl ``SearchTool``, slime, ASearcher local)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    queries: list[str]
    """Queries, answered in order. No count cap by default; the batch is bounded by
    ``max_batch_query_bytes`` (query text) and ``max_batch_results`` (queries x ``topk``)."""
    topk: int | None = Field(default=3, ge=1)
    """Passages per query (at most ``max_topk``); null means 3."""
    return_scores: bool = False
    """Wrap each passage as ``{"document": {...}, "score": float}``."""


class AccessRequest(BaseModel):
    """An ASearcher page-access request."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    urls: list[str]
    """Pages to fetch (at most ``max_urls``, each at most ``MAX_URL_CHARS``); unknown ones give
    ``null``."""


class LocalSearchRequest(BaseModel):
    """A DeepTraceHub local-search request (``LOCAL_SEARCH_URL``)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    query: str
    """The query text."""
    k: int = Field(default=10, ge=1)
    """Results to return (at most ``max_num``)."""


class CrawlRequest(BaseModel):
    """A DeepTraceHub crawl request (``LOCAL_CRAWL_URL``)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    url: str
    """The page to fetch (at most ``MAX_URL_CHARS``)."""


def lead(text: str, words: int = _ABSTRACT_WORDS) -> str:
    """A page's abstract: its first paragraph, at most ``words`` words."""
    first = next((p for p in text.split("\n") if p.strip()), "")
    parts = first.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _search(env: SearchEnvironment, query: str, k: int) -> list[tuple[SearchHit, Page | None]]:
    if not query.strip():
        return []
    return [(hit, env.visit(hit.url)) for hit in env.search(query, k, 1)]


def _passage(hit: SearchHit, page: Page | None, query: str, cfg: ServerConfig) -> dict[str, Any]:
    """One Search-R1 passage: the page text, or its best word window (``retrieve.passages``)."""
    text = page.text if page is not None else hit.snippet
    doc_id = hit.doc_id
    if cfg.retrieve.passages == "words":
        window = best_window(text, query, cfg.retrieve.passage_words)
        text, doc_id = window.text, f"{hit.doc_id}#{window.index}"
    contents = f'"{hit.title}"\n{text[: cfg.passage_chars]}'
    return {"id": doc_id, "contents": contents, "url": hit.url}


@router.post(
    "/retrieve",
    tags=["Search-R1"],
    summary="Passage retrieval (Search-R1 retriever)",
    description="Without scores: `{result: [[{id, contents, url}] per query]}`; with "
    "`return_scores`: `{result: [[{document: {id, contents, url}, score}]]}`. `contents` is "
    '`"\\"Title\\"\\ntext"` as in wiki-18 (in passage mode, one ~100-word window of the '
    "page). A batch has no count cap: it is bounded by its query bytes and queries x `topk`.",
)
async def retrieve(body: RetrieveRequest, state: State) -> JSONResponse:
    """Search-R1 retrieval."""
    cfg = state.config
    topk = body.topk or 3
    check_max("topk", topk, cfg.max_topk)
    check_batch(cfg, "queries", body.queries, [topk] * len(body.queries))
    for i, q in enumerate(body.queries):
        check_max(f"queries[{i}] (characters)", len(q), cfg.max_query_chars)
    env = state.environment

    def one(query: str) -> list[dict[str, Any]]:
        found = _search(env, query, topk)
        passages = [_passage(h, p, query, cfg) for h, p in found]
        if not body.return_scores:
            return passages
        return [
            {"document": d, "score": h.score} for d, (h, _) in zip(passages, found, strict=True)
        ]

    def run(queries: Sequence[str]) -> list[list[dict[str, Any]]]:
        return [one(query) for query in queries]

    return JSONResponse({"result": await state.call_chunks(run, body.queries)})


@router.post(
    "/access",
    tags=["ASearcher"],
    summary="Fetch pages (ASearcher access)",
    description="`{result: [{url, title, contents} | null per URL]}`.",
)
async def access(body: AccessRequest, state: State) -> JSONResponse:
    """ASearcher page access."""
    check_max("urls", len(body.urls), state.config.max_urls)
    for i, url in enumerate(body.urls):
        check_url(f"urls[{i}]", url)
    env = state.environment

    def run() -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for url in body.urls:
            page = env.visit(url) if url.strip() else None
            if page is None:
                out.append(None)
            else:
                out.append({"url": page.url, "title": page.title, "contents": page.text})
        return out

    return JSONResponse({"result": await state.call(run)})


@router.post(
    "/local/search",
    tags=["DeepTraceHub"],
    summary="Local search (DeepTraceHub LOCAL_SEARCH_URL)",
    description="A JSON list of `{id, title, text, abstract, synthesis_url, score}`; the "
    "client links `synthesis_url` and shows the first 40 words of `abstract`.",
)
async def local_search(body: LocalSearchRequest, state: State) -> JSONResponse:
    """DeepTraceHub local search."""
    cfg = state.config
    check_max("k", body.k, cfg.max_num)
    check_max("query (characters)", len(body.query), cfg.max_query_chars)
    env = state.environment

    def run() -> list[dict[str, Any]]:
        out = []
        for hit, page in _search(env, body.query, body.k):
            text = page.text if page is not None else hit.snippet
            item = {
                "id": hit.doc_id,
                "title": hit.title,
                "text": text[: cfg.passage_chars],
                "abstract": lead(text),
                "synthesis_url": hit.url,
                "score": hit.score,
            }
            out.append(item)
        return out

    return JSONResponse(await state.call(run))


@router.post(
    "/local/crawl",
    tags=["DeepTraceHub"],
    summary="Crawl a page (DeepTraceHub LOCAL_CRAWL_URL)",
    description="`{success: true, result: {url, title, snippet, content}}`; an unknown URL "
    "gives `{success: false, result: null, error}` with status 200, as the client expects.",
)
async def local_crawl(body: CrawlRequest, state: State) -> JSONResponse:
    """DeepTraceHub crawl."""
    check_url("url", body.url)
    env = state.environment
    page = await state.call(env.visit, body.url) if body.url.strip() else None
    if page is None:
        return JSONResponse({"success": False, "result": None, "error": f"no page at {body.url}"})
    result = {
        "url": page.url,
        "title": page.title,
        "snippet": lead(page.text),
        "content": page.text,
    }
    return JSONResponse({"success": True, "result": result})
