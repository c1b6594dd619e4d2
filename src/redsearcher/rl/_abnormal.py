"""The paper's abnormal-sample filter: repetition, excessive length, frequent tool failures.

Appendix A: "we filter out abnormal samples that exhibit repetition, excessive length, or
frequent tool call failures. These samples still participate in advantage computation but are
excluded from gradient updates." So this filter never changes a reward or a group's statistics;
it only says which samples get loss weight 0 (see ``_batch``). The paper gives no thresholds;
ours are below, each a setting with a documented default:

- *repetition*: the share of the response's word n-grams that repeat an earlier n-gram of the
  same response (``1 - distinct / total``). A degenerate loop ("the the the …", the same
  paragraph again and again) drives it towards 1; ordinary prose and search-agent reasoning
  stay well under ½. Judged only on responses with at least ``min_ngrams`` n-grams, because a
  short answer cannot be "repetitive" in a meaningful way. Token ids may be given instead of
  text (then n-grams of token ids).
- *length*: more response tokens than ``max_response_tokens`` (off by default: set it to the
  trainer's response budget), or a response the rollout cut off (``truncated``, when
  ``mask_truncated``; DAPO's overlong filtering).
- *tool failures*: the share of tool calls that failed is above ``max_tool_failure_rate``, for
  episodes with at least ``min_tool_calls`` calls (one failed call of two is not "frequent").

Inputs are plain numbers and text (:class:`SampleStats`), so any trainer's sample can be
checked; :func:`trajectory_stats` makes them from one of our trajectories.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.log import Trajectory

__all__ = [
    "AbnormalConfig",
    "AbnormalReason",
    "SampleStats",
    "abnormal_reasons",
    "repeated_ngram_share",
    "trajectory_stats",
]

AbnormalReason = Literal["repetition", "length", "truncated", "tool_failures"]
"""Why a sample is masked out of the loss."""


class AbnormalConfig(BaseModel):
    """Thresholds of the abnormal-sample filter (Appendix A; the paper gives no numbers)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Apply the filter at all (off: every scored sample is trained on)."""
    ngram: int = Field(default=4, ge=1)
    """Length of the n-grams repetition is measured on (words, or token ids)."""
    max_repeated_ngram_share: float = Field(default=0.5, gt=0.0, le=1.0)
    """A response whose share of repeated n-grams exceeds this is repetitive."""
    min_ngrams: int = Field(default=32, ge=1)
    """Responses with fewer n-grams are never judged repetitive."""
    max_response_tokens: int | None = Field(default=None, ge=1)
    """More response tokens than this is excessive length (``None``: not checked; set it to
    the trainer's response budget)."""
    mask_truncated: bool = True
    """Mask responses the rollout cut off at a limit (DAPO's overlong filtering)."""
    max_tool_failure_rate: float = Field(default=0.5, ge=0.0, le=1.0)
    """A failed share of tool calls above this is frequent tool failure."""
    min_tool_calls: int = Field(default=4, ge=1)
    """Episodes with fewer tool calls are never judged for tool failures."""


class SampleStats(BaseModel):
    """What the filter looks at in one sample: plain values any trainer has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = None
    """The policy's own text (all assistant turns), for the repetition check."""
    token_ids: list[int] | None = None
    """The policy's response token ids; used for repetition instead of ``text`` when given."""
    response_tokens: int = Field(default=0, ge=0)
    """Response (policy) tokens, for the length check."""
    truncated: bool = False
    """The rollout cut the response off at a length or turn limit."""
    tool_calls: int = Field(default=0, ge=0)
    tool_failures: int = Field(default=0, ge=0)


def repeated_ngram_share(items: Sequence[object], n: int) -> tuple[float, int]:
    """The share of ``n``-grams of ``items`` that repeat an earlier one, and the n-gram count.

    ``"a b a b a b"`` with ``n=2`` has n-grams ``ab ba ab ba ab``: 2 distinct of 5, share 0.6.
    """
    grams = [tuple(items[i : i + n]) for i in range(len(items) - n + 1)]
    if not grams:
        return 0.0, 0
    return 1.0 - len(set(grams)) / len(grams), len(grams)


def abnormal_reasons(stats: SampleStats, config: AbnormalConfig | None = None) -> list[str]:
    """Why ``stats`` describes an abnormal sample (empty: a normal one).

    Returns:
        The reasons (see :data:`AbnormalReason`), in a fixed order.
    """
    config = config or AbnormalConfig()
    if not config.enabled:
        return []
    reasons: list[str] = []
    items: Sequence[object] | None = stats.token_ids
    if items is None and stats.text is not None:
        items = stats.text.split()
    if items is not None:
        share, count = repeated_ngram_share(items, config.ngram)
        if count >= config.min_ngrams and share > config.max_repeated_ngram_share:
            reasons.append("repetition")
    if config.max_response_tokens is not None and stats.response_tokens > (
        config.max_response_tokens
    ):
        reasons.append("length")
    if config.mask_truncated and stats.truncated:
        reasons.append("truncated")
    if (
        stats.tool_calls >= config.min_tool_calls
        and stats.tool_failures / stats.tool_calls > config.max_tool_failure_rate
    ):
        reasons.append("tool_failures")
    return reasons


#: Terminations where the rollout, not the policy, ended the response.
_TRUNCATED = frozenset({"context_limit", "max_turns", "max_tool_calls"})


def trajectory_stats(trajectory: Trajectory) -> SampleStats:
    """The filter's inputs from one of our trajectories.

    The text is everything the policy wrote (reasoning and content of every assistant message,
    all segments: a thinking model loops in its reasoning first); the response length
    is the completion tokens the server reported (or estimated); a trajectory that ended at a
    limit (context, turns, tool calls) *without* an answer counts as truncated (one that gave
    the answer it was asked for at the limit finished its response).
    """
    text = "\n".join(
        part
        for s in trajectory.segments
        for m in s.messages
        if m.role == "assistant"
        for part in (m.reasoning, m.content)
        if part
    )
    return SampleStats(
        text=text,
        response_tokens=trajectory.usage.completion_tokens,
        truncated=trajectory.termination in _TRUNCATED and trajectory.prediction is None,
        tool_calls=len(trajectory.tool_calls),
        tool_failures=sum(c.error for c in trajectory.tool_calls),
    )
