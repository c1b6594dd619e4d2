"""``redsearcher rollout TASKS``: run the agent on every task, n samples each, into a run directory.

A thin layer over :func:`redsearcher.rollout.run_rollout`: flags and a YAML file (sections
``model``, ``agent``, ``rollout``, ``services``) become the config models, the run shows a live
progress line and ends with a summary table. Rerunning the same command resumes the run.

The tools' services default to the ``--env`` server; the ``services`` section (and
``REDSEARCHER_SERVICES__*`` variables) override only the fields they name, e.g. search at Serper
with its key while visit and Python stay on the environment server, with a ``fallback``.
``--env-api-key`` is sent to the services at the ``--env`` URL that have no key of their own
(a server started with ``redsearcher env serve --api-key``), never to other hosts. Without
``--env`` (the real web, no World) the ``services`` section alone says where the tools go.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from redsearcher.errors import UserError

if TYPE_CHECKING:
    from redsearcher.tools import ServicesConfig

__all__ = ["rollout", "services_config"]


def _sections(config: Path | None, names: tuple[str, ...]) -> dict[str, Path | None]:
    """The config file for each section it has (a file read as a flat section would fail)."""
    if config is None:
        return dict.fromkeys(names)
    from redsearcher.config import read_config_file

    data = read_config_file(config)
    if not isinstance(data, dict) or not data.keys() & set(names):
        raise UserError(f"{config}: expected a mapping with sections {', '.join(names)}")
    return {name: config if name in data else None for name in names}


def services_config(
    env: str | None,
    *,
    file: Path | None = None,
    env_api_key: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServicesConfig:
    """The tools' services: every one at ``env``, under the ``services`` section and variables.

    The environment server is the default *layer*, not a fallback: a section that names only
    ``search_url`` and ``search_api_key`` leaves visit and Python on ``env``. ``env_api_key``
    then goes to each service still at ``env`` without a key (fallbacks too), never elsewhere.
    Without ``env`` the section and variables alone say where the services are.

    Raises:
        ConfigError: for an invalid ``services`` value (naming where it came from).
    """
    from redsearcher.config import load_config
    from redsearcher.tools import ServicesConfig

    local = None if env is None else ServicesConfig.local(env)
    layered = load_config(
        ServicesConfig,
        "services",
        file=file,
        environ=environ,
        defaults=None if local is None else local.model_dump(exclude_defaults=True),  # 3 URLs
    )
    if env is None:
        if env_api_key:
            raise UserError("--env-api-key is the key of the --env server: give --env too")
        return layered
    return layered.with_key_for(env, env_api_key)


def _print_summary(summary: Any, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title=f"rollout {out}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    accuracy = "-" if summary.accuracy is None else f"{summary.accuracy:.1%}"
    rows = [
        ("episodes planned", f"{summary.planned:,}"),
        ("already in the run", f"{summary.skipped:,}"),
        ("finished now", f"{summary.completed:,}"),
        ("abandoned (no model endpoint)", f"{summary.unavailable:,}"),
        ("accuracy (scored)", f"{accuracy} of {summary.scored:,}"),
        ("terminations", ", ".join(f"{k} {v}" for k, v in sorted(summary.terminations.items()))),
        ("tool calls (failed)", f"{summary.tool_calls:,} ({summary.failed_tool_calls:,})"),
        ("model calls", f"{summary.model_calls:,}"),
        (
            "tokens prompt / completion",
            f"{summary.prompt_tokens:,} / {summary.completion_tokens:,}",
        ),
        ("wall time", f"{summary.wall_s:.1f} s ({summary.episodes_per_s:.2f} episodes/s)"),
        ("CPU per model call", f"{summary.cpu_ms_per_step:.2f} ms"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for endpoint in summary.endpoints:
        state = "up" if endpoint["up"] else "[red]down[/]"
        table.add_row(
            f"endpoint {endpoint['url']}",
            f"{endpoint['trajectories']} traj, {endpoint['requests']} req, "
            f"{endpoint['failures']} failed, {state}",
        )
    console.print(table)


def rollout(
    tasks: Annotated[
        Path, typer.Argument(help="Tasks JSONL (synthesized, DeepTraceHub or plain).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Run directory (resumed if it exists).")],
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="Environment server base URL (redsearcher env serve). Omit it only when the "
            "config's services section points every tool elsewhere (the real web).",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model name sent to the servers.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="OpenAI base URL(s) of the inference servers, comma-separated."
        ),
    ] = None,
    n_samples: Annotated[int | None, typer.Option(help="Episodes per task.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Episodes in flight at once.")] = None,
    protocol: Annotated[
        str | None, typer.Option(help="Tool-call protocol: 'native' or 'text'.")
    ] = None,
    max_turns: Annotated[int | None, typer.Option(help="Model turns per episode.")] = None,
    context_window: Annotated[
        int | None, typer.Option(help="The model's context window in tokens.")
    ] = None,
    fsync: Annotated[
        bool | None, typer.Option("--fsync/--no-fsync", help="fsync the log on every commit.")
    ] = None,
    allow_world_mismatch: Annotated[
        bool, typer.Option(help="Run tasks synthesized from another World than the env's.")
    ] = False,
    env_api_key: Annotated[
        str | None,
        typer.Option(
            "--env-api-key",
            envvar="REDSEARCHER_ENV_API_KEY",
            help="API key of the --env server (env serve --api-key); sent only to it.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config (sections model, agent, rollout, services)."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Run the agent on every task (n samples each) against an environment server.

    Trajectories go to OUT/trajectories.jsonl as they finish; rerunning the same command
    resumes (finished episodes are skipped; a run made with other settings is refused).
    Episodes stay on one inference server (prefix cache); new ones go to the least loaded.
    The tools use the --env server unless the config's services section points a service
    elsewhere (real Serper, Jina, SandboxFusion) or adds a fallback (see docs/rollout.md).
    Exit status 1 when episodes were abandoned because no inference server answered.
    """
    import asyncio

    from redsearcher.agent import AgentConfig
    from redsearcher.config import load_config
    from redsearcher.model import ModelConfig, ModelUnavailable
    from redsearcher.rollout import RichDisplay, RolloutConfig, run_rollout

    files = _sections(config, ("model", "agent", "rollout", "services"))
    urls = [u.strip() for u in (base_url or "").split(",") if u.strip()]
    model_cfg = load_config(
        ModelConfig,
        "model",
        file=files["model"],
        overrides={"name": model, "base_url": urls[0] if urls else None, "protocol": protocol},
    )
    agent_cfg = load_config(
        AgentConfig,
        "agent",
        file=files["agent"],
        overrides={"max_turns": max_turns, "context_window": context_window},
    )
    rollout_cfg = load_config(
        RolloutConfig,
        "rollout",
        file=files["rollout"],
        overrides={"n_samples": n_samples, "concurrency": concurrency, "fsync": fsync},
    )
    services_cfg = services_config(env, file=files["services"], env_api_key=env_api_key)
    display = None if quiet else RichDisplay(description=out.name or "rollout")
    try:
        summary = asyncio.run(
            run_rollout(
                tasks,
                out=out,
                env_url=env,
                model=model_cfg,
                base_urls=urls or None,
                agent=agent_cfg,
                config=rollout_cfg,
                display=display,
                allow_world_mismatch=allow_world_mismatch,
                services=services_cfg,
            )
        )
    except KeyboardInterrupt:
        typer.echo(f"interrupted: finished episodes are in {out}; rerun to resume", err=True)
        raise typer.Exit(130) from None
    except ModelUnavailable as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if not quiet:
        _print_summary(summary, out)
    if summary.unavailable:
        typer.echo(
            f"{summary.unavailable} episode(s) abandoned (no inference server answered); "
            "rerun the command to resume",
            err=True,
        )
        raise typer.Exit(1)
