"""The synthesis pipeline: master graph → drafts → unique → tools → question → verified task.

Every master graph draws from its own seeded stream (``[seed, graph index]``), so a run is a
pure function of (World, config) and an interrupted run resumes from the graph after the last
one it finished: tasks carry their graph index in their id, and the output file is append-only.
The report counts every rejection by reason and the time spent per stage, because the two
difficulty knobs are only useful if one can see how often the sampler hits them.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

import redsearcher
from redsearcher.errors import UserError
from redsearcher.log import GraphNode, Task, TaskProvenance, Verdict
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._dispersion import min_source_dispersion
from redsearcher.synth._draft import (
    Draft,
    attribute_options,
    drafts,
    make_unique,
    text_first,
    var_graph,
)
from redsearcher.synth._entity_filter import abstract_rows
from redsearcher.synth._evolve import evolve
from redsearcher.synth._graph import (
    SeedFilter,
    densify,
    expand,
    pick_seed,
    seed_pool,
    text_seeds,
)
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._realize import OfflineRealizer, Realizer
from redsearcher.synth._seeds import blocked_entities
from redsearcher.synth._strength import hidden_connected
from redsearcher.synth._treewidth import treewidth
from redsearcher.synth._verify import Verifier, evidence_facts

__all__ = [
    "NoTasksError",
    "SynthReport",
    "Synthesizer",
    "TaskCheck",
    "require_graph",
    "solution_count_key",
]

TaskCheck = Callable[[Task], Awaitable[Verdict]]
"""An extra verifier stage: a task in, its verdict out."""


@dataclass
class SynthReport:
    """What a synthesis run did."""

    emitted: int = 0
    graphs: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    ambiguous: Counter[str] = field(default_factory=Counter)
    """Rejected-as-ambiguous drafts by their solution count in the World."""
    hits: Counter[tuple[int, int]] = field(default_factory=Counter)
    """Emitted tasks per (treewidth, msd)."""
    on_target: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    """Wall time per stage (sample, unique, tools, msd, realize, then each verifier stage)."""

    def merge_work(self, other: SynthReport) -> None:
        """Add another report's work (graphs, rejections, time) to this one.

        Emitted-task counts are not merged: the writer counts what it actually wrote
        (``count``), which can be fewer than a graph produced.
        """
        self.graphs += other.graphs
        self.rejected.update(other.rejected)
        self.ambiguous.update(other.ambiguous)
        for stage, spent in other.seconds.items():
            self.seconds[stage] += spent

    def count(self, task: Task, config: SynthConfig) -> None:
        """Count one emitted task in the difficulty table."""
        width, msd = task.treewidth, task.msd
        assert width is not None and msd is not None  # synthesis measures every task it emits
        self.emitted += 1
        self.hits[(width, msd)] += 1
        self.on_target += int(width in config.treewidth_range and msd in config.msd_range)
        self.tools.update(task.required_tools)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "emitted": self.emitted,
            "graphs": self.graphs,
            "on_target": self.on_target,
            "rejected": dict(self.rejected),
            "ambiguous_solutions": dict(
                sorted(self.ambiguous.items(), key=lambda kv: solution_count_key(kv[0]))
            ),
            "hits": {f"tw{t}-msd{m}": c for (t, m), c in sorted(self.hits.items())},
            "tools": dict(self.tools),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def solution_count_key(count: str) -> tuple[int, bool]:
    """Numeric order of the ambiguity histogram's keys (``"2"`` < ``"10"`` < ``"100+"``)."""
    return int(count.rstrip("+") or 0), count.endswith("+")


def require_graph(
    kg: KnowledgeGraph, pool: np.ndarray | None = None, f: SeedFilter | None = None
) -> np.ndarray:
    """The seed pool of ``kg``; a ``UserError`` naming why when the World cannot seed a task.

    A World built from Wikipedia pages or recordings alone has documents but no knowledge
    graph, and one whose entities carry too few facts has no seed; either way synthesis would
    have nothing to sample, so it says so before sampling instead of failing inside it.
    """
    f = f or SeedFilter()
    pool = seed_pool(kg, f) if pool is None else pool
    if len(pool):
        return pool
    where = f"World {kg.world_hash[:16]}"
    need = "synthesis builds tasks from a knowledge graph: ingest a Wikidata dump (--wikidata)"
    if not len(kg):
        raise UserError(
            f"{where} has no entities ({kg.document_count:,} documents, e.g. Wikipedia pages or "
            f"recordings alone): {need}"
        )
    if not len(kg.f.fid):
        raise UserError(f"{where} has {len(kg):,} entities but no facts: {need}")
    raise UserError(
        f"{where}: none of its {len(kg):,} entities passes the seed filter (at least "
        f"{f.min_facts} facts, mentioned by a document, a page of at least "
        f"{f.min_page_chars} characters where it has one, not a country, look-alike, list or "
        f"meta page{'' if f.allow_fictional else ', nor fictional'}): ingest more properties "
        "or pages that mention its entities"
    )


