"""Pass-rate buckets: the band's edges are inclusive and exact; unscored is not hard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from redsearcher.errors import UserError
from redsearcher.rl import CurationConfig, parse_band, pass_rate


def scores(correct: int, total: int) -> list[float | None]:
    return [1.0] * correct + [0.0] * (total - correct)


@pytest.mark.parametrize(
    ("correct", "bucket"),
    [(0, "too_hard"), (1, "in_band"), (4, "in_band"), (7, "in_band"), (8, "too_easy")],
)
def test_default_band_keeps_1_to_7_of_8(correct: int, bucket: str) -> None:
    result = pass_rate(scores(correct, 8))
    assert result.bucket == bucket and result.rate == correct / 8


def test_band_edges_compare_exactly() -> None:
    config = CurationConfig(band_low=0.3, band_high=0.7)
    assert pass_rate(scores(3, 10), config).bucket == "in_band"  # 3/10 == 0.3 exactly
    assert pass_rate(scores(7, 10), config).bucket == "in_band"
    assert pass_rate(scores(2, 10), config).bucket == "too_hard"
    assert pass_rate(scores(8, 10), config).bucket == "too_easy"
    # 1/3 lies above 0.333 and below 0.3334
    assert pass_rate(scores(1, 3), CurationConfig(band_low=0.333, band_high=1)).bucket == "in_band"
    assert pass_rate(scores(1, 3), CurationConfig(band_low=0.3334, band_high=1)).bucket == (
        "too_hard"
    )
    everything = CurationConfig(band_low=0.0, band_high=1.0)
    assert pass_rate(scores(0, 4), everything).bucket == "in_band"


def test_unscored_samples_leave_the_rate() -> None:
    result = pass_rate([1.0, None, 0.0, None])
    assert (result.samples, result.scored, result.correct, result.rate) == (4, 2, 1, 0.5)
    assert pass_rate([None] * 8).bucket == "unscored" and pass_rate([None] * 8).rate is None
    strict = CurationConfig(min_scored=4)
    assert pass_rate([1.0, 0.0, 0.0, None], strict).bucket == "unscored"
    # a partial-credit score passes only at pass_score
    assert pass_rate([0.5, 0.0], CurationConfig(pass_score=0.5)).correct == 1
    assert pass_rate([0.5, 0.0]).correct == 0


def test_parse_band() -> None:
    assert parse_band("0.125-0.875") == (0.125, 0.875)
    assert parse_band(" 0 - 1 ") == (0.0, 1.0)
    for bad in ("0.9-0.1", "0.5", "a-b", "-0.1-0.5", "0.1-1.5", "0.1.2-0.5"):
        with pytest.raises(UserError, match="--band"):
            parse_band(bad)
    with pytest.raises(ValidationError, match="above band_high"):
        CurationConfig(band_low=0.9, band_high=0.1)
    with pytest.raises(ValidationError, match="no verifier prompt"):
        CurationConfig(verify=True, verifier_prompt_version="v999")
