"""Running synthesis and verification over files: resumable output, progress, reports.

``synthesize`` appends tasks to a JSONL file as they are verified, through the package's one
resumable-JSONL primitive (:class:`~redsearcher.log.JsonlFile`: one writer, ``fsync`` per master
graph, torn-tail cut). Its pinned header is the sidecar ``<out>.meta.json``: the World hash and
the config (all but ``n`` and ``workers``, so a finished run can be extended by asking for more);
a restart with the same ones resumes at the master graph of the last task written (graphs are
seeded by index, so the same tasks come out again) and skips the ids already in the file —
nothing is lost or duplicated. A restart with a different World or config is refused, naming
what differs, rather than mixing two task sets in one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from redsearcher.env import LocalEnvironment, build_index, default_index_dir
from redsearcher.errors import UserError
from redsearcher.log import JsonlFile, Task, Verdict, read_tasks
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._entity_filter import exclusions_digest
from redsearcher.synth._graph import SeedFilter
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._realize import OfflineRealizer, Realizer
from redsearcher.synth._synth import (
    NoTasksError,
    Synthesizer,
    SynthReport,
    TaskCheck,
    require_graph,
)
from redsearcher.synth._verify import Verifier
from redsearcher.tools import Backend, HTTPBackend, LocalBackend, ServicesConfig
from redsearcher.world import World

__all__ = ["VerifyReport", "check_served_world", "open_verifier", "synthesize", "verify_tasks"]


GraphResults = AsyncIterator[tuple[list[Task], SynthReport]]
"""(tasks, report) per master graph, in graph order."""


@contextlib.contextmanager
def open_verifier(
    world_dir: str | Path,
    *,
    env_url: str | None = None,
    index_dir: str | Path | None = None,
    sandbox: Any = None,
    budget: int = 200_000,
    progress: bool = False,
) -> Iterator[Verifier]:
    """A verifier over a World: its graph, its index (built when missing) and a live backend.

    Args:
        world_dir: The World.
        env_url: A served environment for the completeness walk; default: in-process.
        index_dir: The World's index; default ``WORLD.index``, built if absent.
        sandbox: A code runner for python tool answers in-process (None: those are skipped).
        budget: CSP candidate checks per solve.
        progress: Show the index build's progress.

    Raises:
        UserError: when the index belongs to another World, or the server at ``env_url`` is
            unreachable or serves another World.
    """
    world = World.open(world_dir)
    if env_url:
        check_served_world(env_url, world.content_hash, world_dir)
    index = Path(index_dir) if index_dir else default_index_dir(world_dir)
    if not index.exists():
        build_index(world_dir, index, progress=progress)
    env = LocalEnvironment.open(index)
    try:
        if env.manifest.world_content_hash != world.content_hash:
            raise UserError(
                f"{index} indexes World {env.manifest.world_content_hash}, "
                f"not {world.content_hash}; rebuild it with `redsearcher env index --overwrite`"
            )
        kg = KnowledgeGraph(world)
        backend: Backend = (
            HTTPBackend(ServicesConfig.local(env_url))
            if env_url
            else LocalBackend(env, sandbox=sandbox)
        )
        source = {
            "world_dir": str(world_dir),
            "env_url": env_url,
            "index_dir": str(index),
            "budget": budget,
        }
        yield Verifier(kg=kg, env=env, backend=backend, budget=budget, source=source)
    finally:
        env.close()


def check_served_world(
    env_url: str, world_hash: str, world_dir: str | Path, *, timeout_s: float = 10.0
) -> None:
    """Refuse a served environment that holds another World than the tasks' (its ``/health``).

    Why up front: against another World every evidence page is simply missing, and the walk
    would report each task's evidence as "not found" instead of the one real mistake. A
    server that reports no World hash (a proxy in front of real services) is not refused.

    Raises:
        UserError: when ``/health`` cannot be read, or names another World (both hashes).
    """
    import httpx

    url = env_url.rstrip("/") + "/health"
    try:
        response = httpx.get(url, timeout=timeout_s)
        response.raise_for_status()
        info = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise UserError(f"the environment server is not reachable at {url}: {err}") from err
    served = info.get("world_hash") if isinstance(info, dict) else None
    if isinstance(served, str) and served != world_hash:
        raise UserError(
            f"the environment server at {env_url} serves World {served}, but {world_dir} is "
            f"World {world_hash}: the walk would find none of its pages there; serve this "
            f"World (redsearcher env serve {world_dir}) or pass the World that server holds"
        )


def _resume_start(done: set[str]) -> int:
    """The master graph to restart from: the last task's (ids are ``t{seed}-{graph}-{k}``)."""
    return max((int(i.split("-")[1]) for i in done), default=0)


