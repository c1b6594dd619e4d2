"""The trajectory record: what one episode of the agent did, as the run log stores it.

One typed record that the rollout runner writes, and evaluation, SFT/RL export and resume read,
so no consumer re-derives anything from free text. Messages are kept exactly as the model saw
them in the episode's protocol (native tool calls, or the Qwen/Hermes text protocol), because an
SFT sample must reproduce the model's context token for token.

Long-horizon context management (discard-all, §2.3 of the paper) splits an episode into
*segments*: each segment is one context window, from the prompt to the point where history was
dropped (or the episode ended). Each segment is a training sample of its own; the trajectory
keeps all of them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Message",
    "Segment",
    "Termination",
    "ToolCallRecord",
    "Trajectory",
    "TrajectoryProvenance",
    "Usage",
]

Termination = Literal["answer", "max_turns", "max_tool_calls", "context_limit", "error"]
"""Why an episode ended: the model answered; the turn or tool-call limit was reached; the
context window was full (and the strategy could not make room); an unrecoverable error."""

_RECORD = ConfigDict(extra="forbid")


class Message(BaseModel):
    """One chat message as sent to or received from the model (OpenAI chat schema)."""

    model_config = _RECORD

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    """Native tool calls of an assistant message, in the OpenAI wire shape."""
    tool_call_id: str | None = None
    """Set on ``tool`` messages answering a native tool call."""
    reasoning: str | None = None
    """Reasoning text the server returned separately (``reasoning_content``), if any."""
    train: bool = False
    """Whether SFT trains on this message: model turns yes, prompts and observations never."""


class ToolCallRecord(BaseModel):
    """One tool call of the episode and what came back."""

    model_config = _RECORD

    id: str
    """The call id (native protocol) or a generated one (text protocol)."""
    turn: int
    """The 0-based assistant turn that made the call."""
    segment: int
    """The segment the call belongs to."""
    name: str
    arguments: dict[str, Any] | str
    """Parsed arguments, or the raw text when the model wrote invalid JSON."""
    output: str
    """The text the model read back (a tool error's message included)."""
    error: bool = False
    """True when the tool reported a :class:`~redsearcher.tools.ToolError` to the model."""
    latency_s: float = 0.0


class Segment(BaseModel):
    """One context window of the episode: the messages the model saw, in order."""

    model_config = _RECORD

    index: int
    messages: list[Message]
    """From the system prompt to the last message of this window."""
    first_turn: int
    """The first assistant turn in this segment (0-based over the whole episode)."""
    end: Literal["discarded", "final"]
    """``discarded`` when the context strategy dropped the history here; ``final`` for the last."""


class Usage(BaseModel):
    """Token and call counts of the episode (as the server reported them, else estimated)."""

    model_config = _RECORD

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    """True when any count came from the tokenizer or estimate, not from the server."""


class TrajectoryProvenance(BaseModel):
    """Where an episode came from: enough to reproduce or to refuse mixing incompatible runs."""

    model_config = _RECORD

    model: str
    protocol: str
    """``native`` or ``text``."""
    endpoint: str | None = None
    """The base URL that served the episode (the last one, if it moved after a failure)."""
    world_hash: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    """The agent and sampling configuration, as dumped."""
    redsearcher_version: str = ""
    started_at: str = ""
    """ISO-8601 UTC start time."""


class Trajectory(BaseModel):
    """One episode of the agent on one task."""

    model_config = _RECORD

    schema_version: int = 1
    id: str
    """``{task_id}#{sample}``: the run log's key (resume skips ids already written)."""
    task_id: str
    sample: int
    question: str
    answers: list[str] = Field(default_factory=list)
    segments: list[Segment]
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    prediction: str | None = None
    """The final answer, or None when the episode ended without one."""
    termination: Termination
    error: str | None = None
    """What went wrong, when ``termination == "error"``."""
    turns: int = 0
    usage: Usage = Field(default_factory=Usage)
    duration_s: float = 0.0
    score: float | None = None
    """1.0 / 0.0 from a scorer; None means unscored (never "incorrect")."""
    provenance: TrajectoryProvenance
    text_repairs: int = Field(default=0, ge=0, exclude_if=lambda count: count == 0)
    """How many lone surrogates (text like ``\\ud800`` that the model wrote and UTF-8 cannot
    carry) were replaced with U+FFFD so the record stays UTF-8 JSON. Written only when not 0,
    so records without repairs read as they always did."""

    @property
    def messages(self) -> list[Message]:
        """The last context window's messages (the whole episode when nothing was discarded)."""
        return self.segments[-1].messages if self.segments else []

    @property
    def failed_tool_calls(self) -> int:
        """How many tool calls came back as tool errors."""
        return sum(1 for call in self.tool_calls if call.error)
