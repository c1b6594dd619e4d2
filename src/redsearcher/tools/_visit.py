"""Goal-directed visit: pages plus the agent's goal in, goal-focused evidence out.

Deep-search agents do not read raw pages: the Tongyi and DeepTraceHub harnesses send each page
with the agent's goal to a summarizer LLM and give the agent back ``evidence`` and ``summary``
(rendered by :func:`redsearcher.tools._render.render_visit`). Trajectories and SFT data carry that
text, so the local environment renders the same blocks.

Offline there is no summarizer model, so the default is **extractive**: the page is split into
passages (sentences within paragraphs), the passages are ranked against the goal with BM25
(:mod:`redsearcher.tools._bm25`), and the best ones, in page order and within a token budget,
are the evidence; the summary is the top one or two passages. It is deterministic, needs no
network, and never invents text — which also makes it the fallback of the LLM summarizer
(:mod:`redsearcher.tools._summarizer`) when the model's output is unusable.

Tokens are counted by the model package's one counter (:class:`redsearcher.model.TokenCounter`):
its documented estimate (``ceil(ascii_chars / 3.5) + non_ascii_chars``), or exact counts with a
``tokenizers`` file (``VisitConfig.tokenizer_file``), the same rule the agent sizes its prompts
with.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from redsearcher.env import Page, SearchEnvironment
from redsearcher.model import TokenCounter
from redsearcher.tools._backends import ServiceDown
from redsearcher.tools._bm25 import BM25, tokenize
from redsearcher.tools._render import join_blocks
from redsearcher.tools._render_styles import RenderStyle, TongyiStyle

__all__ = [
    "Extract",
    "ExtractiveSummarizer",
    "PageFetcher",
    "Passage",
    "Summarizer",
    "VisitConfig",
    "VisitOutcome",
    "extract_passages",
    "goal_visit",
    "split_passages",
    "visit_counter",
    "visit_pages",
]

logger = logging.getLogger(__name__)


class VisitConfig(BaseModel):
    """Budgets and knobs of a goal-directed visit (section ``visit`` of the layered config)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    content_tokens: int = Field(default=16_000, ge=64)
    """Token budget of the page content sent to an LLM summarizer; longer pages are cut first."""

    evidence_tokens: int = Field(default=800, ge=16)
    """Token budget of the extractive evidence (the selected passages together)."""

    max_passages: int = Field(default=8, ge=1)
    """At most this many passages form the extractive evidence."""

    summary_passages: int = Field(default=2, ge=1, le=5)
    """The extractive summary is the best passage plus up to ``summary_passages - 1`` more that
    score at least half as well as the best."""

    passage_tokens: int = Field(default=96, ge=8)
    """Longest passage: a sentence longer than this is cut into word windows of this size."""

    summarizer_attempts: int = Field(default=3, ge=1, le=10)
    """LLM summarizer calls per page; each retry after unparsable or too-short output first
    shrinks the content to ``shrink_factor`` of its length. Then the extractive result is used."""

    shrink_factor: float = Field(default=0.7, gt=0.0, lt=1.0)
    """Fraction of the content kept on each summarizer retry (0.7, as the Tongyi harness)."""

    min_output_chars: int = Field(default=20, ge=0)
    """LLM output whose evidence plus summary is shorter than this counts as too short."""

    max_concurrency: int = Field(default=4, ge=1)
    """Pages of one multi-URL visit read and summarized at the same time."""

    bm25_k1: float = Field(default=1.5, ge=0.0)
    """BM25 term-frequency saturation for ranking passages."""

    bm25_b: float = Field(default=0.75, ge=0.0, le=1.0)
    """BM25 length normalization for ranking passages."""

    tokenizer_file: Path | None = None
    """A HuggingFace ``tokenizer.json`` to count tokens exactly (needs the ``tokenizers``
    package); ``None`` uses the model package's estimate
    (:func:`redsearcher.model.estimate_text_tokens`)."""

    @model_validator(mode="after")
    def _passages_fit_budget(self) -> VisitConfig:
        if self.passage_tokens > self.evidence_tokens:
            raise ValueError(
                f"passage_tokens ({self.passage_tokens}) must not exceed evidence_tokens "
                f"({self.evidence_tokens}), or no passage could be shown"
            )
        return self


# -- token counting --------------------------------------------------------------------------


def visit_counter(config: VisitConfig) -> TokenCounter:
    """The token counter ``config`` asks for: exact with ``tokenizer_file``, else the estimate.

    A fresh counter per visit: it remembers the counts of the texts it saw, and a visit's
    candidate passages are not worth keeping once the visit is done. The tokenizer file itself
    is loaded once per process.

    Raises:
        ImportError: if ``tokenizer_file`` is set and ``tokenizers`` is not installed.
    """
    return TokenCounter.from_file(config.tokenizer_file)


