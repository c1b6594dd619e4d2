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
parent's CPU during the stream (reader thread, shipping chunks to the pool and receiving
results, and the writer), the writer's own CPU apart (``_Writer.apply``/``release``: reporting,
appending the chunk's run file), the workers' CPU, and the post-stream CPU (settling
duplicates and ``id`` indexes, naming, numbering facts, types, Parquet). The raw ceiling (gzip
alone; gzip + ``json.loads``) is measured on the same file in the same run. Least-squares fits
of

    writer CPU = a * items + b * facts        post CPU = c * items + d * facts

over the inputs (items are equal across them, facts differ) separate the per-item from the
per-fact cost; the rest of the parent's stream CPU (beyond gzip and the writer) and the
workers' CPU are reported per decompressed byte.

Usage: python benchmarks/bench_ingest_writer.py [--factors 1,4,8] [--profile FACTOR]
       [--growth ITEMS [--cache-kib KIB]]
       (--profile runs one single-process ingest under cProfile and prints the top entries;
       --growth measures the stream writer alone as the scratch store grows)
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
    """The stream writer as the scratch store grows: CPU µs per item per million items.

    Synthetic chunks of ``_GROWTH_CHUNK`` items (4.5 raw facts each, the full-dump estimate;
    ids a fixed pseudo-random permutation, as dump order is random in id order) are written to
    run files as a worker would (not timed), then appended by the writer (``load_run`` and
    ``release_run``: timed, this is the parent's stream cost). At the end the post-stream
    settle (the ``id`` indexes built by sorting, duplicates checked, ``P279`` edges loaded)
    is timed once and reported per item.
    """
    import random
    import time

    from redsearcher.world.ingest import _scratch
    from redsearcher.world.ingest._dedupe import settle_items
    from redsearcher.world.ingest._report import IngestReport
    from redsearcher.world.ingest._runs import Offsets, load_run, release_run, write_run
    from redsearcher.world.ingest._types import ITEMS_DDL, TypeResolver

    rng = random.Random(12)
    ids = rng.sample(range(1, 130_000_000), total)
    out: list[tuple[int, float]] = []
    n = seq = 0
    with _scratch.Scratch(tmp, "growth") as scratch:
        db = scratch.db
        db.execute(f"PRAGMA cache_size=-{cache_kib}")
        db.executescript(ITEMS_DDL)
        step, cpu = 1_000_000, 0.0
        for start in range(0, total, _GROWTH_CHUNK):
            rows = _growth_rows(ids[start : start + _GROWTH_CHUNK])
            path = tmp / f"run-{start}.sqlite"
            write_run(path, rows)
            began = time.process_time()
            load_run(db, path, Offsets(0, start, n, seq))
            release_run(db, path)
            cpu += time.process_time() - began
            n, seq = n + len(rows.items), seq + len(rows.facts)
            if n % step == 0 or n == total:
                out.append((n, cpu / (n - (out[-1][0] if out else 0)) * 1e6))
                print(f"{n:,} items: {out[-1][1]:.2f} CPU-µs per item (stream)", flush=True)
                cpu = 0.0
        began = time.process_time()
        settle_items(scratch, [tmp / "dump.json"], IngestReport(), TypeResolver({}))
        settled = time.process_time() - began
        print(f"settle after the stream: {settled:.1f} CPU-s, {settled / n * 1e6:.2f} µs per item")
    return out


_GROWTH_CHUNK = 1_000


def _growth_rows(ids: list[int]) -> Any:
    """A worker's run rows for ``ids``: kept items with a label, 4 or 5 raw facts each."""
    from redsearcher.world.ingest._runs import RunRows

    rows = RunRows()
    for i, qid in enumerate(ids, start=1):
        eid, facts = f"Q{qid}", 4 + i % 2
        at = len(rows.facts) + 1
        rows.facts.extend(
            (at + k, eid, "born_in", "entity", f"Q{qid + k}", *([None] * 8)) for k in range(facts)
        )
        row = (i, eid, 1, f"label {eid}", f"label {eid}", "a description", "", "Q5", i)
        rows.items.append((*row, None, None, at, facts))
        rows.entities.append((i, eid, f"label {eid}", "", f"label {eid}"))
    return rows


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
            parent = max(r["stream_parent_cpu_s"] - ceiling["decompress_cpu_s"], 0.0)
            post = r["parent_cpu_s"] - r["stream_parent_cpu_s"] - r["startup_cpu_s"]
            row = {
                "factor": factor,
                "items": items,
                "bytes": size,
                "facts": r["facts"],
                "parent_beyond_gzip_cpu_s": parent,
                "writer_cpu_s": r["writer_own_cpu_s"],
                "parent_other_cpu_s": max(parent - r["writer_own_cpu_s"], 0.0),
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
    old_a, old_b = fit([(r["items"], r["facts"], r["parent_beyond_gzip_cpu_s"]) for r in rows])
    size = sum(r["bytes"] for r in rows)
    model = {
        "writer_s_per_item": a,
        "writer_s_per_fact": b,
        "parent_beyond_gzip_s_per_item": old_a,
        "parent_beyond_gzip_s_per_fact": old_b,
        "parent_other_s_per_byte": sum(r["parent_other_cpu_s"] for r in rows) / size,
        "post_s_per_item": c,
        "post_s_per_fact": d,
        "worker_s_per_byte": sum(r["worker_cpu_s"] for r in rows) / size,
        "gzip_s_per_byte": sum(r["ceiling"]["decompress_cpu_s"] for r in rows) / size,
    }
    model["projection"] = {str(fpi): project(model, fpi) for fpi in (1.6, *FACTS_PER_ITEM.values())}
    return model


FACTS_PER_ITEM = {"low": 3.2, "central": 4.5, "high": 5.9}
"""Raw facts per item in the full dump for the default property set (see RESULTS.md for the
property counts these come from; most of it is ``P2860`` cites work on scholarly articles)."""


def project(model: dict[str, float], facts_per_item: float) -> dict[str, float]:
    """Full dump on 16 cores (15 workers), hours: the stream's slowest part, then post.

    ``parent_h`` is all of the parent's stream CPU as if it ran on one core (gzip, cutting
    chunks, shipping them to the pool, the writer): an upper bound, since decompression and
    pipe writes release the GIL and overlap with the rest. ``writer_h`` is the writer alone.
    """
    facts = FULL_ITEMS * facts_per_item
    writer = model["writer_s_per_item"] * FULL_ITEMS + model["writer_s_per_fact"] * facts
    reader = model["gzip_s_per_byte"] * FULL_BYTES
    out = {
        "reader_h": reader,
        "writer_h": writer,
        "parent_h": reader + model["parent_other_s_per_byte"] * FULL_BYTES + writer,
        "workers_h": model["worker_s_per_byte"] * FULL_BYTES / 15,
        "post_h": model["post_s_per_item"] * FULL_ITEMS + model["post_s_per_fact"] * facts,
    }
    out = {k: v / 3600 for k, v in out.items()}
    out["total_h"] = max(out["parent_h"], out["workers_h"]) + out["post_h"]
    return out


if __name__ == "__main__":
    main()
