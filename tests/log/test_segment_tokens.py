"""The optional token ids of a segment: validated, written only when present, read back as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from records_support import make_manifest, make_trajectory
from redsearcher.log import RunLog, Segment, SegmentTokens, read_trajectories

TOKENS = SegmentTokens(
    prompt_ids=[1, 2, 3],
    response_ids=[10, 11, 4, 5, 12],
    response_mask=[1, 1, 0, 0, 1],
    logprobs=[-0.1, -0.2, 0.0, 0.0, -0.3],
)


def test_lengths_and_mask_values_are_checked() -> None:
    with pytest.raises(ValidationError, match="same length"):
        SegmentTokens(prompt_ids=[1], response_ids=[2, 3], response_mask=[1], logprobs=[0.0, 0.0])
    with pytest.raises(ValidationError, match="only 0 and 1"):
        SegmentTokens(prompt_ids=[1], response_ids=[2], response_mask=[2], logprobs=[0.0])


def test_a_segment_without_tokens_writes_exactly_as_before() -> None:
    segment = Segment(index=0, messages=[], first_turn=0, end="final")
    assert segment.model_dump(mode="json") == {
        "index": 0,
        "messages": [],
        "first_turn": 0,
        "end": "final",
    }
    assert Segment.model_validate_json(segment.model_dump_json()) == segment


def test_tokens_round_trip_through_a_run_log(tmp_path: Path) -> None:
    plain = make_trajectory("t1", 0)
    segments = [s.model_copy(update={"tokens": TOKENS}) for s in plain.segments]
    tokened = plain.model_copy(update={"id": "t1#1", "sample": 1, "segments": segments})
    with RunLog.open(tmp_path / "run", make_manifest()) as log:
        log.append_many([plain, tokened])
    first, second = read_trajectories(tmp_path / "run")
    assert all(s.tokens is None for s in first.segments)
    assert [s.tokens for s in second.segments] == [TOKENS] * len(segments)
    assert second == tokened