# -- passages --------------------------------------------------------------------------------

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space, except after a
# single capital initial ("M. Velden"); every line break inside a paragraph also ends one, so
# Markdown lists and headings become passages of their own.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Z]\.)[\"')\]]*\s+|\s*\n\s*")


@dataclass(frozen=True, slots=True)
class Passage:
    """A sentence (or a window of a long one) of a page, with where it sits."""

    index: int
    """Position among the page's passages."""
    paragraph: int
    """Index of the paragraph it belongs to."""
    text: str
    """The passage text, whitespace-trimmed."""


def split_passages(text: str, *, max_tokens: int, counter: TokenCounter) -> list[Passage]:
    """Split ``text`` into passages: paragraphs (blank lines), then sentences and lines.

    A sentence longer than ``max_tokens`` is cut into consecutive word windows that each fit.

    Args:
        text: The page text.
        max_tokens: Longest passage.
        counter: How tokens are counted.

    Returns:
        The passages in page order; empty for blank text.
    """
    out: list[Passage] = []
    for p, paragraph in enumerate(_PARAGRAPH_BREAK.split(text)):
        for sentence in _SENTENCE_BREAK.split(paragraph):
            sentence = sentence.strip()
            if not sentence:
                continue
            for piece in _windows(sentence, max_tokens, counter):
                out.append(Passage(len(out), p, piece))
    return out


def _windows(sentence: str, max_tokens: int, counter: TokenCounter) -> list[str]:
    if counter.count_text(sentence) <= max_tokens:
        return [sentence]
    pieces: list[str] = []
    current: list[str] = []
    for word in sentence.split():
        candidate = " ".join([*current, word])
        if current and counter.count_text(candidate) > max_tokens:
            pieces.append(" ".join(current))
            current = [word]
        else:
            current.append(word)
    if current:
        pieces.append(" ".join(current))
    # A single word longer than the budget is cut, so every piece fits.
    return [counter.truncate_text(piece, max_tokens) for piece in pieces]


def _join(passages: Sequence[Passage]) -> str:
    """Passages in page order: neighbours of one paragraph share a line, others get their own."""
    text = ""
    previous: Passage | None = None
    for passage in passages:
        if previous is None:
            text = passage.text
        elif passage.paragraph == previous.paragraph and passage.index == previous.index + 1:
            text += " " + passage.text
        else:
            text += "\n" + passage.text
        previous = passage
    return text


# -- extracts and summarizers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extract:
    """What a summarizer found in one page for the goal."""

    evidence: str
    """Goal-relevant text from the page (verbatim passages for the extractive method)."""
    summary: str
    """A short statement of what the page says about the goal."""
    method: Literal["extractive", "llm"]
    """Who produced it."""
    note: str | None = None
    """Why the result is not what was asked for, e.g. an LLM summarizer's fallback reason."""


def extract_passages(text: str, goal: str, config: VisitConfig | None = None) -> Extract:
    """The extractive evidence and summary of ``text`` for ``goal`` (BM25 over its passages).

    Evidence: the passages matching the goal, best first until ``max_passages`` or
    ``evidence_tokens`` is reached, shown in page order. Summary: the best passage, plus the
    next ones (up to ``summary_passages``) that score at least half as well, in page order.
    When no passage shares a word with the goal, the page's opening passages stand in and
    :attr:`Extract.note` says so.

    Args:
        text: The page text.
        goal: The agent's goal for this visit.
        config: Budgets; defaults to ``VisitConfig()``.

    Returns:
        The extract (``method="extractive"``); empty evidence and summary for blank text.
    """
    config = config or VisitConfig()
    counter = visit_counter(config)
    passages = split_passages(text, max_tokens=config.passage_tokens, counter=counter)
    if not passages:
        return Extract("", "", "extractive", note="the page has no text")
    bm25 = BM25([tokenize(p.text) for p in passages], k1=config.bm25_k1, b=config.bm25_b)
    scores = bm25.scores(tokenize(goal))
    note = None
    ranked = [i for i in sorted(range(len(passages)), key=lambda i: (-scores[i], i)) if scores[i]]
    if not ranked:
        ranked = list(range(len(passages)))
        note = "no passage matches the goal; the page's opening is shown"
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if len(chosen) == config.max_passages:
            break
        cost = counter.count_text(passages[i].text)
        if used + cost <= config.evidence_tokens:
            chosen.append(i)
            used += cost
    best = scores[ranked[0]]
    runners_up = ranked[1 : config.summary_passages] if best > 0 else []
    summary_ids = [ranked[0], *(i for i in runners_up if scores[i] >= best / 2)]
    return Extract(
        evidence=_join([passages[i] for i in sorted(chosen)]),
        summary=_join([passages[i] for i in sorted(summary_ids)]),
        method="extractive",
        note=note,
    )


