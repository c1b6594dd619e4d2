"""Summary statistics of a World, computed by streaming its tables.

Counts by entity type and document kind, relation degree statistics, and the histogram of how
many documents state each fact: the quantity behind source dispersion (a fact stated by one
document only must be found on exactly that page).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from redsearcher.world._store import World
from redsearcher.world._vocab import TOOL_ONLY_PREDICATES

HIST_BINS = ("0", "1", "2", "3", "4", "5+")


class DegreeStats(BaseModel):
    """Degree distribution over entity-to-entity relations (facts of kind ``entity``)."""

    mean: float
    median: float
    p99: float
    max: int


class WorldInfo(BaseModel):
    """What ``redsearcher world info`` prints."""

    path: str
    content_hash: str
    source: dict[str, Any]
    counts: dict[str, int]
    entity_types: dict[str, int]
    distractor_entities: int
    document_kinds: dict[str, int]
    predicates: dict[str, int]
    relations: int
    out_degree: DegreeStats
    in_degree: DegreeStats
    total_degree: DegreeStats
    docs_per_fact: dict[str, int]
    """Histogram: number of facts stated by 0, 1, 2, ... documents."""
    docs_per_fact_text: dict[str, int]
    """The same histogram over facts a text can state (tool-only predicates excluded)."""
    share_stated_2plus: float
    """Share of stateable facts stated in two or more documents."""


_TOOL_ONLY = pa.array(sorted(TOOL_ONLY_PREDICATES), pa.string())


def _degree(counts: np.ndarray) -> DegreeStats:
    if counts.size == 0:
        return DegreeStats(mean=0.0, median=0.0, p99=0.0, max=0)
    return DegreeStats(
        mean=round(float(counts.mean()), 3),
        median=float(np.median(counts)),
        p99=float(np.percentile(counts, 99)),
        max=int(counts.max()),
    )


def _hist(counts: np.ndarray) -> dict[str, int]:
    binned = np.bincount(np.minimum(counts, len(HIST_BINS) - 1), minlength=len(HIST_BINS))
    return {k: int(v) for k, v in zip(HIST_BINS, binned, strict=True)}


def world_info(world: World) -> WorldInfo:
    """Compute the summary of ``world`` without loading documents' text."""
    ents = world.table("entities", ["id", "type", "distractor_of"])
    types = Counter(ents.column("type").to_pylist())
    n_distractors = ents.num_rows - ents.column("distractor_of").null_count
    index = {eid: i for i, eid in enumerate(ents.column("id").to_pylist())}

    kinds: Counter[str] = Counter()
    for batch in world.iter_batches("documents", columns=["kind"]):
        kinds.update(batch.column(0).to_pylist())

    preds: Counter[str] = Counter()
    out_deg = np.zeros(len(index), dtype=np.int64)
    in_deg = np.zeros(len(index), dtype=np.int64)
    max_fact = 0
    fact_ids, coord_ids = [], []
    for batch in world.iter_batches(
        "facts", columns=["id", "predicate", "kind", "subject", "object"]
    ):
        preds.update(batch.column(1).to_pylist())
        ids = batch.column(0).to_numpy()
        max_fact = max(max_fact, int(ids.max()) if len(ids) else 0)
        fact_ids.append(ids)
        tool_only = pc.is_in(batch.column(1), value_set=_TOOL_ONLY)
        coord_ids.append(ids[tool_only.to_numpy(zero_copy_only=False)])
        rel = pc.equal(batch.column(2), "entity")
        subj = pc.filter(batch.column(3), rel).to_pylist()
        obj = pc.filter(batch.column(4), rel).to_pylist()
        for s, o in zip(subj, obj, strict=True):
            if s in index:
                out_deg[index[s]] += 1
            if o in index:
                in_deg[index[o]] += 1
    stated = np.zeros(max_fact + 1, dtype=np.int64)
    for batch in world.iter_batches("provenance", columns=["fact_id"]):
        ids = batch.column(0).to_numpy()
        stated += np.bincount(ids, minlength=max_fact + 1)[: max_fact + 1]
    all_ids = np.concatenate(fact_ids) if fact_ids else np.empty(0, np.int64)
    per_fact = stated[all_ids]
    text_ok = ~np.isin(all_ids, np.concatenate(coord_ids) if coord_ids else np.empty(0, np.int64))
    text_counts = per_fact[text_ok]
    return WorldInfo(
        path=str(world.path),
        content_hash=world.content_hash,
        source=world.manifest.source,
        counts=world.manifest.counts,
        entity_types=dict(types.most_common()),
        distractor_entities=int(n_distractors),
        document_kinds=dict(kinds.most_common()),
        predicates=dict(preds.most_common()),
        relations=int(out_deg.sum()),
        out_degree=_degree(out_deg),
        in_degree=_degree(in_deg),
        total_degree=_degree(out_deg + in_deg),
        docs_per_fact=_hist(per_fact),
        docs_per_fact_text=_hist(text_counts),
        share_stated_2plus=round(float((text_counts >= 2).mean()), 4) if text_counts.size else 0.0,
    )


__all__ = ["DegreeStats", "WorldInfo", "world_info"]
