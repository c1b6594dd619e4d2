"""``evaluate``: judge a run with one or more judges, then write its summary, CSV and report.

What ``redsearcher eval`` calls. Each judge writes its own verdicts file (resumable, see
:func:`~redsearcher.eval.judge_run`); the summary is then computed from the verdict files as
they stand — so it always covers every verdict, including those of earlier invocations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redsearcher.eval._evaluate import JudgeRun, gc_paused, judge_run, read_verdicts
from redsearcher.eval._judges import Judge
from redsearcher.eval._outputs import write_outputs
from redsearcher.eval._report import turn_counts, write_report
from redsearcher.eval._summary import Summary
from redsearcher.log import Task, read_manifest, read_trajectories

__all__ = ["Evaluation", "evaluate"]


@dataclass
class Evaluation:
    """What :func:`evaluate` did: one :class:`JudgeRun` per judge, and what it wrote."""

    runs: list[JudgeRun]
    summary: Summary
    """``summary.json``: the metrics of the primary judge's verdicts (overrides applied)."""
    judges: dict[str, Any]
    """``judges.json``: per-judge counts, overrides, agreement."""
    report: Path
    """``report.html``: the self-contained HTML report of the summary."""


async def evaluate(
    run: str | Path,
    judges: Sequence[Judge],
    *,
    retry_unscored: bool = False,
    overrides: Path | None = None,
    tasks_digest: str | None = None,
    tasks: Sequence[Task] = (),
    concurrency: int = 16,
    fsync: bool = True,
    progress: Callable[[JudgeRun], None] | None = None,
    title: str | None = None,
) -> Evaluation:
    """Judge ``run`` with each of ``judges`` (the first is primary), then summarize it.

    Args:
        run: The run directory.
        judges: The judges; two or more add Cohen's kappa between each pair.
        retry_unscored: Re-judge the unscored verdicts.
        overrides: A manual overrides file (see :func:`~redsearcher.eval.load_overrides`).
        tasks_digest: Refuse a run made on another task set.
        tasks: The run's task records (synthesized ones add process metrics to the summary);
            every trajectory's task must be among them.
        concurrency: Judgements in flight at once, per judge.
        fsync: ``fsync`` the verdict files on every commit.
        progress: Called with a judge's running stats after each of its commits.
        title: The HTML report's title (default: the run directory's name).

    Raises:
        ValueError: for no judge or a judge named twice.
        UserError: see :func:`~redsearcher.eval.judge_run` and
            :func:`~redsearcher.eval.summarize`.
    """
    names = [judge.name for judge in judges]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"give one or more distinct judges, not {names}")
    read_manifest(run)  # "not a run directory" before anything else
    with gc_paused():  # thousands of acyclic records kept alive: see gc_paused
        trajectories = list(read_trajectories(run))  # read once: for judges and summary
    runs = []
    for judge in judges:
        runs.append(
            await judge_run(
                run,
                judge,
                retry_unscored=retry_unscored,
                tasks_digest=tasks_digest,
                concurrency=concurrency,
                fsync=fsync,
                progress=progress,
                trajectories=trajectories,
            )
        )
    with gc_paused():
        verdicts = {stats.judge: read_verdicts(stats.path) for stats in runs}
        versions = {stats.judge: stats.judge_version for stats in runs}
        summary, judged = write_outputs(
            run, trajectories, verdicts, versions=versions, overrides=overrides, tasks=tasks
        )
        primary = verdicts[names[0]]
        report = write_report(
            Path(run) / "report.html",
            summary,
            benchmark=Path(run).name,
            title=title,
            identity={"run": str(run), "judge": names[0]},
            turns=turn_counts(trajectories, primary.values()),
        )
    return Evaluation(runs, summary, judged, report)
