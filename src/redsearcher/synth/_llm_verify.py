"""Verifier stages 4 and 5: what only a model can judge, and the agent-rollout filter.

4. With a model configured: a **no-tool solver** answers the question from parametric memory
   ``n`` times (a task it solves is not a search task — drop it), and an **audit** returns five
   booleans — hallucination, leakage, semantic fit, needs deep search, time validity — the
   paper's LLM-based quality check. A model that fails or answers unreadably leaves the stage
   *unscored* (``passed=None``), never "failed": infrastructure trouble must not be mistaken
   for a bad task.
5. **Rollout difficulty filter**: any ``DifficultyProbe`` (an async callable returning the
   success rate of k agent rollouts on the task) drops tasks solved at or above a threshold.
   The agent package supplies probes; synthesis only needs the hook.

Prompts are versioned files under ``synth/prompts``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Protocol

from redsearcher.log import Message, Task, Verdict
from redsearcher.model import ChatModel, ModelRequestError, ModelUnavailable, extract_answer

__all__ = ["AUDIT_FIELDS", "DifficultyProbe", "LLMAudit", "NoToolSolver", "rollout_filter"]

#: The audit's booleans and the value each must have for the task to pass.
AUDIT_FIELDS = {
    "hallucination": False,
    "leakage": False,
    "semantic_fit": True,
    "needs_deep_search": True,
    "time_validity": True,
}


def _prompt(name: str) -> str:
    return (resources.files("redsearcher.synth") / "prompts" / name).read_text(encoding="utf-8")


@dataclass
class NoToolSolver:
    """Stage 4a: drop tasks a model answers without tools (``n`` samples, any correct).

    ``match`` decides whether a guess is correct (``redsearcher.eval.exact_match`` from the CLI).
    It is handed in because evaluation sits above synthesis: the same rule that scores rollouts
    judges these guesses, without synthesis importing the evaluation package.
    """

    model: ChatModel
    match: Callable[[str | None, Sequence[str]], bool]
    n: int = 4
    prompt_version: str = "v1"

    async def __call__(self, task: Task) -> Verdict:
        start = time.perf_counter()
        prompt = _prompt(f"solve_no_tools.{self.prompt_version}.txt").format(question=task.question)
        guesses: list[str | None] = []
        try:
            for _ in range(self.n):
                done = await self.model.complete([Message(role="user", content=prompt)], [])
                guesses.append(extract_answer(done.message.content))
        except (ModelUnavailable, ModelRequestError) as err:
            return Verdict(
                stage="no_tool_solver", passed=None, detail={"unscored": str(err)}, seconds=0.0
            )
        solved = sum(self.match(g, task.answers) for g in guesses)
        return Verdict(
            stage="no_tool_solver",
            passed=solved == 0,
            detail={"samples": self.n, "solved": solved, "guesses": guesses},
            seconds=round(time.perf_counter() - start, 4),
        )


@dataclass
class LLMAudit:
    """Stage 4b: the five-boolean quality audit."""

    model: ChatModel
    prompt_version: str = "v1"

    async def __call__(self, task: Task) -> Verdict:
        start = time.perf_counter()
        facts = "\n".join(f"- {c.text or c.kind + ' ' + c.predicate}" for c in task.constraints)
        prompt = _prompt(f"audit.{self.prompt_version}.txt").format(
            question=task.question, answer=task.answer, facts=facts
        )
        try:
            done = await self.model.complete([Message(role="user", content=prompt)], [])
        except (ModelUnavailable, ModelRequestError) as err:
            return Verdict(stage="audit", passed=None, detail={"unscored": str(err)})
        verdict = parse_audit(done.message.content)
        if verdict is None:
            detail = {"unscored": "no audit JSON in the reply", "reply": done.message.content[:500]}
            return Verdict(stage="audit", passed=None, detail=detail)
        failed = [k for k, want in AUDIT_FIELDS.items() if verdict[k] is not want]
        return Verdict(
            stage="audit",
            passed=not failed,
            detail={**verdict, "failed": failed},
            seconds=round(time.perf_counter() - start, 4),
        )


def parse_audit(text: str) -> dict[str, bool] | None:
    """The five booleans from a reply (the last JSON object with all of them), or None."""
    for match in reversed(list(re.finditer(r"\{[^{}]*\}", text))):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if all(isinstance(data.get(k), bool) for k in AUDIT_FIELDS):
            return {k: bool(data[k]) for k in AUDIT_FIELDS}
    return None


class DifficultyProbe(Protocol):
    """Success rate in [0, 1] of k agent rollouts on a task (stage 5's source)."""

    async def __call__(self, task: Task) -> float: ...


async def rollout_filter(task: Task, probe: DifficultyProbe, *, threshold: float) -> Verdict:
    """Stage 5: fail a task whose rollout success rate is at or above ``threshold``."""
    start = time.perf_counter()
    rate = await probe(task)
    return Verdict(
        stage="rollout",
        passed=rate < threshold,
        detail={"success_rate": rate, "threshold": threshold},
        seconds=round(time.perf_counter() - start, 4),
    )
