"""Speed and memory of simulated tool-use dialogues (midtrain ``tools``) on a 100k-entity World.

Generates (or reuses) a synthetic World of N entities, builds the generators' World index once,
then times the offline generator (chains, tool responses computed from the World, validation of
every response and answer) for M accepted dialogues, and near-duplicate removal over them. The
issue's target is >= 100 dialogues/s on the 2-core machine with memory <= 2 GB.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_midtrain_tools.py [WORLD_DIR] [N] [M] [INDEX]
        [--e2e grounding,tools]

With INDEX (the World's index, ``build_index``), half the dialogues resolve their last hop with
our own ``search`` and ``visit`` over it (``web_rate`` 0.5). The index build is timed as the
generator's first (one-dialogue) call, so the same script measures any version of the package.
With ``--e2e KINDS``, ``redsearcher midtrain`` also runs over the World for those kinds (M
samples in all) in a subprocess: the run where Stage I and Stage II kinds share one index.
Times are wall seconds and CPU seconds (``getrusage``; CPU time tolerates a shared machine).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _measure import run_measured
from redsearcher.midtrain import GenContext, MidtrainSample
from redsearcher.midtrain._dedupe import dedupe
from redsearcher.midtrain._tools import ToolDialogueGenerator
from redsearcher.world import World
from redsearcher.world.generate import GeneratorConfig, generate_world

CLI = [sys.executable, "-c", "import sys; from redsearcher._cli._app import main; main()"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _e2e(world_dir: Path, kinds: str, n: int) -> None:
    """``redsearcher midtrain`` over ``world_dir`` for ``kinds`` (wall, CPU, peak RSS)."""
    out = Path(tempfile.mkdtemp(prefix="bench-mt-tools-")) / "run"
    cmd = [*CLI, "midtrain", str(world_dir), "--out", str(out), "--kinds", kinds,
           "--n", str(n), "--quiet"]  # fmt: skip
    cpu = _children_cpu()
    run = run_measured(cmd)
    cpu = _children_cpu() - cpu
    if run.returncode:
        raise SystemExit(run.stderr)
    made = sum(1 for _ in (out / "samples.jsonl").open())
    print(
        f"redsearcher midtrain --kinds {kinds}: {made:,} samples in {run.wall_s:.1f} s wall, "
        f"{cpu:.1f} s CPU, peak RSS {run.peak_rss_mb:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("world", nargs="?", type=Path, default=Path("/tmp/bench-midtrain-world"))
    parser.add_argument("entities", nargs="?", type=int, default=100_000)
    parser.add_argument("wanted", nargs="?", type=int, default=5_000)
    parser.add_argument("index", nargs="?", default=None)
    parser.add_argument("--e2e", default=None, help="kinds for a `redsearcher midtrain` run")
    args = parser.parse_args()
    world_dir, wanted = args.world, args.wanted
    if not (world_dir / "manifest.json").exists():
        start = time.perf_counter()
        generate_world(GeneratorConfig(entities=args.entities, seed=0), world_dir, progress=False)
        print(f"world generated in {time.perf_counter() - start:.1f} s")
    world = World.open(world_dir)
    print(f"world: {world.count('entities'):,} entities, {world.count('facts'):,} facts")
    options = {"tools": {"index": args.index}} if args.index else {}
    ctx = GenContext(world=world, world_hash=world.content_hash, options=options)
    generator = ToolDialogueGenerator()
    start, cpu = time.perf_counter(), time.process_time()
    list(generator.generate(ctx, 1, 10_000))  # builds the index (and one dialogue)
    index_s, index_cpu = time.perf_counter() - start, time.process_time() - cpu
    rejected: Counter[str] = Counter()
    samples: list[MidtrainSample] = []
    start, cpu = time.perf_counter(), time.process_time()
    for item in generator.generate(ctx, wanted, 0):
        if isinstance(item, MidtrainSample):
            samples.append(item)
        else:
            rejected[item.reason] += 1
    gen_s, gen_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    kept, report = dedupe(samples)
    dedupe_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = sum(len(m.tool_calls or []) for s in samples for m in s.messages)
    errors = sum(1 for s in samples if s.source["errors"])
    web = sum(1 for s in samples if s.source.get("web"))
    misses = sum(1 for s in samples if s.source.get("web_miss"))
    print(f"index build (+ 1 dialogue): {index_s:.1f} s wall, {index_cpu:.1f} s CPU")
    print(
        f"generate: {len(samples):,} dialogues in {gen_s:.2f} s = {len(samples) / gen_s:,.0f}/s "
        f"wall, {gen_cpu:.2f} s CPU = {len(samples) / gen_cpu:,.0f}/s CPU "
        f"({calls / len(samples):.1f} tool calls each, {errors:,} with an error+retry, "
        f"{web:,} through search+visit, {misses:,} web misses); "
        f"rejected: {dict(rejected)}"
    )
    print(
        f"dedupe: {report.dropped:,} of {report.seen:,} dropped in {dedupe_s:.2f} s "
        f"= {report.seen / dedupe_s:,.0f}/s; {len(kept):,} kept"
    )
    print(f"peak RSS: {peak_mb:,.0f} MB")
    if args.e2e:
        _e2e(world_dir, args.e2e, wanted)


if __name__ == "__main__":
    main()
