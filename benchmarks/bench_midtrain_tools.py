"""Speed and memory of simulated tool-use dialogues (midtrain ``tools``) on a 100k-entity World.

Generates (or reuses) a synthetic World of N entities, builds the tools' World index once, then
times the offline generator (chains, tool responses computed from the World, validation of every
response and answer) for M accepted dialogues, and near-duplicate removal over them. The issue's
target is >= 100 dialogues/s on the 2-core machine with memory <= 2 GB.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_midtrain_tools.py [WORLD_DIR] [N] [M] [INDEX]

With INDEX (the World's index, ``build_index``), half the dialogues resolve their last hop with
our own ``search`` and ``visit`` over it (``web_rate`` 0.5).
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from pathlib import Path

from redsearcher.midtrain import GenContext, MidtrainSample
from redsearcher.midtrain._dedupe import dedupe
from redsearcher.midtrain._tools import ToolDialogueGenerator
from redsearcher.world import World
from redsearcher.world.generate import GeneratorConfig, generate_world


def main() -> None:
    world_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bench-midtrain-world")
    entities = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    wanted = int(sys.argv[3]) if len(sys.argv) > 3 else 5_000
    index = sys.argv[4] if len(sys.argv) > 4 else None
    if not (world_dir / "manifest.json").exists():
        start = time.perf_counter()
        generate_world(GeneratorConfig(entities=entities, seed=0), world_dir, progress=False)
        print(f"world generated in {time.perf_counter() - start:.1f} s")
    world = World.open(world_dir)
    print(f"world: {world.count('entities'):,} entities, {world.count('facts'):,} facts")
    options = {"tools": {"index": index}} if index else {}
    ctx = GenContext(world=world, world_hash=world.content_hash, options=options)
    generator = ToolDialogueGenerator()
    start = time.perf_counter()
    generator._index(ctx)
    index_s = time.perf_counter() - start
    rejected: Counter[str] = Counter()
    samples: list[MidtrainSample] = []
    start = time.perf_counter()
    for item in generator.generate(ctx, wanted, 0):
        if isinstance(item, MidtrainSample):
            samples.append(item)
        else:
            rejected[item.reason] += 1
    gen_s = time.perf_counter() - start
    start = time.perf_counter()
    kept, report = dedupe(samples)
    dedupe_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = sum(len(m.tool_calls or []) for s in samples for m in s.messages)
    errors = sum(1 for s in samples if s.source["errors"])
    web = sum(1 for s in samples if s.source.get("web"))
    misses = sum(1 for s in samples if s.source.get("web_miss"))
    print(f"index build: {index_s:.1f} s")
    print(
        f"generate: {len(samples):,} dialogues in {gen_s:.2f} s = {len(samples) / gen_s:,.0f}/s "
        f"({calls / len(samples):.1f} tool calls each, {errors:,} with an error+retry, "
        f"{web:,} through search+visit, {misses:,} web misses); "
        f"rejected: {dict(rejected)}"
    )
    print(
        f"dedupe: {report.dropped:,} of {report.seen:,} dropped in {dedupe_s:.2f} s "
        f"= {report.seen / dedupe_s:,.0f}/s; {len(kept):,} kept"
    )
    print(f"peak RSS: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
