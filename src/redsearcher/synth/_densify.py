"""``redsearcher world densify``: a derived World with the relations the graph agent read.

Why a derived World rather than densifying in memory at synthesis time: the agent's calls cost
money and time, and its answers vary with the model; written once into a World they are
reproducible (the same parent and judgments give the same World, byte for byte in content
hash), inspectable (each new fact carries its quote; its provenance is the page it was read
from; the manifest names the parent World's hash, the model and the prompt's sha256), and
every later step — index, serve, synth, verify — works on it unchanged. Synthesis then walks
the new facts like any relation: they close the cycles densification needs.

The run is resumable: every judged pair is appended to a JSONL (``<out>.judgments.jsonl`` by
default, through :class:`~redsearcher.log.JsonlFile`, whose header pins the parent World, the
model and the prompt) before the next call, so an interrupted run (budget spent, endpoint
down, ``kill -9``) continues where it stopped, and the World is always written from *all*
judgments in the file. ``max_pages`` and ``max_calls`` bound one run. Without a model nothing
is densified: :func:`densify_world` reports the candidates only and writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from redsearcher.errors import UserError
from redsearcher.log import JsonlFile, iter_records
from redsearcher.model import ModelRequestError
from redsearcher.synth._discovery import Candidate, Discovery, Page, link_pairs
from redsearcher.synth._graph_agent import GraphAgent, Judgment, PredicateMap, symmetric
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.world import TABLES, Fact, Manifest, Provenance, World, WorldWriter

__all__ = ["DensifyReport", "densify_world", "write_densified"]

SOURCE_KIND = "densify"


@dataclass
class DensifyReport:
    """What a densify run found, asked and wrote."""

    links: int = 0
    """``links_to`` facts of the parent World."""
    candidate_pages: int = 0
    candidate_pairs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """Pairs (or links) discovery left out, by reason."""
    already_judged: int = 0
    """Candidate pairs judged by an earlier run (read from the judgments file)."""
    pages: int = 0
    """Pages read in this run."""
    calls: int = 0
    judged: Counter[str] = field(default_factory=Counter)
    """This run's judgments by verdict."""
    rejected: Counter[str] = field(default_factory=Counter)
    """This run's rejections by reason (the part before ``:``)."""
    model_errors: int = 0
    """Batches the endpoint refused (left unjudged: a later run asks again)."""
    remaining_pairs: int = 0
    """Candidate pairs still unjudged when the run stopped."""
    new_facts: int = 0
    """Facts the derived World adds to its parent (all judgments, this run's and earlier)."""
    new_predicates: list[str] = field(default_factory=list)
    world: Manifest | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the derived World's manifest report holds it)."""
        return {
            "links": self.links,
            "candidate_pages": self.candidate_pages,
            "candidate_pairs": self.candidate_pairs,
            "skipped": dict(sorted(self.skipped.items())),
            "already_judged": self.already_judged,
            "pages": self.pages,
            "calls": self.calls,
            "judged": dict(self.judged),
            "rejected": dict(self.rejected.most_common()),
            "model_errors": self.model_errors,
            "remaining_pairs": self.remaining_pairs,
            "new_facts": self.new_facts,
            "new_predicates": self.new_predicates,
        }


def default_judgments_path(out: str | Path) -> Path:
    """``<out>.judgments.jsonl`` beside the derived World directory."""
    path = Path(out)
    return path.with_name(path.name + ".judgments.jsonl")


