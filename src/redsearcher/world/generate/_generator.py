"""``generate_world``: sample a graph, plan documents, render and write them, streaming.

Memory: the graph and the plan are compact numpy arrays (a few hundred bytes per entity);
document text exists only one batch per worker at a time. Rendering runs in forked worker
processes (they inherit the graph without copying) and ``imap`` keeps batches in order, so the
World is identical whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from redsearcher.world._manifest import Manifest
from redsearcher.world._store import WorldWriter
from redsearcher.world._vocab import PREDICATES
from redsearcher.world.generate._config import GeneratorConfig
from redsearcher.world.generate._facts import PRED_KIND, PRED_NAMES
from redsearcher.world.generate._graph import sample_graph
from redsearcher.world.generate._plan import Plan, plan_documents
from redsearcher.world.generate._sampler import TYPE_NAMES, Graph
from redsearcher.world.generate._text import TextRealizer

_REALIZER: TextRealizer | None = None  # set in the parent before forking workers


def _render(bounds: tuple[int, int]) -> dict[str, list[Any]]:
    assert _REALIZER is not None
    return _REALIZER.batch(*bounds)


def _ids(values: np.ndarray) -> pa.Array:
    ok = values >= 0
    out = np.empty(len(values), dtype=object)
    out[ok] = np.char.add("E", values[ok].astype(str))
    return pa.array(out, type=pa.string(), mask=~ok)


def _entity_batches(g: Graph, rows: int) -> Iterator[pa.RecordBatch]:
    types = np.array(TYPE_NAMES, dtype=object)
    for lo in range(0, len(g), rows):
        hi = min(lo + rows, len(g))
        idx = np.arange(lo, hi)
        yield pa.RecordBatch.from_pydict(
            {
                "id": _ids(idx),
                "label": pa.array(g.labels[lo:hi], type=pa.string()),
                "type": pa.array(types[g.etype[lo:hi]], type=pa.string()),
                "description": pa.array(g.descriptions[lo:hi], type=pa.string()),
                "aliases": pa.array(
                    [list(a) for a in g.aliases[lo:hi]], type=pa.list_(pa.string())
                ),
                "distractor_of": _ids(g.twin_of[lo:hi]),
            }
        )


def _fact_batches(g: Graph, rows: int) -> Iterator[pa.RecordBatch]:
    f = g.facts
    names = np.array(PRED_NAMES, dtype=object)
    kinds = np.array(PRED_KIND, dtype=object)
    units = np.array([PREDICATES[p].unit for p in PRED_NAMES], dtype=object)
    for lo in range(0, len(f), rows):
        sl = slice(lo, min(lo + rows, len(f)))
        kind = kinds[f.pred[sl]]
        is_date, is_str = kind == "date", kind == "string"
        text = f.text[sl]
        amount, lat, lon = f.amount[sl], f.lat[sl], f.lon[sl]
        yield pa.RecordBatch.from_pydict(
            {
                "id": pa.array(np.arange(sl.start + 1, sl.stop + 1, dtype=np.int64)),
                "subject": _ids(f.subj[sl]),
                "predicate": pa.array(names[f.pred[sl]], type=pa.string()),
                "kind": pa.array(kind, type=pa.string()),
                "object": _ids(f.obj[sl]),
                "string": pa.array(text, type=pa.string(), mask=~is_str),
                "date": pa.array(text, type=pa.string(), mask=~is_date),
                "date_precision": pa.array(f.prec[sl], type=pa.int8(), mask=~is_date),
                "amount": pa.array(amount, mask=np.isnan(amount)),
                "unit": pa.array(units[f.pred[sl]], type=pa.string()),
                "latitude": pa.array(lat, mask=np.isnan(lat)),
                "longitude": pa.array(lon, mask=np.isnan(lon)),
                "qualifiers": pa.array(f.qual[sl], type=pa.string()),
            }
        )


def _workers(cfg: GeneratorConfig) -> int:
    if cfg.workers:
        return cfg.workers
    return max(1, min(os.cpu_count() or 1, 4))


def _rendered(plan: Plan, cfg: GeneratorConfig) -> Iterator[dict[str, list[Any]]]:
    bounds = [
        (lo, min(lo + cfg.batch_rows, len(plan))) for lo in range(0, len(plan), cfg.batch_rows)
    ]
    workers = _workers(cfg)
    if workers == 1 or len(bounds) == 1 or "fork" not in mp.get_all_start_methods():
        yield from map(_render, bounds)
        return
    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_render, bounds)


def generate_world(
    config: GeneratorConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> Manifest:
    """Generate a synthetic World into ``out`` and return its manifest.

    The same ``config`` (seed included) always yields the same content hash.
    """
    global _REALIZER
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    graph = sample_graph(config)
    timings["graph_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    plan = plan_documents(graph, config)
    timings["plan_s"] = time.perf_counter() - t1
    source = {
        "kind": "synthetic",
        "generator": "redsearcher.world.generate",
        "config": config.model_dump(),
    }
    t2 = time.perf_counter()
    with (
        WorldWriter(out, source=source, overwrite=overwrite) as writer,
        Progress(
            TextColumn("[bold]documents"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not progress,
            transient=False,
        ) as bar,
    ):
        for batch in _entity_batches(graph, 100_000):
            writer.add_batch("entities", batch)
        for batch in _fact_batches(graph, 500_000):
            writer.add_batch("facts", batch)
        task = bar.add_task("documents", total=len(plan))
        _REALIZER = TextRealizer(graph, plan, config.seed)
        try:
            for cols in _rendered(plan, config):
                prov = pa.RecordBatch.from_pydict(
                    {
                        "doc_id": cols.pop("_prov_doc"),
                        "fact_id": pa.array(cols.pop("_prov_fact"), pa.int64()),
                    }
                )
                writer.add_batch("documents", pa.RecordBatch.from_pydict(cols))
                writer.add_batch("provenance", prov)
                bar.advance(task, len(cols["id"]))
        finally:
            _REALIZER = None
        timings["documents_s"] = time.perf_counter() - t2
        writer.report = {
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "entity_documents": plan.n_entity_docs,
            "noise_documents": len(plan) - plan.n_entity_docs,
            "distractor_entities": int((graph.twin_of >= 0).sum()),
        }
    assert writer.manifest is not None
    return writer.manifest
