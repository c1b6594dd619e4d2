"""Goal-directed visit over HTTP: ``POST /visit`` with the Tongyi/DeepTraceHub tool arguments.

The tool's arguments are ``{"url": str | [str], "goal": str}``; the answer is the exact text
the peers' visit tool returns to the model (one visit block per URL, joined by the
``=======`` line), wrapped as ``{"result": text}``. The text is in the server's render style
(``ServerConfig.render_style``, ``tongyi`` by default) or the one the request names in its
optional ``render_style`` field, rendered by the same style objects as the in-process ``visit``
tool: an agent trained on DeepTraceHub's text gets DeepTraceHub's text here too. The peers'
clients send ``url`` and ``goal`` only, and get the configured style. The work is
``redsearcher.tools._visit.visit_pages`` (what ``goal_visit`` runs) with pages read through the
server's bounded thread pool; summaries are extractive offline, or an OpenAI-compatible model's
when the server is configured with one.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from redsearcher.env import Page
from redsearcher.errors import ConfigError
from redsearcher.server._state import (
    ServerState,
    State,
    bad_input,
    check_max,
    check_url,
    open_key,
)
from redsearcher.tools import RenderStyle, render_style, visit_pages

__all__ = ["VisitRequest", "open_summarizer", "router"]

router = APIRouter(dependencies=[Depends(open_key)], tags=["Visit"])


class VisitRequest(BaseModel):
    """The visit tool's arguments (Tongyi ``tool_visit.py``, DeepTraceHub)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    url: str | list[str]
    """One URL or a list of them (at most ``max_urls``, each at most ``MAX_URL_CHARS``)."""
    goal: str = Field(min_length=1)
    """What the agent wants to learn from the pages."""
    render_style: str | None = None
    """Ours, not the peers': the render style of the answer (``tongyi``, ``deeptracehub``);
    absent, the server's ``render_style``."""


def _style(body: VisitRequest, configured: str) -> RenderStyle:
    """The style ``body`` asks for, else the configured one; 400 naming the field if unknown."""
    if body.render_style is None:
        return render_style(configured)  # validated with the config
    try:
        return render_style(body.render_style)
    except ConfigError as err:
        raise bad_input("render_style", str(err)) from None


async def open_summarizer(state: ServerState, stack: AsyncExitStack) -> None:
    """Set the visit budgets and, when configured, an LLM summarizer closed with ``stack``."""
    state.visit_config = state.config.visit
    if state.config.summarizer is None:
        state.summarizer = None
        return
    from redsearcher.tools import LLMSummarizer

    summarizer = LLMSummarizer.from_config(state.config.summarizer)
    stack.push_async_callback(summarizer.aclose)
    state.summarizer = summarizer


@router.post(
    "/visit",
    summary="Goal-directed visit (Tongyi / DeepTraceHub visit tool)",
    description="`{result: text}`: per URL, `The useful information in {url} for user goal "
    "{goal} as follows: ...` with `Evidence in page:` and `Summary:`; an unknown page gives "
    "the fixed 'could not be accessed' block. Several URLs are joined by a `=======` line. "
    "The text is in the server's render style (`tongyi` by default), or in the one named by "
    "the optional `render_style` field (`tongyi`, `deeptracehub`).",
)
async def visit(body: VisitRequest, state: State) -> JSONResponse:
    """Goal-directed visit."""
    urls = [body.url] if isinstance(body.url, str) else body.url
    if not urls:
        raise bad_input("url", "give at least one URL")
    check_max("url", len(urls), state.config.max_urls)
    for i, url in enumerate(urls):
        check_url("url" if isinstance(body.url, str) else f"url[{i}]", url)
    check_max("goal (characters)", len(body.goal), state.config.max_query_chars)
    style = _style(body, state.config.render_style)
    env = state.environment

    async def fetch(url: str) -> Page | None:
        return await state.call(env.visit, url) if url.strip() else None

    outcomes = await visit_pages(
        fetch, urls, body.goal, config=state.visit_config, summarizer=state.summarizer
    )
    return JSONResponse({"result": style.join(o.render(style) for o in outcomes)})
