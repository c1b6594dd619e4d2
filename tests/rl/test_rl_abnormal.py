"""The abnormal-sample filter and the batch: masked out of the loss, kept in the advantage."""

from __future__ import annotations

from records_support import make_trajectory
from redsearcher.rl import (
    AbnormalConfig,
    AdvantageConfig,
    BatchConfig,
    GrpoSample,
    SampleStats,
    abnormal_reasons,
    grpo_batch,
    repeated_ngram_share,
    trajectory_stats,
)

DISTINCT = " ".join(f"word{i}" for i in range(60))
LOOP = " ".join(["I will search again for the answer"] * 10)  # 70 words, 7 distinct 4-grams


def test_repeated_ngram_share_by_hand() -> None:
    # 2-grams ab ba ab ba ab: 2 distinct of 5 -> 3/5 repeat
    assert repeated_ngram_share(["a", "b", "a", "b", "a", "b"], 2) == (0.6, 5)
    assert repeated_ngram_share(["a"], 2) == (0.0, 0)
    assert repeated_ngram_share([1, 2, 3, 1, 2, 3], 3) == (0.25, 4)


def test_repetition() -> None:
    assert abnormal_reasons(SampleStats(text=DISTINCT)) == []
    # 67 four-grams, 7 distinct: share 60/67 > 0.5
    assert abnormal_reasons(SampleStats(text=LOOP)) == ["repetition"]
    # too short to judge: 9 four-grams < min_ngrams 32
    assert abnormal_reasons(SampleStats(text="again " * 12)) == []
    # token ids win over text when given
    ids = [5, 6] * 40
    assert abnormal_reasons(SampleStats(text=DISTINCT, token_ids=ids)) == ["repetition"]
    loose = AbnormalConfig(max_repeated_ngram_share=0.95)
    assert abnormal_reasons(SampleStats(text=LOOP), loose) == []


def test_length_and_truncation() -> None:
    config = AbnormalConfig(max_response_tokens=100)
    assert abnormal_reasons(SampleStats(response_tokens=100), config) == []
    assert abnormal_reasons(SampleStats(response_tokens=101), config) == ["length"]
    assert abnormal_reasons(SampleStats(response_tokens=10**6)) == []  # no budget set
    assert abnormal_reasons(SampleStats(truncated=True)) == ["truncated"]
    assert abnormal_reasons(SampleStats(truncated=True), AbnormalConfig(mask_truncated=False)) == []


def test_tool_failure_rate() -> None:
    assert abnormal_reasons(SampleStats(tool_calls=4, tool_failures=3)) == ["tool_failures"]
    assert abnormal_reasons(SampleStats(tool_calls=4, tool_failures=2)) == []  # 0.5 is not > 0.5
    assert abnormal_reasons(SampleStats(tool_calls=3, tool_failures=3)) == []  # under min calls
    everything = SampleStats(text=LOOP, truncated=True, tool_calls=5, tool_failures=5)
    assert abnormal_reasons(everything) == ["repetition", "truncated", "tool_failures"]
    assert abnormal_reasons(everything, AbnormalConfig(enabled=False)) == []


def test_stats_of_a_trajectory() -> None:
    trajectory = make_trajectory("t", tools=5, failed=4, prediction=None, termination="max_turns")
    stats = trajectory_stats(trajectory)
    assert (stats.tool_calls, stats.tool_failures, stats.truncated) == (5, 4, True)
    assert stats.response_tokens == 10 and stats.text == "<answer>None</answer>"
    answered = trajectory_stats(make_trajectory("t", termination="max_turns"))
    assert not answered.truncated  # it gave the answer it was asked for at the limit


def test_batch_masks_abnormal_samples_but_keeps_their_advantage() -> None:
    repetitive = SampleStats(text=LOOP)
    samples = [
        GrpoSample(group="A", reward=1.0, stats=repetitive),
        GrpoSample(group="A", reward=0.0),
        GrpoSample(group="B", reward=1.0),
        GrpoSample(group="A", reward=1.0),
        GrpoSample(group="A", reward=0.0),
        GrpoSample(group="B", reward=1.0),
        GrpoSample(group="C", reward=None),
        GrpoSample(group="C", reward=1.0),
        GrpoSample(group="C", reward=0.0),
    ]
    config = BatchConfig(
        advantages=AdvantageConfig(std="population", std_epsilon=0.0), dynamic_sampling=True
    )
    batch = grpo_batch(samples, config)
    # Group A counts the abnormal sample: mean 0.5, std 0.5 -> +-1. Without it the mean would
    # be 1/3 and the others' advantages would differ.
    assert [s.advantage for s in batch.samples] == [1.0, -1.0, 0.0, 1.0, -1.0, 0.0, None, 1.0, -1.0]
    assert [s.loss_weight for s in batch.samples] == [0, 1, 0, 1, 1, 0, 0, 1, 1]
    assert [s.excluded_by for s in batch.samples] == [
        "abnormal", None, "dynamic_sampling", None, None, "dynamic_sampling", "unscored", None,
        None,
    ]  # fmt: skip
    assert batch.samples[0].abnormal == ["repetition"]
    assert (batch.samples_total, batch.trained, batch.unscored, batch.abnormal) == (9, 5, 1, 1)
    assert batch.groups == 3 and batch.zero_std_groups == ["B"] and batch.dropped_groups == ["B"]
    assert batch.dynamic_sampling_dropped == 2


def test_batch_without_dynamic_sampling_trains_zero_std_groups() -> None:
    samples = [GrpoSample(group="B", reward=1.0), GrpoSample(group="B", reward=1.0)]
    batch = grpo_batch(samples)
    assert [s.loss_weight for s in batch.samples] == [1.0, 1.0]
    assert [s.advantage for s in batch.samples] == [0.0, 0.0]
    assert batch.zero_std_groups == ["B"] and batch.dropped_groups == []


def test_repetition_in_reasoning_counts() -> None:
    from redsearcher.log import Message

    trajectory = make_trajectory("t")
    looping = Message(role="assistant", content="<answer>Paris</answer>", reasoning=LOOP)
    segment = trajectory.segments[0].model_copy(
        update={"messages": [*trajectory.segments[0].messages[:2], looping]}
    )
    stats = trajectory_stats(trajectory.model_copy(update={"segments": [segment]}))
    assert stats.text is not None and stats.text.startswith("I will search again")
    assert abnormal_reasons(stats) == ["repetition"]
