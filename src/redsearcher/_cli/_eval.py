"""``redsearcher eval RUN``: judge a rollout run and write its summary, never re-running the agent.

A thin layer over :func:`redsearcher.eval.evaluate`. Verdicts go to
``RUN/verdicts-<judge>.jsonl`` (rerunning resumes; ``--retry-unscored`` re-judges the unscored
ones); ``RUN/summary.json`` (the metrics), ``RUN/judges.json`` (per-judge counts, overrides,
agreement), ``RUN/samples.csv`` and ``RUN/report.html`` are rewritten atomically from all verdicts.
LLM judges talk to ``--judge-base-url`` through the package's one chat client, sampled
greedily (temperature 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from redsearcher.errors import UserError

__all__ = ["eval_command"]


def eval_command(
    run: Annotated[Path, typer.Argument(help="Run directory (redsearcher rollout --out).")],
    judge: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="Judge: exact, f1, contains, browsecomp, ab, gaia, xbench (default exact).",
        ),
    ] = None,
    judges: Annotated[
        str | None,
        typer.Option(
            "--judges",
            help="Several judges, comma-separated (the first is primary); adds Cohen's kappa.",
        ),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="Model name of the LLM judge.")
    ] = None,
    judge_base_url: Annotated[
        str | None,
        typer.Option("--judge-base-url", help="OpenAI-compatible base URL of the LLM judge."),
    ] = None,
    judge_api_key: Annotated[
        str | None,
        typer.Option(
            "--judge-api-key",
            envvar="REDSEARCHER_JUDGE_API_KEY",
            help="API key of the judge endpoint (default $OPENAI_API_KEY, else none).",
        ),
    ] = None,
    judge_timeout: Annotated[
        float, typer.Option("--judge-timeout", help="Seconds one judgement may take.")
    ] = 300.0,
    judge_retries: Annotated[
        int, typer.Option("--judge-retries", help="Retries of a failing judge request.")
    ] = 2,
    retry_unscored: Annotated[
        bool, typer.Option("--retry-unscored", help="Judge the unscored verdicts again.")
    ] = False,
    overrides: Annotated[
        Path | None,
        typer.Option(
            "--overrides",
            help="YAML/JSON: trajectory or task id -> {correct: true|false, reason: ...}.",
        ),
    ] = None,
    tasks: Annotated[
        Path | None,
        typer.Option("--tasks", help="Refuse the run unless it was made on this task file."),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Judgements in flight at once.")] = 16,
    quiet: Annotated[bool, typer.Option(help="No summary table.")] = False,
) -> None:
    """Judge a run's trajectories; write summary.json, judges.json, samples.csv, report.html.

    Resumable: trajectories already judged by the same judge are skipped. A judge that fails
    or whose output cannot be parsed leaves the trajectory unscored (reported, never counted
    as incorrect); --retry-unscored judges exactly those again.
    """
    import asyncio

    from redsearcher.eval import evaluate, make_judge
    from redsearcher.model import ModelConfig, OpenAIChatModel, SamplingConfig

    if judge is not None and judges is not None:
        raise UserError("give --judge or --judges, not both")
    names = [n.strip() for n in (judges or judge or "exact").split(",") if n.strip()]
    if len(set(names)) != len(names):
        raise UserError(f"--judges names a judge twice: {', '.join(names)}")
    if (judge_model is None) != (judge_base_url is None):
        raise UserError("--judge-model and --judge-base-url go together")
    digest = None
    task_records: list[Any] = []
    if tasks is not None:
        from redsearcher.rollout import load_tasks, tasks_digest

        task_records = load_tasks(tasks)
        digest = tasks_digest(task_records)

    async def main() -> object:
        client = None
        if judge_model is not None and judge_base_url is not None:
            config = ModelConfig.model_validate(
                {
                    "name": judge_model,
                    "base_url": judge_base_url,
                    "sampling": SamplingConfig(temperature=0.0, top_p=None),
                    "max_retries": judge_retries,
                    "timeout_s": judge_timeout,
                    **({"api_key": judge_api_key} if judge_api_key else {}),
                }
            )
            client = OpenAIChatModel(config)
        try:
            built = [make_judge(name, client, timeout_s=judge_timeout) for name in names]
            return await evaluate(
                run,
                built,
                retry_unscored=retry_unscored,
                overrides=overrides,
                tasks_digest=digest,
                tasks=task_records,
                concurrency=concurrency,
                progress=None if quiet else _progress,
            )
        finally:
            if client is not None:
                await client.aclose()

    result = asyncio.run(main())
    if not quiet:
        _print(result, run)


_last_progress = [0.0]


def _progress(stats: object) -> None:
    """A progress line on stderr, at most every 5 s (LLM judging takes minutes)."""
    import time

    from redsearcher.eval import JudgeRun

    assert isinstance(stats, JudgeRun)
    now = time.monotonic()
    if now - _last_progress[0] < 5.0:
        return
    _last_progress[0] = now
    done = stats.outcomes
    typer.echo(
        f"{stats.judge}: {stats.judged:,} judged now ({done['unscored']:,} unscored), "
        f"{stats.already:,} already judged",
        err=True,
    )


def _print(result: object, run: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from redsearcher.eval import Evaluation

    assert isinstance(result, Evaluation)
    table = Table(title=f"eval {run}", title_justify="left")
    for column in ("judge", "judged now", "correct", "incorrect", "unscored", "accuracy"):
        table.add_column(column, justify="left" if column == "judge" else "right")
    for stats in result.runs:
        row = result.judges["judges"][stats.judge]
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
        table.add_row(
            stats.judge,
            f"{stats.judged:,}",
            f"{row['correct']:,}",
            f"{row['incorrect']:,}",
            f"{row['unscored']:,}",
            accuracy,
        )
    console = Console(stderr=True)
    console.print(table)
    for pair in result.judges["agreement"]:
        kappa = "undefined" if pair["kappa"] is None else f"{pair['kappa']:.3f}"
        console.print(f"agreement {' vs '.join(pair['judges'])}: kappa {kappa} over {pair['n']}")
    console.print(
        f"metrics: {run / 'summary.json'}  judges: {run / 'judges.json'}  "
        f"per sample: {run / 'samples.csv'}  report: {result.report}"
    )
