"""Wikidata ingest at scale: throughput per core, memory, scratch disk; projected to the full dump.

Input: ``k`` copies of the shared real sample (``/work/shared/realdata/wikidata-sample.json.gz``,
61,324 items), every Q-id of copy ``c`` shifted by ``c * 10**9`` (ids and item values alike, so
the copies are distinct Worlds of the same shape and size), written gzip'ed like the real dump.

Each configuration runs in a fresh child process (``--one``) that calls ``ingest_world`` and
reports, from ``getrusage`` and a sampling thread: wall time, the time and parent CPU of the
streaming phase (reader + writer; the part that does not parallelize), CPU of the workers, peak
RSS summed over the process tree, and peak size of the scratch store. The raw ceiling is
measured in the same run on the same file: gzip decompression alone (the single reader's
ceiling) and decompression + ``json.loads`` of every line in one process.

Usage: python benchmarks/bench_ingest_scale.py [--copies 4] [--record]
       (--record appends a section to benchmarks/RESULTS.md)
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine, today

SAMPLE = Path("/work/shared/realdata/wikidata-sample.json.gz")
SHIFT = 10**9
FULL_ITEMS = 110_000_000
FULL_BYTES = 1.4e12  # decompressed latest-all.json (~140 GB gzip), ~12.7 KB per item
_QID = re.compile(rb'"Q([0-9]+)"')
_NUMERIC = re.compile(rb'"numeric-id":([0-9]+)')


def make_copies(copies: int, out: Path) -> tuple[int, int]:
    """Write ``copies`` renumbered copies of the sample to ``out`` (gzip); (items, bytes)."""
    with gzip.open(SAMPLE, "rb") as source:
        lines = [
            line.rstrip(b"\n").rstrip(b",")
            for line in source
            if line.strip() not in (b"[", b"]", b"")
        ]
    size = 0
    with gzip.open(out, "wb", compresslevel=6) as fh:
        fh.write(b"[\n")
        for copy in range(copies):
            qid, numeric = _renumber(copy * SHIFT)
            for index, line in enumerate(lines):
                if copy:
                    line = _NUMERIC.sub(numeric, _QID.sub(qid, line))
                last = copy == copies - 1 and index == len(lines) - 1
                row = line + (b"\n" if last else b",\n")
                fh.write(row)
                size += len(row)
        fh.write(b"]\n")
    return copies * len(lines), size + 4


def _renumber(shift: int) -> tuple[Any, Any]:
    def qid(m: re.Match[bytes]) -> bytes:
        return b'"Q%d"' % (int(m[1]) + shift)

    def numeric(m: re.Match[bytes]) -> bytes:
        return b'"numeric-id":%d' % (int(m[1]) + shift)

    return qid, numeric


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in (proc, *proc.children(recursive=True)):
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def one(dump: Path, out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """Run one ingest in this process and measure it (the ``--one`` child)."""
    from redsearcher.world.ingest import IngestConfig, _dump, ingest_world

    scratch = out.parent / f"{out.name}-scratch"
    config = IngestConfig(kb_pages=False, scratch_dir=scratch, **settings)
    me = psutil.Process()
    peaks = {"rss": 0, "scratch": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peaks["rss"] = max(peaks["rss"], _tree_rss(me))
            time.sleep(0.2)

    phase: dict[str, float] = {}
    stream = _dump._stream

    def timed(*args: Any, **kwargs: Any) -> None:
        start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        stream(*args, **kwargs)
        end = resource.getrusage(resource.RUSAGE_SELF)
        phase["stream_s"] = time.perf_counter() - start
        phase["stream_parent_cpu_s"] = (end.ru_utime - cpu.ru_utime) + (end.ru_stime - cpu.ru_stime)

    _dump._stream = timed  # type: ignore[assignment]
    writer = {"cpu": 0.0}  # the writer's own work (main thread), apart from reader and pool

    def on_writer(name: str) -> None:
        method = getattr(_dump._Writer, name)

        def measured(self: Any, *args: Any) -> None:
            began = time.thread_time()
            method(self, *args)
            writer["cpu"] += time.thread_time() - began

        setattr(_dump._Writer, name, measured)

    for name in ("apply", "release"):
        on_writer(name)
    from redsearcher.world.ingest import _scratch

    close = _scratch.Scratch.__exit__

    def measured_exit(self: Any, *exc: Any) -> None:
        db = self.db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        peaks["scratch"] = pages * db.execute("PRAGMA page_size").fetchone()[0]
        close(self, *exc)

    _scratch.Scratch.__exit__ = measured_exit  # type: ignore[method-assign]
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    boot = resource.getrusage(resource.RUSAGE_SELF)  # interpreter start and imports, not ingest
    start = time.perf_counter()
    manifest = ingest_world(out, wikidata=dump, config=config, progress=False)
    wall = time.perf_counter() - start
    stop.set()
    thread.join()
    me_ru = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        **phase,
        "parent_cpu_s": me_ru.ru_utime + me_ru.ru_stime,
        "startup_cpu_s": boot.ru_utime + boot.ru_stime,
        "writer_own_cpu_s": writer["cpu"],
        "worker_cpu_s": kids.ru_utime + kids.ru_stime,
        "peak_rss_mb": peaks["rss"] / 2**20,
        "scratch_mb": peaks["scratch"] / 2**20,
        "entities": manifest.counts["entities"],
        "facts": manifest.counts["facts"],
        "hash": manifest.content_hash,
    }


def raw_ceiling(dump: Path) -> dict[str, float]:
    """Decompression alone, then decompression + ``json.loads`` of every line (one process).

    Both as wall seconds and as CPU seconds of this process (the machine is shared: CPU time
    is what the projection uses).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    with gzip.open(dump, "rb") as fh:
        while fh.read(1 << 24):
            pass
    out = {
        "decompress_s": time.perf_counter() - wall,
        "decompress_cpu_s": time.process_time() - cpu,
    }
    wall, cpu = time.perf_counter(), time.process_time()
    with gzip.open(dump, "rb") as fh:
        for line in fh:
            text = line.strip().rstrip(b",")
            if text not in (b"[", b"]", b""):
                json.loads(text)
    out |= {"parse_s": time.perf_counter() - wall, "parse_cpu_s": time.process_time() - cpu}
    return out


