"""Group-relative advantages (GRPO, Dr.GRPO) and dynamic sampling (DAPO), as plain functions.

GRPO (paper eq. 6, after DeepSeekMath) scores each of a question's G rollouts against its
siblings: ``A_i = (r_i - mean(r)) / (std(r) + eps)``. Details that differ between trainers and
silently change training are settings here, each with the trainers' common default:

- ``std``: ``sample`` (Bessel-corrected, ``n - 1``: what ``torch.std`` gives, hence verl and
  TRL) or ``population`` (``n``).
- ``std_epsilon`` is *added* to the standard deviation (verl's 1e-6), so a group whose rewards
  are all equal gets advantage 0 for every sample instead of a division by zero; such a group
  is *flagged* (``zero_std``): it carries no learning signal, and a batch full of them is the
  first sign of a task set that is too easy or too hard.
- ``scale="none"`` is Dr.GRPO (Liu et al., 2025): the mean is subtracted, the std division is
  dropped, removing the bias towards low-variance (too easy / too hard) questions.

Unscored samples (reward ``None``, see ``_rewards``) are left out of the group statistics and
get no advantage: a judge outage never becomes a 0 that drags the mean. A group with fewer than
two scored samples has no spread (flagged as zero-std, advantages 0).

Dynamic sampling (DAPO) drops whole groups whose scored rewards are all equal (all correct or
all wrong): their advantages are all zero, so they only dilute the batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AdvantageConfig", "GroupAdvantages", "dynamic_sampling", "group_advantages"]


class AdvantageConfig(BaseModel):
    """How group-relative advantages are normalised."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    scale: Literal["std", "none"] = "std"
    """``std``: GRPO, divide by the group's standard deviation plus ``std_epsilon``;
    ``none``: Dr.GRPO, subtract the group mean only."""
    std: Literal["sample", "population"] = "sample"
    """``sample``: Bessel-corrected (``n - 1``, as ``torch.std`` in verl and TRL);
    ``population``: divide by ``n``."""
    std_epsilon: float = Field(default=1e-6, ge=0.0)
    """Added to the standard deviation before dividing (verl's default; TRL uses 1e-4)."""
    zero_std_tolerance: float = Field(default=0.0, ge=0.0)
    """A group whose standard deviation is at most this is flagged zero-std (rewards equal)."""


class GroupAdvantages(BaseModel):
    """The advantages of one group (one task's rollouts) and its statistics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advantages: list[float | None]
    """One per sample, in order; ``None`` for an unscored sample (no gradient)."""
    mean: float | None
    """Mean of the scored rewards (``None``: none scored)."""
    std: float | None
    """Standard deviation of the scored rewards (``None``: fewer than two scored)."""
    zero_std: bool
    """The scored rewards have no spread (all equal, or fewer than two): no learning signal."""
    scored: int
    unscored: int


def _std(values: Sequence[float], mean: float, kind: str) -> float | None:
    dof = len(values) - (1 if kind == "sample" else 0)
    if dof <= 0:
        return None
    return math.sqrt(sum((v - mean) ** 2 for v in values) / dof)


def group_advantages(
    rewards: Sequence[float | None], config: AdvantageConfig | None = None
) -> GroupAdvantages:
    """The group-relative advantage of each sample of one group.

    Args:
        rewards: One reward per rollout of the same question; ``None`` = unscored.
        config: Normalisation settings (GRPO with sample std and eps 1e-6 when omitted).

    Raises:
        ValueError: for an empty group or a non-finite reward.
    """
    config = config or AdvantageConfig()
    if not rewards:
        raise ValueError("a group needs at least one sample")
    scored = [r for r in rewards if r is not None]
    if any(not math.isfinite(r) for r in scored):
        raise ValueError(f"rewards must be finite numbers: {list(rewards)!r}")
    unscored = len(rewards) - len(scored)
    if not scored:
        return GroupAdvantages(
            advantages=[None] * len(rewards),
            mean=None,
            std=None,
            zero_std=True,
            scored=0,
            unscored=unscored,
        )
    mean = math.fsum(scored) / len(scored)
    std = _std(scored, mean, config.std)
    zero_std = std is None or std <= config.zero_std_tolerance
    advantages: list[float | None] = []
    for reward in rewards:
        if reward is None:
            advantages.append(None)
        elif zero_std:
            advantages.append(0.0)
        elif config.scale == "none":
            advantages.append(reward - mean)
        else:
            assert std is not None
            advantages.append((reward - mean) / (std + config.std_epsilon))
    return GroupAdvantages(
        advantages=advantages,
        mean=mean,
        std=std,
        zero_std=zero_std,
        scored=len(scored),
        unscored=unscored,
    )


def dynamic_sampling(
    groups: Sequence[Sequence[float | None]], *, tolerance: float = 0.0
) -> tuple[list[int], list[int]]:
    """DAPO's dynamic sampling: which groups to keep and which to drop.

    A group is dropped when its scored rewards are all equal (within ``tolerance``): all
    correct, all wrong, a single scored sample, or none scored.

    Args:
        groups: Rewards per group (``None`` = unscored, ignored).
        tolerance: Largest ``max - min`` of the scored rewards that still counts as equal.

    Returns:
        ``(kept, dropped)``: indices into ``groups``, in order.
    """
    kept: list[int] = []
    dropped: list[int] = []
    for index, group in enumerate(groups):
        scored = [r for r in group if r is not None]
        equal = len(scored) < 2 or max(scored) - min(scored) <= tolerance
        (dropped if equal else kept).append(index)
    return kept, dropped
