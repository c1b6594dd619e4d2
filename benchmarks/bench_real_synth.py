"""Real-data quality report (issue 12): ingest the shared real sample, synthesize, count.

Ingests the shared real sample three times (KB pages on, the default; ``--no-kb-pages``; and
``--no-kb-pages --all-properties``; ``--text-only`` skips the first), runs
``redsearcher synth`` for the acceptance configurations, and prints the numbers table of
``benchmarks/RESULTS.md`` ("Real-data quality report"). With ``--judge N`` it also writes N
tasks of the first run, drawn with ``--judge-seed``, with their evidence (the intended entity
of every node, each clause, the evidence documents and the estimated rivals in reality) to
``--judge-out``, for a person to judge by reading: true in reality, unique in reality, every
clause checkable with a browser. The judging itself is not automated.

Every check is scripted over the task files: a question "contains an id" when it matches
``\\b[QP]\\d+\\b``; "`links_to` wording" counts "links to"; "repeated clause" counts tasks with
two constraints of the same text; "Wikipedia evidence" counts tasks with a non-KB page among
their evidence documents; "per master graph" reads the graph from the task id (``t0-G-k``).

Usage: python benchmarks/bench_real_synth.py [--data ../shared/realdata] [--out DIR]
       [--judge 20 --judge-seed 7 --judge-out judge.txt] [--text-only] [--show 5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _measure import machine, today
from redsearcher._cli import main as cli

RUNS = (
    ("on", "--n 100 --treewidth 2-3 --msd 2-"),
    ("on", "--n 50 --treewidth 2-4 --msd 3-"),
    # text only (issue 12): what the lead summaries' stated facts allow, with the default
    # property set and with --all-properties (occupations, demonyms, capital_of as strings)
    ("off", "--n 100 --treewidth 2-3 --msd 2-"),
    ("off", "--n 100 --treewidth 1-3 --msd 1-"),
    ("off-all", "--n 100 --treewidth 2-3 --msd 2-"),
    ("off-all", "--n 100 --treewidth 1-3 --msd 1-"),
)
INGEST_FLAGS = {
    "on": ["--kb-pages"],
    "off": ["--no-kb-pages"],
    "off-all": ["--no-kb-pages", "--all-properties"],
}
ID = re.compile(r"\b[QP]\d+\b")


def _cli(argv: list[str]) -> tuple[int, str]:
    """Run ``redsearcher`` in this process; its exit code and what it printed."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        try:
            cli(argv)
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
    return code, err.getvalue()


