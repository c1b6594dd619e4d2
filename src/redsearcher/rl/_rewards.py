"""Rewards of RL samples: the judge's outcome, and an optional process term from provenance.

The paper's reward is the outcome alone: an LLM judge's decision on the final answer, 1 or 0,
with no format reward (§6.3). Two rules matter more than the formula:

- *Unscored is not wrong.* A verdict with ``correct is None`` (the judge failed, its output did
  not parse, the task has no reference answer) has no reward: the sample is dropped from the
  gradient and counted. Rewarding it 0 would teach the policy that a judge outage means its
  answer was wrong — the silent failure the trainers' own trackers are full of.
- *Process terms are opt-in.* Evidence recall and required-tool use (``redsearcher.eval``'s
  :class:`~redsearcher.eval.ProcessRecord`) can be mixed in with weights; both weights are 0 by
  default, as in the paper. A process term never turns an unscored sample into a rewarded one.

Everything here is a plain function over plain inputs (a verdict or a score, a process record),
so any trainer's sample can use it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.eval import ProcessRecord, Verdict
from redsearcher.log import Trajectory
from redsearcher.model import ModelRequestError, ModelUnavailable
from redsearcher.registry import lookup

__all__ = [
    "RewardConfig",
    "SampleReward",
    "judge_rewards",
    "outcome_reward",
    "sample_reward",
    "sample_rewards",
]

logger = logging.getLogger(__name__)

Scorer = Callable[[Trajectory], Awaitable[float | None]]
"""A registered scorer or judge (registry kind ``scorer``): ``None`` means unscored."""

#: What a judge raises when it (or its model) is out: the sample is unscored, not wrong.
_OUTAGES = (ModelUnavailable, ModelRequestError, TimeoutError)


class RewardConfig(BaseModel):
    """How a sample's reward is made (the paper's: outcome only, weight 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    outcome_weight: float = Field(default=1.0, ge=0.0)
    """Weight of the judge's outcome (1.0 correct, 0.0 incorrect, or the scorer's score)."""
    evidence_recall_weight: float = Field(default=0.0, ge=0.0)
    """Weight of evidence recall (0: off, the paper's setting)."""
    evidence_recall: Literal["read", "retrieved"] = "read"
    """Which recall: evidence documents *read* (visited) or merely *retrieved* (in results)."""
    required_tools_weight: float = Field(default=0.0, ge=0.0)
    """Weight of the share of the task's required tools that were used without a tool error
    (0: off, the paper's setting)."""


