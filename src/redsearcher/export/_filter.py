"""The SFT post-filter of §6.1: correct, clean, one trajectory per question.

The paper keeps, for supervised fine-tuning, only trajectories whose final answer is correct;
drops those with "a substantial number of failed action and tool response" so the model does
not imitate broken behaviour; and keeps one trajectory per question for diversity. The paper
gives no number for "substantial", so both an absolute and a relative bound are configurable
(a trajectory is dropped when it exceeds either).

Correctness is the trajectory's ``score`` when one was recorded, else the rule match of
:func:`redsearcher.eval.exact_match` against its reference answers; a trajectory that cannot be
checked (no reference answers) is dropped as ``unverifiable``, never kept on trust.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.eval import exact_match
from redsearcher.log import Trajectory

__all__ = ["SFTFilterConfig", "SFTFilterResult", "sft_filter"]


class SFTFilterConfig(BaseModel):
    """Which trajectories become SFT data."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    require_correct: bool = True
    """Keep only trajectories whose final answer is correct (and that ended with an answer)."""
    max_failed_tool_calls: int | None = Field(default=3, ge=0)
    """Drop a trajectory with more failed tool calls than this (``None``: no absolute bound)."""
    max_failed_fraction: float | None = Field(default=0.25, ge=0.0, le=1.0)
    """Drop a trajectory whose failed tool calls exceed this fraction of its tool calls."""
    one_per_question: bool = True
    """Keep at most one trajectory per task."""
    prefer: Literal["first", "fewest_tool_calls", "most_tool_calls"] = "first"
    """Which passing trajectory of a task is kept: the lowest sample index (no selection bias),
    or the one with the fewest / most tool calls (ties: lowest sample index)."""


@dataclass
class SFTFilterResult:
    """What the filter kept and why it dropped the rest."""

    kept: list[Trajectory]
    """Kept trajectories, ordered by task (first appearance) then sample."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Reason -> count: ``not_answered``, ``incorrect``, ``unverifiable``, ``failed_tool_calls``,
    ``duplicate_question``."""

    @property
    def seen(self) -> int:
        """Trajectories examined."""
        return len(self.kept) + sum(self.dropped.values())


# Sort keys of ``SFTFilterConfig.prefer``: the smallest key is kept.
_PREFER: dict[str, Callable[[Trajectory], tuple[int, int]]] = {
    "first": lambda t: (t.sample, 0),
    "fewest_tool_calls": lambda t: (len(t.tool_calls), t.sample),
    "most_tool_calls": lambda t: (-len(t.tool_calls), t.sample),
}


def _is_correct(trajectory: Trajectory) -> bool | None:
    if trajectory.score is not None:
        return trajectory.score >= 1.0
    if not trajectory.answers:
        return None
    return exact_match(trajectory.prediction, trajectory.answers)


def _rejection(trajectory: Trajectory, config: SFTFilterConfig) -> str | None:
    if config.require_correct:
        if trajectory.termination != "answer" or trajectory.prediction is None:
            return "not_answered"
        correct = _is_correct(trajectory)
        if correct is None:
            return "unverifiable"
        if not correct:
            return "incorrect"
    failed, total = trajectory.failed_tool_calls, len(trajectory.tool_calls)
    if config.max_failed_tool_calls is not None and failed > config.max_failed_tool_calls:
        return "failed_tool_calls"
    if (
        config.max_failed_fraction is not None
        and total
        and failed / total > (config.max_failed_fraction)
    ):
        return "failed_tool_calls"
    return None


def sft_filter(
    trajectories: Iterable[Trajectory], config: SFTFilterConfig | None = None
) -> SFTFilterResult:
    """Apply the §6.1 post-filter.

    Args:
        trajectories: Trajectories of a run (any order).
        config: The filter's bounds (defaults: correct only, at most 3 failed tool calls and at
            most 25% failed, one per question, lowest sample kept).

    Returns:
        The kept trajectories and a count of dropped ones per reason.
    """
    config = config or SFTFilterConfig()
    result = SFTFilterResult(kept=[])
    passing: dict[str, list[Trajectory]] = {}
    for trajectory in trajectories:
        reason = _rejection(trajectory, config)
        if reason is not None:
            result.dropped[reason] += 1
            continue
        passing.setdefault(trajectory.task_id, []).append(trajectory)
    for group in passing.values():
        group.sort(key=lambda t: t.sample)
        if not config.one_per_question:
            result.kept.extend(group)
            continue
        result.kept.append(min(group, key=_PREFER[config.prefer]))
        if len(group) > 1:
            result.dropped["duplicate_question"] += len(group) - 1
    return result
