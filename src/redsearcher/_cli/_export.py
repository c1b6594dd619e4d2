"""``redsearcher export sft RUN`` and ``redsearcher export rl TASKS``: training data out.

Thin wrappers over :func:`redsearcher.export.export_sft` (a run's trajectories, post-filtered,
as ShareGPT or OpenAI messages) and :func:`redsearcher.export.export_rl` (synthesized tasks as
the RL query-set formats of REDSearcher, slime, verl and DeepTraceHub).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Training data: SFT samples from runs, RL query sets from tasks.", no_args_is_help=True
)


@app.command("sft")
def sft(
    run: Annotated[Path, typer.Argument(help="Run directory (redsearcher rollout --out).")],
    format: Annotated[
        str, typer.Option("--format", help="'sharegpt' (ms-swift) or 'openai' (messages).")
    ] = "sharegpt",
    out: Annotated[
        Path | None, typer.Option("--out", help="JSONL to write (default: RUN/sft-FORMAT.jsonl).")
    ] = None,
    filter_: Annotated[
        bool, typer.Option("--filter/--no-filter", help="Apply the §6.1 post-filter.")
    ] = True,
    max_failed_tool_calls: Annotated[
        int | None, typer.Option(help="Post-filter: most failed tool calls kept (default 3).")
    ] = None,
    max_failed_fraction: Annotated[
        float | None,
        typer.Option(help="Post-filter: largest failed fraction kept (default 0.25)."),
    ] = None,
    per_question: Annotated[
        bool,
        typer.Option("--one-per-question/--all-per-question", help="Keep one trajectory per task."),
    ] = True,
    flag_key: Annotated[
        str | None,
        typer.Option(
            help="Per-message training flag key (default: loss for sharegpt, train for openai)."
        ),
    ] = None,
) -> None:
    """Export a run's trajectories as SFT samples (one per context segment).

    The §6.1 post-filter keeps correct answers, drops trajectories with many failed tool
    calls and keeps one per question. Observation turns are never trained.
    """
    from redsearcher.export import SFTFilterConfig, export_sft

    overrides: dict[str, Any] = {
        "max_failed_tool_calls": max_failed_tool_calls,
        "max_failed_fraction": max_failed_fraction,
        "one_per_question": per_question,
    }
    post_filter = SFTFilterConfig.model_validate(
        {k: v for k, v in overrides.items() if v is not None}
    )
    target = out or run / f"sft-{format}.jsonl"
    summary = export_sft(
        run, target, format=format, post_filter=post_filter, apply_filter=filter_, flag_key=flag_key
    )
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(summary.dropped.items())) or "none"
    typer.echo(
        f"{summary.samples} sample(s) from {summary.exported} of {summary.trajectories} "
        f"trajectories written to {target} (dropped: {dropped})"
    )


@app.command("rl")
def rl(
    tasks: Annotated[Path, typer.Argument(help="Tasks JSONL (redsearcher synth).")],
    format: Annotated[
        str,
        typer.Option(
            "--format", help="'redsearcher', 'slime', 'verl' (parquet) or 'deeptracehub'."
        ),
    ] = "redsearcher",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("rl.jsonl"),
    protocol: Annotated[
        str, typer.Option(help="slime: the protocol whose system prompt opens the prompt.")
    ] = "native",
    system_prompt_file: Annotated[
        Path | None, typer.Option(help="slime: a system prompt file instead of the agent's.")
    ] = None,
    include_unverified: Annotated[
        bool, typer.Option(help="Also export tasks a verifier rejected.")
    ] = False,
) -> None:
    """Export synthesized tasks as an RL query set in a peer's format."""
    from redsearcher.export import export_rl

    summary = export_rl(
        tasks,
        out,
        format=format,
        protocol=protocol,
        system_prompt_file=system_prompt_file,
        include_unverified=include_unverified,
    )
    skipped = (
        f" ({summary.skipped_unverified} unverified left out)" if summary.skipped_unverified else ""
    )
    typer.echo(f"{summary.rows} row(s) written to {summary.out}{skipped}")