def _stats(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(tasks)
    graphs = Counter(t["id"].split("-")[1] for t in tasks)
    rivals = [
        v["detail"]["reality"]["estimated_rivals"]
        for t in tasks
        for v in t["verification"]
        if v["stage"] == "structural" and "reality" in v.get("detail", {})
    ]
    texts = [[c.get("text") for c in t["constraints"] if c.get("text")] for t in tasks]
    return {
        "emitted": n,
        "distinct": len({t["answer_entity"] for t in tasks}) / n if n else 0.0,
        "max_per_graph": max(graphs.values()) if graphs else 0,
        "graphs": len(graphs),
        "ids": sum(bool(ID.search(t["question"])) for t in tasks),
        "links_to": sum("links to" in t["question"].lower() for t in tasks),
        "repeated": sum(len(ts) != len(set(ts)) for ts in texts),
        "wikipedia": sum(
            any(not d.startswith("kb:") for d in t["evidence_documents"]) for t in tasks
        )
        / n
        if n
        else 0.0,
        "median_rivals": statistics.median(rivals) if rivals else None,
    }


def _judge_sheet(tasks: list[dict[str, Any]], k: int, seed: int) -> str:
    picked = list(tasks)
    random.Random(seed).shuffle(picked)
    out: list[str] = []
    for i, t in enumerate(picked[:k], 1):
        label = {n["var"]: f"{n['label']} [{n['type']}, {n['role']}]" for n in t["nodes"]}
        reality = next(
            (v["detail"].get("reality") for v in t["verification"] if v["stage"] == "structural"),
            None,
        )
        out.append(f"=== {i}. {t['id']}  answer: {t['answer']} ({t['answer_entity']})")
        out.append(t["question"])
        for c in t["constraints"]:
            other = label.get(c["object"], "") if c["object"] else json.dumps(c["condition"])
            out.append(f"   - {c['predicate']}: {label[c['subject']]} -> {other}")
        out.append(f"   evidence: {', '.join(t['evidence_documents'])}")
        out.append(f"   reality: {reality}")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/realdata"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--judge", type=int, default=0)
    ap.add_argument("--judge-seed", type=int, default=7)
    ap.add_argument("--judge-out", type=Path, default=Path("judge.txt"))
    ap.add_argument(
        "--text-only", action="store_true", help="only the --no-kb-pages Worlds and runs"
    )
    ap.add_argument("--show", type=int, default=5, help="text-only tasks printed per run")
    args = ap.parse_args()
    runs = [r for r in RUNS if not (args.text_only and r[0] == "on")]
    tmp = args.out or Path(tempfile.mkdtemp(prefix="bench-real-synth-"))
    tmp.mkdir(parents=True, exist_ok=True)
    wikidata = args.data / "wikidata-sample.json.gz"
    wikipedia = args.data / "enwiki-vital-summaries.jsonl"
    for kb in dict.fromkeys(r[0] for r in runs):
        t = time.perf_counter()
        argv = ["world", "ingest", "--out", str(tmp / kb), "--wikidata", str(wikidata)]
        code, err = _cli([*argv, "--wikipedia", str(wikipedia), *INGEST_FLAGS[kb]])
        if code:
            sys.exit(f"ingest ({kb}) failed: {err[-2000:]}")
        print(f"ingest {kb}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rows = []
    first: list[dict[str, Any]] = []
    shown: list[str] = []
    for i, (kb, flags) in enumerate(runs):
        out = tmp / f"run{i}.jsonl"
        out.unlink(missing_ok=True)
        t = time.perf_counter()
        argv = ["synth", str(tmp / kb), *flags.split(), "--seed", str(args.seed)]
        code, err = _cli([*argv, "--out", str(out), "--quiet"])
        wall = time.perf_counter() - t
        tasks = [json.loads(x) for x in out.read_text().splitlines()] if out.exists() else []
        if i == 0:
            first = tasks
        if kb != "on" and tasks:
            shown.append(f"\nKB {kb}, `{flags}`: {len(tasks)} tasks, e.g.")
            shown += [f"- {t['answer']}: {t['question']}" for t in tasks[: args.show]]
        flat = " ".join(err.split())
        start = flat.find("rejected:")
        stop = min(
            (k for k in (flat.find(" ambiguous drafts"), flat.find(" time:")) if k > start),
            default=len(flat),
        )
        rejected = flat[start:stop] if start >= 0 else ""
        rows.append((kb, flags, code, wall, _stats(tasks), err if code else rejected))
    print(f"\n## Real-data quality report — {today()}\n\nMachine: {machine()}.\n")
    print(
        "| run | exit | s | emitted | distinct answers | max per master graph | questions "
        "with an id | `links_to` wording | repeated clause | Wikipedia evidence | median "
        "estimated rivals |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kb, flags, code, wall, s, _ in rows:
        rivals = "—" if s["median_rivals"] is None else f"{s['median_rivals']:.3g}"
        print(
            f"| KB {kb}, `{flags}` | {code} | {wall:.0f} | {s['emitted']} | "
            f"{s['distinct']:.0%} | {s['max_per_graph']} ({s['graphs']} graphs) | {s['ids']} | "
            f"{s['links_to']} | {s['repeated']} | {s['wikipedia']:.0%} | {rivals} |"
        )
    for kb, flags, code, _, _, note in rows:
        print(f"\nKB {kb}, `{flags}` (exit {code}):\n```\n{note.strip()}\n```")
    print("\n".join(shown))
    if args.judge:
        args.judge_out.write_text(_judge_sheet(first, args.judge, args.judge_seed))
        print(f"\nwrote {args.judge} tasks to judge to {args.judge_out}", file=sys.stderr)


if __name__ == "__main__":
    main()
