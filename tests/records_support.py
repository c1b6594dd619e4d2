"""Record builders shared by the log, rollout, export and eval tests (any test may import them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redsearcher.log import (
    Message,
    RunManifest,
    Segment,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
)


def make_trajectory(
    task_id: str = "t1",
    sample: int = 0,
    *,
    answers: Sequence[str] = ("Paris",),
    prediction: str | None = "Paris",
    termination: str = "answer",
    tools: int = 2,
    failed: int = 0,
    score: float | None = None,
    protocol: str = "native",
    error: str | None = None,
) -> Trajectory:
    calls = [
        ToolCallRecord(
            id=f"c{i}",
            turn=i,
            segment=0,
            name="search",
            arguments={"query": ["q"]},
            output="Tool error" if i < failed else "results",
            error=i < failed,
            latency_s=0.01,
        )
        for i in range(tools)
    ]
    messages = [
        Message(role="system", content="You search."),
        Message(role="user", content=f"Question {task_id}?"),
        Message(role="assistant", content=f"<answer>{prediction}</answer>", train=True),
    ]
    return Trajectory(
        id=f"{task_id}#{sample}",
        task_id=task_id,
        sample=sample,
        question=f"Question {task_id}?",
        answers=list(answers),
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        tool_calls=calls,
        prediction=prediction,
        termination=termination,  # type: ignore[arg-type]
        error=error,
        turns=tools + 1,
        usage=Usage(model_calls=tools + 1, prompt_tokens=100, completion_tokens=10),
        score=score,
        provenance=TrajectoryProvenance(model="m", protocol=protocol),
    )


def make_manifest(**overrides: Any) -> RunManifest:
    values: dict[str, Any] = {
        "model": "m",
        "protocol": "native",
        "tasks_digest": "d" * 64,
        "n_samples": 2,
        "world_hash": "w" * 16,
        "agent": {"max_turns": 5},
        "sampling": {"temperature": 0.85},
    }
    values.update(overrides)
    return RunManifest(**values)
