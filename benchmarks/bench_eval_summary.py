"""Speed of scoring and summarizing a large run: exact verdicts + ``summarize`` on N trajectories.

Builds N trajectories over the pinned ``redsearcher-synthetic`` tasks (each: two searches whose
results link evidence URLs, a visit of the evidence, an answer; half correct), then times the
rule verdicts and :func:`redsearcher.eval.summarize` (process metrics included). The issue's
target is scoring a 10,000-trajectory run with rule judges at >= 2,000 trajectories/s; the
ceiling printed for comparison is reading the same trajectories back from their JSON lines.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_eval_summary.py [N]
"""

from __future__ import annotations

import sys
import time

from redsearcher.eval import summarize
from redsearcher.eval._bench import exact_verdicts
from redsearcher.eval._benchmarks import tasks_path
from redsearcher.log import (
    Message,
    Segment,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    read_tasks,
)
from redsearcher.tools import TongyiStyle


def build(n: int) -> tuple[list[Trajectory], list]:  # type: ignore[type-arg]
    tasks = read_tasks(tasks_path())
    style = TongyiStyle()
    runs = []
    for i in range(n):
        task = tasks[i % len(tasks)]
        links = [{"title": f"p{j}", "link": u} for j, u in enumerate(task.evidence_urls)]
        search = style.search("q", {"organic": links})
        visit = style.join(style.visit(u, "g", "facts", "summary") for u in task.evidence_urls)
        calls = [
            ToolCallRecord(
                id="a", turn=0, segment=0, name="search", arguments={"query": ["q"]}, output=search
            ),
            ToolCallRecord(
                id="b", turn=1, segment=0, name="search", arguments={"query": ["q"]}, output=search
            ),
            ToolCallRecord(
                id="c",
                turn=2,
                segment=0,
                name="visit",
                arguments={"url": task.evidence_urls, "goal": "g"},
                output=visit,
            ),
        ]
        runs.append(
            Trajectory(
                id=f"{task.id}#{i // len(tasks)}",
                task_id=task.id,
                sample=i // len(tasks),
                question=task.question,
                answers=task.answers,
                segments=[
                    Segment(index=0, messages=[Message(role="user")], first_turn=0, end="final")
                ],
                tool_calls=calls,
                prediction=task.answer if i % 2 else "wrong",
                termination="answer",
                turns=4,
                provenance=TrajectoryProvenance(model="m", protocol="native"),
            )
        )
    return runs, tasks


def main(n: int) -> None:
    runs, tasks = build(n)
    lines = [t.model_dump_json() for t in runs]
    start = time.perf_counter()
    for line in lines:
        Trajectory.model_validate_json(line)
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    verdicts = exact_verdicts(runs)
    verdict_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = summarize(runs, verdicts, tasks)
    summary_s = time.perf_counter() - start
    total = verdict_s + summary_s
    print(f"trajectories: {n:,}")
    print(f"exact verdicts: {verdict_s:.2f} s ({n / verdict_s:,.0f}/s)")
    print(f"summarize (process metrics included): {summary_s:.2f} s ({n / summary_s:,.0f}/s)")
    print(f"verdicts + summary: {total:.2f} s ({n / total:,.0f} trajectories/s)")
    print(f"ceiling, parsing the same JSON lines: {parse_s:.2f} s ({n / parse_s:,.0f}/s)")
    print(f"accuracy {summary.accuracy.value}, read recall {summary.process.read_recall}")  # type: ignore[union-attr]


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