async def densify_world(
    world_dir: str | Path,
    out: str | Path,
    agent: GraphAgent | None,
    *,
    judgments: str | Path | None = None,
    max_pages: int = 0,
    max_calls: int = 0,
    pairs_per_call: int = 8,
    concurrency: int = 1,
    min_degree: int = 1,
    co_links: bool = True,
    max_pairs_per_page: int = 12,
    overwrite: bool = False,
    progress: bool = False,
) -> DensifyReport:
    """Judge the hyperlink candidates of ``world_dir`` with ``agent``; write the derived World.

    Args:
        world_dir: The parent World (ingested from Wikipedia with links).
        out: The derived World directory.
        agent: The graph agent; None reports the candidates and writes nothing.
        judgments: The resumable judgments file (default ``<out>.judgments.jsonl``).
        max_pages: Pages to read in this run (0: no limit).
        max_calls: Model calls in this run (0: no limit); a batch in flight finishes.
        pairs_per_call: Candidate pairs of one page asked in one call.
        concurrency: Calls in flight at once.
        min_degree: Typed relations an entity needs to pair up (a graph entity).
        co_links: Also pair two entities one page links (not only page -> linked).
        max_pairs_per_page: Candidate pairs kept per page.
        overwrite: Replace ``out`` if it is something else than this World's earlier
            derivation (that one is always replaced: the judgments file is the state).
        progress: Show a progress bar.

    Raises:
        UserError: when ``out`` exists and is not a derivation of this World (without
            ``overwrite``), or the judgments file was written for another World, model or
            prompt (:class:`~redsearcher.log.HeaderMismatch`).
        ModelUnavailable: when the endpoint is down; what was judged before is kept.
    """
    parent = World.open(world_dir)
    kg = KnowledgeGraph(parent)
    found = link_pairs(
        parent, kg, min_degree=min_degree, co_links=co_links, max_pairs_per_page=max_pairs_per_page
    )
    report = DensifyReport(
        links=found.links,
        candidate_pages=len(found.pages),
        candidate_pairs=found.pairs,
        skipped=dict(found.skipped),
    )
    if agent is None:
        report.remaining_pairs = found.pairs
        report.note = (
            "no model configured (--model/--base-url): nothing is densified and no World is "
            "written; the counts above are what a graph agent would read"
        )
        return report
    _check_out(Path(out), parent, overwrite)
    path = Path(judgments) if judgments else default_judgments_path(out)
    header = {
        "parent_world": parent.content_hash,
        "model": agent.name,
        "prompt_version": agent.prompt_version,
        "prompt_sha256": agent.prompt_sha256,
    }
    hint = "pass another --judgments file, or the same --model as before"
    with JsonlFile.open(path, header=header, model=Judgment, what="judgment", hint=hint) as file:
        await _judge(kg, found, agent, file, report, max_pages, max_calls, pairs_per_call,
                     concurrency, progress)  # fmt: skip
    accepted = [j for j in iter_records(path, Judgment) if j.verdict == "accepted"]
    source = {
        "kind": SOURCE_KIND,
        "parent": {
            "content_hash": parent.content_hash,
            "path": str(world_dir),
            "source": parent.manifest.source,
        },
        "completeness": parent.completeness,
        "model": agent.name,
        "prompt": f"graph_agent.{agent.prompt_version}",
        "prompt_sha256": agent.prompt_sha256,
        "judgments": str(path),
        "judgments_sha256": _digest(accepted),
    }
    report.world = write_densified(parent, accepted, out, source=source, report=report)
    return report


def _check_out(out: Path, parent: World, overwrite: bool) -> None:
    if not out.exists() or overwrite:
        return
    try:
        earlier = World.open(out).manifest.source
    except UserError:
        earlier = {}
    derived = earlier.get("kind") == SOURCE_KIND
    if derived and earlier.get("parent", {}).get("content_hash") == parent.content_hash:
        return
    raise UserError(f"{out} already exists and is not a densified copy of {parent.path} "
                    "(pass --overwrite to replace it)")  # fmt: skip