async def synthesize(
    verifier: Verifier,
    config: SynthConfig,
    out: str | Path,
    *,
    realizer: Realizer | None = None,
    checks: Sequence[TaskCheck] = (),
    progress: bool = True,
) -> SynthReport:
    """Synthesize ``config.n`` verified tasks into ``out`` (JSONL), resuming a previous run.

    The report counts the tasks this call wrote (a resumed run's earlier tasks are not in it).

    Raises:
        UserError: before sampling, when the World has no knowledge graph to sample from (a
            World of Wikipedia pages or recordings alone) or no entity passes the seed filter.
        NoTasksError: when the run ends with no task in ``out`` (none written now or before);
            its message holds the rejections by reason and a hint.

    With ``config.workers > 1`` master graphs are spread over forked processes, each with its
    own verifier opened from the same World and index (the offline realizer only); results
    come back in graph order, so the file is the same as a single-process run's.
    """
    require_graph(verifier.kg, f=SeedFilter(allow_fictional=config.allow_fictional))
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    # n and workers are left out: asking for more tasks, or faster, is a resume, not a new run.
    meta = {
        "world_hash": verifier.kg.world_hash,
        "config": config.model_dump(mode="json", exclude={"n", "workers"}),
    }
    if config.seed_verdicts:  # the LLM concept filter's exclusions shape the seed pool
        meta["seed_exclusions_sha256"] = exclusions_digest(verifier.kg, config.seed_verdicts)
    if verifier.kg.completeness == "sample":  # its tasks say so; a complete World's do not
        meta["uniqueness"] = "within_world_sample"
    report = SynthReport()
    columns = (
        TextColumn("synth"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("graphs {task.fields[graphs]}  rejected {task.fields[rejected]}"),
        TimeElapsedColumn(),
    )
    hint = "use another --out or delete it to start over"
    with JsonlFile.open(path, header=meta, model=Task, what="task record", hint=hint) as file:
        start = _resume_start(file.done)
        # A resumed run keeps answers distinct from the tasks already written.
        earlier = read_tasks(path) if file.done else []
        answers = {t.answer_entity for t in earlier}
        kb = verifier.kg.database_docs
        mixed = bool(kb) and len(kb) < verifier.kg.document_count
        quota = _TextQuota(kb, config, earlier) if mixed and config.text_share > 0 else None
        async with _graph_results(verifier, config, start, realizer, checks) as results:
            with Progress(*columns, disable=not progress, transient=False) as bar:
                await _drain(results, report, file, config, bar, answers, quota)
        written = len(file.done)
    if not written:
        raise NoTasksError.explain(report, config, verifier.kg)
    return report


class _TextQuota:
    """How many tasks citing database pages only may still be written (``text_share``)."""

    def __init__(self, kb: frozenset[str], config: SynthConfig, earlier: Sequence[Task]) -> None:
        self.kb = kb
        self.left = math.ceil((1.0 - config.text_share) * config.n - 1e-9)
        self.left -= sum(not self.cites_text(t) for t in earlier)

    def cites_text(self, task: Task) -> bool:
        return any(d not in self.kb for d in task.evidence_documents)

    def admit(self, task: Task) -> bool:
        """Whether ``task`` may be written (and, when it cites no text page, count it)."""
        if self.cites_text(task):
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def _drain(
    results: GraphResults,
    report: SynthReport,
    file: JsonlFile,
    config: SynthConfig,
    bar: Progress,
    answers: set[str | None],
    quota: _TextQuota | None = None,
) -> None:
    """Append each graph's new tasks (one write and fsync per graph) until ``config.n`` are.

    With ``config.distinct_answers`` a task whose answer entity is in ``answers`` (written
    before) is dropped and counted as ``duplicate_answer``. Graphs arrive in index order
    whatever the worker count, so which task wins is the same in every run.
    """
    n, done = config.n, file.done
    job = bar.add_task("synth", total=n, completed=len(done), graphs=0, rejected=0)
    async for tasks, part in results:
        report.merge_work(part)
        batch: list[Task] = []
        for task in tasks:
            if task.id in done or len(done) + len(batch) >= n:
                continue
            if config.distinct_answers and task.answer_entity in answers:
                report.rejected["duplicate_answer"] += 1
                continue
            if quota is not None and not quota.admit(task):
                report.rejected["kb_only_evidence"] += 1  # text pages must carry their share
                continue
            answers.add(task.answer_entity)
            batch.append(task)
        file.append_many(batch)
        for task in batch:
            report.count(task, config)
        bar.update(job, completed=len(done), graphs=report.graphs, rejected=report.rejected.total())
        if len(done) >= n:
            break


@contextlib.asynccontextmanager
async def _graph_results(
    verifier: Verifier,
    config: SynthConfig,
    start: int,
    realizer: Realizer | None,
    checks: Sequence[TaskCheck],
) -> AsyncIterator[GraphResults]:
    """(tasks, report) per master graph, in graph order: in-process or from a worker pool."""
    indices = range(start, config.graph_budget)
    if config.workers <= 1:
        synth = Synthesizer(verifier.kg, verifier, config, realizer=realizer, checks=checks)

        async def local() -> GraphResults:
            for index in indices:
                synth.report = SynthReport()
                synth._lap.report = synth.report
                yield await synth.graph_tasks(index), synth.report

        yield local()
        return
    if (realizer is not None and not isinstance(realizer, OfflineRealizer)) or checks:
        raise UserError(
            "parallel synthesis (workers > 1) runs the offline realizer and stages 1-3 only"
        )
    context = multiprocessing.get_context("fork")
    with context.Pool(
        config.workers, initializer=_worker_init, initargs=(verifier.source, config)
    ) as pool:
        results = pool.imap(_worker_graph, indices)

        async def remote() -> GraphResults:
            for item in results:
                yield item

        try:
            yield remote()
        finally:
            pool.terminate()


_WORKER: dict[str, Any] = {}


def _worker_init(source: dict[str, Any], config: SynthConfig) -> None:
    stack = contextlib.ExitStack()
    verifier = stack.enter_context(open_verifier(**source))
    _WORKER.update(stack=stack, synth=Synthesizer(verifier.kg, verifier, config))


def _worker_graph(index: int) -> tuple[list[Task], SynthReport]:
    synth: Synthesizer = _WORKER["synth"]
    synth.report = SynthReport()
    synth._lap.report = synth.report
    return asyncio.run(synth.graph_tasks(index)), synth.report


def _stage(verifier: Verifier, stage: str) -> TaskCheck:
    """Stage ``stage`` of ``verifier`` as an async check."""

    async def check(task: Task) -> Verdict:
        if stage == "completeness":
            return await verifier.completeness(task)
        verdict: Verdict = getattr(verifier, stage)(task)
        return verdict

    return check


@dataclass
class VerifyReport:
    """Per-stage pass counts of a verification run."""

    tasks: int = 0
    passed: int = 0
    stages: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    """(task id, stage, first problem) per failed task."""


async def verify_tasks(
    verifier: Verifier,
    tasks: Sequence[Task] | str | Path,
    *,
    stages: Sequence[str] = ("structural", "shortcut", "completeness"),
    checks: Sequence[TaskCheck] = (),
    out: str | Path | None = None,
) -> tuple[list[Task], VerifyReport]:
    """Re-run the verifier stages on tasks; returns the tasks with fresh verdicts and a report.

    Raises:
        UserError: when a task was synthesized over another World.
    """
    items = read_tasks(tasks) if isinstance(tasks, str | Path) else list(tasks)
    report = VerifyReport(tasks=len(items))
    checked: list[Task] = []
    for task in items:
        if not task.synthesized:
            raise UserError(f"task {task.id} was not synthesized: it has no graph to verify")
        if task.world_hash != verifier.kg.world_hash:
            raise UserError(
                f"task {task.id} comes from World {task.world_hash}, not {verifier.kg.world_hash}"
            )
        verdicts = [v for v in task.verification if v.stage not in stages]
        ok = True
        runs: list[TaskCheck] = [_stage(verifier, s) for s in stages] + list(checks)
        for run in runs:
            verdict = await run(task)
            stage = verdict.stage
            verdicts = [v for v in verdicts if v.stage != stage]
            verdicts.append(verdict)
            counts = report.stages.setdefault(stage, {"passed": 0, "failed": 0, "skipped": 0})
            key = {True: "passed", False: "failed", None: "skipped"}[verdict.passed]
            counts[key] += 1
            if verdict.passed is False:
                ok = False
                problems = verdict.detail.get("problems") or [json.dumps(verdict.detail)[:200]]
                report.failures.append((task.id, stage, str(problems[0])))
        report.passed += ok
        checked.append(task.model_copy(update={"verification": verdicts}))
    if out is not None:
        Path(out).write_text("".join(t.model_dump_json() + "\n" for t in checked))
    return checked, report
