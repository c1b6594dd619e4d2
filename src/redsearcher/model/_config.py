"""How to reach and sample a chat model (section ``model`` of the layered config).

The message protocol is a configuration value, never guessed from the model's name: the same
Qwen checkpoint can be served with a tool parser (``native``) or without one (``text``), and
only the person deploying it knows which.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ModelConfig", "SamplingConfig"]

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _default_api_key() -> SecretStr:
    return SecretStr(os.environ.get("OPENAI_API_KEY") or "EMPTY")


class SamplingConfig(BaseModel):
    """Sampling parameters sent with every request (defaults: the paper's inference settings)."""

    model_config = _CONFIG

    temperature: float = Field(default=0.85, ge=0.0, le=2.0)
    """Sampling temperature (the paper uses 0.85 at inference)."""

    top_p: float | None = Field(default=0.95, gt=0.0, le=1.0)
    """Nucleus sampling mass (the paper uses 0.95); ``None`` does not send it, leaving the
    server's default (the visit summarizer never sent one)."""

    max_tokens: int | None = Field(default=None, ge=1)
    """``max_tokens`` of each answer; ``None`` leaves it to the server (which then allows the
    rest of the context window)."""

    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    """``presence_penalty``; ``None`` does not send it."""

    stop: list[str] = Field(default_factory=list)
    """Extra stop sequences, added to the protocol's own (the text protocol stops before a
    ``<tool_response>`` the model would otherwise invent)."""

    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Further request fields sent as they are (e.g. vLLM's ``top_k``, ``repetition_penalty``,
    ``chat_template_kwargs``); they override the fields above."""


class ModelConfig(BaseModel):
    """One OpenAI-compatible chat endpoint and how to sample it."""

    model_config = _CONFIG

    name: str = Field(min_length=1, validation_alias=AliasChoices("name", "model"))
    """Model name sent in each request (``model`` is accepted as an alias)."""

    base_url: str = Field(min_length=1)
    """OpenAI-compatible base URL, e.g. ``http://127.0.0.1:8000/v1``; requests go to
    ``{base_url}/chat/completions``."""

    api_key: SecretStr | None = Field(default_factory=_default_api_key)
    """Bearer token; defaults to ``$OPENAI_API_KEY`` when the config is built, else ``EMPTY``
    (what vLLM and SGLang accept when started without a key). ``None`` sends no
    ``Authorization`` header at all (a summarizer endpoint configured without a key)."""

    protocol: Literal["native", "text"] = "native"
    """How tool calls travel: ``native`` OpenAI ``tool_calls`` (the server parses them), or
    ``text``, the Qwen/Hermes ``<tool_call>`` protocol in the message text (Tongyi
    DeepResearch, DeepTraceHub). Chosen here, never from the model name."""

    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    """Sampling parameters."""

    timeout_s: float = Field(default=600.0, gt=0.0)
    """Timeout of one request; long reasoning answers take minutes."""

    connect_timeout_s: float = Field(default=10.0, gt=0.0)
    """Timeout of opening a connection (a dead server should fail fast and be retried)."""

    max_retries: int = Field(default=4, ge=0)
    """Retries after a connection error, a timeout, 408, 429 or 5xx, before
    :class:`~redsearcher.model.ModelUnavailable`."""

    backoff_s: float = Field(default=1.0, ge=0.0)
    """First retry delay, doubled per retry, with ±50% jitter (``Retry-After`` wins)."""

    max_backoff_s: float = Field(default=60.0, ge=0.0)
    """Upper bound of one retry delay, ``Retry-After`` included."""

    tokenizer: Path | None = None
    """A HuggingFace ``tokenizer.json`` for exact prompt counts (needs the ``tokenizers``
    package); ``None`` uses the documented estimate of :func:`~redsearcher.model.count_tokens`."""
