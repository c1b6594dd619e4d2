"""Builders and test doubles shared by the rollout tests."""

from __future__ import annotations

import asyncio
from typing import Any

from records_support import make_manifest, make_trajectory  # noqa: F401  (re-exported)
from redsearcher.log import Message, Task, Trajectory
from redsearcher.model import ChatModel
from redsearcher.testing import ScriptedModel, Step

#: The answer of the rollout tests' models: the episode functions here ignore what it says.
OK = Step(content="ok", prompt_tokens=1, completion_tokens=1)


def make_tasks(n: int, *, answers: bool = True) -> list[Task]:
    return [
        Task(id=f"t{i}", question=f"Question number {i}?", answer=f"A{i}" if answers else None)
        for i in range(n)
    ]


def fake_model(url: str, *, delay: float = 0.0, name: str = "m") -> ScriptedModel:
    """A model at ``url`` that answers "ok" after ``delay`` to any number of calls.

    Its ``down`` switch makes every call fail with ModelUnavailable; ``calls`` records them.
    """
    return ScriptedModel(name=name, endpoint=url, latency_s=delay, default=OK)


def fake_models(n: int, **kw: Any) -> dict[str, ChatModel]:
    return {f"http://s{i}": fake_model(f"http://s{i}", **kw) for i in range(n)}


def scripted_episode(turns: int = 2, *, answer: str | None = None) -> Any:
    """An episode function that calls the model ``turns`` times, then answers the task."""

    async def episode(
        task: Task, *, model: ChatModel, toolbox: Any, config: Any, sample: int = 0,
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
