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

The model is any :class:`redsearcher.model.ChatModel`: the package's one chat client
(:class:`~redsearcher.model.OpenAIChatModel`, built from :class:`SummarizerConfig`), or an
in-process :class:`~redsearcher.testing.ScriptedModel` in tests. Transient failures (connection
errors, timeouts, 5xx, 429) are retried by that client's one retry loop; this module never
retries a transport failure itself, it only shrinks a prompt the model could not use.
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

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from redsearcher._util import AsyncClosing
from redsearcher.env import Page, jina_text
from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model import (
    ChatModel,
    ContextLengthExceeded,
    ModelConfig,
    ModelRequestError,
    ModelUnavailable,
    OpenAIChatModel,
    SamplingConfig,
)
from redsearcher.tools._visit import (
    Extract,
    ExtractiveSummarizer,
    Summarizer,
    VisitConfig,
    visit_counter,
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
    """The summarizer model refused or failed a request (after its client's transport retries).

    ``too_long`` is set when the model said the prompt does not fit its context window
    (:class:`~redsearcher.model.ContextLengthExceeded`): a shorter prompt may succeed where a
    retry of the same one cannot. The model's own exception is the ``__cause__``.
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


#: The longest delay between two transport retries of the summarizer's model client.
MAX_BACKOFF_S = 30.0

#: What a summarizer model may raise that the extractive fallback absorbs: a dead or refusing
#: endpoint must not cost an episode. ``ConfigError`` (a rejected key, an unknown model) is
#: included because the visit tool has no other way to surface it; the note names it.
_MODEL_FAILURES = (ModelUnavailable, ModelRequestError, ContextLengthExceeded, ConfigError)


class SummarizerConfig(BaseModel):
    """Where the LLM summarizer runs (section ``summarizer`` of the layered config).

    Its fields are the summarizer's own vocabulary (kept so existing config files load);
    :meth:`chat_config` turns them into the :class:`~redsearcher.model.ModelConfig` of
    the package's one chat client.
    """

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
    """Timeout of one HTTP request (connecting included)."""

    http_retries: int = Field(default=2, ge=0)
    """Retries of a request after a connection error, a timeout, a 5xx or a 429 (with backoff)."""

    backoff_s: float = Field(default=1.0, ge=0.0)
    """First backoff delay; doubled after each retry (``Retry-After`` headers win)."""

    prompt_version: str = EXTRACTOR_PROMPT_VERSION
    """Which ``visit_extractor`` prompt to use."""

    def chat_config(self, environ: dict[str, str] | None = None) -> ModelConfig:
        """The configuration of the summarizer's chat client.

        The key is read from ``environ`` (default: the process environment) now, so a missing
        key sends no header rather than ``EMPTY``. Only ``temperature`` and ``max_tokens`` are
        sent with the messages (no ``top_p``, no stop sequences), as this summarizer always did.
        """
        env = os.environ if environ is None else environ
        key = env.get(self.api_key_env) if self.api_key_env else None
        return ModelConfig(
            name=self.model,
            base_url=self.base_url,
            api_key=SecretStr(key) if key else None,
            protocol="native",
            sampling=SamplingConfig(
                temperature=self.temperature, top_p=None, max_tokens=self.max_output_tokens
            ),
            timeout_s=self.timeout_s,
            connect_timeout_s=self.timeout_s,
            max_retries=self.http_retries,
            backoff_s=self.backoff_s,
            max_backoff_s=MAX_BACKOFF_S,
        )


class LLMSummarizer(AsyncClosing):
    """A :class:`~redsearcher.tools._visit.Summarizer` backed by a chat model.

    Sends the extractor prompt as one user message with no tools through ``model`` and reads
    the JSON answer. Sampling (temperature, ``max_tokens``) is the model's own configuration:
    :meth:`from_config` builds an :class:`~redsearcher.model.OpenAIChatModel` with the
    summarizer's settings. Nothing touches the network until :meth:`summarize`.

    Args:
        model: The chat model, e.g. :class:`~redsearcher.model.OpenAIChatModel` or
            :class:`~redsearcher.testing.ScriptedModel`.
        prompt_version: Version of the ``visit_extractor`` prompt.
        fallback: Used when the model's output stays unusable or the model fails; defaults
            to :class:`~redsearcher.tools._visit.ExtractiveSummarizer`.
        owns_model: Close ``model`` in :meth:`aclose` (what :meth:`from_config` asks for; a
            model passed in is otherwise the caller's to close).
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        prompt_version: str = EXTRACTOR_PROMPT_VERSION,
        fallback: Summarizer | None = None,
        owns_model: bool = False,
    ) -> None:
        self.model = model
        self.prompt_version = prompt_version
        self.fallback: Summarizer = fallback or ExtractiveSummarizer()
        self._owns_model = owns_model

    @classmethod
    def from_config(
        cls, config: SummarizerConfig, *, environ: dict[str, str] | None = None
    ) -> LLMSummarizer:
        """A summarizer over an :class:`~redsearcher.model.OpenAIChatModel` built from ``config``.

        The key is read from ``environ`` (default: the process environment) now; the
        summarizer closes the model it made.
        """
        model = OpenAIChatModel(config.chat_config(environ))
        return cls(model, prompt_version=config.prompt_version, owns_model=True)

    async def aclose(self) -> None:
        """Close the model if this summarizer owns it (idempotent)."""
        if self._owns_model:
            await self.model.aclose()

    async def complete(self, prompt: str) -> str:
        """One completion of ``prompt`` as the only (user) message, no tools; its content.

        ``<think>`` reasoning is not part of the content (the model client splits it off).

        Raises:
            SummarizerError: when the model fails after its retries, refuses the request, or
                says the prompt is too long for it (``too_long``).
        """
        try:
            done = await self.model.complete([Message(role="user", content=prompt)], [])
        except _MODEL_FAILURES as err:
            too_long = isinstance(err, ContextLengthExceeded)
            message = f"the prompt is too long for the model: {err}" if too_long else str(err)
            raise SummarizerError(message, too_long=too_long) from err
        return done.message.content

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        """Summarize ``page`` for ``goal`` with the model; fall back to extractive on failure.

        The content (Jina's text rendering of the page) is cut to ``config.content_tokens``;
        each retry after unusable output, or after the model refused the prompt as too long
        for its context window, keeps ``config.shrink_factor`` of it (by characters).
        """
        counter = visit_counter(config)
        content = counter.truncate_text(jina_text(page), config.content_tokens)
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
