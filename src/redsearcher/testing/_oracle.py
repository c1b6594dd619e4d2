"""An oracle policy: each synthesized task's verified walk, replayed as a scripted model.

Synthesis verifies every task by walking the environment (stage 3, ``completeness``): it records
the query that found each evidence document and the answers of the tools the question needs. Turned
into scripts, that walk is a policy which needs no model: it searches with those queries, visits
the evidence pages, asks the required tools, then answers. The main job runs it through the real
agent loop, tools, run log, scorer and exports, so a new user sees a whole rollout and its
training data without a GPU; tests use it for the same end-to-end path. It is a fake — a
replay of what the verifier already proved — never a measure of any model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from redsearcher.log import Task
from redsearcher.testing._script import Script, Step, ToolCallSpec, text_answer, text_tool_call

__all__ = ["guesser_scripts", "oracle_scripts"]

#: The goal the oracle states when it visits the evidence pages.
VISIT_GOAL = "Find the facts that identify the answer."


def _calls(task: Task) -> list[tuple[str, dict[str, Any]]]:
    walk = task.verdict("completeness")
    if walk is None or not walk.passed:
        return []
    found = walk.detail.get("documents", {})
    queries = [q for d in task.evidence_documents if isinstance(q := found.get(d), str)]
    calls: list[tuple[str, dict[str, Any]]] = []
    if queries:
        calls.append(("search", {"query": queries}))
    if task.evidence_urls:
        calls.append(("visit", {"url": list(task.evidence_urls), "goal": VISIT_GOAL}))
    labels = {n.var: n.label for n in task.nodes}
    for c in task.constraints:
        if c.tool == "maps" and c.object in labels and c.subject in labels:
            route = {"origin": labels[c.object], "destination": labels[c.subject]}
            calls.append(("google_maps_route", route))
        elif c.tool == "scholar" and c.subject in labels:
            calls.append(("google_scholar", {"query": [labels[c.subject]]}))
    return calls


def oracle_scripts(
    tasks: Sequence[Task], *, protocol: Literal["native", "text"] = "native"
) -> list[Script]:
    """One script per task whose oracle walk passed, picked by the task's question.

    Each script makes the walk's tool calls (search with the queries that found the evidence,
    a visit of the evidence URLs, the route or scholar look-ups of tool-enforced constraints), one
    call per turn, then answers the reference answer. Tasks without a passed ``completeness``
    verdict or without an answer get no script.

    Args:
        tasks: Synthesized tasks (``redsearcher synth`` output).
        protocol: How the tool calls are written: ``native`` tool calls or the Qwen/Hermes text.
    """
    scripts: list[Script] = []
    for task in tasks:
        calls = _calls(task)
        if not calls or task.answer is None:
            continue
        steps: list[Step] = []
        for i, (name, arguments) in enumerate(calls):
            if protocol == "native":
                spec = ToolCallSpec(name=name, arguments=arguments, id=f"call_{i}")
                steps.append(Step(tool_calls=[spec]))
            else:
                steps.append(Step(content=text_tool_call(name, arguments)))
        steps.append(Step(content=text_answer(task.answer)))
        scripts.append(Script(steps=steps, match=task.question, name=task.id))
    return scripts


#: A run of capitalised words (``Lucia Merstead``, ``New York City``): the guesser's candidates.
_NAME = re.compile(r"(?<![\w.])(?:[A-Z][\w'-]*)(?:\s+(?:of\s+|the\s+)?[A-Z][\w'-]*)*")


def guess(question: str) -> str:
    """The no-tool guesser's answer: the last name-like phrase the question does not open with.

    A lower bound with the shape of an answer (a name), made without any search: it is right
    only when a question names its own answer, which synthesized questions never should.
    """
    names = [m.group(0) for m in _NAME.finditer(question) if m.start() > 0]
    return names[-1] if names else "unknown"


def guesser_scripts(tasks: Sequence[Task]) -> list[Script]:
    """One script per task answering :func:`guess` at once, with no tool call.

    Run with no tools offered (``AgentConfig(tools=[])``) it is the main job's lower-bound
    reference agent, the counterpart of the oracle's upper bound; like the oracle it is a fake
    and is labelled as such, never presented as a model's score.
    """
    return [
        Script(steps=[Step(content=text_answer(guess(t.question)))], match=t.question, name=t.id)
        for t in tasks
        if t.answer is not None
    ]
