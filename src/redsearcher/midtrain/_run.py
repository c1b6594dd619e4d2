"""One mid-training data run: generate the mixture, resumably, then write the training files.

``OUT/samples.jsonl`` (a :class:`~redsearcher.log.JsonlFile` whose pinned header is the mixture
config, the World hash and the task file) is the run's only state: a killed run resumes by asking
each generator for the same deterministic sequence again and skipping the ids already written,
so nothing is lost or repeated. The training files are derived from it at the end of every run
(written to a temporary name and renamed), after near-duplicate removal and decontamination:

- ``sharegpt/{32k,128k}.jsonl`` and ``openai/{32k,128k}.jsonl`` (see ``_output``),
- ``text/pretrain.jsonl`` (packed when ``pack`` is set),
- ``summary.json``: per kind samples, tokens, rejections by reason, LLM rewrites and fallbacks,
  buckets, and what deduplication and decontamination removed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from redsearcher._util import write_atomic
from redsearcher.log import JsonlFile, Task, iter_records, read_tasks
from redsearcher.midtrain._generator import GenContext, Generator, Rejection, Rewriter
from redsearcher.midtrain._mixture import MixtureConfig, load_generator
from redsearcher.midtrain._output import (
    BUCKETS,
    bucket_of,
    count_sample_tokens,
    pack_texts,
    to_openai,
    to_sharegpt,
    to_text,
)
from redsearcher.midtrain._sample import Kind, MidtrainSample
from redsearcher.model import TokenCounter
from redsearcher.world import World

__all__ = ["SAMPLES_FILE", "KindSummary", "MidtrainSummary", "run_midtrain", "summary_table"]

SAMPLES_FILE = "samples.jsonl"
_BATCH = 256


@dataclass(slots=True)
class KindSummary:
    """What one kind contributed."""

    wanted: int = 0
    samples: int = 0
    """Samples in ``samples.jsonl`` (this run's and a resumed run's earlier ones)."""
    resumed: int = 0
    """Of those, already there when this run started."""
    tokens: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    """Candidates discarded in this run, by reason."""
    rewrites: Counter[str] = field(default_factory=Counter)
    """``offline`` / ``llm`` / ``fallback`` (and ``fallback:<reason>``) over the written samples."""
    buckets: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    """Dropped after generation: ``near_duplicate`` and decontamination's reasons."""
    written: int = 0
    """Samples in the training files."""


@dataclass(slots=True)
class MidtrainSummary:
    """The run's summary (also ``summary.json``)."""

    out: Path
    kinds: dict[str, KindSummary]
    token_counter: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "out": str(self.out),
            "token_counter": self.token_counter,
            "kinds": {
                k: {
                    "wanted": s.wanted,
                    "samples": s.samples,
                    "resumed": s.resumed,
                    "written": s.written,
                    "tokens": s.tokens,
                    "rejections": dict(sorted(s.rejections.items())),
                    "rewrites": dict(sorted(s.rewrites.items())),
                    "buckets": dict(sorted(s.buckets.items())),
                    "removed": dict(sorted(s.removed.items())),
                }
                for k, s in self.kinds.items()
            },
        }