class SampleReward(BaseModel):
    """One sample's reward and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reward: float | None
    """The reward; ``None``: unscored, drop the sample from the gradient (never 0)."""
    outcome: float | None
    """The outcome term before weighting (``None``: unscored)."""
    evidence_recall: float | None = None
    """The recall term before weighting (``None``: not configured, or no provenance)."""
    required_tools: float | None = None
    """The required-tool term before weighting (``None``: not configured, or none required)."""
    unscored_reason: str | None = None
    """Why there is no reward."""

    @property
    def unscored(self) -> bool:
        """Whether the sample has no reward (drop it from the gradient)."""
        return self.reward is None


def outcome_reward(outcome: Verdict | float | None) -> float | None:
    """The outcome reward of a judge's verdict or a scorer's score.

    Args:
        outcome: A :class:`~redsearcher.eval.Verdict` (``correct`` True/False/None), or the
            float a registered scorer returned (``Trajectory.score``), or ``None``.

    Returns:
        1.0 / 0.0 for a decided verdict, the score itself for a score, ``None`` when unscored.

    Raises:
        ValueError: for a score that is not a finite number (a NaN must not become a reward).
    """
    if outcome is None:
        return None
    if isinstance(outcome, Verdict):
        return None if outcome.correct is None else float(outcome.correct)
    value = float(outcome)
    if not math.isfinite(value):
        raise ValueError(f"a score must be a finite number, got {outcome!r}")
    return value


def _reason(outcome: Verdict | float | None) -> str:
    if isinstance(outcome, Verdict):
        why = outcome.unscored_reason or "no reason given"
        return f"judge {outcome.judge!r} left it unscored: {why}"
    return "no score (unscored)"


def sample_reward(
    outcome: Verdict | float | None,
    process: ProcessRecord | None = None,
    config: RewardConfig | None = None,
) -> SampleReward:
    """One sample's reward: weighted outcome plus the configured process terms.

    ``reward = outcome_weight * outcome + evidence_recall_weight * recall
    + required_tools_weight * share_of_required_tools_used``. A term without data (no
    provenance: a benchmark question; no required tools) contributes nothing and is recorded
    as ``None``; every sample of a GRPO group shares its task, so a group is treated alike.

    Args:
        outcome: The verdict or score (see :func:`outcome_reward`).
        process: The sample's process record (``redsearcher.eval.process_record``), if any.
        config: The weights (the paper's outcome-only reward when omitted).
    """
    config = config or RewardConfig()
    value = outcome_reward(outcome)
    if value is None:
        return SampleReward(reward=None, outcome=None, unscored_reason=_reason(outcome))
    reward = config.outcome_weight * value
    recall: float | None = None
    tools: float | None = None
    if process is not None and config.evidence_recall_weight:
        recall = (
            process.read_recall if config.evidence_recall == "read" else process.retrieved_recall
        )
        reward += config.evidence_recall_weight * recall
    if process is not None and config.required_tools_weight and process.required_tools:
        used = process.required_tools.values()
        tools = sum(used) / len(used)
        reward += config.required_tools_weight * tools
    return SampleReward(reward=reward, outcome=value, evidence_recall=recall, required_tools=tools)


def sample_rewards(
    outcomes: Sequence[Verdict | float | None],
    processes: Sequence[ProcessRecord | None] | None = None,
    config: RewardConfig | None = None,
) -> tuple[list[float | None], int]:
    """Rewards of a batch as trainers' reward functions return them, and the unscored count.

    Returns:
        ``(rewards, unscored)``: one ``float | None`` per sample (TRL's ``reward_funcs`` shape;
        ``None`` = drop from the gradient) and how many were unscored, for the trainer's log.

    Raises:
        ValueError: when ``processes`` is not one per outcome.
    """
    if processes is not None and len(processes) != len(outcomes):
        raise ValueError(f"{len(processes)} process records for {len(outcomes)} samples")
    records = processes if processes is not None else [None] * len(outcomes)
    rewards = [sample_reward(o, p, config).reward for o, p in zip(outcomes, records, strict=True)]
    return rewards, sum(r is None for r in rewards)


async def _judge_one(
    trajectory: Trajectory,
    scorer: Scorer,
    process: ProcessRecord | None,
    config: RewardConfig | None,
) -> SampleReward:
    if trajectory.termination == "error":
        why = trajectory.error or "no detail"
        return SampleReward(
            reward=None, outcome=None, unscored_reason=f"the episode ended in error: {why}"
        )
    try:
        score = await scorer(trajectory)
    except _OUTAGES as err:
        return SampleReward(
            reward=None,
            outcome=None,
            unscored_reason=f"the judge failed: {type(err).__name__}: {err}",
        )
    reward = sample_reward(score, process, config)
    if reward.unscored:
        return reward.model_copy(update={"unscored_reason": "the judge left it unscored"})
    return reward


async def judge_rewards(
    trajectories: Sequence[Trajectory],
    scorer: str | Scorer = "exact",
    *,
    processes: Sequence[ProcessRecord | None] | None = None,
    config: RewardConfig | None = None,
    concurrency: int = 16,
) -> list[SampleReward]:
    """Judge finished episodes with a registered scorer/judge and turn the scores into rewards.

    An episode that ended in ``error`` (an environment or model outage the agent recorded) and
    a judge that is out (:class:`~redsearcher.model.ModelUnavailable`, a rejected request, a
    timeout) give an *unscored* sample with the reason, never reward 0; the count is logged.
    Anything else a judge raises is a bug and propagates.

    Args:
        trajectories: The episodes, in batch order.
        scorer: A registered scorer name (registry kind ``scorer``) or the scorer itself.
        processes: One process record per episode for process terms (optional).
        config: Reward weights (outcome only when omitted).
        concurrency: Judge calls in flight at once.

    Raises:
        ConfigError: for an unknown scorer name.
        ValueError: when ``processes`` is not one per episode.
    """
    if processes is not None and len(processes) != len(trajectories):
        raise ValueError(f"{len(processes)} process records for {len(trajectories)} samples")
    judge: Any = lookup("scorer", scorer)() if isinstance(scorer, str) else scorer
    records = processes if processes is not None else [None] * len(trajectories)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(trajectory: Trajectory, process: ProcessRecord | None) -> SampleReward:
        async with gate:
            return await _judge_one(trajectory, judge, process, config)

    rewards = await asyncio.gather(*(one(t, p) for t, p in zip(trajectories, records, strict=True)))
    unscored = sum(r.unscored for r in rewards)
    if unscored:
        logger.warning(
            "%d of %d samples unscored (dropped from the gradient, not rewarded 0)",
            unscored,
            len(rewards),
        )
    return list(rewards)
