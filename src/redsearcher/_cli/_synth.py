"""``redsearcher synth`` and ``redsearcher verify``: task synthesis and its verifier cascade."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the synth stack is imported only when a command runs
    from redsearcher.synth import SynthReport, Verifier, VerifyReport


def _stages(text: str) -> list[str]:
    from redsearcher.errors import ConfigError

    known = ("structural", "shortcut", "completeness")
    stages = [s.strip() for s in text.split(",") if s.strip()]
    for s in stages:
        if s not in known:
            raise ConfigError(f"--stages: unknown stage {s!r}; use some of {', '.join(known)}")
    return stages


_MODEL = typer.Option(
    "--model", help="OpenAI-compatible model for the LLM realizer and verifier stage 4."
)
_BASE_URL = typer.Option("--base-url", help="Its base URL, e.g. http://127.0.0.1:8000/v1.")


def _llm(model: str | None, base_url: str | None, samples: int) -> tuple[Any, list[Any]]:
    """The LLM realizer and stage-4 checks, when a model is configured."""
    if not model:
        return None, []
    from redsearcher.errors import ConfigError
    from redsearcher.eval import exact_match
    from redsearcher.model import ModelConfig, OpenAIChatModel
    from redsearcher.synth import LLMAudit, LLMRealizer, NoToolSolver

    if not base_url:
        raise ConfigError("--model needs --base-url")
    chat = OpenAIChatModel(ModelConfig(name=model, base_url=base_url))
    return LLMRealizer(chat), [NoToolSolver(chat, exact_match, n=samples), LLMAudit(chat)]


def synth(
    world: Annotated[Path, typer.Argument(help="World directory.")],
    n: Annotated[int | None, typer.Option("--n", help="Tasks to emit.")] = None,
    treewidth: Annotated[
        str | None, typer.Option(help="Target treewidth: N, N-M or N- (e.g. 3, 2-4, 3-).")
    ] = None,
    msd: Annotated[str | None, typer.Option(help="Target minimum source dispersion.")] = None,
    tools: Annotated[
        str | None, typer.Option(help="Tool-enforced evolutions: maps,scholar,python.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    out: Annotated[Path, typer.Option(help="Tasks JSONL (appended; resumes).")] = Path(
        "tasks.jsonl"
    ),
    env: Annotated[
        str | None, typer.Option("--env", help="Served environment URL for the oracle walk.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config (section 'synth').")] = None,
    workers: Annotated[int | None, typer.Option(help="Parallel processes (offline only).")] = None,
    model: Annotated[str | None, _MODEL] = None,
    base_url: Annotated[str | None, _BASE_URL] = None,
    samples: Annotated[int, typer.Option(help="No-tool solver samples (stage 4).")] = 4,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    allow_fictional: Annotated[
        bool, typer.Option(help="Let fictional entities (characters) be seeds and nodes.")
    ] = False,
    concept_filter: Annotated[
        bool, typer.Option(help="With --model: the LLM drops abstract entities from the seeds.")
    ] = True,
    concept_verdicts: Annotated[
        Path | None,
        typer.Option(help="Cache of concept verdicts (default: OUT.concepts.jsonl)."),
    ] = None,
    concept_max_calls: Annotated[
        int, typer.Option(help="Concept-filter calls in this run (0: the whole seed pool).")
    ] = 0,
) -> None:
    """Synthesize verified search tasks with controlled treewidth and source dispersion.

    Every emitted task has exactly one solution in the World and passed the structural,
    shortcut and completeness checks (and, with --model, the no-tool solver and the audit).
    Re-running with the same --out resumes.
    """
    from redsearcher.config import load_config
    from redsearcher.synth import SynthConfig, default_verdicts_path, open_verifier, synthesize

    cfg = load_config(
        SynthConfig,
        "synth",
        file=config,
        overrides={
            "n": n,
            "treewidth": treewidth,
            "msd": msd,
            "seed": seed,
            "workers": workers,
            "allow_fictional": True if allow_fictional else None,
            "tools": [t.strip() for t in tools.split(",") if t.strip()] if tools else None,
        },
    )
    console = Console()
    realizer, checks = _llm(model, base_url, samples)

    async def main(verifier: Verifier) -> SynthReport:
        try:
            run_cfg = cfg
            if realizer is not None and concept_filter:
                path = concept_verdicts or default_verdicts_path(out)
                await _concepts(verifier, cfg, realizer.model, path, concept_max_calls, quiet)
                run_cfg = cfg.model_copy(update={"seed_verdicts": str(path)})
            return await synthesize(
                verifier, run_cfg, out, realizer=realizer, checks=checks, progress=not quiet
            )
        finally:
            await verifier.aclose()

    with open_verifier(world, env_url=env, budget=cfg.budget, progress=not quiet) as verifier:
        report = asyncio.run(main(verifier))
    print_synth_report(report, cfg.treewidth, cfg.msd, console)
    console.print(f"wrote {report.emitted} tasks to {out}")


async def _concepts(
    verifier: Verifier, cfg: Any, chat: Any, path: Path, max_calls: int, quiet: bool
) -> None:
    """The LLM concept filter over the offline seed pool; its verdicts go to ``path``."""
    from redsearcher.synth import ConceptClassifier, SeedFilter, classify_seeds, seed_pool

    pool = seed_pool(verifier.kg, SeedFilter(allow_fictional=cfg.allow_fictional))
    report = await classify_seeds(
        verifier.kg, pool, ConceptClassifier(chat), path, max_calls=max_calls, progress=not quiet
    )
    Console().print(
        f"concept filter: {report.candidates:,} seed candidates, {report.cached:,} judged "
        f"before, {report.calls} calls now ({report.judged['concrete']:,} concrete, "
        f"{report.judged['abstract']:,} abstract, {report.unanswered:,} unanswered); "
        f"{report.abstract:,} excluded as abstract, {report.unjudged:,} left to the class filter"
    )


def print_synth_report(report: SynthReport, treewidth: str, msd: str, console: Console) -> None:
    """The difficulty table (tasks per treewidth × MSD), rejections and the time split."""
    widths = sorted({t for t, _ in report.hits})
    msds = sorted({m for _, m in report.hits})
    table = Table(title=f"tasks by difficulty (target treewidth {treewidth}, msd {msd})")
    table.add_column("treewidth \\ msd")
    for m in msds:
        table.add_column(str(m), justify="right")
    for t in widths:
        table.add_row(str(t), *[str(report.hits.get((t, m), 0) or "") for m in msds])
    console.print(table)
    share = report.on_target / report.emitted if report.emitted else 0.0
    console.print(
        f"on target: {report.on_target}/{report.emitted} ({share:.0%}); "
        f"master graphs: {report.graphs}; tools: {dict(report.tools) or 'none'}"
    )
    if report.rejected:
        rejected = ", ".join(f"{k} {v}" for k, v in report.rejected.most_common())
        console.print(f"rejected: {rejected}")
    if report.ambiguous:
        from redsearcher.synth import solution_count_key

        by_count = sorted(report.ambiguous.items(), key=lambda kv: solution_count_key(kv[0]))
        counts = ", ".join(f"{k} solutions: {v}" for k, v in by_count)
        console.print(f"ambiguous drafts by solution count in the World: {counts}")
    total = sum(report.seconds.values()) or 1.0
    ranked = sorted(report.seconds.items(), key=lambda kv: -kv[1])
    split = ", ".join(f"{k} {v / total:.0%}" for k, v in ranked)
    console.print(f"time: {total:.2f} s ({split})")


def verify(
    tasks: Annotated[Path, typer.Argument(help="Tasks JSONL.")],
    world: Annotated[Path, typer.Option("--world", help="The World the tasks come from.")],
    env: Annotated[
        str | None, typer.Option("--env", help="Served environment URL for the oracle walk.")
    ] = None,
    stages: Annotated[
        str, typer.Option(help="Stages to run, comma-separated.")
    ] = "structural,shortcut,completeness",
    out: Annotated[
        Path | None, typer.Option(help="Write the tasks with fresh verdicts here.")
    ] = None,
    model: Annotated[str | None, _MODEL] = None,
    base_url: Annotated[str | None, _BASE_URL] = None,
    samples: Annotated[int, typer.Option(help="No-tool solver samples (stage 4).")] = 4,
) -> None:
    """Re-run the verifier cascade on a task file; exit 1 when any task fails."""
    from redsearcher.synth import open_verifier, verify_tasks

    console = Console()
    _, checks = _llm(model, base_url, samples)

    async def main(verifier: Verifier) -> VerifyReport:
        try:
            _, report = await verify_tasks(
                verifier, tasks, stages=_stages(stages), checks=checks, out=out
            )
            return report
        finally:
            await verifier.aclose()

    with open_verifier(world, env_url=env) as verifier:
        report = asyncio.run(main(verifier))
    print_verify_report(report, console)
    if report.passed < report.tasks:
        raise typer.Exit(1)


def print_verify_report(report: VerifyReport, console: Console) -> None:
    """Pass/fail counts per stage and the first failures."""
    table = Table(title=f"verification of {report.tasks} tasks")
    for col in ("stage", "passed", "failed", "skipped"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    for stage, counts in report.stages.items():
        table.add_row(stage, str(counts["passed"]), str(counts["failed"]), str(counts["skipped"]))
    console.print(table)
    for task_id, stage, problem in report.failures[:10]:
        console.print(f"[red]{task_id}[/] {stage}: {problem}", highlight=False)
    console.print(f"{report.passed}/{report.tasks} tasks pass every stage")
