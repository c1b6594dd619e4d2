"""World benchmarks: synthetic generation (docs/s, peak RSS) and ingest throughput.

Each measurement is paired with a ceiling measured in the same run on the same data, because
this machine is shared and noisy: ratios travel, absolute numbers do not.

- generation ceiling: writing the *same* document and provenance rows with a bare pyarrow
  ParquetWriter (no sampling, no text rendering, no hashing);
- ingest ceiling: decompressing and ``json.loads``-ing every line of the same dump files.

Usage: python benchmarks/bench_world.py [--docs 100000,1000000] [--ingest-entities 100000]
       [--record]   (appends a section to benchmarks/RESULTS.md)
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine, run_measured, today

BIN = str(Path(sys.executable).parent / "redsearcher")
DOCS_PER_ENTITY = 2.6  # measured at the default knobs (101,341 documents from 39,000 entities)


def raw_write_seconds(world: Path, scratch: Path) -> float:
    """Ceiling: rewrite the documents and provenance tables with plain pyarrow."""
    tables = {n: pq.ParquetFile(world / f"{n}.parquet") for n in ("documents", "provenance")}
    batches = {n: list(f.iter_batches(batch_size=20_000)) for n, f in tables.items()}
    start = time.perf_counter()
    for name, bs in batches.items():
        with pq.ParquetWriter(scratch / f"{name}.parquet", bs[0].schema, compression="zstd") as w:
            for b in bs:
                w.write_batch(b)
    return time.perf_counter() - start


def bench_generation(docs: int, tmp: Path) -> dict[str, object]:
    entities = round(docs / DOCS_PER_ENTITY)
    out = tmp / f"gen-{docs}"
    m = run_measured(
        [
            BIN,
            "world",
            "build",
            "--entities",
            str(entities),
            "--seed",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    if m.returncode:
        raise SystemExit(f"world build failed: {m.stderr}")
    manifest = json.loads((out / "manifest.json").read_text())
    n_docs = manifest["counts"]["documents"]
    scratch = tmp / "raw"
    scratch.mkdir(exist_ok=True)
    raw = raw_write_seconds(out, scratch)
    shutil.rmtree(out)
    shutil.rmtree(scratch)
    return {
        "documents": n_docs,
        "entities": manifest["counts"]["entities"],
        "facts": manifest["counts"]["facts"],
        "wall_s": round(m.wall_s, 2),
        "docs_per_s": round(n_docs / m.wall_s),
        "peak_rss_mb": round(m.peak_rss_mb),
        "raw_write_s": round(raw, 2),
        "ratio_to_raw_write": round(m.wall_s / raw, 1),
        "phases": manifest["report"]["timings"],
    }


def raw_parse_seconds(files: list[Path]) -> float:
    """Ceiling: decompress and json.loads every record line."""
    start = time.perf_counter()
    for path in files:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
            for line in f:
                line = line.strip().rstrip(",")
                if line not in ("[", "]", ""):
                    json.loads(line)
    return time.perf_counter() - start


def bench_ingest(entities: int, tmp: Path) -> dict[str, object]:
    world, dump, out = tmp / "src", tmp / "dump", tmp / "ingested"
    gen = run_measured(
        [
            BIN,
            "world",
            "build",
            "--entities",
            str(entities),
            "--seed",
            "1",
            "--out",
            str(world),
            "--quiet",
        ]
    )
    if gen.returncode:
        raise SystemExit(f"world build failed: {gen.stderr}")
    exp = run_measured([BIN, "world", "export-dump", str(world), "--out", str(dump)])
    if exp.returncode:
        raise SystemExit(f"export-dump failed: {exp.stderr}")
    wikidata, wikipedia = dump / "wikidata.json.gz", dump / "wikipedia.jsonl"
    m = run_measured(
        [
            BIN,
            "world",
            "ingest",
            "--wikidata",
            str(wikidata),
            "--wikipedia",
            str(wikipedia),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    if m.returncode:
        raise SystemExit(f"ingest failed: {m.stderr}")
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    raw = raw_parse_seconds([wikidata, wikipedia])
    return {
        "dump_entities": counts["entities"],
        "dump_documents": counts["documents"],
        "facts": counts["facts"],
        "provenance": counts["provenance"],
        "dump_mb": round((wikidata.stat().st_size + wikipedia.stat().st_size) / 2**20, 1),
        "wall_s": round(m.wall_s, 2),
        "entities_per_s": round(counts["entities"] / m.wall_s),
        "peak_rss_mb": round(m.peak_rss_mb),
        "raw_parse_s": round(raw, 2),
        "ratio_to_raw_parse": round(m.wall_s / raw, 1),
    }


def _row(values: list[object]) -> str:
    return "| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in values) + " |"


def markdown(results: dict[str, Any]) -> str:
    gen_head = [
        "documents",
        "entities",
        "facts",
        "wall s",
        "docs/s",
        "peak RSS MB",
        "raw write s",
        "ratio",
    ]
    lines = [
        f"## World generation and ingest — {today()}",
        "",
        f"Machine: {machine()}",
        "",
        _row(gen_head),
        _row(["---:"] * len(gen_head)),
    ]
    for g in results["generation"]:
        lines.append(
            _row(
                [
                    g["documents"],
                    g["entities"],
                    g["facts"],
                    g["wall_s"],
                    g["docs_per_s"],
                    g["peak_rss_mb"],
                    g["raw_write_s"],
                    f"{g['ratio_to_raw_write']}x",
                ]
            )
        )
    if results.get("ingest"):
        i = results["ingest"]
        head = [
            "ingest: entities",
            "documents",
            "dump MB",
            "wall s",
            "entities/s",
            "peak RSS MB",
            "raw parse s",
            "ratio",
        ]
        lines += [
            "",
            _row(head),
            _row(["---:"] * len(head)),
            _row(
                [
                    i["dump_entities"],
                    i["dump_documents"],
                    i["dump_mb"],
                    i["wall_s"],
                    i["entities_per_s"],
                    i["peak_rss_mb"],
                    i["raw_parse_s"],
                    f"{i['ratio_to_raw_parse']}x",
                ]
            ),
        ]
    return "\n".join(lines) + "\n"


_INTRO = """# Benchmark results

Each section is one run of a script in this folder, with the machine and date it ran on.
Ratios compare against a ceiling measured in the same run (see each script's docstring).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="100000,1000000")
    parser.add_argument("--ingest-entities", type=int, default=100_000)
    parser.add_argument("--record", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine(), "date": today(), "generation": []}
    with tempfile.TemporaryDirectory(prefix="rs-bench-") as tmp:
        for docs in (int(x) for x in args.docs.split(",") if x):
            row = bench_generation(docs, Path(tmp))
            print(json.dumps(row), flush=True)
            results["generation"].append(row)
        if args.ingest_entities:
            results["ingest"] = bench_ingest(args.ingest_entities, Path(tmp))
            print(json.dumps(results["ingest"]), flush=True)
    text = markdown(results)
    print(text)
    if args.record:
        path = Path(__file__).parent / "RESULTS.md"
        old = path.read_text() if path.exists() else _INTRO
        path.write_text(old + "\n" + text)


if __name__ == "__main__":
    main()
