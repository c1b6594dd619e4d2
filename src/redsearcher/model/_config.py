"""How to reach and sample a chat model (section ``model`` of the layered config).

The message protocol is a configuration value, never guessed from the model's name: the same
Qwen checkpoint can be served with a tool parser (``native``) or without one (``text``), and
only the person deploying it knows which.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator

__all__ = ["ModelConfig", "SamplingConfig", "TokenConfig"]

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


class TokenConfig(BaseModel):
    """Token-exact episodes (``docs/rl.md``): the client keeps token ids, the server samples.

    The chat template is applied here, with the served model's own tokenizer, and each turn is
    sent as token ids to the server's raw completion endpoint, so the ids the policy read and
    generated are recorded exactly, with their log-probs, instead of re-tokenized from text.
    """

    model_config = _CONFIG

    tokenizer: Path | None = None
    """The served model's Hugging Face tokenizer directory (``tokenizer.json`` and
    ``tokenizer_config.json`` with its ``chat_template``); loaded offline with
    ``transformers`` (the ``rl`` extra). ``None`` only when the code that builds the client
    passes the tokenizer itself (``OpenAIChatModel(chat_template=...)``)."""

    api: Literal["vllm", "sglang"] = "vllm"
    """``vllm``: ``POST {base_url}/completions`` with a token-id ``prompt``, ``logprobs`` and
    ``return_token_ids``; ``sglang``: SGLang's native ``POST {root}/generate`` with
    ``input_ids`` and ``return_logprob`` (``{root}`` is ``base_url`` without ``/v1``)."""

    template_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra chat-template variables (e.g. ``{"enable_thinking": false}``)."""


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

    tokens: TokenConfig | None = None
    """Token-exact episodes for RL (``None``, the default: plain chat completions). Needs
    ``protocol: text`` (tool calls are read from the generated text on the client) and
    ``sampling.max_tokens`` (the raw endpoints' defaults are tiny)."""

    @model_validator(mode="after")
    def _tokens_need_text(self) -> ModelConfig:
        if self.tokens is not None and self.protocol != "text":
            raise ValueError(
                "tokens (token-exact episodes) needs protocol 'text': the raw completion "
                "endpoint returns text, and tool calls are parsed from it on the client"
            )
        if self.tokens is not None and self.sampling.max_tokens is None:
            raise ValueError(
                "tokens (token-exact episodes) needs sampling.max_tokens: the raw completion "
                "endpoints cut an answer at their own default (vLLM 16 tokens, SGLang 128)"
            )
        return self
