"""The LLM summarizer of goal-directed visits, over any OpenAI-compatible endpoint.

This is the peers' protocol (Tongyi ``tool_visit.py``, DeepTraceHub ``tools/summarizer.py``):
the page content, truncated to a token budget, goes to a model with the extractor prompt
(``prompts/visit_extractor.v1.txt``, versioned so trajectories can say which one produced their
text), and the model answers JSON ``{"rational", "evidence", "summary"}``. Output that does not
parse, or is too short, is retried with the content shrunk to 70%, a bounded number of times;
so is a prompt the endpoint refuses as longer than its context window (the token budget is an
estimate unless a tokenizer is configured, and the summarizing model's window may be small).

Where the peers then give the agent a fixed "could not be processed" text, we fall back to the
extractive result of :mod:`redsearcher.tools._visit` (real page text, no invention) and record why
in :attr:`~redsearcher.tools._visit.Extract.note`: a flaky summarizer should not cost an episode.

HTTP goes through ``httpx`` directly rather than the ``openai`` SDK, which is not a dependency
of the core; transient failures (connection errors, 5xx, 429) are retried with backoff by the
same helper the tools use.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from redsearcher._util._closing import AsyncClosing
from redsearcher._util._openai_errors import error_fields, is_context_length_error
from redsearcher.env._types import Page
from redsearcher.env._wire import jina_text
from redsearcher.tools._tools import ServiceUnavailable, send_with_retries
from redsearcher.tools._visit import (
    Extract,
    ExtractiveSummarizer,
    Summarizer,
    TokenCounter,
    VisitConfig,
)

__all__ = [
    "EXTRACTOR_PROMPT_VERSION",
    "LLMSummarizer",
    "SummarizerConfig",
    "SummarizerError",
    "build_extractor_prompt",
    "load_prompt",
    "parse_extractor_output",
]

logger = logging.getLogger(__name__)

#: The extractor prompt version used by default (``prompts/visit_extractor.<version>.txt``).
EXTRACTOR_PROMPT_VERSION = "v1"


class SummarizerError(Exception):
    """The summarizer endpoint refused or failed a request (after transport retries).

    ``too_long`` is set when the endpoint said the prompt does not fit its context window:
    a shorter prompt may succeed where a retry of the same one cannot.
    """

    def __init__(self, message: str, *, too_long: bool = False) -> None:
        super().__init__(message)
        self.too_long = too_long


@cache
def load_prompt(name: str, version: str = EXTRACTOR_PROMPT_VERSION) -> str:
    """The packaged prompt ``prompts/<name>.<version>.txt`` of ``redsearcher.env``.

    Raises:
        FileNotFoundError: for an unknown name or version.
    """
    path = resources.files("redsearcher.tools").joinpath("prompts", f"{name}.{version}.txt")
    return path.read_text(encoding="utf-8")


def build_extractor_prompt(
    content: str, goal: str, *, version: str = EXTRACTOR_PROMPT_VERSION
) -> str:
    """The extractor prompt for ``content`` and ``goal`` (plain substitution, no ``format``).

    The template's ``{webpage_content}`` and ``{goal}`` are replaced; other braces are kept, so
    page content with braces cannot break the template.
    """
    template = load_prompt("visit_extractor", version)
    head, _, tail = template.partition("{webpage_content}")
    return head.replace("{goal}", goal) + content + tail.replace("{goal}", goal)


_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def _field_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value if v.strip())
    return ""


def parse_extractor_output(raw: str, *, min_chars: int = 0) -> tuple[str, str]:
    """The ``(evidence, summary)`` of a model's extractor answer.

    Accepts bare JSON, JSON in a ````json`` fence, JSON surrounded by prose, and a leading
    ``<think>…</think>`` block. ``evidence``/``summary`` may be strings or lists of strings.

    Args:
        raw: The model's message content.
        min_chars: Evidence plus summary shorter than this is rejected as too short.

    Raises:
        ValueError: naming what is wrong (no JSON object, a missing field, too short).
    """
    text = _THINK.sub("", raw).strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the output")
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as err:
        raise ValueError(f"the JSON object does not parse: {err.msg}") from err
    if not isinstance(data, dict):
        raise ValueError("the JSON value is not an object")
    evidence, summary = _field_text(data.get("evidence")), _field_text(data.get("summary"))
    missing = [name for name, value in (("evidence", evidence), ("summary", summary)) if not value]
    if missing:
        raise ValueError(f"missing or empty field(s): {', '.join(missing)}")
    if len(evidence) + len(summary) < min_chars:
        raise ValueError(f"too short ({len(evidence) + len(summary)} < {min_chars} characters)")
    return evidence, summary


class SummarizerConfig(BaseModel):
    """Where the LLM summarizer runs (section ``summarizer`` of the layered config)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    base_url: str = Field(min_length=1)
    """OpenAI-compatible base URL, e.g. ``http://127.0.0.1:8000/v1`` (vLLM, SGLang, OpenAI)."""

    model: str = Field(min_length=1)
    """Model name sent in each request."""

    api_key_env: str | None = "OPENAI_API_KEY"
    """Environment variable holding the API key (read when the summarizer is built); ``None``
    or an unset variable sends no ``Authorization`` header."""

    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature of the summarizer model."""

    max_output_tokens: int | None = Field(default=None, ge=1)
    """``max_tokens`` of each request; ``None`` leaves it to the server."""

    timeout_s: float = Field(default=120.0, gt=0.0)
    """Timeout of one HTTP request."""

    http_retries: int = Field(default=2, ge=0)
    """Retries of a request after a connection error, a 5xx or a 429 (with backoff)."""

    backoff_s: float = Field(default=1.0, ge=0.0)
    """First backoff delay; doubled after each retry (``Retry-After`` headers win)."""

    prompt_version: str = EXTRACTOR_PROMPT_VERSION
    """Which ``visit_extractor`` prompt to use."""


class LLMSummarizer(AsyncClosing):
    """A :class:`~redsearcher.tools._visit.Summarizer` backed by an OpenAI-compatible chat model.

    Owns an ``httpx.AsyncClient`` made on first use (no I/O here); close it with
    :meth:`aclose` or ``async with``. Use it from one event loop.

    Args:
        base_url: OpenAI-compatible base URL (``…/v1``); requests go to
            ``{base_url}/chat/completions``.
        model: Model name.
        api_key: Bearer token, or ``None`` for none.
        temperature: Sampling temperature.
        max_output_tokens: ``max_tokens`` of each request (``None``: not sent).
        timeout_s: Timeout of one HTTP request.
        http_retries: Retries after a connection error, 5xx or 429.
        backoff_s: First backoff delay, doubled per retry.
        prompt_version: Version of the ``visit_extractor`` prompt.
        fallback: Used when the model's output stays unusable or the endpoint fails; defaults
            to :class:`~redsearcher.tools._visit.ExtractiveSummarizer`.
        transport: An ``httpx`` transport (tests, proxies).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        temperature: float = 0.7,
        max_output_tokens: int | None = None,
        timeout_s: float = 120.0,
        http_retries: int = 2,
        backoff_s: float = 1.0,
        prompt_version: str = EXTRACTOR_PROMPT_VERSION,
        fallback: Summarizer | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.temperature = temperature
        self.max_output_tokens = max_output_tokens
        self.timeout_s = timeout_s
        self.http_retries = http_retries
        self.backoff_s = backoff_s
        self.prompt_version = prompt_version
        self.fallback: Summarizer = fallback or ExtractiveSummarizer()
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_config(
        cls, config: SummarizerConfig, *, environ: dict[str, str] | None = None
    ) -> LLMSummarizer:
        """Build one from a :class:`SummarizerConfig` (the key is read from the environment)."""
        env = os.environ if environ is None else environ
        key = env.get(config.api_key_env) if config.api_key_env else None
        return cls(
            config.base_url,
            config.model,
            key or None,
            temperature=config.temperature,
            max_output_tokens=config.max_output_tokens,
            timeout_s=config.timeout_s,
            http_retries=config.http_retries,
            backoff_s=config.backoff_s,
            prompt_version=config.prompt_version,
        )

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def complete(self, prompt: str) -> str:
        """One chat completion of ``prompt`` as the user message; the answer's content.

        Raises:
            SummarizerError: when the endpoint fails after retries, answers an error status,
                or answers something that is not a chat completion.
        """
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self.timeout_s)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
        }
        if self.max_output_tokens is not None:
            body["max_tokens"] = self.max_output_tokens
        request = self._client.build_request("POST", self.url, json=body, headers=self._headers)
        try:
            response = await send_with_retries(
                self._client, request, retries=self.http_retries, backoff_s=self.backoff_s
            )
        except ServiceUnavailable as err:
            raise SummarizerError(str(err)) from err
        if response.status_code != 200:
            message, code = error_fields(response)
            raise SummarizerError(
                f"HTTP {response.status_code}: {message[:200]}",
                too_long=is_context_length_error(response.status_code, message, code),
            )
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise SummarizerError(f"not a chat completion: {response.text[:200]}") from err
        return content if isinstance(content, str) else ""

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        """Summarize ``page`` for ``goal`` with the model; fall back to extractive on failure.

        The content (Jina's text rendering of the page) is cut to ``config.content_tokens``;
        each retry after unusable output, or after the endpoint refused the prompt as too long
        for its context window, keeps ``config.shrink_factor`` of it (by characters).
        """
        counter = TokenCounter.from_config(config)
        content = counter.truncate(jina_text(page), config.content_tokens)
        problem = ""
        for attempt in range(config.summarizer_attempts):
            if attempt:
                content = content[: int(len(content) * config.shrink_factor)]
            prompt = build_extractor_prompt(content, goal, version=self.prompt_version)
            try:
                raw = await self.complete(prompt)
            except SummarizerError as err:
                if not err.too_long or attempt + 1 == config.summarizer_attempts:
                    return await self._fall_back(page, goal, config, f"summarizer failed: {err}")
                problem = str(err)
                logger.debug("summarizer attempt %d for %s: %s", attempt + 1, page.url, problem)
                continue
            try:
                evidence, summary = parse_extractor_output(raw, min_chars=config.min_output_chars)
            except ValueError as err:
                problem = str(err)
                logger.debug("summarizer attempt %d for %s: %s", attempt + 1, page.url, problem)
                continue
            return Extract(evidence, summary, "llm")
        reason = (
            f"summarizer output unusable after {config.summarizer_attempts} attempt(s): {problem}"
        )
        return await self._fall_back(page, goal, config, reason)

    async def _fall_back(self, page: Page, goal: str, config: VisitConfig, reason: str) -> Extract:
        logger.warning("visit %s: %s; using the fallback summarizer", page.url, reason)
        extract = await self.fallback.summarize(page, goal, config)
        note = reason if extract.note is None else f"{reason}; {extract.note}"
        return replace(extract, note=note)
