"""Task synthesis throughput: graph sampling plus verifier stages 1-3, tasks per second.

Target (task-synthesis issue): >= 20 verified tasks/s on 2 cores over a World of >= 100k
entities, with bounded memory, and the stage-by-stage time split.

The same run also measures a floor for the part that talks to the search engine: every search
query the verifier issued (shortcut queries and the oracle walk's derived queries) is recorded
and replayed as bare ranked-id lookups (``LocalEnvironment.search_ids``: BM25 top 10, no
snippets). The ratio of the verifier's search stages to that replay says how much of their
time is our logic (CSP re-solves, page reads, wire JSON) rather than the engine. A pure-CPU
loop in 1 and 2 processes calibrates how much parallelism the machine gives at that moment.

Usage: python benchmarks/bench_synth.py [--entities 100000] [--world DIR] [--n 400]
       [--tools maps,scholar,python] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import machine, today
from redsearcher.env import build_index
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._pipeline import open_verifier, synthesize
from redsearcher.world import World
from redsearcher.world.generate import GeneratorConfig, generate_world


def _burn(_: int) -> float:
    start = time.perf_counter()
    x = 0
    for i in range(5_000_000):
        x += i
    return time.perf_counter() - start


def _cpu_speedup(workers: int) -> float:
    """Throughput of ``workers`` processes over one on a pure-Python loop (same moment)."""
    import multiprocessing

    jobs = 2 * workers
    t = time.perf_counter()
    for i in range(jobs):
        _burn(i)
    one = time.perf_counter() - t
    t = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_burn, range(jobs))
    return one / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--world", type=Path)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--treewidth", default="1-3")
    ap.add_argument("--msd", default="2-")
    ap.add_argument("--tools", default="maps,scholar,python")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    world = args.world
    if world is None:
        world = tmp / "world"
        t = time.perf_counter()
        generate_world(GeneratorConfig(entities=args.entities, seed=1), world, progress=False)
        print(f"world: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    build_index(world, tmp / "world.index", progress=False)
    print(f"index: {time.perf_counter() - t:.1f} s", file=sys.stderr)

    tools = [x for x in args.tools.split(",") if x]
    cfg = SynthConfig(
        n=args.n,
        seed=7,
        treewidth=args.treewidth,
        msd=args.msd,
        tools=tools,  # type: ignore[arg-type]
    )
    t = time.perf_counter()
    with open_verifier(world, index_dir=tmp / "world.index") as verifier:
        load_s = time.perf_counter() - t
        # Run 1: one process, every search query recorded (stage split and engine floor).
        queries: list[str] = []
        search, search_ids = verifier.env.search, verifier.env.search_ids

        def recording(query: str, k: int = 10, page: int = 1) -> Any:
            queries.append(query)
            return search(query, k, page)

        def recording_ids(query: str, k: int = 10) -> Any:
            queries.append(query)
            return search_ids(query, k)

        verifier.env.search = recording  # type: ignore[method-assign]
        verifier.env.search_ids = recording_ids  # type: ignore[method-assign]
        cpu0 = time.process_time()
        t = time.perf_counter()
        report = asyncio.run(synthesize(verifier, cfg, tmp / "tasks1.jsonl", progress=False))
        wall = time.perf_counter() - t
        cpu = time.process_time() - cpu0
        verifier.env.search, verifier.env.search_ids = search, search_ids  # type: ignore[method-assign]
        t = time.perf_counter()
        for q in queries:
            search_ids(q, 10)
        replay = time.perf_counter() - t
        # Run 2: the same tasks from `--workers` processes (the 2-core figure).
        parallel = cfg.model_copy(update={"workers": args.workers})
        t = time.perf_counter()
        report2 = asyncio.run(synthesize(verifier, parallel, tmp / "tasks2.jsonl", progress=False))
        wall2 = time.perf_counter() - t
    same = (tmp / "tasks1.jsonl").read_text().count("\n") == report2.emitted
    speedup = _cpu_speedup(args.workers)
    opened = World.open(world)
    counts = {name: opened.count(name) for name in ("entities", "documents")}
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = report.emitted / wall
    split = report.seconds
    search_stages = split["shortcut"] + split["completeness"]
    lines = [
        f"\n## Task synthesis — {today()}\n",
        f"Machine: {machine()}. World: {counts['entities']:,} entities, {counts['documents']:,} "
        f"documents; config: treewidth {args.treewidth}, msd {args.msd}, tools "
        f"{args.tools or 'none'}.\n",
        "| measure | value |",
        "| --- | --- |",
        f"| verified tasks emitted | {report.emitted} (from {report.graphs} master graphs) |",
        f"| throughput, 1 process | {rate:.1f} tasks/s |",
        f"| **throughput, {args.workers} processes** | **{report2.emitted / wall2:.1f} tasks/s** "
        f"(target >= 20; {wall2:.1f} s incl. loading the World in each worker; "
        f"same task count as run 1: {same}) |",
        f"| machine's parallel ceiling now (pure-CPU loop, {args.workers} vs 1 process) | "
        f"{speedup:.2f}x |",
        f"| CPU time per task | {1000 * cpu / max(report.emitted, 1):.1f} ms |",
        f"| World graph + index open | {load_s:.1f} s (once per run) |",
        f"| peak RSS of the process | {rss_mb:.0f} MB |",
        f"| on target | {report.on_target}/{report.emitted} |",
        f"| rejected | {dict(report.rejected.most_common())} |",
        "| stage split | "
        + ", ".join(
            f"{k} {v:.2f} s ({v / sum(split.values()):.0%})"
            for k, v in sorted(split.items(), key=lambda kv: -kv[1])
        )
        + " |",
        f"| search queries issued by stages 2-3 | {len(queries)} |",
        f"| engine floor: replaying those queries raw | {replay:.2f} s; stages 2-3 took "
        f"{search_stages:.2f} s = {search_stages / max(replay, 1e-9):.2f}x the floor |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        results = Path(__file__).with_name("RESULTS.md")
        results.write_text(results.read_text() + text)


if __name__ == "__main__":
    main()
