"""``redsearcher bench NAME``: load a benchmark, roll the agent out, judge, write ``summary.json``.

A thin layer over :func:`redsearcher.eval.run_bench`. ``redsearcher-synthetic`` needs nothing
but a model: its pinned World is regenerated (its hash checked against the manifest), indexed and
served on loopback, unless ``--env`` points at a server of that same World. File benchmarks
(``browsecomp``, ``gaia``, ...) take ``--file`` and ``--env``. Rerunning the same command
resumes the rollout and rewrites the verdicts and the summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["bench"]


def bench(
    name: Annotated[
        str,
        typer.Argument(
            help="Benchmark: redsearcher-synthetic, browsecomp, browsecomp-zh, gaia, hle, "
            "xbench-deepsearch, frames, jsonl, synthesized."
        ),
    ],
    model: Annotated[str, typer.Option("--model", help="Agent model name.")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="OpenAI base URL of the model's server.")
    ],
    file: Annotated[
        Path | None, typer.Option("--file", help="The benchmark file (not for built-ins).")
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", help="Environment server URL (default for the built-in: served)."),
    ] = None,
    n_repeats: Annotated[
        int, typer.Option("--n-repeats", min=1, help="Samples per task (Avg@k, Pass@k).")
    ] = 1,
    out: Annotated[
        Path | None, typer.Option("--out", help="Bench directory (default: bench/NAME).")
    ] = None,
    tool_free: Annotated[
        bool, typer.Option("--tool-free", help="Also run with no tools and report the gap.")
    ] = False,
    text_only: Annotated[
        bool, typer.Option("--text-only", help="HLE: skip questions with an image.")
    ] = False,
    attachments: Annotated[
        Path | None, typer.Option("--attachments", help="GAIA: the attachments directory.")
    ] = None,
    protocol: Annotated[
        str | None, typer.Option(help="Tool-call protocol: 'native' or 'text'.")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Run a benchmark end to end: load, roll out, judge, summarize (OUT/summary.json)."""
    import asyncio

    from redsearcher.config import load_config
    from redsearcher.eval import LoadOptions, run_bench
    from redsearcher.model import ModelConfig
    from redsearcher.rollout import RichDisplay

    model_cfg = load_config(
        ModelConfig, "model", overrides={"name": model, "base_url": base_url, "protocol": protocol}
    )
    target = out or Path("bench") / name
    result = asyncio.run(
        run_bench(
            name,
            out=target,
            model=model_cfg,
            file=file,
            env_url=env,
            n_repeats=n_repeats,
            tool_free=tool_free,
            options=LoadOptions(text_only=text_only, attachments=attachments),
            display=None if quiet else RichDisplay(description=name),
        )
    )
    report = result.report
    accuracy = report.summary.accuracy
    shown = "-" if accuracy.value is None else f"{accuracy.value:.1%}"
    ci = accuracy.ci95
    interval = "" if ci is None else f" (95% CI {ci.low:.1%}-{ci.high:.1%})"
    typer.echo(
        f"{name}: accuracy {shown}{interval} over {accuracy.scored} scored, "
        f"{accuracy.unscored} unscored; judge {report.identity.judge} "
        f"(pinned default {report.identity.default_judge})"
    )
    if report.regime_gap is not None and report.regime_gap.gap is not None:
        typer.echo(f"tool-free vs tool-enabled gap: {report.regime_gap.gap:+.1%}")
    typer.echo(f"summary: {result.summary_path}")
