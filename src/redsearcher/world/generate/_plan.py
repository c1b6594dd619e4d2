"""Which documents exist and which facts each one states (provenance), decided before any text.

Every entity gets a main page (an encyclopedia article; a paper gets its abstract) plus a few
secondary pages (news, forum threads, homepages, listings) by type. A fact of subject s and
object o may be stated by any page of s or o:

- s's main page states it with probability ``article_coverage``;
- each secondary page of s with probability ``dispersion`` (times a weight by page kind);
- each page of o with probability ``object_side`` (listings and paper abstracts more often),
  capped per page so a hub city's listing does not name all of its residents;
- a fact no page picked goes to a random page of s, so every fact is stated somewhere;
  tool-only facts are the exception (``TOOL_ONLY_PREDICATES``): no text states coordinates or
  citation counts; the maps and scholar tools serve them, which is what lets task synthesis
  write constraints only a tool resolves.

Planning is vectorized over chunks of facts, so memory is bounded by the chunk size plus the
provenance arrays themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from redsearcher.world._schema import DOCUMENT_KINDS
from redsearcher.world._vocab import TOOL_ONLY_PREDICATES
from redsearcher.world.generate._config import GeneratorConfig
from redsearcher.world.generate._facts import PRED_CODE
from redsearcher.world.generate._sampler import TYPE_NAMES, Graph

KIND = {k: i for i, k in enumerate(DOCUMENT_KINDS)}
_EXTRA = {  # mean secondary pages per entity, and their kind mix
    "person": (1.6, {"news": 0.4, "homepage": 0.15, "forum": 0.3, "listing": 0.15}),
    "city": (1.5, {"news": 0.3, "listing": 0.45, "forum": 0.25}),
    "country": (2.0, {"news": 0.5, "listing": 0.5}),
    "place": (1.2, {"homepage": 0.4, "forum": 0.4, "listing": 0.2}),
    "organization": (1.3, {"homepage": 0.5, "news": 0.5}),
    "film": (1.5, {"news": 0.4, "forum": 0.4, "listing": 0.2}),
    "paper": (0.4, {"news": 0.5, "forum": 0.5}),
}
_DEFAULT_EXTRA = (0.8, {"news": 0.5, "forum": 0.3, "listing": 0.2})
_W_SUBJ = {
    "encyclopedia": 1.0,
    "news": 1.0,
    "forum": 0.8,
    "homepage": 1.2,
    "listing": 0.6,
    "paper_abstract": 1.0,
}
_W_OBJ = {
    "encyclopedia": 0.6,
    "news": 0.6,
    "forum": 0.4,
    "homepage": 0.4,
    "listing": 2.0,
    "paper_abstract": 3.5,
}
_CAP_OBJ = {"listing": 30, "paper_abstract": 8}
_CHUNK = 1 << 18  # facts per planning step: bounds the candidate arrays (~6 per fact)


@dataclass
class Plan:
    """Documents (entity pages first, then noise) and their stated facts as CSR arrays."""

    doc_entity: np.ndarray  # about-entity per document, -1 for noise documents
    doc_kind: np.ndarray  # index into DOCUMENT_KINDS
    ptr: np.ndarray  # facts of document d: fact[ptr[d]:ptr[d+1]]
    fact: np.ndarray
    noise_ptr: np.ndarray  # entities named by noise document j: noise_ent[noise_ptr[j]:...]
    noise_ent: np.ndarray
    n_entity_docs: int

    def __len__(self) -> int:
        return int(self.doc_kind.shape[0])


def plan_documents(g: Graph, cfg: GeneratorConfig) -> Plan:
    """Decide every document and its provenance."""
    rng = np.random.default_rng([cfg.seed, *b"plan"])
    n = len(g)
    etype = g.etype
    lam = np.array([_EXTRA.get(t, _DEFAULT_EXTRA)[0] for t in TYPE_NAMES]) * cfg.docs_per_entity
    n_extra = rng.poisson(lam[etype])
    n_docs = 1 + n_extra
    doc_start = np.concatenate([[0], np.cumsum(n_docs)[:-1]])
    total = int(n_docs.sum())
    doc_entity = np.repeat(np.arange(n), n_docs)
    doc_kind = np.empty(total, dtype=np.int8)
    primary = np.full(len(TYPE_NAMES), KIND["encyclopedia"], dtype=np.int8)
    primary[TYPE_NAMES.index("paper")] = KIND["paper_abstract"]
    doc_kind[doc_start] = primary[etype]
    secondary = np.ones(total, dtype=bool)
    secondary[doc_start] = False
    sec_idx = np.flatnonzero(secondary)
    sec_type = etype[doc_entity[sec_idx]]
    u = rng.random(len(sec_idx))
    for code, t in enumerate(TYPE_NAMES):
        mix = _EXTRA.get(t, _DEFAULT_EXTRA)[1]
        sel = sec_type == code
        edges = np.cumsum(list(mix.values()))
        kinds = np.array([KIND[k] for k in mix], dtype=np.int8)
        doc_kind[sec_idx[sel]] = kinds[np.minimum(np.searchsorted(edges, u[sel]), len(kinds) - 1)]

    w_subj = np.array([_W_SUBJ.get(k, 1.0) for k in DOCUMENT_KINDS])
    w_obj = np.array([_W_OBJ.get(k, 0.5) for k in DOCUMENT_KINDS])
    cap = np.array([_CAP_OBJ.get(k, 4) for k in DOCUMENT_KINDS])
    f = g.facts
    tool_only = np.array(sorted(PRED_CODE[p] for p in TOOL_ONLY_PREDICATES))
    subj_pairs: list[tuple[np.ndarray, np.ndarray]] = []
    obj_pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for lo in range(0, len(f), _CHUNK):
        fid = np.arange(lo, min(lo + _CHUNK, len(f)))
        s, o = f.subj[fid], f.obj[fid]
        ns = n_docs[s]
        no = np.where(o >= 0, n_docs[np.maximum(o, 0)], 0)
        tot = ns + no
        rep = np.repeat(np.arange(len(fid)), tot)
        pos = np.arange(int(tot.sum())) - np.repeat(np.cumsum(tot) - tot, tot)
        is_s = pos < ns[rep]
        doc = np.where(
            is_s, doc_start[s[rep]] + pos, doc_start[np.maximum(o[rep], 0)] + pos - ns[rep]
        )
        kind = doc_kind[doc]
        is_main = doc == doc_start[s[rep]]
        q = np.where(
            is_s,
            np.where(is_main, cfg.article_coverage, cfg.dispersion * w_subj[kind]),
            cfg.object_side * w_obj[kind],
        )
        q[np.isin(f.pred[fid][rep], tool_only)] = 0.0
        keep = rng.random(len(q)) < q
        subj_pairs.append((doc[keep & is_s], fid[rep[keep & is_s]]))
        obj_pairs.append((doc[keep & ~is_s], fid[rep[keep & ~is_s]]))
    pairs_doc = [p[0] for p in subj_pairs]
    pairs_fact = [p[1] for p in subj_pairs]
    if obj_pairs:
        od = np.concatenate([p[0] for p in obj_pairs])
        of = np.concatenate([p[1] for p in obj_pairs])
        order = np.lexsort((rng.random(len(od)), od))
        od, of = od[order], of[order]
        starts = np.searchsorted(od, od, side="left")
        rank = np.arange(len(od)) - starts
        ok = rank < cap[doc_kind[od]]
        pairs_doc.append(od[ok])
        pairs_fact.append(of[ok])
    pdoc = np.concatenate(pairs_doc) if pairs_doc else np.empty(0, np.int64)
    pfact = np.concatenate(pairs_fact) if pairs_fact else np.empty(0, np.int64)
    stated = np.bincount(pfact, minlength=len(f)) > 0
    orphan = np.flatnonzero(~stated & ~np.isin(f.pred, tool_only))
    pick = (rng.random(len(orphan)) * n_docs[f.subj[orphan]]).astype(np.int64)
    pdoc = np.concatenate([pdoc, doc_start[f.subj[orphan]] + pick])
    pfact = np.concatenate([pfact, orphan])

    # Noise documents: chatter naming 2-4 entities, often a look-alike next to its original.
    n_noise = round(cfg.noise_rate * total)
    n_named = rng.integers(2, 5, n_noise)
    noise_ptr = np.concatenate([[0], np.cumsum(n_named)])
    noise_ent = rng.integers(0, n, int(n_named.sum()))
    twins = np.flatnonzero(g.twin_of >= 0)
    if len(twins):
        paired = np.flatnonzero(rng.random(n_noise) < 0.5)
        tw = twins[rng.integers(0, len(twins), len(paired))]
        noise_ent[noise_ptr[paired]] = tw
        noise_ent[noise_ptr[paired] + 1] = g.twin_of[tw]
    noise_kind = np.array([KIND["forum"], KIND["news"], KIND["listing"]], dtype=np.int8)
    doc_kind = np.concatenate([doc_kind, noise_kind[rng.choice(3, n_noise, p=[0.5, 0.3, 0.2])]])
    doc_entity = np.concatenate([doc_entity, np.full(n_noise, -1)])

    order = np.lexsort((pfact, pdoc))
    pdoc, pfact = pdoc[order], pfact[order]
    keep = np.ones(len(pdoc), dtype=bool)
    keep[1:] = (pdoc[1:] != pdoc[:-1]) | (pfact[1:] != pfact[:-1])
    pdoc, pfact = pdoc[keep], pfact[keep]
    ptr = np.zeros(len(doc_kind) + 1, dtype=np.int64)
    np.cumsum(np.bincount(pdoc, minlength=len(doc_kind)), out=ptr[1:])
    return Plan(doc_entity, doc_kind, ptr, pfact, noise_ptr, noise_ent, total)
