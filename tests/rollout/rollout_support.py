"""Builders and test doubles shared by the rollout tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from records_support import make_manifest, make_trajectory  # noqa: F401  (re-exported)
from redsearcher.log import Message, Task, Trajectory
from redsearcher.model import ChatModel, Completion, ModelUnavailable


def make_tasks(n: int, *, answers: bool = True) -> list[Task]:
    return [
        Task(id=f"t{i}", question=f"Question number {i}?", answer=f"A{i}" if answers else None)
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