class NoTasksError(UserError):
    """Synthesis ran and emitted no task; the message holds the rejections and a hint.

    Args:
        report: The run's report (its ``rejected`` counts explain the outcome).
        message: The whole message.
    """

    def __init__(self, report: SynthReport, message: str) -> None:
        self.report = report
        super().__init__(message)

    @classmethod
    def explain(cls, report: SynthReport, config: SynthConfig, kg: KnowledgeGraph) -> NoTasksError:
        """The error for a run over ``kg`` that wrote nothing: rejection table and a hint."""
        lines = [
            f"synthesis emitted no task (0 of {config.n} asked) from {report.graphs:,} master "
            f"graphs of World {kg.world_hash[:16]}; drafts rejected by reason:"
        ]
        width = max((len(k) for k in report.rejected), default=0)
        lines += [f"  {k:<{width}}  {v:>8,}" for k, v in report.rejected.most_common()]
        if not report.rejected:
            lines.append("  (none: no master graph was sampled)")
        lines.append(f"hint: {_hint(report, config, kg)}")
        return cls(report, "\n".join(lines))


def _hint(report: SynthReport, config: SynthConfig, kg: KnowledgeGraph) -> str:
    """What most likely stopped synthesis, and what to change."""
    stated, total = kg.stated_fact_count(), len(kg.f.fid)
    if total and stated / total < 0.05:
        return (
            f"only {stated:,} of {total:,} facts ({stated / total:.2%}) are stated by any "
            "document, so evidence cannot be covered: ingest the World with --kb-pages (a "
            "database page per entity) or with pages that state its facts"
        )
    top = report.rejected.most_common(1)[0][0] if report.rejected else ""
    if top in ("graph_too_small", "treewidth_unreachable", "treewidth_out_of_range"):
        return (
            f"the World's graphs rarely reach treewidth {config.treewidth}: ask for a lower "
            "--treewidth, or ingest more relations"
        )
    if top in ("msd_below_target", "msd_above_target"):
        return f"source dispersion rarely fits --msd {config.msd}: widen it"
    if top == "uncoverable":
        return f"{total - stated:,} of {total:,} facts are stated by no document: add pages"
    if top == "ambiguous":
        return "drafts stay ambiguous: the World has too few attributes to tell entities apart"
    if top.startswith("failed_"):
        return f"the {top.removeprefix('failed_')} verifier stage rejects the drafts"
    return "try another --seed, or looser --treewidth and --msd"


class _Clock:
    def __init__(self, report: SynthReport) -> None:
        self.report = report

    def __call__(self, stage: str) -> _Lap:
        return _Lap(self.report, stage)


class _Lap:
    def __init__(self, report: SynthReport, stage: str) -> None:
        self.report, self.stage = report, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.report.seconds[self.stage] += time.perf_counter() - self.start


