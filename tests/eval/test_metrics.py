"""Metrics on hand-computed cases: accuracy and its CI, Pass@k, Avg@k, Best Pass@1, calibration."""

from __future__ import annotations

import math

import pytest

from redsearcher.eval import (
    accuracy,
    avg_at_k,
    best_pass_at_1,
    bootstrap_ci,
    calibration_error,
    pass_at_k,
    repeats,
)
from redsearcher.eval._metrics import distribution


def test_accuracy_counts_only_scored_outcomes_and_reports_unscored() -> None:
    result = accuracy({"a": [True], "b": [False], "c": [None], "d": [True]})
    assert result.value == pytest.approx(2 / 3)
    assert (result.correct, result.scored, result.unscored, result.tasks) == (2, 3, 1, 3)


def test_accuracy_of_nothing_scored_is_none_not_zero() -> None:
    result = accuracy({"a": [None], "b": [None]})
    assert result.value is None
    assert result.ci95 is None
    assert result.unscored == 2


def test_bootstrap_ci_is_degenerate_when_every_task_agrees() -> None:
    interval = bootstrap_ci([[1.0], [1.0], [1.0]])
    assert interval is not None
    assert (interval.low, interval.high) == (1.0, 1.0)


def test_bootstrap_ci_matches_the_normal_approximation_for_a_fair_coin() -> None:
    # 100 tasks, half right: the 95% interval is about 0.5 +- 1.96 * sqrt(0.25 / 100) = +-0.098.
    groups = [[1.0]] * 50 + [[0.0]] * 50
    interval = bootstrap_ci(groups, seed=3, resamples=20_000)
    assert interval is not None
    assert interval.low == pytest.approx(0.402, abs=0.015)
    assert interval.high == pytest.approx(0.598, abs=0.015)


def test_bootstrap_ci_is_seeded() -> None:
    groups = [[1.0, 0.0], [1.0], [0.0], [1.0, 1.0, 0.0]] * 10 + [[0.0, 0.0, 1.0]] * 7
    assert bootstrap_ci(groups, seed=7, resamples=300) == bootstrap_ci(
        groups, seed=7, resamples=300
    )
    assert bootstrap_ci(groups, seed=7, resamples=300) != bootstrap_ci(
        groups, seed=8, resamples=300
    )


def test_bootstrap_resamples_tasks_not_samples() -> None:
    # One task, four samples: resampling the one task always gives its own mean.
    interval = bootstrap_ci([[1.0, 0.0, 1.0, 0.0]])
    assert interval is not None
    assert (interval.low, interval.high) == (0.5, 0.5)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),  # pass@1 is c/n
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (5, 2, 4, 1.0),  # n - c < k: some correct sample is always drawn
        (4, 0, 2, 0.0),
        (10, 3, 3, 1 - math.comb(7, 3) / math.comb(10, 3)),
    ],
)
def test_pass_at_k_unbiased_estimator(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="pass@k"):
        pass_at_k(3, 4, 1)
    with pytest.raises(ValueError, match="pass@k"):
        pass_at_k(3, 1, 4)


def test_avg_best_and_pass_at_k_over_repeats() -> None:
    # Task a: T F T; task b: F F T; task c: F F F (index = sample = run).
    outcomes = {"a": [True, False, True], "b": [False, False, True], "c": [False, False, False]}
    assert avg_at_k(outcomes) == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    # Run 0: 1/3, run 1: 0/3, run 2: 2/3 -> best 2/3.
    assert best_pass_at_1(outcomes) == pytest.approx(2 / 3)
    summary = repeats(outcomes)
    assert summary.k == 3
    assert summary.pass_at_k[1] == pytest.approx((2 / 3 + 1 / 3 + 0) / 3)
    # pass@2: a = 1 - C(1,2)/C(3,2) = 1; b = 1 - C(2,2)/C(3,2) = 2/3; c = 0.
    assert summary.pass_at_k[2] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert summary.pass_at_k[3] == pytest.approx((1 + 1 + 0) / 3)


def test_repeats_leave_unscored_samples_out() -> None:
    outcomes = {"a": [True, None], "b": [False, False]}
    summary = repeats(outcomes)
    # a has one scored sample (n=1, c=1); b has two (n=2, c=0).
    assert summary.avg_at_k == pytest.approx(0.5)
    assert summary.pass_at_k == {1: pytest.approx(0.5), 2: pytest.approx(0.0)}
    # Run 0: a T, b F -> 1/2; run 1: b F only -> 0.
    assert summary.best_pass_at_1 == pytest.approx(0.5)


def test_calibration_one_bin() -> None:
    confidences = [0.9] * 100
    correct = [True] * 60 + [False] * 40
    result = calibration_error(confidences, correct, bin_size=100)
    assert result.rms == pytest.approx(0.3)
    assert (result.n, result.bins) == (100, 1)


def test_calibration_two_bins_are_sorted_by_confidence_and_weighted() -> None:
    # Bin of the 100 lowest confidences (0.8, 80 right): gap 0; highest (1.0, 50 right): 0.5.
    confidences = [1.0] * 100 + [0.8] * 100
    correct = [True] * 50 + [False] * 50 + [True] * 80 + [False] * 20
    result = calibration_error(confidences, correct, bin_size=100)
    assert result.rms == pytest.approx(math.sqrt(0.5 * 0.0 + 0.5 * 0.25))
    assert result.bins == 2


def test_calibration_last_bin_takes_the_remainder() -> None:
    # 250 answers, bins of 100: [0,100) and [100,250).
    confidences = [0.5] * 100 + [1.0] * 150
    correct = [True] * 50 + [False] * 50 + [True] * 150
    result = calibration_error(confidences, correct, bin_size=100)
    assert result.rms == pytest.approx(0.0)
    assert result.bins == 2


def test_calibration_needs_enough_confidences() -> None:
    few = calibration_error([0.9, None, 0.8], [True, True, False], bin_size=100)
    assert few.rms is None
    assert few.reason is not None and "only 2" in few.reason
    none = calibration_error([None, None], [True, False])
    assert none.rms is None and none.reason == "no scored answer carries a confidence"


def test_calibration_leaves_unscored_answers_out() -> None:
    result = calibration_error([1.0, 0.0, 0.3], [True, False, None], bin_size=2)
    assert result.rms == pytest.approx(0.0)
    assert result.n == 2


def test_distribution() -> None:
    result = distribution([1, 2, 3, 10])
    assert (result.n, result.total, result.mean, result.median, result.max) == (4, 16, 4, 2.5, 10)
    assert result.p90 == pytest.approx(3 + 0.7 * 7)
    assert distribution([]).mean is None
