"""Scoring benchmark: ``redsearcher eval``'s work on a 10,000-trajectory run with rule judges.

Target (issue 13): scoring a 10,000-trajectory run with rule judges at ≥ 2,000 trajectories/s.

The run is synthetic but shaped like a real one: each trajectory has ``--calls`` search calls
whose observations are ``--output-chars`` long, kept both as tool-call records and as
messages (as the agent loop writes them), so the log is about ``--calls × 2 × --output-chars``
bytes per trajectory. A third of the predictions are right, a third near misses, a tenth have no
answer, some tasks have no reference answer.

Measured per judge (``exact``, ``f1``, ``contains``, ``gaia`` on tagged answers): the whole
:func:`redsearcher.eval.evaluate` — reading and validating every trajectory once, judging,
writing the verdicts file with fsync'd group commits, then the metrics' ``summarize``
(``summary.json``; no task file, so no process metrics), ``judges.json`` and ``samples.csv`` —
from a fresh verdicts file; and a resume of the same command, which judges nothing but still
reads the log and rewrites the three files. The ceiling is reading and validating the log once
(``redsearcher.log.read_trajectories``), which any scorer of typed records must pay: the ratio
says how much the scoring itself adds.

Usage: python benchmarks/bench_eval.py [--trajectories 10000] [--calls 6] [--output-chars 800]
       [--record]   (appends a section to benchmarks/RESULTS.md)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine, today
from redsearcher.eval import evaluate, make_judge, verdicts_path
from redsearcher.log import (
    Message,
    RunLog,
    RunManifest,
    Segment,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
    read_trajectories,
)

WORDS = [
    "harbor",
    "quiet",
    "river",
    "bridge",
    "council",
    "mayor",
    "founded",
    "museum",
    "census",
    "village",
]


def make_trajectory(i: int, rng: random.Random, calls: int, chars: int) -> Trajectory:
    gold = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i % 97}"
    roll = rng.random()
    prediction: str | None
    if roll < 0.35:
        prediction = gold.upper()
    elif roll < 0.7:
        prediction = f"the {gold} area"
    elif roll < 0.8:
        prediction = None
    else:
        prediction = f"{rng.choice(WORDS)} {i}"
    answers = [] if i % 50 == 0 else [gold]
    question = f"Which place, founded by a council near the {rng.choice(WORDS)} (case {i})?"
    records = []
    messages = [
        Message(role="system", content="You are a deep-search agent."),
        Message(role="user", content=question),
    ]
    for turn in range(calls):
        output = " ".join(rng.choice(WORDS) for _ in range(chars // 7))[:chars]
        call_id = f"call_{i}_{turn}"
        arguments = {"query": [f"{rng.choice(WORDS)} {rng.choice(WORDS)}"]}
        records.append(
            ToolCallRecord(
                id=call_id,
                turn=turn,
                segment=0,
                name="search",
                arguments=arguments,
                output=output,
                latency_s=0.05,
            )
        )
        tool_call = {"id": call_id, "type": "function",
                     "function": {"name": "search", "arguments": str(arguments)}}  # fmt: skip
        messages.append(Message(role="assistant", content="", tool_calls=[tool_call], train=True))
        messages.append(Message(role="tool", content=output, tool_call_id=call_id))
    final = f"<answer>{prediction}</answer>" if prediction is not None else "I could not find it."
    messages.append(Message(role="assistant", content=final, train=True))
    return Trajectory(
        id=f"t{i}#0",
        task_id=f"t{i}",
        sample=0,
        question=question,
        answers=answers,
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        tool_calls=records,
        prediction=prediction,
        termination="answer" if prediction is not None else "max_turns",
        turns=calls + 1,
        usage=Usage(model_calls=calls + 1, prompt_tokens=5000, completion_tokens=400),
        duration_s=12.0,
        provenance=TrajectoryProvenance(model="bench", protocol="native"),
    )


def make_run(path: Path, n: int, calls: int, chars: int) -> int:
    rng = random.Random(13)
    manifest = RunManifest(model="bench", protocol="native", tasks_digest="b" * 64, n_samples=1)
    with RunLog.open(path, manifest, fsync=False) as log:
        batch = []
        for i in range(n):
            batch.append(make_trajectory(i, rng, calls, chars))
            if len(batch) == 500:
                log.append_many(batch)
                batch = []
        log.append_many(batch)
    return (path / "trajectories.jsonl").stat().st_size


def timed_evaluate(run: Path, judge: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``evaluate`` (CPU: this process only)."""
    start, cpu = time.perf_counter(), time.process_time()
    asyncio.run(evaluate(run, [make_judge(judge)]))
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trajectories", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--output-chars", type=int, default=800)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    n = args.trajectories
    tmp = Path(tempfile.mkdtemp(prefix="bench-eval-"))
    try:
        run = tmp / "run"
        size = make_run(run, n, args.calls, args.output_chars)
        # warm the page cache and measure the ceiling (best of 2)
        ceiling, ceiling_cpu = min(_read_all(run) for _ in range(2))
        load_before = os.getloadavg()[0]
        rows = []
        for judge in ("exact", "f1", "contains", "gaia"):
            fresh = timed_evaluate(run, judge)
            resume = timed_evaluate(run, judge)
            verdicts = verdicts_path(run, judge).read_text().count("\n")
            assert verdicts == n, (judge, verdicts)
            rows.append((judge, *fresh, resume[0]))
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        f"Machine: {machine()}",
        "",
        f"{n:,} trajectories, {args.calls} search calls each ({args.output_chars}-char "
        f"observations); log {size / 2**20:.0f} MB ({size / n / 1024:.1f} KiB per trajectory). "
        f"Ceiling: reading + validating the log once, {ceiling:.2f} s wall, "
        f"{ceiling_cpu:.2f} s CPU ({n / ceiling:,.0f} trajectories/s wall). "
        f"Load average {load_before:.1f} before, {load_after:.1f} after (2-core machine shared "
        "with other jobs: CPU seconds are the steadier measure).",
        "",
        "| judge | fresh wall s | trajectories/s (wall) | CPU s | trajectories/s (CPU) "
        "| vs ceiling (CPU) | resume wall s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for judge, wall, cpu, resume in rows:
        lines.append(
            f"| {judge} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {n / cpu:,.0f} "
            f"| {ceiling_cpu / cpu:.2f}x | {resume:.2f} |"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines.append("")
    lines.append(
        f"Peak RSS of the benchmark process: {peak:,.0f} MB (`evaluate` holds the run's "
        "trajectories in memory for the metrics' summary)."
    )
    text = "\n".join(lines)
    print(text)
    if args.record:
        results = Path(__file__).with_name("RESULTS.md")
        with results.open("a", encoding="utf-8") as handle:
            handle.write(f"\n## Scoring with rule judges (`bench_eval.py`) — {today()}\n\n")
            handle.write(text + "\n")


def _read_all(run: Path) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    count = sum(1 for _ in read_trajectories(run))
    assert count > 0
    return time.perf_counter() - start, time.process_time() - cpu


if __name__ == "__main__":
    main()