def run_child(dump: Path, out: Path, settings: dict[str, Any]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", str(dump), str(out), json.dumps(settings)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({settings}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return result


def project(
    r: dict[str, Any], items: int, size: int, ceiling: dict[str, float]
) -> dict[str, float]:
    """Project a 2-worker run to the full dump on 16 cores (15 workers), in hours.

    * reader: one thread decompresses everything: full bytes / measured gzip rate;
    * writer: the parent's streaming CPU less the reader's, per item, times the full item
      count (``writer_bytes_h``: scaled by bytes instead, an upper bound since full-dump
      items carry ~6x the bytes, mostly claims of properties that are not extracted);
    * workers: their CPU scaled by bytes, over 15 processes;
    * post: the post-stream phase (naming, numbering, writing the World) scaled by items.
    The stream takes the largest of reader, writer and workers (they overlap: zlib, SQLite and
    the workers do not hold the GIL against each other); post comes after.
    """
    by_bytes, by_items = FULL_BYTES / size, FULL_ITEMS / items
    writer = max(r["stream_parent_cpu_s"] - ceiling["decompress_cpu_s"], 0.0)
    out = {
        "reader_h": ceiling["decompress_cpu_s"] * by_bytes,
        "writer_h": writer * by_items,
        "writer_bytes_h": writer * by_bytes,
        "workers_h": r["worker_cpu_s"] * by_bytes / 15,
        "post_h": (r["parent_cpu_s"] - r["stream_parent_cpu_s"] - r.get("startup_cpu_s", 0.0))
        * by_items,
    }
    out = {k: v / 3600 for k, v in out.items()}
    out["total_h"] = max(out["reader_h"], out["writer_h"], out["workers_h"]) + out["post_h"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--one", nargs=3, metavar=("DUMP", "OUT", "SETTINGS"))
    args = parser.parse_args()
    if args.one:
        dump, out, settings = args.one
        print(json.dumps(one(Path(dump), Path(out), json.loads(settings))))
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-scale-"))
    try:
        dump = tmp / "dump.json.gz"
        items, size = make_copies(args.copies, dump)
        print(f"{args.copies} copies: {items:,} items, {size / 1e6:.0f} MB decompressed")
        ceiling = raw_ceiling(dump)
        print(f"ceiling: {ceiling}")
        runs: dict[str, dict[str, Any]] = {
            "workers 1": {"workers": 1},
            "workers 2": {"workers": 2},
            "workers 2, --keep-class Q5 (class pass)": {"workers": 2, "keep_class": ["Q5"]},
        }
        results = {}
        for name, settings in runs.items():
            results[name] = run_child(dump, tmp / "world", settings)
            print(name, json.dumps(results[name]))
        same = results["workers 1"]["hash"] == results["workers 2"]["hash"]
        print(f"workers 1 and 2 give the same World: {same}")
        lines = report(args.copies, items, size, ceiling, results, same)
        print("\n".join(lines))
        if args.record:
            path = Path(__file__).parent / "RESULTS.md"
            with path.open("a") as fh:
                fh.write("\n" + "\n".join(lines) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(
    copies: int,
    items: int,
    size: int,
    ceiling: dict[str, float],
    results: dict[str, dict[str, Any]],
    same: bool,
) -> list[str]:
    lines = [
        f"## Wikidata ingest at scale (`bench_ingest_scale.py`) — {today()}",
        "",
        f"Machine: {machine()} (shared, noisy). Input: {copies} renumbered copies of the real "
        f"sample, {items:,} items, {size / 1e6:.0f} MB decompressed, gzip; `--no-kb-pages`.",
        f"Raw ceiling in the same run, CPU seconds (wall in brackets): gzip decompression "
        f"alone {ceiling['decompress_cpu_s']:.1f} s ({ceiling['decompress_s']:.1f} s; "
        f"{size / 1e6 / ceiling['decompress_cpu_s']:.0f} MB per CPU-s); decompression + "
        f"`json.loads` of every line in one process {ceiling['parse_cpu_s']:.1f} s "
        f"({ceiling['parse_s']:.1f} s; {items / ceiling['parse_cpu_s']:,.0f} items per CPU-s).",
        "",
        "| run | wall s | items/s (wall) | CPU s | items per CPU-s | parent CPU s (stream) "
        "| worker CPU s | CPU vs ceiling | peak RSS MB | scratch MB | entities |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        cpu = r["parent_cpu_s"] + r["worker_cpu_s"]
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {items / r['wall_s']:,.0f} | {cpu:.1f} "
            f"| {items / cpu:,.0f} | {r['stream_parent_cpu_s']:.1f} | {r['worker_cpu_s']:.1f} "
            f"| {cpu / ceiling['parse_cpu_s']:.1f}x | {r['peak_rss_mb']:.0f} "
            f"| {r['scratch_mb']:.0f} | {r['entities']:,} |"
        )
    lines.append("")
    lines.append(f"Same World (content hash) with 1 and 2 workers: {same}.")
    for name in ("workers 2", "workers 2, --keep-class Q5 (class pass)"):
        r = results[name]
        p = project(r, items, size, ceiling)
        per_item_disk = r["scratch_mb"] * 2**20 / items
        lines.append("")
        lines.append(
            f"Projection from `{name}` to the full dump ({FULL_ITEMS / 1e6:.0f}M items, "
            f"{FULL_BYTES / 1e12:.1f} TB decompressed) on 16 cores (15 workers, one reader thread "
            f"and one writer), CPU seconds scaled as `project()` says: reader (gzip) "
            f"{p['reader_h']:.2f} h, writer {p['writer_h']:.2f} h by items "
            f"({p['writer_bytes_h']:.2f} h if scaled by bytes), workers {p['workers_h']:.2f} h, "
            f"post-stream phase {p['post_h']:.2f} h: **{p['total_h']:.2f} h**. Scratch store "
            f"{per_item_disk:.0f} bytes per input item -> "
            f"{per_item_disk * FULL_ITEMS / 1e9:.0f} GB."
        )
    return lines


if __name__ == "__main__":
    main()
