"""``run_bench``: load a benchmark, roll the agent out on it, judge, and write ``summary.json``.

One call does what ``redsearcher bench NAME`` promises: the tasks (a benchmark file, or the
pinned ``redsearcher-synthetic`` set), an environment (``env_url``, or for
``redsearcher-synthetic`` the pinned World regenerated, indexed and served on loopback), a
rollout with ``n_repeats`` samples per task (resumed when the run directory already holds it),
verdicts and the :class:`~redsearcher.eval.Summary`.

Identity before numbers: the pinned World must hash to the manifest's hash, whether it was
regenerated here or is served at ``env_url``, and the task file must match its sha256; a
benchmark file's sha256 is recorded. So two ``summary.json`` files with the same identity block
measured the same questions against the same documents.

Judging: this build scores with the ``exact`` rule (normalised exact match against the answer
and its aliases); the benchmark's pinned LLM judge is recorded as ``default_judge`` and used by
``redsearcher eval`` where that judge is available. Verdicts go to
``<run>/verdicts-exact.jsonl``, the summary to ``<out>/summary.json`` and the HTML report to
``<out>/report.html``, each written whole or not at all (temporary file and rename).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from redsearcher._util import write_atomic
from redsearcher.agent import AgentConfig
from redsearcher.errors import UserError
from redsearcher.eval import _benchmarks as pinned
from redsearcher.eval._benchmarks import BENCHMARKS, BenchmarkSet, LoadOptions, load_benchmark
from redsearcher.eval._evaluate import judge_run, read_verdicts
from redsearcher.eval._match import exact_match
from redsearcher.eval._report import turn_counts, write_report
from redsearcher.eval._scorers import ExactScorer
from redsearcher.eval._summary import RegimeGap, Summary, compare_regimes, summarize
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Task, Trajectory, read_tasks, read_trajectories
from redsearcher.model import ModelConfig
from redsearcher.rollout import (
    EndpointPool,
    RolloutConfig,
    RolloutDisplay,
    environment_world_hash,
    run_rollout,
)

__all__ = ["BenchIdentity", "BenchReport", "BenchResult", "exact_verdicts", "run_bench"]

#: The version string of the ``exact`` rule verdicts written here (the ``exact`` judge's).
EXACT_JUDGE_VERSION = ExactScorer.version


class BenchIdentity(BaseModel):
    """What a score was measured on: the benchmark, its file or pinned set, the World, the model."""

    model_config = ConfigDict(extra="forbid")

    benchmark: str
    version: str | None = None
    """The pinned set's version (``redsearcher-synthetic``)."""
    file: str
    file_sha256: str
    world_hash: str | None = None
    default_judge: str
    """The judge the benchmark's published numbers use."""
    judge: str
    """The judge these verdicts come from."""
    model: str
    n_repeats: int
    tasks: int
    skipped: dict[str, int]


class BenchReport(BaseModel):
    """``summary.json`` of a bench run: its identity, the summary, and the regime gap if run."""

    model_config = ConfigDict(extra="forbid")

    identity: BenchIdentity
    summary: Summary
    tool_free: Summary | None = None
    regime_gap: RegimeGap | None = None


@dataclass(frozen=True)
class BenchResult:
    """Where a bench run wrote what, and its report."""

    out: Path
    summary_path: Path
    report: BenchReport
    html_path: Path
    """The HTML report (``<out>/report.html``)."""


def exact_verdicts(trajectories: Sequence[Trajectory]) -> list[Verdict]:
    """The ``exact`` rule's verdict on each trajectory (unscored without a reference answer)."""
    verdicts = []
    for t in trajectories:
        scored = bool(t.answers) and t.termination != "error"
        reason = "no reference answer" if not t.answers else f"episode error: {t.error or '?'}"
        verdicts.append(
            Verdict(
                trajectory_id=t.id,
                task_id=t.task_id,
                sample=t.sample,
                judge="exact",
                judge_version=EXACT_JUDGE_VERSION,
                correct=exact_match(t.prediction, t.answers) if scored else None,
                unscored_reason=None if scored else reason,
                extracted_answer=t.prediction,
            )
        )
    return verdicts


def _load(
    name: str, file: Path | None, options: LoadOptions
) -> tuple[BenchmarkSet, pinned.SyntheticManifest | None]:
    if name == pinned.SYNTHETIC_NAME:
        if file is not None:
            raise UserError(f"{name} is built in: it takes no --file")
        manifest = pinned.read_manifest()
        path = pinned.tasks_path(manifest.version)
        tasks = read_tasks(path)
        spec = BENCHMARKS[name]
        loaded = BenchmarkSet(name, path, manifest.tasks_sha256, spec.default_judge, tasks)
        return loaded, manifest
    if name not in BENCHMARKS:
        known = ", ".join(sorted(BENCHMARKS))
        raise UserError(f"unknown benchmark {name!r}; known: {known}")
    if file is None:
        raise UserError(f"benchmark {name} needs its file: --file ({BENCHMARKS[name].files})")
    return load_benchmark(name, file, options), None


async def _episodes(
    tasks: list[Task],
    run_dir: Path,
    env_url: str,
    model: ModelConfig,
    agent: AgentConfig,
    n_repeats: int,
    pool: EndpointPool | None,
    display: RolloutDisplay | None,
) -> list[Trajectory]:
    config = RolloutConfig(n_samples=n_repeats, concurrency=16, fsync=False)
    await run_rollout(
        tasks,
        out=run_dir,
        env_url=env_url,
        model=model,
        agent=agent,
        config=config,
        pool=pool,
        display=display,
    )
    return list(read_trajectories(run_dir))


