"""Builders and test doubles shared by the rollout tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redsearcher.agent._trajectory import (
    AgentTask,
    Message,
    Segment,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
)
from redsearcher.model import ChatModel, Completion, ModelUnavailable
from redsearcher.rollout import RunManifest


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


def make_tasks(n: int, *, answers: bool = True) -> list[AgentTask]:
    return [
        AgentTask(
            id=f"t{i}", question=f"Question number {i}?", answers=[f"A{i}"] if answers else []
        )
        for i in range(n)
    ]


class FakeModel:
    """A ChatModel double: answers after ``delay``; fails (ModelUnavailable) while ``down``."""

    def __init__(self, url: str, *, delay: float = 0.0, name: str = "m") -> None:
        self.url = url
        self.name = name
        self.protocol = "native"
        self.delay = delay
        self.down = False
        self.calls = 0
        self.closed = False

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.down:
            raise ModelUnavailable(f"{self.url} is down")
        message = Message(role="assistant", content="ok", train=True)
        return Completion(
            message=message, finish_reason="stop", prompt_tokens=1, completion_tokens=1,
            estimated=False, endpoint=self.url,
        )  # fmt: skip

    async def aclose(self) -> None:
        self.closed = True


def fake_models(n: int, **kw: Any) -> dict[str, ChatModel]:
    return {f"http://s{i}": FakeModel(f"http://s{i}", **kw) for i in range(n)}


def scripted_episode(turns: int = 2, *, answer: str | None = None) -> Any:
    """An episode function that calls the model ``turns`` times, then answers the task."""

    async def episode(
        task: AgentTask, *, model: ChatModel, toolbox: Any, config: Any, sample: int = 0,
        world_hash: str | None = None,
    ) -> Trajectory:  # fmt: skip
        endpoint = None
        for _ in range(turns):
            done = await model.complete([Message(role="user", content=task.question)], [])
            endpoint = done.endpoint
        prediction = answer if answer is not None else (task.answers[0] if task.answers else "x")
        t = make_trajectory(task.id, sample, answers=task.answers, prediction=prediction, tools=0)
        provenance = t.provenance.model_copy(
            update={"endpoint": endpoint, "world_hash": world_hash}
        )
        usage = t.usage.model_copy(update={"model_calls": turns})
        return t.model_copy(
            update={"question": task.question, "provenance": provenance, "usage": usage}
        )

    return episode


def run_async(fn: Any) -> Any:
    """Run an ``async def`` test with ``asyncio.run`` (the suite has no async plugin)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper
