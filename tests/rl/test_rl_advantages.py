"""Group-relative advantages and dynamic sampling against hand-computed values."""

from __future__ import annotations

import math

import pytest

from redsearcher.rl import AdvantageConfig, dynamic_sampling, group_advantages

POPULATION_NO_EPS = AdvantageConfig(std="population", std_epsilon=0.0)


def test_population_std_by_hand() -> None:
    # mean 0.5, population std 0.5: (1 - 0.5) / 0.5 = 1
    result = group_advantages([1.0, 0.0, 1.0, 0.0], POPULATION_NO_EPS)
    assert result.advantages == [1.0, -1.0, 1.0, -1.0]
    assert (result.mean, result.std, result.zero_std) == (0.5, 0.5, False)


def test_sample_std_is_the_default_by_hand() -> None:
    # [1, 0, 0]: mean 1/3; squared deviations 4/9 + 1/9 + 1/9 = 2/3; / (n-1) = 1/3;
    # std = 1/sqrt(3); advantages (2/3) * sqrt(3) = 2/sqrt(3) and -1/sqrt(3).
    result = group_advantages([1.0, 0.0, 0.0], AdvantageConfig(std_epsilon=0.0))
    assert result.std == pytest.approx(1 / math.sqrt(3))
    third = 1 / math.sqrt(3)
    assert result.advantages == pytest.approx([2 * third, -third, -third])
    default = group_advantages([1.0, 0.0, 0.0])
    assert default.advantages[0] == pytest.approx((2 / 3) / (1 / math.sqrt(3) + 1e-6), rel=1e-12)


def test_epsilon_is_added_to_the_std() -> None:
    # population std of [1, 0] is 0.5; with eps 0.5 the divisor is 1.0
    config = AdvantageConfig(std="population", std_epsilon=0.5)
    assert group_advantages([1.0, 0.0], config).advantages == [0.5, -0.5]


def test_zero_std_group_is_flagged_with_zero_advantages() -> None:
    result = group_advantages([1.0, 1.0, 1.0])
    assert result.advantages == [0.0, 0.0, 0.0]
    assert result.zero_std and result.std == 0.0 and result.mean == 1.0
    # within the tolerance counts as zero spread too
    tolerant = AdvantageConfig(zero_std_tolerance=1e-3)
    assert group_advantages([0.5, 0.5001], tolerant).zero_std


def test_dr_grpo_subtracts_the_mean_only() -> None:
    result = group_advantages([1.0, 0.0, 0.0], AdvantageConfig(scale="none"))
    assert result.advantages == pytest.approx([2 / 3, -1 / 3, -1 / 3])


def test_unscored_samples_are_left_out_of_the_statistics() -> None:
    result = group_advantages([1.0, None, 0.0, None], POPULATION_NO_EPS)
    assert result.advantages == [1.0, None, -1.0, None]
    assert (result.scored, result.unscored, result.mean) == (2, 2, 0.5)
    # Had the unscored been counted as 0 the mean would be 0.25: it is not.
    single = group_advantages([None, 1.0])
    assert single.advantages == [None, 0.0] and single.zero_std and single.std is None
    none = group_advantages([None, None])
    assert none.advantages == [None, None] and none.mean is None and none.zero_std


def test_bad_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        group_advantages([])
    with pytest.raises(ValueError, match="finite"):
        group_advantages([1.0, math.inf])


def test_dynamic_sampling_drops_groups_with_equal_rewards() -> None:
    groups: list[list[float | None]] = [
        [1.0, 1.0],  # all correct
        [1.0, 0.0],  # signal
        [0.0, 0.0, None],  # all wrong among the scored
        [None, None],  # nothing scored
        [1.0, None],  # a single scored sample
        [0.5, 0.5000001],  # nearly equal: kept at tolerance 0
    ]
    assert dynamic_sampling(groups) == ([1, 5], [0, 2, 3, 4])
    assert dynamic_sampling(groups, tolerance=1e-6) == ([1], [0, 2, 3, 4, 5])
