"""One GRPO batch: rewards in, per-sample advantages and loss weights out, with the counts.

The order of operations is the paper's (Appendix A) and DAPO's, and it matters:

1. Unscored samples (reward ``None``) are dropped from the group statistics and the gradient,
   and counted — never rewarded 0.
2. Advantages are computed per group over *every* scored sample, abnormal ones included
   ("these samples still participate in advantage computation").
3. Dynamic sampling (optional) drops groups whose scored rewards are all equal.
4. The abnormal-sample filter gives loss weight 0 to the samples it flags, without touching
   any advantage.

A sample's ``loss_weight`` is 1 only when it was scored, its group was kept and it is normal.
A trainer multiplies its per-token loss mask by it (or drops weight-0 samples from the batch).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.rl._abnormal import AbnormalConfig, SampleStats, abnormal_reasons
from redsearcher.rl._advantages import AdvantageConfig, dynamic_sampling, group_advantages

__all__ = ["BatchConfig", "GrpoBatch", "GrpoSample", "SampleOutcome", "grpo_batch"]


class BatchConfig(BaseModel):
    """How a batch turns rewards into advantages and loss weights."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    advantages: AdvantageConfig = Field(default_factory=AdvantageConfig)
    """Group normalisation (GRPO / Dr.GRPO)."""
    dynamic_sampling: bool = False
    """Drop groups whose scored rewards are all equal (DAPO). Off by default: the paper does
    not say it uses it, and a trainer that over-samples to refill the batch must opt in."""
    abnormal: AbnormalConfig = Field(default_factory=AbnormalConfig)
    """The abnormal-sample filter (on, as in the paper)."""


class GrpoSample(BaseModel):
    """One rollout as the batch sees it: its group (task), reward and filter inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str
    """The group key: the task (prompt) id the rollout answered."""
    reward: float | None
    """The reward (``None``: unscored)."""
    stats: SampleStats = Field(default_factory=SampleStats)
    """Inputs of the abnormal-sample filter."""


class SampleOutcome(BaseModel):
    """What the batch decided for one sample (same order as the input)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str
    advantage: float | None
    """The group-relative advantage (``None``: unscored)."""
    loss_weight: float
    """1.0: train on it; 0.0: keep it out of the loss (see :attr:`excluded_by`)."""
    excluded_by: str | None = None
    """``unscored``, ``dynamic_sampling`` or ``abnormal`` (``None``: trained on)."""
    abnormal: list[str] = Field(default_factory=list)
    """The abnormal-filter reasons (recorded even when another rule excluded the sample)."""


class GrpoBatch(BaseModel):
    """A processed batch and its counts (what the trainer should log)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: list[SampleOutcome]
    samples_total: int
    trained: int
    """Samples with loss weight 1."""
    unscored: int
    """Samples dropped for want of a reward (judge or environment failure, no reference)."""
    abnormal: int
    """Scored samples in kept groups masked out by the abnormal filter."""
    groups: int
    zero_std_groups: list[str]
    """Groups whose scored rewards have no spread (all advantages 0)."""
    dropped_groups: list[str]
    """Groups dropped by dynamic sampling."""
    dynamic_sampling_dropped: int
    """Scored samples in dropped groups."""


def grpo_batch(samples: Sequence[GrpoSample], config: BatchConfig | None = None) -> GrpoBatch:
    """Advantages and loss weights of a batch of rollouts (see the module docstring).

    Groups are formed by :attr:`GrpoSample.group`, in order of first appearance; samples keep
    their input order in the result.
    """
    config = config or BatchConfig()
    order: list[str] = []
    members: dict[str, list[int]] = {}
    for index, sample in enumerate(samples):
        if sample.group not in members:
            order.append(sample.group)
            members[sample.group] = []
        members[sample.group].append(index)
    advantage: dict[int, float | None] = {}
    zero_std: list[str] = []
    rewards = [[samples[i].reward for i in members[g]] for g in order]
    for group, group_rewards in zip(order, rewards, strict=True):
        result = group_advantages(group_rewards, config.advantages)
        advantage.update(zip(members[group], result.advantages, strict=True))
        if result.zero_std:
            zero_std.append(group)
    dropped: set[str] = set()
    if config.dynamic_sampling:
        _, dropped_idx = dynamic_sampling(rewards)
        dropped = {order[i] for i in dropped_idx}
    outcomes: list[SampleOutcome] = []
    for index, sample in enumerate(samples):
        reasons = abnormal_reasons(sample.stats, config.abnormal)
        excluded: str | None = None
        if sample.reward is None:
            excluded = "unscored"
        elif sample.group in dropped:
            excluded = "dynamic_sampling"
        elif reasons:
            excluded = "abnormal"
        outcomes.append(
            SampleOutcome(
                group=sample.group,
                advantage=advantage[index],
                loss_weight=0.0 if excluded else 1.0,
                excluded_by=excluded,
                abnormal=reasons,
            )
        )
    by = [o.excluded_by for o in outcomes]
    return GrpoBatch(
        samples=outcomes,
        samples_total=len(samples),
        trained=by.count(None),
        unscored=by.count("unscored"),
        abnormal=by.count("abnormal"),
        groups=len(order),
        zero_std_groups=zero_std,
        dropped_groups=[g for g in order if g in dropped],
        dynamic_sampling_dropped=by.count("dynamic_sampling"),
    )
