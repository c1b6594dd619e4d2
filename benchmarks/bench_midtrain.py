"""Mid-training Stage I throughput: grounding and planning samples per second, offline path.

Target (mid-training issue): >= 500 samples/s for grounding and for planning on a 100k-entity
generated World on this 2-core machine, with peak memory <= 2 GB.

Measured in one process, after the World is built and tasks are synthesized (both in
subprocesses, timed but not part of the rates):

- ``index``: building the Stage I World index (entities, facts, documents, provenance).
- ``grounding``: the generator alone (every sample verified), then with token counting.
- ``planning``: the generator over the synthesized tasks, one pass per seed, until ``--n``
  samples (each pass flattens every task again with that seed's tie-breaks).
- ``run``: ``run_midtrain`` end to end (generation, token counts, durable appends with fsync,
  ShareGPT/OpenAI/text files and the summary) for grounding and planning.

Peak RSS is ``ru_maxrss`` of this process (the builds run in children and are not in it). CPU
seconds (``getrusage``) are given beside wall times: they tolerate a machine shared with other jobs.

Usage: python benchmarks/bench_midtrain.py [--entities 100000] [--world DIR] [--n 5000]
       [--tasks 200] [--record]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import machine, run_measured, today
from redsearcher.log import read_tasks
from redsearcher.midtrain import (
    GenContext,
    GroundingGenerator,
    MidtrainSample,
    PlanningGenerator,
    count_sample_tokens,
    world_index,
)
from redsearcher.model import TokenCounter
from redsearcher.world import World

CLI = [sys.executable, "-c", "import sys; from redsearcher._cli._app import main; main()"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([*CLI, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _mixture_file(scratch: Path, grounding: int, planning: int) -> Path:
    path = scratch / "mixture.yaml"
    path.write_text(f"midtrain:\n  ratios: {{grounding: {grounding}, planning: {planning}}}\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--world", type=Path, default=None)
    parser.add_argument("--n", type=int, default=5_000)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-midtrain-"))
    world_dir = args.world or scratch / "world"
    build_s = 0.0
    if not (world_dir / "manifest.json").exists():
        build_s = _cli("world", "build", "--out", str(world_dir), "--entities",
                       str(args.entities), "--seed", "0", "--quiet")  # fmt: skip
    tasks_file = world_dir.parent / f"{world_dir.name}.tasks.jsonl"
    synth_s = 0.0
    if not tasks_file.exists():
        synth_s = _cli("synth", str(world_dir), "--n", str(args.tasks), "--out",
                       str(tasks_file), "--quiet")  # fmt: skip
    tasks = read_tasks(tasks_file)
    world = World.open(world_dir)
    ctx = GenContext(world, world.content_hash, tasks=tasks)

    t, cpu = time.perf_counter(), time.process_time()
    index = world_index(ctx)
    index_s, index_cpu = time.perf_counter() - t, time.process_time() - cpu

    rejected = 0
    t, cpu = time.perf_counter(), time.process_time()
    grounding = []
    for item in GroundingGenerator().generate(ctx, args.n, seed=0):
        if isinstance(item, MidtrainSample):
            grounding.append(item)
        else:
            rejected += 1
    grounding_s, grounding_cpu = time.perf_counter() - t, time.process_time() - cpu
    counter = TokenCounter()
    t = time.perf_counter()
    tokens = sum(count_sample_tokens(s, counter) for s in grounding)
    count_s = time.perf_counter() - t
    unanswerable = sum(1 for s in grounding if not s.source["answerable"])

    t, cpu = time.perf_counter(), time.process_time()
    planning = 0
    seed = 0
    while planning < args.n:
        for item in PlanningGenerator().generate(ctx, len(tasks), seed=seed):
            planning += isinstance(item, MidtrainSample)
        seed += 1
    planning_s, planning_cpu = time.perf_counter() - t, time.process_time() - cpu

    generators_rss = _rss_mb()

    out = scratch / "run"
    cmd = [*CLI, "midtrain", str(world_dir), "--out", str(out), "--tasks", str(tasks_file),
           "--kinds", "grounding,planning", "--n", str(args.n + len(tasks)), "--quiet",
           "--config", str(_mixture_file(scratch, args.n, len(tasks)))]  # fmt: skip
    run_cpu = _children_cpu()
    run = run_measured(cmd)
    run_cpu = _children_cpu() - run_cpu
    if run.returncode:
        raise SystemExit(run.stderr)
    made = sum(1 for _ in (out / "samples.jsonl").open())

    rows = [
        ("World build (subprocess)", f"{build_s:.1f} s" if build_s else "reused"),
        ("task synthesis (subprocess)", f"{synth_s:.1f} s, {len(tasks)} tasks" if synth_s
         else f"reused, {len(tasks)} tasks"),
        ("World", f"{len(index.ids):,} entities, {len(index.doc_ids):,} documents, "
                  f"{int(index.doc_fact_ptr[-1]):,} provenance rows"),
        ("index build", f"{index_s:.1f} s ({index_cpu:.1f} s CPU)"),
        ("grounding (generator, verified)", f"{len(grounding):,} in {grounding_s:.2f} s = "
         f"{len(grounding) / grounding_s:,.0f} samples/s, {grounding_cpu:.2f} s CPU "
         f"({unanswerable} unanswerable, "
         f"{rejected} candidates rejected)"),
        ("grounding + token counts", f"{len(grounding) / (grounding_s + count_s):,.0f} "
         f"samples/s ({tokens / len(grounding):,.0f} tokens/sample, estimate)"),
        ("planning (generator, checked)", f"{planning:,} in {planning_s:.2f} s = "
         f"{planning / planning_s:,.0f} samples/s, {planning_cpu:.2f} s CPU ({seed} passes "
         f"over {len(tasks)} tasks)"),
        ("peak RSS, index + generators (this process)", f"{generators_rss:,.0f} MB"),
        ("`redsearcher midtrain` end to end (subprocess)", f"{made:,} samples in "
         f"{run.wall_s:.1f} s = {made / run.wall_s:,.0f} samples/s ({run_cpu:.1f} s CPU), peak RSS "
         f"{run.peak_rss_mb:,.0f} MB (start-up, index, fsync'd appends, 3 formats, summary)"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    if args.record:
        lines = [
            f"\n## Mid-training Stage I (`bench_midtrain.py`) — {today()}\n",
            f"Machine: {machine()}. Offline path (templates), every target verified.\n",
            "| measure | result |",
            "|---|---|",
            *(f"| {name} | {value} |" for name, value in rows),
            "",
        ]
        results = Path(__file__).with_name("RESULTS.md")
        with results.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines))


if __name__ == "__main__":
    main()
