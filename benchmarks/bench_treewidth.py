"""Difficulty measures: exact treewidth and exact minimum source dispersion (MSD).

Each exact time is paired with the heuristic it replaces, measured in the same run on the same
inputs (treewidth: the min-fill order the module falls back to, via ``exact_limit=0``; MSD:
greedy set cover), because this machine is shared and noisy: ratios travel, absolute numbers
do not. The instances are seeded, so every run measures the same graphs and covers.

Usage: python benchmarks/bench_treewidth.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine, today
from redsearcher.synth._dispersion import _greedy, min_source_dispersion
from redsearcher.synth._treewidth import treewidth


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def grid(k: int) -> dict[Hashable, list[Hashable]]:
    return {
        (r, c): [(r + dr, c + dc) for dr, dc in ((1, 0), (0, 1)) if r + dr < k and c + dc < k]
        for r in range(k)
        for c in range(k)
    }


def petersen() -> dict[Hashable, list[Hashable]]:
    g: dict[Hashable, list[Hashable]] = {i: [(i + 1) % 5, i + 5] for i in range(5)}
    g.update({5 + i: [5 + (i + 2) % 5] for i in range(5)})
    return g


def random_graph(n: int, p: float, seed: int) -> dict[Hashable, list[Hashable]]:
    rng = random.Random(seed)
    g: dict[Hashable, list[Hashable]] = {i: [] for i in range(n)}
    for a, b in itertools.combinations(range(n), 2):
        if rng.random() < p:
            g[a].append(b)
    return g


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def bench_treewidth(seeds: int) -> None:
    print("| graph | instances | widths | exact ms median | exact ms max | min-fill ms median |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    fixed = {"Petersen": petersen(), "grid 4x4": grid(4), "grid 5x5": grid(5), "grid 6x6": grid(6)}
    for name, g in fixed.items():
        t, td = timed(lambda g=g: treewidth(g))
        h, _ = timed(lambda g=g: treewidth(g, exact_limit=0))
        print(f"| {name} | 1 | {td.width} | {ms(t)} | {ms(t)} | {ms(h)} |")
    for n, p in [(10, 0.3), (15, 0.2), (15, 0.3), (20, 0.2), (20, 0.3), (25, 0.2)]:
        exact, heur, widths = [], [], []
        for seed in range(seeds):
            g = random_graph(n, p, seed)
            t, td = timed(lambda g=g: treewidth(g))
            h, _ = timed(lambda g=g: treewidth(g, exact_limit=0))
            exact.append(t)
            heur.append(h)
            widths.append(td.width)
        print(
            f"| random n={n} p={p} | {seeds} | {min(widths)}–{max(widths)} | "
            f"{ms(statistics.median(exact))} | {ms(max(exact))} | {ms(statistics.median(heur))} |"
        )


def msd_instance(facts: int, docs: int, seed: int) -> dict[int, list[str]]:
    """Every document states 1–4 random facts; every fact is stated by at least one document."""
    rng = random.Random(seed)
    stated: dict[int, list[str]] = {f: [] for f in range(facts)}
    for j in range(docs):
        for f in rng.sample(range(facts), rng.randint(1, 4)):
            stated[f].append(f"doc{j:04d}")
    for f, ds in stated.items():
        if not ds:
            ds.append(f"only{f}")
    return stated


def bench_msd(seeds: int) -> None:
    print("\n| MSD instance | instances | MSD | exact ms median | exact ms max | greedy size |")
    print("| --- | ---: | --- | ---: | ---: | --- |")
    for facts, docs in [(10, 50), (20, 200), (30, 500)]:
        times, sizes, greedy = [], [], []
        for seed in range(seeds):
            stated = msd_instance(facts, docs, seed)
            t, cover = timed(lambda s=stated, f=facts: min_source_dispersion(range(f), s))
            masks: dict[str, int] = {}
            for f, ds in stated.items():
                for d in ds:
                    masks[d] = masks.get(d, 0) | 1 << f
            times.append(t)
            sizes.append(cover.size)
            greedy.append(len(_greedy(masks, (1 << facts) - 1)))
        worse = sum(g > s for g, s in zip(greedy, sizes, strict=True))
        print(
            f"| {facts} facts x {docs} docs | {seeds} | {min(sizes)}–{max(sizes)} | "
            f"{ms(statistics.median(times))} | {ms(max(times))} | "
            f"greedy larger on {worse}/{seeds} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="random instances per row")
    args = parser.parse_args()
    import scipy.optimize  # noqa: F401  (imported here so its import time is not measured)

    print(f"Machine: {machine()} — {today()}\n")
    bench_treewidth(args.seeds)
    bench_msd(args.seeds)


if __name__ == "__main__":
    main()
