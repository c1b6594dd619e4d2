"""Verifier stages 4 and 5 over the scripted OpenAI-compatible server (real HTTP)."""

from __future__ import annotations

import asyncio
import json

import pytest

from redsearcher.eval import exact_match
from redsearcher.log import Task, TaskProvenance, Verdict
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.synth._llm_verify import (
    AUDIT_FIELDS,
    LLMAudit,
    NoToolSolver,
    parse_audit,
    rollout_filter,
)
from redsearcher.testing import ScriptedChatServer, Step
from redsearcher.testing._script import StepError


def _task() -> Task:
    return Task(
        id="t",
        question="Which film was directed by a person who cast their own child in it?",
        answer="The Quiet Harbor",
        aliases=["Quiet Harbor"],
        answer_entity="E4",
        answer_type="film",
        nodes=[],
        constraints=[],
        shape="hub",
        treewidth=2,
        msd=3,
        evidence_facts=[3, 4, 5],
        evidence_documents=["D2", "D3", "D4"],
        provenance=TaskProvenance(world_hash="h", seed=0),
    )


def _run(steps: list[Step], check: str, **kw: object) -> tuple[Verdict, list[dict[str, object]]]:
    async def main(base_url: str) -> Verdict:
        cfg = ModelConfig(name="judge", base_url=base_url, api_key="sk-test", max_retries=0)
        async with OpenAIChatModel(cfg) as model:
            stage = NoToolSolver(model, exact_match, **kw) if check == "solver" else LLMAudit(model)  # type: ignore[arg-type]
            return await stage(_task())

    with ScriptedChatServer(steps) as server:
        verdict = asyncio.run(main(server.base_url))
        bodies = [r.body for r in server.chat_requests]
    return verdict, bodies


def test_no_tool_solver_drops_a_task_it_can_answer() -> None:
    steps = [
        Step(content="<answer>no idea</answer>"),
        Step(content="I think <answer>quiet harbor</answer>"),
    ]
    verdict, bodies = _run(steps, "solver", n=2)
    assert verdict.stage == "no_tool_solver" and verdict.passed is False
    assert verdict.detail["solved"] == 1 and verdict.detail["guesses"] == [
        "no idea",
        "quiet harbor",
    ]
    assert all("tools" not in b for b in bodies)  # no tools offered
    assert _task().question in bodies[0]["messages"][0]["content"]  # type: ignore[index]


def test_no_tool_solver_keeps_a_task_it_cannot_answer() -> None:
    steps = [Step(content="<answer>Night Ferry</answer>")] * 3
    verdict, _ = _run(steps, "solver", n=3)
    assert verdict.passed is True and verdict.detail["solved"] == 0


def test_audit_reads_the_five_booleans() -> None:
    good = json.dumps(AUDIT_FIELDS)
    verdict, bodies = _run([Step(content=f"Here you go:\n{good}")], "audit")
    assert verdict.passed is True and verdict.detail["failed"] == []
    assert "The Quiet Harbor" in bodies[0]["messages"][0]["content"]  # type: ignore[index]
    leaky = json.dumps({**AUDIT_FIELDS, "leakage": True, "needs_deep_search": False})
    verdict, _ = _run([Step(content=leaky)], "audit")
    assert verdict.passed is False and verdict.detail["failed"] == ["leakage", "needs_deep_search"]


def test_unreadable_or_failing_model_leaves_the_stage_unscored() -> None:
    verdict, _ = _run([Step(content="looks fine to me")], "audit")
    assert verdict.passed is None and "unscored" in verdict.detail
    verdict, _ = _run([Step(error=StepError(status=500))], "audit")
    assert verdict.passed is None


def test_parse_audit_takes_the_last_complete_object() -> None:
    assert parse_audit('{"x": 1} then ' + json.dumps(AUDIT_FIELDS)) == AUDIT_FIELDS
    assert parse_audit('{"hallucination": "no"}') is None


@pytest.mark.parametrize(
    ("rate", "passed"), [(0.0, True), (0.49, True), (0.5, False), (1.0, False)]
)
def test_rollout_filter(rate: float, passed: bool) -> None:
    async def probe(task: Task) -> float:
        return rate

    verdict = asyncio.run(rollout_filter(_task(), probe, threshold=0.5))
    assert verdict.stage == "rollout" and verdict.passed is passed
