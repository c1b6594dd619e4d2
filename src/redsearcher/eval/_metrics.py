"""Metrics as plain functions over per-trajectory outcomes: accuracy, Avg@k, Pass@k, calibration.

An *outcome* is a verdict's ``correct``: ``True``, ``False`` or ``None`` (unscored). Unscored
outcomes are never counted as wrong: every rate here is over the scored ones, and the count of
unscored ones travels next to it, so a judge outage shows up as a smaller ``n`` and a visible
unscored count instead of a lower accuracy.

The estimators are the ones the field reports, so numbers compare:

- accuracy with a 95% percentile bootstrap CI, resampling *tasks* (each with its repeats), so
  k samples of one task do not pose as k independent observations; seeded, hence reproducible;
- Avg@k (mean accuracy over k samples per task), Pass@k with the unbiased estimator of Chen et
  al. (2021), ``1 - C(n-c, k) / C(n, k)``, and Best Pass@1 (the best of the k single-sample
  runs, as Tongyi DeepResearch and WebSailor report);
- calibration error as Humanity's Last Exam computes it: sort by stated confidence, bins of
  ``bin_size`` consecutive answers (the last bin takes the remainder), RMS over bins of
  ``mean confidence - accuracy`` weighted by bin size. It is ``None`` with a reason unless at
  least ``bin_size`` scored answers carry a confidence: one bin of three answers is noise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

__all__ = [
    "Accuracy",
    "Calibration",
    "Distribution",
    "Interval",
    "Repeats",
    "accuracy",
    "avg_at_k",
    "best_pass_at_1",
    "bootstrap_ci",
    "calibration_error",
    "distribution",
    "pass_at_k",
    "repeats",
]

Outcome = bool | None
"""A verdict's ``correct``: None is unscored."""

_RECORD = ConfigDict(extra="forbid")

#: Bootstrap resamples and the CI's coverage used unless a caller says otherwise.
RESAMPLES = 2_000
CONFIDENCE = 0.95


class Interval(BaseModel):
    """A confidence interval."""

    model_config = _RECORD

    low: float
    high: float


class Accuracy(BaseModel):
    """Accuracy over the scored outcomes, with its bootstrap CI and the unscored count."""

    model_config = _RECORD

    value: float | None
    """Correct / scored; ``None`` when nothing was scored."""
    ci95: Interval | None
    """Percentile bootstrap CI over tasks; ``None`` when nothing was scored."""
    correct: int
    scored: int
    unscored: int
    tasks: int
    """Tasks with at least one scored outcome (the bootstrap's unit)."""


