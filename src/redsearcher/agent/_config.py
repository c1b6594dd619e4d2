"""How an episode runs (section ``agent`` of the layered config).

Validated once, up front: an unknown context strategy, bad strategy parameters, a missing
prompt version or an unknown render style fail when the config is built, not hours into a
rollout.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redsearcher.agent._context import build_strategy
from redsearcher.agent._prompts import PROMPT_NAMES, PROMPT_VERSION, load_prompt
from redsearcher.errors import ConfigError
from redsearcher.tools import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_RENDER_STYLE,
    DEFAULT_TOOLS,
    render_style,
)

__all__ = ["AgentConfig", "ContextConfig"]

_CONFIG = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ContextConfig(BaseModel):
    """When and how the context is managed."""

    model_config = _CONFIG

    strategy: str = "discard_all"
    """A registered context strategy: ``discard_all`` (the paper's, §2.3), ``keep_last_k``,
    ``rollback_answer`` (the paper's inference setting), ``none``."""

    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    """The strategy acts when the next prompt reaches this fraction of ``context_window``; the
    rest is room for the answer."""

    params: dict[str, Any] = Field(default_factory=dict)
    """The strategy's parameters, e.g. ``{"k": 5}`` for ``keep_last_k``."""

    use_server_usage: bool = True
    """Correct the prompt count with the server's reported ``prompt_tokens`` of the previous
    request (exact, where the local count is an estimate)."""

    @model_validator(mode="after")
    def _known_strategy(self) -> ContextConfig:
        try:
            build_strategy(self.strategy, self.params)
        except ConfigError as err:
            raise ValueError(str(err)) from err
        return self


class AgentConfig(BaseModel):
    """The limits, context management and prompts of the ReAct loop."""

    model_config = _CONFIG

    max_turns: int = Field(default=100, ge=1)
    """Model calls (assistant turns) before the episode ends with ``max_turns``; nudged turns
    count, the final forced answer does not."""

    max_tool_calls: int | None = Field(default=None, ge=1)
    """Tool calls run before the episode ends with ``max_tool_calls`` (``None``: no limit).
    Calls of a turn beyond the limit are not run; the model reads that they were not."""

    answer_at_limit: bool = True
    """At ``max_turns`` or ``max_tool_calls``, ask once for a final answer (the paper forces
    one at its turn cap); the termination stays the limit's, with the answer as prediction."""

    max_nudges: int = Field(default=1, ge=0)
    """Consecutive replies with neither a tool call nor an answer that get a reminder; one more
    ends the episode with ``error``."""

    context_window: int = Field(default=32768, ge=1)
    """The model's context window in tokens (the paper runs 128K: ``131072``)."""

    context: ContextConfig = Field(default_factory=ContextConfig)
    """Context management."""

    tools: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOLS))
    """The tools offered to the model, in order; each must be in the episode's toolbox."""

    max_attachment_bytes: int = Field(default=DEFAULT_MAX_ATTACHMENT_BYTES, ge=0)
    """Bound on a task's attachment files together (``Task.attachments``); a task over it ends
    with ``error`` naming the file. The default is what the default sandbox accepts in one
    run; raise it only with the sandbox's ``max_files_bytes`` (and, through our server, its
    ``max_body_bytes``)."""

    tool_timeout_s: float | None = Field(default=600.0, gt=0.0)
    """A tool call running longer gets a timeout message as its result (``None``: no bound;
    the tools' own services have their timeouts too)."""

    render_style: str = DEFAULT_RENDER_STYLE
    """How tool results read to the model: a registered render style, ``tongyi`` (Tongyi
    DeepResearch's text) or ``deeptracehub`` (DeepTraceHub's: web results numbered from 0,
    "Publication Info:" scholar labels, indented maps fields). Trajectories and SFT data carry
    this text, so match the harness a model was trained with, or whose runs you compare with."""

    tool_response_role: Literal["user", "tool"] = "user"
    """Text protocol only: role of ``<tool_response>`` messages (``user`` as Tongyi
    DeepResearch, ``tool`` as DeepTraceHub)."""

    answer_extraction: Literal["tag", "tag_or_text"] = "tag"
    """``tag``: only ``<answer>…</answer>`` ends the episode; ``tag_or_text``: a reply with no
    tool call and no tag is itself the answer (for models that answer in plain text)."""

    prompt_version: str = PROMPT_VERSION
    """Version of the packaged prompts (``prompts/<name>.<version>.txt``)."""

    system_prompt_file: Path | None = None
    """A text file replacing the packaged system prompt."""

    current_date: str | None = None
    """Appended to the system prompt as ``Current date: …``; ``None`` keeps prompts
    reproducible."""

    @property
    def token_limit(self) -> int:
        """Prompt tokens at which the context strategy acts.

        ``threshold × context_window`` rounded up, after rounding off float noise (``0.07 * 100``
        is ``7.000000000000001``, which must not make the limit 8).
        """
        return math.ceil(round(self.context.threshold * self.context_window, 6))

    @field_validator("render_style")
    @classmethod
    def _known_style(cls, value: str) -> str:
        try:
            render_style(value)
        except ConfigError as err:
            raise ValueError(str(err)) from err
        return value

    @model_validator(mode="after")
    def _prompts_exist(self) -> AgentConfig:
        try:
            for name in PROMPT_NAMES:
                load_prompt(name, self.prompt_version)
        except ConfigError as err:
            raise ValueError(str(err)) from err
        return self
