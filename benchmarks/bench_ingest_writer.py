"""The serial parts of a Wikidata ingest, measured against what they process (issue 12).

``bench_ingest_scale.py`` projects the single writer's work by items or by bytes; neither is
what the writer does. This benchmark builds *inflated* inputs from the shared real sample and
fits a cost model on them:

* ``--factor m``: every statement of a mapped property gets ``m - 1`` extra copies (entity
  values point at other items of the sample, chosen deterministically, so they are not
  dangling; other values are repeated), so extracted facts per item grow ~``m``-fold;
* every item also gets ``PAD_CLAIMS`` claims of unmapped external-id properties and labels and
  descriptions in ``PAD_LANGUAGES`` languages, which the workers parse and drop: bytes per item
  grow toward the full dump's ~12.7 KB while facts do not.

Each input runs in a fresh child (``bench_ingest_scale.one``, two workers) that reports the
parent's CPU during the stream (reader thread + unpickling + writer), the workers' CPU, and the
post-stream CPU (naming, numbering facts, types, Parquet). The raw ceiling (gzip alone; gzip +
``json.loads``) is measured on the same file in the same run. A least-squares fit of

    writer CPU = a * items + b * facts        post CPU = c * items + d * facts

over the inputs (items are equal across them, facts differ) separates the per-item from the
per-fact cost; worker CPU is reported per decompressed byte.

Usage: python benchmarks/bench_ingest_writer.py [--factors 1,4,8] [--profile FACTOR]
       [--growth ITEMS [--cache-kib KIB]]
       (--profile runs one single-process ingest under cProfile and prints the top entries;
       --growth measures the writer's inserts alone as the scratch indexes grow)
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import pstats
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest_scale import FULL_BYTES, FULL_ITEMS, SAMPLE, raw_ceiling, run_child

PAD_CLAIMS = 20
PAD_LANGUAGES = 40
_PAD_PROPS = [f"P{2000 + i}" for i in range(PAD_CLAIMS)]  # external ids the vocabulary ignores
_LANGS = [f"x{i:02d}" for i in range(PAD_LANGUAGES)]


def _mapped() -> set[str]:
    from redsearcher.world._vocab import wikidata_properties

    return set(wikidata_properties())


def inflate(factor: int, out: Path) -> tuple[int, int]:
    """Write the sample with ``factor``-fold mapped statements plus padding; (items, bytes)."""
    with gzip.open(SAMPLE, "rb") as source:
        records = [
            json.loads(line.rstrip(b"\n").rstrip(b","))
            for line in source
            if line.strip() not in (b"[", b"]", b"")
        ]
    mapped = _mapped()
    pool = [r["id"] for r in records if r.get("type") == "item"]
    size = 0
    with gzip.open(out, "wb", compresslevel=6) as fh:
        fh.write(b"[\n")
        for index, record in enumerate(records):
            if record.get("type") == "item":
                _inflate_item(record, factor, mapped, pool)
            row = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
            row += b"\n" if index == len(records) - 1 else b",\n"
            fh.write(row)
            size += len(row)
        fh.write(b"]\n")
    return len(records), size + 4


def _inflate_item(record: dict[str, Any], factor: int, mapped: set[str], pool: list[str]) -> None:
    claims = record.setdefault("claims", {})
    qid = record["id"]
    for pid, statements in list(claims.items()):
        if pid not in mapped or not isinstance(statements, list):
            continue
        extra = []
        for n, statement in enumerate(statements):
            for copy in range(1, factor):
                twin = json.loads(json.dumps(statement))
                twin["id"] = f"{qid}$inflated-{pid}-{n}-{copy}"
                value = twin.get("mainsnak", {}).get("datavalue", {}).get("value")
                if isinstance(value, dict) and value.get("entity-type") == "item":
                    other = pool[zlib.crc32(f"{qid}{pid}{n}{copy}".encode()) % len(pool)]
                    value["id"] = other
                    value["numeric-id"] = int(other[1:])
                extra.append(twin)
        statements.extend(extra)
    for n, pid in enumerate(_PAD_PROPS):
        claims[pid] = [
            {
                "mainsnak": {
                    "snaktype": "value",
                    "property": pid,
                    "datavalue": {"value": f"{qid}-{n}-0000000000", "type": "string"},
                    "datatype": "external-id",
                },
                "type": "statement",
                "id": f"{qid}$pad-{pid}",
                "rank": "normal",
                "references": [{"snaks": {"P248": [{"snaktype": "value", "property": "P248"}]}}],
            }
        ]
    label = (record.get("labels") or {}).get("en", {}).get("value", qid)
    for lang in _LANGS:
        record.setdefault("labels", {})[lang] = {"language": lang, "value": f"{label} ({lang})"}
        record.setdefault("descriptions", {})[lang] = {
            "language": lang,
            "value": f"padding description of {qid} in {lang}",
        }


def fit(points: list[tuple[float, float, float]]) -> tuple[float, float]:
    """Least squares ``y = a * x1 + b * x2`` (no intercept) over ``(x1, x2, y)`` points."""
    s11 = sum(p[0] * p[0] for p in points)
    s12 = sum(p[0] * p[1] for p in points)
    s22 = sum(p[1] * p[1] for p in points)
    s1y = sum(p[0] * p[2] for p in points)
    s2y = sum(p[1] * p[2] for p in points)
    det = s11 * s22 - s12 * s12
    return (s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det


def profile(factor: int, tmp: Path, settings: dict[str, Any]) -> None:
    from redsearcher.world.ingest import IngestConfig, ingest_world

    dump = tmp / f"dump-{factor}.json.gz"
    inflate(factor, dump)
    config = IngestConfig(kb_pages=False, scratch_dir=tmp / "scratch", **settings)
    prof = cProfile.Profile()
    prof.enable()
    ingest_world(tmp / "world", wikidata=dump, config=config, progress=False)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def sqlite_growth(total: int, cache_kib: int, tmp: Path) -> list[tuple[int, float]]:
    """Writer inserts as the scratch indexes grow: CPU µs per item per million items.

    Items arrive in the dump's order, which is not id order, so every insert into the
    ``entities``/``items`` id indexes lands on a random page; once the indexes outgrow the
    page cache (``cache_kib``), inserts pay for page reads. Each item carries 4.5 raw facts
    (the full-dump estimate); ids are a fixed pseudo-random permutation.
    """
    import random
    import time

    from redsearcher.world.ingest import _scratch
    from redsearcher.world.ingest._types import ITEMS_DDL, add_items

    rng = random.Random(12)
    seen: set[str] = set()
    out: list[tuple[int, float]] = []
    with _scratch.Scratch(tmp, "growth") as scratch:
        scratch.db.execute(f"PRAGMA cache_size=-{cache_kib}")
        scratch.db.execute(ITEMS_DDL)
        step = 1_000_000
        for start in range(0, total, step):
            ids = [f"Q{rng.randrange(1, 130_000_000)}" for _ in range(step)]
            ids = [i for i in dict.fromkeys(ids) if i not in seen]
            seen.update(ids)
            cpu = time.process_time()
            for part in range(0, len(ids), 20_000):
                chunk = ids[part : part + 20_000]
                scratch.existing_entities(chunk)
                add_items(
                    scratch,
                    [
                        (i, True, f"label {i}", f"label {i}", "a description", (), ("Q5",))
                        for i in chunk
                    ],
                )
                scratch.add_entities((i, f"label {i}", (), f"label {i}") for i in chunk)
                scratch.add_raw_fact_rows(
                    (i, "born_in", "entity", f"Q{n}", *([None] * 7), None)
                    for i in chunk
                    for n in range(4)
                )
            out.append((start + step, (time.process_time() - cpu) / len(ids) * 1e6))
            print(f"{start + step:,} items: {out[-1][1]:.1f} CPU-µs per item", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factors", default="1,4,8")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=int, metavar="FACTOR")
    parser.add_argument("--growth", type=int, metavar="ITEMS", help="SQLite growth test only")
    parser.add_argument("--cache-kib", type=int, default=65_536)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-writer-"))
    try:
        if args.growth:
            sqlite_growth(args.growth, args.cache_kib, tmp)
            return
        if args.profile is not None:
            profile(args.profile, tmp, {"workers": 1})
            return
        rows = []
        for factor in (int(f) for f in args.factors.split(",")):
            dump = tmp / f"dump-{factor}.json.gz"
            items, size = inflate(factor, dump)
            ceiling = raw_ceiling(dump)
            r = run_child(dump, tmp / "world", {"workers": args.workers})
            writer = max(r["stream_parent_cpu_s"] - ceiling["decompress_cpu_s"], 0.0)
            post = r["parent_cpu_s"] - r["stream_parent_cpu_s"] - r["startup_cpu_s"]
            row = {
                "factor": factor,
                "items": items,
                "bytes": size,
                "facts": r["facts"],
                "writer_cpu_s": writer,
                "post_cpu_s": post,
                "ceiling": ceiling,
                **r,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            dump.unlink()
        print(json.dumps(summarize(rows)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    a, b = fit([(r["items"], r["facts"], r["writer_cpu_s"]) for r in rows])
    c, d = fit([(r["items"], r["facts"], r["post_cpu_s"]) for r in rows])
    per_byte = sum(r["worker_cpu_s"] for r in rows) / sum(r["bytes"] for r in rows)
    gzip_per_byte = sum(r["ceiling"]["decompress_cpu_s"] for r in rows) / sum(
        r["bytes"] for r in rows
    )
    model = {
        "writer_s_per_item": a,
        "writer_s_per_fact": b,
        "post_s_per_item": c,
        "post_s_per_fact": d,
        "worker_s_per_byte": per_byte,
        "gzip_s_per_byte": gzip_per_byte,
    }
    model["projection"] = {str(fpi): project(model, fpi) for fpi in (1.6, *FACTS_PER_ITEM.values())}
    return model


FACTS_PER_ITEM = {"low": 3.2, "central": 4.5, "high": 5.9}
"""Raw facts per item in the full dump for the default property set (see RESULTS.md for the
property counts these come from; most of it is ``P2860`` cites work on scholarly articles)."""


def project(model: dict[str, float], facts_per_item: float) -> dict[str, float]:
    """Full dump on 16 cores (15 workers), hours: the stream's slowest part, then post."""
    facts = FULL_ITEMS * facts_per_item
    out = {
        "reader_h": model["gzip_s_per_byte"] * FULL_BYTES,
        "writer_h": model["writer_s_per_item"] * FULL_ITEMS + model["writer_s_per_fact"] * facts,
        "workers_h": model["worker_s_per_byte"] * FULL_BYTES / 15,
        "post_h": model["post_s_per_item"] * FULL_ITEMS + model["post_s_per_fact"] * facts,
    }
    out = {k: v / 3600 for k, v in out.items()}
    out["total_h"] = max(out["reader_h"], out["writer_h"], out["workers_h"]) + out["post_h"]
    return out


if __name__ == "__main__":
    main()