class Synthesizer:
    """Samples, realizes and verifies tasks over one World.

    Args:
        kg: The World's graph.
        verifier: Stages 1-3 (its ``backend`` decides whether completeness runs).
        config: What to sample.
        realizer: Writes the question (offline grammar by default).
        checks: Further verifier stages run after stages 1-3 (the LLM solver and audit,
            a rollout filter); a check that fails drops the task, an unscored one does not.
    """

    def __init__(
        self,
        kg: KnowledgeGraph,
        verifier: Verifier,
        config: SynthConfig,
        *,
        realizer: Realizer | None = None,
        checks: Sequence[TaskCheck] = (),
    ) -> None:
        self.kg = kg
        self.checks = list(checks)
        self.verifier = verifier
        self.config = config
        self.realizer: Realizer = realizer or OfflineRealizer()
        self.report = SynthReport()
        self._lap = _Clock(self.report)
        self._filter = SeedFilter(allow_fictional=config.allow_fictional)
        self._pool = seed_pool(kg, self._filter)
        if config.seed_verdicts:  # the LLM concept filter's verdicts (synth/_entity_filter.py)
            self._pool = np.setdiff1d(self._pool, abstract_rows(kg, config.seed_verdicts))
        self._text_seeds = text_seeds(kg, self._pool)
        self._blocked = blocked_entities(kg, allow_fictional=config.allow_fictional)
        self._stated_by: Callable[[int], list[str]] = lambda fid: kg.stated_by(kg.fact_row(fid))

    async def run(self, *, start_graph: int = 0) -> AsyncIterator[Task]:
        """Yield verified tasks, master graph after master graph, from ``start_graph`` on.

        The caller stops when it has enough; tasks of one graph come out together, in order.
        """
        for index in range(start_graph, self.config.graph_budget):
            for task in await self.graph_tasks(index):
                yield task

    async def graph_tasks(self, index: int) -> list[Task]:
        """Every verified task of master graph ``index`` (a pure function of World and config).

        At most ``max_tasks_per_graph`` come out, with distinct answers: the subgraphs of one
        master graph share most of their nodes, so further tasks would be near-duplicates.
        """
        self.report.graphs += 1
        rng = np.random.default_rng([self.config.seed, index])
        tasks: list[Task] = []
        answers: set[int] = set()
        for k, draft in enumerate(self._drafts(rng)):
            if len(tasks) >= self.config.max_tasks_per_graph:
                self.report.rejected["graph_task_cap"] += 1
                continue
            if self.config.distinct_answers and draft.rows[draft.answer] in answers:
                self.report.rejected["duplicate_answer"] += 1
                continue
            task = await self.complete(draft, rng, f"t{self.config.seed}-{index}-{k}")
            if task is not None:
                self.report.count(task, self.config)
                tasks.append(task)
                answers.add(draft.rows[draft.answer])
        return tasks

    def _drafts(self, rng: np.random.Generator) -> list[Draft]:
        cfg, kg = self.config, self.kg
        target_range = cfg.treewidth_range
        high = target_range.high if target_range.high is not None else target_range.low + 1
        target = int(rng.integers(target_range.low, high + 1))
        with self._lap("sample"):
            pool = require_graph(kg, self._pool, self._filter)
            seed = pick_seed(pool, rng, self._text_seeds, sparse=kg.sparse_provenance)
            size = int(rng.integers(cfg.min_nodes, cfg.max_nodes + 1))
            graph = expand(kg, seed, size, rng, hub_cap=cfg.hub_cap, blocked=self._blocked)
            if len(graph.rows) < cfg.min_nodes:
                self.report.rejected["graph_too_small"] += 1
                return []
            dense = densify(
                kg,
                graph,
                target,
                rng,
                max_nodes=cfg.densify_nodes,
                hub_cap=cfg.hub_cap,
                blocked=self._blocked,
            )
            if dense.width not in target_range:
                self.report.rejected["treewidth_unreachable"] += 1
                return []
            return list(drafts(kg, graph, min_nodes=cfg.min_nodes, per_graph=cfg.tasks_per_graph))

    async def complete(self, draft: Draft, rng: np.random.Generator, task_id: str) -> Task | None:
        """Make a draft unique, evolve it, realize and verify it; None (reason counted) if not."""
        cfg, kg, report = self.config, self.kg, self.report
        if not hidden_connected(draft.constraints, draft.roles, draft.answer):
            report.rejected["filler_component"] += 1  # a part the answer does not depend on
            return None
        if any(kg.shared_name[draft.rows[v]] for v in draft.bound):
            report.rejected["shared_name"] += 1  # "A Star Is Born": which of the four films?
            return None
        with self._lap("unique"):
            reason = make_unique(
                kg, draft, rng, max_attributes=cfg.max_attributes, budget=cfg.budget
            )
        if reason is not None:
            report.rejected[reason] += 1
            if reason == "ambiguous":  # how ambiguous: the solution count, for the report
                report.ambiguous[draft.count_solutions(kg, budget=cfg.budget)] += 1
            return None
        used: list[str] = []
        with self._lap("tools"):
            for tool in cfg.tools:
                if evolve(kg, draft, tool, rng, budget=cfg.budget):
                    used.append(tool)
        with self._lap("msd"):
            width = treewidth(var_graph(draft.constraints, draft.rows)).width
            if width not in cfg.treewidth_range:
                report.rejected["treewidth_out_of_range"] += 1
                return None
            cover = self._steer_msd(draft, rng)
            if cover is None:
                return None
            msd, documents = cover
        nodes = [
            GraphNode(
                var=v,
                entity=kg.ids[draft.rows[v]],
                label=kg.label(draft.rows[v]),
                type=draft.types[v],
                role=draft.roles[v],
            )
            for v in draft.rows
        ]
        with self._lap("realize"):
            aliases = {n.entity: kg.aliases(draft.rows[n.var]) for n in nodes}
            descriptions = {n.entity: kg.description(draft.rows[n.var]) or "" for n in nodes}
            realized = await self.realizer.realize(
                nodes,
                draft.constraints,
                seed=int(rng.integers(2**31)),
                aliases=aliases,
                descriptions=descriptions,
            )
        constraints = [
            c.model_copy(update={"text": text})
            for c, text in zip(draft.constraints, realized.constraint_texts, strict=True)
        ]
        answer_row = draft.rows[draft.answer]
        task = Task(
            id=task_id,
            question=realized.question,
            answer=kg.label(answer_row),
            aliases=kg.aliases(answer_row),
            answer_entity=kg.ids[answer_row],
            answer_type=draft.types[draft.answer],
            nodes=nodes,
            constraints=constraints,
            shape=draft.shape,
            treewidth=width,
            msd=msd,
            evidence_facts=evidence_facts(kg, constraints),
            evidence_documents=documents,
            evidence_urls=[self.verifier.env.url_of(d) or "" for d in documents],
            required_tools=sorted(set(used)),  # type: ignore[arg-type]
            verification=[Verdict(stage="tools", passed=True, detail={"checks": draft.tool_checks})]
            if draft.tool_checks
            else [],
            provenance=TaskProvenance(
                world_hash=kg.world_hash,
                seed=cfg.seed,
                config=cfg.model_dump(mode="json", exclude={"n", "workers"}),
                redsearcher_version=redsearcher.__version__,
                realizer=realized.realizer,
            ),
            uniqueness="within_world_sample" if kg.completeness == "sample" else None,
        )
        for stage in cfg.verify:
            with self._lap(stage):
                if stage == "completeness":
                    verdict = await self.verifier.completeness(task)
                elif stage == "structural":
                    verdict = self.verifier.structural(task, proven_unique=True)
                    if draft.reality is not None:  # a sample World: the decision, per task
                        verdict.detail["reality"] = draft.reality.record()
                else:
                    verdict = self.verifier.shortcut(task)
            task.verification.append(verdict)
            if verdict.passed is False:
                report.rejected[f"failed_{stage}"] += 1
                return None
        for check in self.checks:
            start = time.perf_counter()
            verdict = await check(task)
            report.seconds[verdict.stage] += time.perf_counter() - start
            task.verification.append(verdict)
            if verdict.passed is False:
                report.rejected[f"failed_{verdict.stage}"] += 1
                return None
        return task

    def _steer_msd(self, draft: Draft, rng: np.random.Generator) -> tuple[int, list[str]] | None:
        """The minimum cover; add attributes stated elsewhere while MSD is below the target."""
        kg, target = self.kg, self.config.msd_range
        for _ in range(4):
            evidence = evidence_facts(kg, draft.constraints)
            cover = min_source_dispersion(
                evidence, {f: self._stated_by(f) for f in evidence}, avoid=kg.database_docs
            )
            if cover.size is None:
                self.report.rejected["uncoverable"] += 1
                return None
            if target.high is not None and cover.size > target.high:
                self.report.rejected["msd_above_target"] += 1
                return None
            if cover.size >= target.low:
                return cover.size, list(cover.documents)
            if not self._add_dispersed(draft, set(cover.documents), rng):
                break
        self.report.rejected["msd_below_target"] += 1
        return None

    def _add_dispersed(self, draft: Draft, cover: set[str], rng: np.random.Generator) -> bool:
        """Add one attribute whose fact no document of the current cover states."""
        for var in sorted(v for v, r in draft.roles.items() if r != "observed"):
            for option in text_first(self.kg, attribute_options(self.kg, draft, var, rng)):
                if not set(self._stated_by(option.fact_ids[0])) & cover:
                    draft.constraints.append(option)
                    return True
        return False
