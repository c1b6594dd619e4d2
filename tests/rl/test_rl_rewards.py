"""Outcome and process rewards, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from redsearcher.eval import ProcessRecord, Verdict
from redsearcher.rl import (
    RewardConfig,
    judge_rewards,
    outcome_reward,
    sample_reward,
    sample_rewards,
)


def verdict(correct: bool | None, reason: str | None = None) -> Verdict:
    return Verdict(
        trajectory_id="t#0", task_id="t", sample=0, judge="browsecomp", judge_version="sha",
        correct=correct, unscored_reason=reason,
    )  # fmt: skip


def process(read: float = 0.5, retrieved: float = 1.0, tools: dict[str, bool] | None = None) -> (
    ProcessRecord
):  # fmt: skip
    return ProcessRecord(
        trajectory_id="t#0", task_id="t", evidence=2, retrieved=2, read=1,
        retrieved_recall=retrieved, read_recall=read, first_retrieved_turn={},
        first_read_turn={}, required_tools=tools if tools is not None else {},
        deciding_values={}, searches=3, redundant_searches=0, over_search_turns=None,
    )  # fmt: skip


def test_outcome_of_verdicts_and_scores() -> None:
    assert outcome_reward(verdict(True)) == 1.0
    assert outcome_reward(verdict(False)) == 0.0
    assert outcome_reward(verdict(None, "judge timed out")) is None
    assert outcome_reward(0.25) == 0.25
    assert outcome_reward(None) is None
    with pytest.raises(ValueError, match="finite"):
        outcome_reward(math.nan)


def test_unscored_is_never_zero_and_says_why() -> None:
    reward = sample_reward(verdict(None, "judge output did not parse"), process())
    assert reward.reward is None and reward.unscored
    assert reward.unscored_reason is not None
    assert "browsecomp" in reward.unscored_reason and "did not parse" in reward.unscored_reason
    # Process weights on: still no reward for an unscored sample.
    config = RewardConfig(evidence_recall_weight=1.0, required_tools_weight=1.0)
    assert sample_reward(None, process(), config).reward is None


def test_process_terms_are_off_by_default() -> None:
    reward = sample_reward(verdict(False), process(read=1.0, tools={"maps": True}))
    assert reward.reward == 0.0
    assert reward.evidence_recall is None and reward.required_tools is None


def test_weighted_process_reward_by_hand() -> None:
    config = RewardConfig(evidence_recall_weight=0.2, required_tools_weight=0.1)
    record = process(read=0.5, retrieved=1.0, tools={"maps": True, "python": False})
    reward = sample_reward(verdict(True), record, config)
    # 1 * 1.0 + 0.2 * 0.5 (read recall) + 0.1 * (1 of 2 required tools) = 1.15
    assert reward.reward == pytest.approx(1.15)
    assert (reward.outcome, reward.evidence_recall, reward.required_tools) == (1.0, 0.5, 0.5)
    retrieved = RewardConfig(evidence_recall_weight=0.2, evidence_recall="retrieved")
    assert sample_reward(verdict(False), record, retrieved).reward == pytest.approx(0.2)


def test_terms_without_data_contribute_nothing() -> None:
    config = RewardConfig(evidence_recall_weight=0.5, required_tools_weight=0.5)
    # No provenance (a benchmark question) and no required tools.
    assert sample_reward(verdict(True), None, config).reward == 1.0
    reward = sample_reward(verdict(True), process(read=0.0, tools={}), config)
    assert reward.reward == 1.0 and reward.required_tools is None


def test_batch_rewards_count_unscored() -> None:
    rewards, unscored = sample_rewards([verdict(True), verdict(None), 0.0, None])
    assert rewards == [1.0, None, 0.0, None] and unscored == 2
    with pytest.raises(ValueError, match="2 process records for 1"):
        sample_rewards([1.0], [None, None])


def test_judge_rewards_never_turn_outages_into_zero(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from records_support import make_trajectory
    from redsearcher.log import Trajectory
    from redsearcher.model import ModelUnavailable

    batch = [
        make_trajectory("a", 0, prediction="Paris"),
        make_trajectory("a", 1, prediction="Lyon"),
        make_trajectory("a", 2, prediction=None, termination="error", error="env 503"),
        make_trajectory("b", 0, answers=(), prediction="Paris"),
    ]
    rewards = asyncio.run(judge_rewards(batch, "exact"))
    assert [r.reward for r in rewards] == [1.0, 0.0, None, None]
    assert rewards[2].unscored_reason is not None and "env 503" in rewards[2].unscored_reason
    assert "2 of 4 samples unscored" in caplog.text

    async def judge_down(trajectory: Trajectory) -> float | None:
        raise ModelUnavailable("judge endpoint gone")

    down = asyncio.run(judge_rewards(batch[:2], judge_down))
    assert [r.reward for r in down] == [None, None]
    assert down[0].unscored_reason is not None and "judge endpoint gone" in down[0].unscored_reason

    async def buggy(trajectory: Trajectory) -> float | None:
        raise RuntimeError("a bug, not an outage")

    with pytest.raises(RuntimeError, match="a bug"):
        asyncio.run(judge_rewards(batch[:1], buggy))