class Summarizer(Protocol):
    """Turns a page and a goal into an :class:`Extract` (extractive, or an LLM)."""

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        """Find what ``page`` says about ``goal`` within ``config``'s budgets."""
        ...


class ExtractiveSummarizer:
    """The offline summarizer: :func:`extract_passages` over the page text (no model).

    Runs in a worker thread: a long page takes tens of milliseconds of pure Python, which
    would stall a server's event loop.
    """

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        """The extractive :class:`Extract` of ``page`` for ``goal``."""
        return await asyncio.to_thread(extract_passages, page.text, goal, config)


# -- visiting --------------------------------------------------------------------------------

PageFetcher = Callable[[str], Awaitable[Page | None]]
"""Reads one URL: the page, or ``None`` when it cannot be read."""


@dataclass(frozen=True, slots=True)
class VisitOutcome:
    """One URL of a visit: what was extracted, or ``None`` when the page could not be read."""

    url: str
    goal: str
    extract: Extract | None
    unavailable: str | None = None
    """Why the page was not read when the reader service was down (:class:`ServiceDown`'s
    text): an outage, not a missing page, which the visit tool reports as a tool error."""

    def render(self, style: RenderStyle | None = None) -> str:
        """The block the model reads for this URL, in ``style`` (default ``tongyi``).

        The one rendering of a visit outcome: the ``visit`` tool, ``goal_visit`` and the
        server's ``/visit`` all call it, so they cannot drift apart.
        """
        if self.unavailable is not None:
            return f"The page {self.url} was not read: {self.unavailable}"
        style = style if style is not None else TongyiStyle()
        if self.extract is None:
            return style.visit_failed(self.url, self.goal)
        return style.visit(self.url, self.goal, self.extract.evidence, self.extract.summary)


async def visit_pages(
    fetch: PageFetcher,
    urls: Sequence[str],
    goal: str,
    *,
    config: VisitConfig | None = None,
    summarizer: Summarizer | None = None,
) -> list[VisitOutcome]:
    """Read each URL with ``fetch`` and summarize it for ``goal``, in ``urls`` order.

    Pages are handled concurrently (at most ``config.max_concurrency`` at once). A page that
    ``fetch`` cannot read, or whose text is blank, gives an outcome without extract; one that
    ``fetch`` could not ask for because the reader stayed down (it raised :class:`ServiceDown`)
    also says so in :attr:`VisitOutcome.unavailable`.

    Args:
        fetch: Reads one URL (from an in-process environment, or over HTTP).
        urls: The URLs, as the agent gave them.
        goal: The agent's goal.
        config: Budgets; defaults to ``VisitConfig()``.
        summarizer: Defaults to :class:`ExtractiveSummarizer`.

    Returns:
        One outcome per URL.
    """
    config = config or VisitConfig()
    summarizer = summarizer or ExtractiveSummarizer()
    gate = asyncio.Semaphore(config.max_concurrency)

    async def one(url: str) -> VisitOutcome:
        async with gate:
            try:
                page = await fetch(url)
            except ServiceDown as err:
                return VisitOutcome(url, goal, None, unavailable=str(err))
            if page is None or not page.text.strip():
                return VisitOutcome(url, goal, None)
            extract = await summarizer.summarize(page, goal, config)
            if extract.note:
                logger.info("visit %s: %s (%s)", url, extract.note, extract.method)
            return VisitOutcome(url, goal, extract)

    return list(await asyncio.gather(*(one(url) for url in urls)))


async def goal_visit(
    env: SearchEnvironment,
    urls: list[str],
    goal: str,
    *,
    config: VisitConfig | None = None,
    summarizer: Summarizer | None = None,
) -> str:
    """Visit ``urls`` of ``env`` for ``goal`` and return the text the model reads.

    The default summarizer is extractive (BM25-ranked passages of the page, no model); pass an
    :class:`~redsearcher.tools._summarizer.LLMSummarizer` for the peers' LLM summaries. Pages
    are read with ``env.visit`` in a worker thread, so the event loop stays free.

    Args:
        env: The environment whose pages are read.
        urls: The URLs to read.
        goal: What the agent wants from the pages.
        config: Budgets; defaults to ``VisitConfig()``.
        summarizer: Defaults to :class:`ExtractiveSummarizer`.

    Returns:
        One ``render_visit`` block per URL (``render_visit_failed`` for unknown pages),
        joined with the ``=======`` separator line.
    """

    async def fetch(url: str) -> Page | None:
        return await asyncio.to_thread(env.visit, url)

    outcomes = await visit_pages(fetch, urls, goal, config=config, summarizer=summarizer)
    return join_blocks(outcome.render() for outcome in outcomes)
