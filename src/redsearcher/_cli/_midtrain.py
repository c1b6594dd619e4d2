"""``redsearcher midtrain``: mid-training data from a World and synthesized tasks (paper §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console


def _kinds(text: str) -> list[str]:
    from redsearcher.errors import ConfigError
    from redsearcher.midtrain import KINDS

    kinds = [k.strip() for k in text.split(",") if k.strip()]
    for k in kinds:
        if k not in KINDS:
            raise ConfigError(f"--kinds: unknown kind {k!r}; use some of {', '.join(KINDS)}")
    return kinds


def _config(path: Path | None) -> dict[str, Any]:
    """The YAML config's ``midtrain`` section (or the whole file when it has none)."""
    if path is None:
        return {}
    import yaml

    from redsearcher.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"--config: {path} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    section = data.get("midtrain", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: 'midtrain' must be a mapping")
    return section


def _collect_trajectories(
    world: Path,
    tasks_file: Path | None,
    run_dir: Path,
    model: str | None,
    base_url: str | None,
    env: str | None,
    console: Console,
) -> None:
    """Roll the agent out on the tasks into ``run_dir`` (resumable) for the trajectories kind.

    Through the one rollout and agent loop: the model at ``--base-url`` when given, else the
    oracle replay of each task's verified walk (offline). The environment is ``--env`` or, by
    default, this World indexed under ``run_dir`` and served on loopback while the rollout runs.
    """
    import asyncio
    import contextlib

    from redsearcher.errors import ConfigError
    from redsearcher.midtrain import collect_trajectories
    from redsearcher.model import ModelConfig
    from redsearcher.rollout import EndpointPool, RolloutConfig, load_tasks

    if tasks_file is None:
        raise ConfigError("the trajectories kind needs --tasks (synthesized tasks to roll out)")
    tasks = load_tasks(tasks_file)
    pool = None
    if model and base_url:
        agent = ModelConfig(name=model, base_url=base_url)
        console.print(f"trajectories: rolling out {len(tasks)} tasks with {model}")
    else:
        from redsearcher.testing import ScriptedModel, oracle_scripts

        replay = ScriptedModel(oracle_scripts(tasks), name="oracle-replay")
        agent = ModelConfig(name=replay.name, base_url=replay.endpoint)
        pool = EndpointPool({replay.endpoint: replay})
        console.print(
            f"trajectories: no --model, rolling out the oracle replay of {len(tasks)} tasks "
            "(verified walks through the real loop and tools; no model is measured)"
        )
    with contextlib.ExitStack() as stack:
        if env is None:
            from redsearcher.env import build_index
            from redsearcher.server import EnvServer, ServerConfig

            index = run_dir.with_name(run_dir.name + "-index")
            if not index.is_dir():  # built atomically, so a directory is a whole index
                build_index(world, index)
            env = stack.enter_context(EnvServer(ServerConfig(index=index))).base_url
        asyncio.run(
            collect_trajectories(
                tasks,
                out=run_dir,
                env_url=env,
                model=agent,
                pool=pool,
                config=RolloutConfig(concurrency=8),
            )
        )


def midtrain(
    world: Annotated[Path, typer.Argument(help="World directory.")],
    out: Annotated[Path, typer.Option(help="Output directory (resumes what is there).")],
    tasks: Annotated[
        Path | None, typer.Option(help="Synthesized tasks (redsearcher synth output).")
    ] = None,
    kinds: Annotated[
        str, typer.Option(help="Kinds: grounding,planning,tools,trajectories.")
    ] = "grounding,planning",
    n: Annotated[int | None, typer.Option("--n", help="Samples over all kinds.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every generator.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML mixture config (section 'midtrain').")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="OpenAI-compatible model for the LLM rewrite.")
    ] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Its base URL.")] = None,
    holdout: Annotated[
        list[Path] | None,
        typer.Option(
            "--holdout",
            help="Held-out tasks to decontaminate against: a task file, or NAME=FILE for a "
            "benchmark's file (repeat).",
        ),
    ] = None,
    tokenizer: Annotated[
        Path | None, typer.Option(help="tokenizer.json for token counts (default: estimate).")
    ] = None,
    pack: Annotated[bool | None, typer.Option(help="Pack the plain-text output.")] = None,
    env: Annotated[
        str | None,
        typer.Option(help="Environment server for trajectories (default: serve WORLD here)."),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Make mid-training data: grounding and planning (Stage I), tool use and trajectories (II)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from redsearcher.errors import ConfigError
    from redsearcher.midtrain import (
        MixtureConfig,
        open_rewriter,
        run_midtrain,
        summary_table,
    )
    from redsearcher.model import TokenCounter

    data = _config(config)
    data["kinds"] = _kinds(kinds)
    for key, value in (("total", n), ("seed", seed), ("pack", pack)):
        if value is not None:
            data[key] = value
    try:
        mixture = MixtureConfig.model_validate(data)
    except ValueError as err:
        raise ConfigError(f"mid-training config: {err}") from err
    if model and not base_url:
        raise ConfigError("--model needs --base-url")
    console = Console(stderr=True)
    if "trajectories" in mixture.kinds and not mixture.options.get("trajectories", {}).get("runs"):
        run_dir = out / "trajectories-rollout"
        _collect_trajectories(world, tasks, run_dir, model, base_url, env, console)
        options = {**mixture.options.get("trajectories", {}), "runs": [str(run_dir)]}
        mixture = mixture.model_copy(
            update={"options": {**mixture.options, "trajectories": options}}
        )
    rewriter = open_rewriter(model, base_url) if model and base_url else None
    counter = TokenCounter.from_file(tokenizer)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=quiet,
        transient=True,
    ) as bar:
        tasks_by_kind: dict[str, Any] = {}

        def progress(kind: str, done: int, wanted: int) -> None:
            if kind not in tasks_by_kind:
                tasks_by_kind[kind] = bar.add_task(kind, total=wanted)
            bar.update(tasks_by_kind[kind], completed=done)

        try:
            summary = run_midtrain(
                world,
                out,
                mixture,
                tasks_file=tasks,
                rewriter=rewriter,
                holdout=holdout or [],
                counter=counter,
                progress=progress,
            )
        finally:
            if rewriter is not None:
                rewriter.close()
    Console().print(summary_table(summary))