async def _judge(run_dir: Path, trajectories: Sequence[Trajectory]) -> list[Verdict]:
    """The ``exact`` judge's verdicts, through the verdict file ``redsearcher eval`` writes.

    So ``redsearcher eval`` resumes it, and can add other judges to the same run later.
    """
    stats = await judge_run(run_dir, ExactScorer(), trajectories=trajectories)
    by_id = read_verdicts(stats.path)
    return [by_id[t.id] for t in trajectories if t.id in by_id]


async def run_bench(
    name: str,
    *,
    out: str | Path,
    model: ModelConfig,
    file: str | Path | None = None,
    env_url: str | None = None,
    n_repeats: int = 1,
    tool_free: bool = False,
    options: LoadOptions | None = None,
    pool: EndpointPool | None = None,
    tool_free_pool: EndpointPool | None = None,
    display: RolloutDisplay | None = None,
) -> BenchResult:
    """Load, roll out, judge and summarize the benchmark ``name`` into ``out``.

    Args:
        name: A benchmark of :data:`BENCHMARKS` (``redsearcher-synthetic`` included).
        out: The bench directory: ``rollout/`` (and ``tool-free/``), ``summary.json``; for
            ``redsearcher-synthetic`` without ``env_url`` also ``world/`` and ``index/``.
        model: The agent's model (name, server, protocol, sampling).
        file: The benchmark file (every benchmark but ``redsearcher-synthetic``).
        env_url: The environment server; required for file benchmarks; for
            ``redsearcher-synthetic`` it must serve the pinned World (default: served here).
        n_repeats: Samples per task (Avg@k, Pass@k, Best Pass@1).
        tool_free: Also run every task with no tools offered, and report the gap.
        options: Loader switches (HLE text-only, GAIA attachments).
        pool: Models to run the episodes with instead of ``model``'s server (tests, oracle).
        tool_free_pool: The same for the tool-free run (default: ``pool``).
        display: Progress display.

    Raises:
        UserError: for an unknown benchmark, a missing file or environment, a World whose
            hash is not the pinned one, or a run directory holding another run.
    """
    target = Path(out)
    loaded, manifest = _load(
        name, Path(file) if file is not None else None, options or LoadOptions()
    )
    world_hash: str | None = None
    server: Any = None
    if manifest is not None and env_url is None:
        world_hash, server = _serve_pinned(target, manifest)
        env_url = server.base_url
    elif env_url is None:
        raise UserError(f"benchmark {name} needs an environment server: --env URL")
    elif manifest is not None:
        world_hash = await environment_world_hash(env_url)
        pinned.check_world_hash(manifest, world_hash, env_url)
    assert env_url is not None
    try:
        agent = AgentConfig()
        runs = await _episodes(
            loaded.tasks, target / "rollout", env_url, model, agent, n_repeats, pool, display
        )
        verdicts = await _judge(target / "rollout", runs)
        summary = summarize(runs, verdicts, loaded.tasks)
        turns = turn_counts(runs, verdicts)
        free_summary = gap = None
        if tool_free:
            free_agent = AgentConfig(tools=[])
            free_runs = await _episodes(
                loaded.tasks,
                target / "tool-free",
                env_url,
                model,
                free_agent,
                n_repeats,
                tool_free_pool or pool,
                display,
            )
            free_verdicts = await _judge(target / "tool-free", free_runs)
            free_summary = summarize(free_runs, free_verdicts, loaded.tasks)
            gap = compare_regimes(free_verdicts, exact_verdicts(runs))
    finally:
        if server is not None:
            server.stop()
    identity = BenchIdentity(
        benchmark=name,
        version=manifest.version if manifest is not None else None,
        file=str(loaded.path),
        file_sha256=loaded.sha256,
        world_hash=world_hash,
        default_judge=loaded.default_judge,
        judge="exact",
        model=model.name,
        n_repeats=n_repeats,
        tasks=len(loaded.tasks),
        skipped=loaded.skipped,
    )
    report = BenchReport(identity=identity, summary=summary, tool_free=free_summary, regime_gap=gap)
    path = target / "summary.json"
    write_atomic(path, json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    html = write_report(
        target / "report.html",
        summary,
        benchmark=name,
        title=f"{name}: {model.name}",
        identity=identity.model_dump(),
        tool_free=free_summary,
        regime_gap=gap,
        turns=turns,
    )
    return BenchResult(out=target, summary_path=path, report=report, html_path=html)


def _serve_pinned(target: Path, manifest: pinned.SyntheticManifest) -> tuple[str, Any]:
    """Regenerate (or reuse) the pinned World, check its hash, index and serve it on loopback."""
    from redsearcher.env import build_index
    from redsearcher.server import EnvServer, ServerConfig
    from redsearcher.world import World
    from redsearcher.world.generate import GeneratorConfig, generate_world

    world_dir, index_dir = target / "world", target / "index"
    config = GeneratorConfig.model_validate(manifest.world_config)
    existing = _world_hash(world_dir)
    if existing != manifest.world_hash:
        generate_world(config, world_dir, overwrite=True, progress=False)
        existing = World.open(world_dir).content_hash
        pinned.check_world_hash(manifest, existing, str(world_dir))
        build_index(world_dir, index_dir, overwrite=True, progress=False)
    elif not index_dir.exists():
        build_index(world_dir, index_dir, overwrite=True, progress=False)
    server = EnvServer(ServerConfig(index=index_dir, port=0))
    server.start()
    return existing, server


def _world_hash(world_dir: Path) -> str | None:
    from redsearcher.errors import WorldFormatError
    from redsearcher.world import World

    if not world_dir.exists():
        return None
    try:
        return World.open(world_dir).content_hash
    except WorldFormatError:
        return None
