"""``MidtrainSample``: one mid-training example, whatever generator made it.

One record for all four kinds keeps the output, bucketing, deduplication and decontamination
code kind-agnostic. Messages carry a per-message loss weight because observations (documents,
tool responses) must never be trained on; ``answer_entities`` and ``evidence_docs`` are what
decontamination compares against held-out task sets.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Kind", "MidtrainMessage", "MidtrainSample", "Stage"]

Kind = Literal["grounding", "planning", "tools", "trajectories"]
Stage = Literal["I", "II"]


class MidtrainMessage(BaseModel):
    """One chat message; ``loss_weight`` is 1.0 only on assistant text the model should learn."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    loss_weight: float = Field(default=0.0, ge=0.0, le=1.0)
    name: str | None = None
    """The tool's name, on ``tool`` messages."""
    tool_calls: list[dict[str, Any]] | None = None
    """OpenAI-style tool calls, on assistant messages that call tools."""
    tool_call_id: str | None = None


class MidtrainSample(BaseModel):
    """A mid-training example (one line of a kind's ``samples.jsonl``)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    id: str
    """Deterministic for (World, kind, seed, index): resume skips ids already written."""
    kind: Kind
    stage: Stage
    messages: list[MidtrainMessage] = Field(default_factory=list)
    text: str | None = None
    """Plain text for continued pre-training, when the kind has one."""
    question: str | None = None
    """The query the sample answers (compared with held-out questions for n-gram overlap)."""
    answer_entities: list[str] = Field(default_factory=list)
    evidence_docs: list[str] = Field(default_factory=list)
    tokens: int = Field(default=0, ge=0)
    """Token count from the package's one token counter (``redsearcher.model.TokenCounter``)."""
    source: dict[str, Any] = Field(default_factory=dict)
    """World hash, task id, generator version, and whether an LLM rewrote it (and which)."""