def _file_hash(path: Path | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_midtrain(
    world_dir: str | Path,
    out: str | Path,
    config: MixtureConfig,
    *,
    tasks_file: str | Path | None = None,
    tasks: Sequence[Task] | None = None,
    rewriter: Rewriter | None = None,
    holdout: Sequence[str | Path] = (),
    counter: TokenCounter | None = None,
    progress: Callable[[Kind, int, int], None] | None = None,
    batch: int = 256,
) -> MidtrainSummary:
    """Make the mixture into ``out`` (resuming what is there) and write the training files.

    Args:
        world_dir: The World.
        out: The output directory.
        config: The mixture.
        tasks_file: Synthesized tasks (``redsearcher synth`` output) for planning and the
            kinds that start from tasks.
        tasks: Tasks already read (instead of ``tasks_file``; tests).
        rewriter: The LLM path (``None``: offline templates only).
        holdout: Held-out task files, or ``NAME=FILE`` for a benchmark's own file (a name of
            ``redsearcher.eval.BENCHMARKS``); samples leaking any of them are dropped.
        counter: The token counter (default: the package's estimate).
        progress: Called with (kind, samples so far, wanted) after each written batch.
        batch: Samples per durable append (group commit).

    Raises:
        UserError: for a kind not in this build, a World without provenance, tasks without
            graphs, or an output directory made with another config.
    """
    world = World.open(world_dir)
    tasks_path = Path(tasks_file) if tasks_file is not None else None
    task_list = list(tasks) if tasks is not None else []
    if tasks_path is not None:
        task_list = read_tasks(tasks_path)
    generators = {kind: load_generator(kind) for kind in config.kinds}
    ctx = GenContext(
        world=world,
        world_hash=world.content_hash,
        tasks=task_list,
        rewriter=rewriter,
        options={str(k): v for k, v in config.options.items()},
    )
    for gen in generators.values():
        gen.check(ctx)
    decontaminate = _decontaminator(holdout)
    counter = counter if counter is not None else TokenCounter()
    out = Path(out)
    header = {
        "config": config.model_dump(mode="json"),
        "world_hash": world.content_hash,
        "tasks_sha256": _file_hash(tasks_path),
        "rewriter": rewriter.name if rewriter is not None else None,
        "tokens": "estimate" if counter.estimated else "tokenizer",
    }
    summary = MidtrainSummary(
        out,
        {k: KindSummary() for k in config.kinds},
        "estimate" if counter.estimated else "tokenizer",
    )
    wanted = config.counts()
    with JsonlFile.open(
        out / SAMPLES_FILE,
        header=header,
        model=MidtrainSample,
        what="mid-training sample",
        hint="use a new --out directory, or the same config, World and tasks as before",
    ) as file:
        for kind, gen in generators.items():
            stats = summary.kinds[kind]
            stats.wanted = wanted[kind]
            _make(kind, gen, ctx, config.seed, file, counter, stats, progress, batch)
    _write_outputs(out, config, counter, summary, decontaminate)
    return summary


def _make(
    kind: Kind,
    gen: Generator,
    ctx: GenContext,
    seed: int,
    file: JsonlFile,
    counter: TokenCounter,
    stats: KindSummary,
    progress: Callable[[Kind, int, int], None] | None,
    batch: int,
) -> None:
    """Generate ``kind`` until ``stats.wanted`` samples of it are in ``file``."""
    n = stats.wanted
    prefix = f"{kind}-{seed}-"
    have = sum(1 for rid in file.done if rid.startswith(prefix))
    stats.resumed = have
    if have >= n:
        return
    pending: list[MidtrainSample] = []
    written = have
    for item in gen.generate(ctx, n, seed):
        if isinstance(item, Rejection):
            stats.rejections[item.reason] += 1
            continue
        if item.id in file.done:
            continue
        sample = item.model_copy(update={"tokens": count_sample_tokens(item, counter)})
        if bucket_of(sample) is None:
            stats.rejections["too_long"] += 1
            continue
        pending.append(sample)
        if len(pending) >= batch:
            file.append_many(pending)
            written += len(pending)
            pending = []
            if progress is not None:
                progress(kind, written, n)
    if pending:
        file.append_many(pending)
        written += len(pending)
    if progress is not None:
        progress(kind, written, n)


Filter = Callable[[list[MidtrainSample]], tuple[list[MidtrainSample], dict[str, str]]]
"""Kept samples, and the reason each dropped sample's id was dropped."""


def _decontaminator(holdout: Sequence[str | Path]) -> Filter | None:
    """The decontamination filter over ``holdout`` (``None`` when no holdout was given)."""
    if not holdout:
        return None
    from redsearcher.eval import BENCHMARKS
    from redsearcher.midtrain._decontam import load_holdout as load

    files: list[Path] = []
    benchmarks: list[tuple[str, Path]] = []
    for entry in holdout:
        name, sep, path = str(entry).partition("=")
        if sep and name in BENCHMARKS:
            benchmarks.append((name, Path(path)))
        else:
            files.append(Path(entry))
    held = load(files, benchmarks)

    def run(samples: list[MidtrainSample]) -> tuple[list[MidtrainSample], dict[str, str]]:
        kept: list[MidtrainSample] = []
        dropped: dict[str, str] = {}
        for sample in samples:
            reason = held.reason(sample)
            if reason is None:
                kept.append(sample)
            else:
                dropped[sample.id] = str(reason)
        return kept, dropped

    return run


def _deduper(threshold: float) -> Filter:
    """Near-duplicate removal at ``threshold`` (imported here: ``datasketch`` is extra midtrain)."""
    from redsearcher.midtrain._dedupe import DedupeConfig, dedupe

    def run(samples: list[MidtrainSample]) -> tuple[list[MidtrainSample], dict[str, str]]:
        kept, _ = dedupe(samples, DedupeConfig(threshold=threshold))
        ids = {s.id for s in kept}
        return list(kept), {s.id: "near_duplicate" for s in samples if s.id not in ids}

    return run


def _write_outputs(
    out: Path,
    config: MixtureConfig,
    counter: TokenCounter,
    summary: MidtrainSummary,
    decontaminate: Filter | None,
) -> None:
    """Derive the training files and ``summary.json`` from ``samples.jsonl``."""
    samples = list(iter_records(out / SAMPLES_FILE, MidtrainSample, what="mid-training sample"))
    samples = [s for s in samples if s.kind in summary.kinds]
    for s in samples:
        stats = summary.kinds[s.kind]
        stats.samples += 1
        stats.tokens += s.tokens
        rewrite = str(s.source.get("rewrite", "offline"))
        stats.rewrites[rewrite] += 1
        if rewrite == "fallback":
            stats.rewrites[f"fallback:{s.source.get('fallback_reason')}"] += 1
    dedupe = _deduper(config.dedupe_threshold) if config.dedupe else None
    filters = [f for f in (dedupe, decontaminate) if f]
    for apply in filters:
        kinds_of = {s.id: s.kind for s in samples}
        samples, dropped = apply(samples)
        for sample_id, reason in dropped.items():
            summary.kinds[kinds_of[sample_id]].removed[reason] += 1
    files: dict[str, list[str]] = {}
    for s in samples:
        bucket = bucket_of(s) or "128k"
        summary.kinds[s.kind].buckets[bucket] += 1
        summary.kinds[s.kind].written += 1
        files.setdefault(f"sharegpt/{bucket}.jsonl", []).append(_dumps(to_sharegpt(s)))
        files.setdefault(f"openai/{bucket}.jsonl", []).append(_dumps(to_openai(s)))
    texts = [row for row in (to_text(s) for s in samples) if row is not None]
    if config.pack:
        texts = list(pack_texts(texts, counter, BUCKETS["32k"]))
    files["text/pretrain.jsonl"] = [_dumps(row) for row in texts]
    for name, lines in files.items():
        write_atomic(out / name, lines)
    write_atomic(out / "summary.json", [json.dumps(summary.to_json(), indent=2)])


def _dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)


def summary_table(summary: MidtrainSummary) -> Table:
    """The summary as a table: samples made/wanted, tokens, rewrites, rejections, removals."""
    table = Table(title=f"mid-training data in {summary.out}")
    table.add_column("kind", no_wrap=True)
    table.add_column("samples", justify="right")
    table.add_column("tokens", justify="right", no_wrap=True)
    for column in ("rewrites", "rejected", "removed"):
        table.add_column(column, overflow="fold")

    def counts(c: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in c.most_common()) or "-"

    for kind, s in summary.kinds.items():
        rewrites = Counter({k: v for k, v in s.rewrites.items() if ":" not in k})
        made = f"{s.samples}/{s.wanted}" + (f" ({s.resumed} resumed)" if s.resumed else "")
        if s.written != s.samples:
            made += f", {s.written} written"
        table.add_row(
            kind, made, f"{s.tokens:,}", counts(rewrites), counts(s.rejections), counts(s.removed)
        )
    return table