async def _judge(
    kg: KnowledgeGraph,
    found: Discovery,
    agent: GraphAgent,
    file: JsonlFile,
    report: DensifyReport,
    max_pages: int,
    max_calls: int,
    pairs_per_call: int,
    concurrency: int,
    progress: bool,
) -> None:
    """Ask about every unjudged pair, page by page, within the budgets; append each answer."""
    todo: list[tuple[Page, list[Candidate]]] = []
    for page, cands in found.pages:
        left = [c for c in cands if c.key not in file.done]
        report.already_judged += len(cands) - len(left)
        if left:
            todo.append((page, left))
    if max_pages:
        todo = todo[:max_pages]
    batches = [
        (page, left[k : k + pairs_per_call])
        for page, left in todo
        for k in range(0, len(left), max(1, pairs_per_call))
    ]
    predicates = PredicateMap(kg)
    pages_started: set[str] = set()
    queue = iter(batches)
    columns = (TextColumn("densify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        job = bar.add_task("densify", total=len(batches))

        async def worker() -> None:
            for page, batch in queue:
                if max_calls and agent.calls >= max_calls:
                    return
                pages_started.add(page.doc_id)
                try:
                    judged = await agent.judge(kg, page, batch, predicates)
                except ModelRequestError:
                    report.model_errors += 1
                    bar.advance(job)
                    continue
                file.append_many(judged)
                for j in judged:
                    report.judged[j.verdict] += 1
                    for reason in j.reasons:
                        report.rejected[reason.split(":")[0]] += 1
                bar.advance(job)

        calls_before = agent.calls
        tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # one worker failed (the endpoint is down): stop the others before the file closes
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            report.calls = agent.calls - calls_before
            report.pages = len(pages_started)
            report.remaining_pairs = found.pairs - report.already_judged - report.judged.total()


def _digest(judgments: list[Judgment]) -> str:
    lines = sorted(j.model_dump_json() for j in judgments)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def write_densified(
    parent: World,
    accepted: list[Judgment],
    out: str | Path,
    *,
    source: dict[str, Any],
    report: DensifyReport | None = None,
) -> Manifest:
    """Write ``parent`` plus one fact per accepted relation (its page as provenance) to ``out``.

    Equal relations read from several pages are one fact stated by each page; a symmetric
    predicate gets both directions, as ingest stores them. New fact ids follow the parent's
    largest, in (subject, predicate, object) order, so the World depends on the set of
    judgments only, not on the order they were made in.
    """
    report = report or DensifyReport()
    entities = set(parent.table("entities", ["id"]).column("id").to_pylist())
    facts = parent.table("facts", ["id", "subject", "predicate", "object"])
    known = set(
        zip(
            facts.column("subject").to_pylist(),
            facts.column("predicate").to_pylist(),
            facts.column("object").to_pylist(),
            strict=True,
        )
    )
    top = pc.max(facts.column("id")).as_py() if facts.num_rows else 0
    stated: dict[tuple[str, str, str], list[Judgment]] = {}
    for j in accepted:
        assert j.subject is not None and j.object is not None and j.predicate is not None
        if j.subject not in entities or j.object not in entities:
            continue  # judged over another World: the header check makes this unreachable
        triples = [(j.subject, j.predicate, j.object)]
        if symmetric(j.predicate):
            triples.append((j.object, j.predicate, j.subject))
        for triple in triples:
            if triple not in known:
                stated.setdefault(triple, []).append(j)
    new_facts: list[Fact] = []
    provenance: list[Provenance] = []
    for fid, triple in enumerate(sorted(stated), start=int(top or 0) + 1):
        first = min(stated[triple], key=lambda j: j.id)
        qualifiers = {"derived_by": "graph_agent", "quote": first.quote}
        new_facts.append(Fact.relation(fid, triple[0], triple[1], triple[2], qualifiers))
        provenance += [Provenance(doc, fid) for doc in sorted({j.doc_id for j in stated[triple]})]
    report.new_facts = len(new_facts)
    report.new_predicates = sorted(
        {j.predicate for j in accepted if j.new_predicate and j.predicate}
    )
    writer = WorldWriter(out, source=source, overwrite=True)
    with writer:
        for name in TABLES:
            for batch in parent.iter_batches(name):
                writer.add_batch(name, batch)
        writer.add_facts(new_facts)
        writer.add_provenance(provenance)
        writer.report = {"densify": report.as_dict()}
    assert writer.manifest is not None
    return writer.manifest