def bootstrap_ci(
    groups: Sequence[Sequence[float]],
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """Percentile bootstrap CI of the pooled mean, resampling whole groups (tasks).

    Each resample draws ``len(groups)`` groups with replacement and takes the mean of all their
    values (so a task with more samples weighs more, as in the point estimate).

    Args:
        groups: The values of each group (a task's 0/1 outcomes); empty groups are ignored.
        seed: Seed of the resampling (same seed, same interval).
        resamples: Bootstrap resamples.
        confidence: Coverage (0.95: the 2.5th and 97.5th percentiles).

    Returns:
        The interval, or ``None`` when there is no value.
    """
    kept = [list(g) for g in groups if len(g)]
    if not kept:
        return None
    sums = np.array([sum(g) for g in kept], dtype=float)
    sizes = np.array([len(g) for g in kept], dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(kept), size=(resamples, len(kept)))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(low=float(low), high=float(high))


def accuracy(
    outcomes: Mapping[str, Sequence[Outcome]],
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
) -> Accuracy:
    """Accuracy of outcomes grouped by task, with a task-level bootstrap CI.

    Args:
        outcomes: Each task's outcomes (one per sample); ``None`` is unscored.
        seed: Bootstrap seed.
        resamples: Bootstrap resamples.
        confidence: CI coverage.
    """
    groups = [[1.0 if o else 0.0 for o in values if o is not None] for values in outcomes.values()]
    scored = sum(len(g) for g in groups)
    correct = int(sum(sum(g) for g in groups))
    unscored = sum(1 for values in outcomes.values() for o in values if o is None)
    return Accuracy(
        value=correct / scored if scored else None,
        ci95=bootstrap_ci(groups, seed=seed, resamples=resamples, confidence=confidence),
        correct=correct,
        scored=scored,
        unscored=unscored,
        tasks=sum(1 for g in groups if g),
    )


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased Pass@k estimate for one task: ``1 - C(n-c, k) / C(n, k)``.

    The probability that at least one of ``k`` samples drawn without replacement from the ``n``
    taken (``c`` of them correct) is correct (Chen et al., 2021, computed as a stable product).

    Raises:
        ValueError: unless ``0 <= c <= n`` and ``1 <= k <= n``.
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def _scored(values: Sequence[Outcome]) -> list[bool]:
    return [o for o in values if o is not None]


def avg_at_k(outcomes: Mapping[str, Sequence[Outcome]]) -> float | None:
    """Mean over tasks of each task's mean accuracy over its scored samples (Avg@k)."""
    rates = [sum(s) / len(s) for values in outcomes.values() if (s := _scored(values))]
    return sum(rates) / len(rates) if rates else None


def best_pass_at_1(outcomes: Mapping[str, Sequence[Outcome]]) -> float | None:
    """The best accuracy among the single-sample runs (sample 0 of every task, sample 1, ...).

    Outcomes are indexed by sample: ``outcomes[task][j]`` belongs to run ``j``; a run's accuracy
    is over the tasks whose sample ``j`` was scored.
    """
    k = max((len(values) for values in outcomes.values()), default=0)
    best: float | None = None
    for j in range(k):
        run = [values[j] for values in outcomes.values() if j < len(values)]
        scored = _scored(run)
        if scored:
            rate = sum(scored) / len(scored)
            best = rate if best is None else max(best, rate)
    return best


class Repeats(BaseModel):
    """Repeated-sampling metrics (``--n-repeats k``)."""

    model_config = _RECORD

    k: int
    """The most scored samples any task has."""
    avg_at_k: float | None
    pass_at_k: dict[int, float]
    """Pass@j for j = 1..k, averaged over the tasks with at least j scored samples."""
    best_pass_at_1: float | None


def repeats(outcomes: Mapping[str, Sequence[Outcome]]) -> Repeats:
    """Avg@k, Pass@1..k and Best Pass@1 of outcomes grouped by task (index = sample)."""
    scored = {task: _scored(values) for task, values in outcomes.items()}
    k = max((len(s) for s in scored.values()), default=0)
    passes: dict[int, float] = {}
    for j in range(1, k + 1):
        rates = [pass_at_k(len(s), sum(s), j) for s in scored.values() if len(s) >= j]
        if rates:
            passes[j] = sum(rates) / len(rates)
    return Repeats(
        k=k,
        avg_at_k=avg_at_k(outcomes),
        pass_at_k=passes,
        best_pass_at_1=best_pass_at_1(outcomes),
    )


class Calibration(BaseModel):
    """RMS calibration error, or why it was not computed."""

    model_config = _RECORD

    rms: float | None
    """Root-mean-square calibration error (0 is perfect); ``None``: see ``reason``."""
    reason: str | None = None
    n: int
    """Scored answers that carry a confidence."""
    bins: int = 0


def calibration_error(
    confidences: Sequence[float | None],
    correct: Sequence[Outcome],
    *,
    bin_size: int = 100,
) -> Calibration:
    """RMS calibration error with equal-count bins (Humanity's Last Exam's ``calib_err``).

    Args:
        confidences: The stated confidence (0-1) of each answer; ``None`` where not elicited.
        correct: Each answer's outcome (unscored ones are left out).
        bin_size: Answers per bin, and the fewest answers it is computed on.

    Raises:
        ValueError: when the sequences differ in length or ``bin_size < 1``.
    """
    if len(confidences) != len(correct):
        raise ValueError("confidences and outcomes differ in length")
    if bin_size < 1:
        raise ValueError("bin_size must be at least 1")
    pairs = sorted(
        (float(p), 1.0 if o else 0.0)
        for p, o in zip(confidences, correct, strict=True)
        if p is not None and o is not None
    )
    if not pairs:
        return Calibration(rms=None, reason="no scored answer carries a confidence", n=0)
    if len(pairs) < bin_size:
        return Calibration(
            rms=None,
            reason=f"only {len(pairs)} scored answers carry a confidence (needs {bin_size})",
            n=len(pairs),
        )
    count = len(pairs) // bin_size
    edges = [i * bin_size for i in range(count)] + [len(pairs)]
    total = 0.0
    for start, end in itertools.pairwise(edges):
        chunk = pairs[start:end]
        gap = sum(p for p, _ in chunk) / len(chunk) - sum(o for _, o in chunk) / len(chunk)
        total += len(chunk) / len(pairs) * gap * gap
    return Calibration(rms=math.sqrt(total), n=len(pairs), bins=count)


class Distribution(BaseModel):
    """Summary statistics of a per-episode quantity."""

    model_config = _RECORD

    n: int
    total: float
    mean: float | None
    median: float | None
    p90: float | None
    max: float | None


def distribution(values: Sequence[float]) -> Distribution:
    """Count, total, mean, median, 90th percentile (linear) and max of ``values``."""
    if not values:
        return Distribution(n=0, total=0.0, mean=None, median=None, p90=None, max=None)
    data = np.asarray(values, dtype=float)
    return Distribution(
        n=len(values),
        total=float(data.sum()),
        mean=float(data.mean()),
        median=float(np.median(data)),
        p90=float(np.percentile(data, 90)),
        max=float(data.max()),
    )
