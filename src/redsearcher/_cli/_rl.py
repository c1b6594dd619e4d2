"""``redsearcher rl curate TASKS``: the RL query set — pass-rate band and agent-as-verifier.

A thin layer over :func:`redsearcher.rl.curate`: the flags and YAML sections of
``redsearcher rollout`` (``model``, ``agent``, ``rollout``, ``services``) configure the policy
rollouts; ``--k``, ``--band`` and ``--verify`` configure curation. Progress bars show both
rollouts; a summary table ends the run. Rerunning the same command resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["app", "curate"]

app = typer.Typer(help="Reinforcement learning: curate RL query sets.", no_args_is_help=True)


def _print_summary(summary: Any, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"rl curate {out}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    buckets = summary.buckets
    rows = [
        ("tasks", f"{summary.tasks:,}"),
        ("decided now", f"{summary.decided_now:,}"),
        ("in band", f"{buckets.get('in_band', 0):,}"),
        ("too easy (removed)", f"{buckets.get('too_easy', 0):,}"),
        ("too hard (removed)", f"{buckets.get('too_hard', 0):,}"),
        ("unscored (removed)", f"{buckets.get('unscored', 0):,}"),
    ]
    for status, count in summary.verifier.items():
        rows.append((f"verifier: {status.replace('_', ' ')}", f"{count:,}"))
    rows += [
        ("kept", f"{summary.kept:,}"),
        ("episodes run now (policy / verifier)",
         f"{summary.rollout_episodes:,} / {summary.verifier_episodes:,}"),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    Console(stderr=True).print(table)


@app.command("curate")
def curate(
    tasks: Annotated[Path, typer.Argument(help="Tasks JSONL (synthesized, DeepTraceHub, plain).")],
    out: Annotated[Path, typer.Option("--out", help="Curation directory (resumed if it exists).")],
    model: Annotated[
        str | None, typer.Option("--model", help="Policy model name sent to the servers.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="OpenAI base URL(s) of the policy, comma-separated."),
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="Environment server base URL (env serve).")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Rollouts per task.")] = 8,
    band: Annotated[
        str, typer.Option("--band", help="Pass-rate band kept, LOW-HIGH (inclusive).")
    ] = "0.125-0.875",
    verify: Annotated[
        bool, typer.Option("--verify", help="Run the agent-as-verifier on in-band tasks.")
    ] = False,
    verifier_model: Annotated[
        str | None, typer.Option(help="The verifier's model (default: --model).")
    ] = None,
    verifier_base_url: Annotated[
        str | None, typer.Option(help="The verifier's base URL(s) (default: --base-url).")
    ] = None,
    scorer: Annotated[
        str | None, typer.Option(help="Registered scorer/judge of the rollouts (default exact).")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(help="Episodes in flight at once.")] = None,
    max_turns: Annotated[int | None, typer.Option(help="Model turns per episode.")] = None,
    env_api_key: Annotated[
        str | None,
        typer.Option(
            "--env-api-key",
            envvar="REDSEARCHER_ENV_API_KEY",
            help="API key of the --env server; sent only to it.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config (sections model, agent, rollout, services)."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars or summary.")] = False,
) -> None:
    """Curate an RL query set: pass-rate band over K rollouts, then an optional verifier agent.

    Tasks whose pass rate lies outside BAND are removed (too easy / too hard); with --verify a
    verifier agent checks each in-band question for multiple valid answers or an inconsistent
    ground truth. Decisions go to OUT/curation.jsonl, the kept tasks to OUT/curated.jsonl;
    rerunning resumes. Exit status 1 when episodes found no inference server.
    """
    import asyncio

    from redsearcher._cli._rollout import _sections, services_config
    from redsearcher.agent import AgentConfig
    from redsearcher.config import load_config
    from redsearcher.model import ModelConfig, ModelUnavailable
    from redsearcher.rl import CurationConfig, parse_band
    from redsearcher.rl import curate as run_curate
    from redsearcher.rollout import RichDisplay, RolloutConfig

    low, high = parse_band(band)
    files = _sections(config, ("model", "agent", "rollout", "services"))
    urls = [u.strip() for u in (base_url or "").split(",") if u.strip()]
    model_cfg = load_config(
        ModelConfig, "model", file=files["model"],
        overrides={"name": model, "base_url": urls[0] if urls else None},
    )  # fmt: skip
    agent_cfg = load_config(
        AgentConfig, "agent", file=files["agent"], overrides={"max_turns": max_turns}
    )
    rollout_cfg = load_config(
        RolloutConfig, "rollout", file=files["rollout"],
        overrides={"concurrency": concurrency, "scorer": scorer},
    )  # fmt: skip
    services_cfg = services_config(env, file=files["services"], env_api_key=env_api_key)
    vurls = [u.strip() for u in (verifier_base_url or "").split(",") if u.strip()]
    verifier_cfg = None
    if verifier_model or vurls:
        update: dict[str, Any] = {"name": verifier_model or model_cfg.name}
        if vurls:
            update["base_url"] = vurls[0]
        verifier_cfg = model_cfg.model_copy(update=update)
    curation = CurationConfig(k=k, band_low=low, band_high=high, verify=verify)
    try:
        summary = asyncio.run(
            run_curate(
                tasks, out=out, model=model_cfg, env_url=env, base_urls=urls or None,
                agent=agent_cfg, config=curation, rollout_config=rollout_cfg,
                verifier_model=verifier_cfg, verifier_base_urls=vurls or None,
                display=None if quiet else RichDisplay(description="pass rate"),
                verifier_display=None if quiet else RichDisplay(description="verifier"),
                services=services_cfg,
            )
        )  # fmt: skip
    except KeyboardInterrupt:
        typer.echo(f"interrupted: progress is kept in {out}; rerun to resume", err=True)
        raise typer.Exit(130) from None
    except ModelUnavailable as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if not quiet:
        _print_summary(summary, out)
