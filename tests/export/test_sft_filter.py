from __future__ import annotations

import pytest

from records_support import make_trajectory
from redsearcher.export import SFTFilterConfig, sft_filter


def test_keeps_correct_clean_and_one_per_question() -> None:
    batch = [
        make_trajectory("a", 0, prediction="Lyon"),  # incorrect
        make_trajectory("a", 1, prediction="paris"),  # kept (first correct sample)
        make_trajectory("a", 2, prediction="Paris"),  # duplicate question
        make_trajectory("b", 0, prediction=None, termination="max_turns"),  # not answered
        make_trajectory("c", 0, tools=10, failed=4),  # too many failed tool calls
        make_trajectory("d", 0, answers=[]),  # cannot be checked
        make_trajectory("e", 0, prediction="x", termination="error", error="boom"),
        make_trajectory("f", 0, tools=4, failed=1),  # 1 of 4 failed: kept
    ]
    result = sft_filter(batch)
    assert [t.id for t in result.kept] == ["a#1", "f#0"]
    assert result.dropped == {
        "incorrect": 1, "duplicate_question": 1, "not_answered": 2,
        "failed_tool_calls": 1, "unverifiable": 1,
    }  # fmt: skip
    assert result.seen == len(batch)


def test_a_recorded_score_wins_over_the_rule_match() -> None:
    judged = make_trajectory("a", 0, prediction="City of Light", score=1.0)
    rejected = make_trajectory("b", 0, prediction="Paris", score=0.0)
    assert [t.id for t in sft_filter([judged, rejected]).kept] == ["a#0"]


@pytest.mark.parametrize(
    ("tools", "failed", "config", "kept"),
    [
        (10, 3, SFTFilterConfig(), False),  # 3 <= 3, but 30% > 25%
        (20, 3, SFTFilterConfig(), True),
        (20, 4, SFTFilterConfig(), False),
        (10, 3, SFTFilterConfig(max_failed_fraction=None), True),
        (10, 9, SFTFilterConfig(max_failed_tool_calls=None, max_failed_fraction=None), True),
        (2, 1, SFTFilterConfig(max_failed_fraction=0.5), True),
        (3, 2, SFTFilterConfig(max_failed_fraction=0.5), False),
    ],
)
def test_failed_tool_call_bounds(
    tools: int, failed: int, config: SFTFilterConfig, kept: bool
) -> None:
    trajectory = make_trajectory(tools=tools, failed=failed)
    assert bool(sft_filter([trajectory], config).kept) is kept


@pytest.mark.parametrize(
    ("prefer", "sample"), [("first", 0), ("fewest_tool_calls", 2), ("most_tool_calls", 1)]
)
def test_which_trajectory_of_a_question_is_kept(prefer: str, sample: int) -> None:
    batch = [make_trajectory("a", s, tools=n) for s, n in [(1, 5), (0, 3), (2, 1), (3, 5)]]
    kept = sft_filter(batch, SFTFilterConfig(prefer=prefer)).kept  # type: ignore[arg-type]
    assert [t.sample for t in kept] == [sample]


def test_all_per_question_and_no_correctness_requirement() -> None:
    batch = [make_trajectory("a", 1, prediction="Lyon"), make_trajectory("a", 0)]
    config = SFTFilterConfig(require_correct=False, one_per_question=False)
    assert [t.id for t in sft_filter(batch, config).kept] == ["a#0", "a#1"]
