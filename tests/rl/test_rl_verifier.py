"""The verifier's output is untrusted: strict parsing, hostile cases, and its question."""

from __future__ import annotations

import json

import pytest

from records_support import make_trajectory
from redsearcher.log import Task
from redsearcher.rl import (
    parse_verifier_output,
    verification_task,
    verifier_prompt,
    verifier_result,
)


def obj(**fields: object) -> str:
    return json.dumps(fields)


def test_well_formed_decisions() -> None:
    valid = parse_verifier_output(obj(verdict="valid", reason="All constraints hold."))
    assert valid.status == "valid" and valid.reason == "All constraints hold."
    multiple = parse_verifier_output(
        obj(verdict="multiple_answers", reason="Both fit.", alternative_answers=[" Lyon "])
    )
    assert multiple.status == "multiple_answers" and multiple.alternative_answers == ["Lyon"]
    inconsistent = parse_verifier_output(
        obj(verdict="inconsistent", reason="Born 1901, not 1910.", alternative_answers=[])
    )
    assert inconsistent.status == "inconsistent"
    fenced = parse_verifier_output("```json\n" + obj(verdict="valid", reason="ok") + "\n```")
    assert fenced.status == "valid"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (None, "no answer"),
        ("   ", "no answer"),
        ("The question looks valid to me.", "not one JSON object"),
        (obj(verdict="valid", reason="a") + obj(verdict="valid", reason="b"), "not one JSON"),
        ('["valid"]', "JSON list, not an object"),
        ('"valid"', "JSON str"),
        (obj(verdict="VALID", reason="x"), "is not one of"),
        (obj(verdict=None, reason="x"), "is not one of"),
        (obj(verdict=["valid"], reason="x"), "is not one of"),
        (obj(verdict="valid", reason="x", confidence=0.9), "unexpected keys"),
        (obj(verdict="valid"), "no reason"),
        (obj(verdict="valid", reason="   "), "no reason"),
        (obj(verdict="valid", reason=3), "no reason"),
        (obj(verdict="valid", reason="x" * 2001), "longer than"),
        (obj(verdict="multiple_answers", reason="x"), "without any alternative"),
        (obj(verdict="multiple_answers", reason="x", alternative_answers="B"), "not a list"),
        (obj(verdict="multiple_answers", reason="x", alternative_answers=[1]), "not a list"),
        (obj(verdict="multiple_answers", reason="x", alternative_answers=[""]), "not a list"),
        (obj(verdict="multiple_answers", reason="x", alternative_answers=["a"] * 21), "too long"),
        (obj(verdict="valid", reason="x", alternative_answers=["B"]), "with alternative"),
        ("[" * 100_000, "not one JSON object"),
        ("```python\n" + obj(verdict="valid", reason="ok") + "\n```", "not one JSON object"),
        ('{"verdict": "valid", "reason": "ok"', "not one JSON object"),
    ],
)
def test_hostile_outputs_are_unverified(text: str | None, why: str) -> None:
    result = parse_verifier_output(text)
    assert result.status == "unverified"
    assert why in result.reason
    assert result.raw is None or len(result.raw) < 4100  # bounded in the record


def test_result_of_verifier_episodes() -> None:
    answer = obj(verdict="valid", reason="ok")
    assert verifier_result(make_trajectory("t", prediction=answer)).status == "valid"
    crashed = make_trajectory("t", prediction=None, termination="error", error="model said 500")
    result = verifier_result(crashed)
    assert result.status == "unverified" and "model said 500" in result.reason
    assert result.trajectory_id == "t#0"
    limit = verifier_result(make_trajectory("t", prediction=None, termination="max_turns"))
    assert "termination max_turns" in limit.reason


def test_verification_question_carries_metadata_and_rollout_answers() -> None:
    task = Task(
        id="q1", question="Which city?", answer="Paris", aliases=["Paris, France"],
        evidence_urls=["https://example.org/a"], metadata={"source": "synth"},
    )  # fmt: skip
    rollouts = [
        make_trajectory("q1", 0, prediction="Lyon"),
        make_trajectory("q1", 1, prediction="Lyon"),
        make_trajectory("q1", 2, prediction="Paris"),
        make_trajectory("q1", 3, prediction=None),
    ]
    check = verification_task(task, rollouts)
    assert check.id == "q1" and check.answer is None  # the verifier is not scored on it
    text = check.question
    for part in ("Question: Which city?", "Reference answer: Paris", "Paris, France",
                 "https://example.org/a", '"source": "synth"', "'Lyon': 2 of 4 rollouts",
                 "'Paris': 1 of 4 rollouts"):  # fmt: skip
        assert part in text
    assert "fact-checker" in verifier_prompt()
