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
    rewriter = open_rewriter(model, base_url) if model and base_url else None
    counter = TokenCounter.from_file(tokenizer)
    console = Console(stderr=True)
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
