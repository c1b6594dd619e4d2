"""Reasoning graphs: seed selection, expansion over relations, and topology densification.

A *master graph* is a small connected set of World entities linked by real facts. It grows
from a seed that passes the paper's filter cascade (§3.2.1: enough facts, mentioned by a few
documents but not over-covered, a text page neither too short nor too long where one exists,
not a look-alike, not a list- or meta-like entity, a concrete real entity rather than a
fictional one — :mod:`redsearcher.synth._seeds`), expands over
relation facts in both directions, then is *densified* toward a target treewidth with edges
that are themselves real facts: relations between nodes already chosen, shared values ("the
same country of citizenship"), and new nodes that link to two or more chosen nodes, each of
which closes a cycle. Treewidth is recomputed exactly after every added edge, so the sampler
lands on the target or reports that it could not.

Every node has a printable label (``KnowledgeGraph.is_named``); discovery-only predicates
(``links_to``) never become edges, since every edge becomes a question constraint; and an edge
is added once however many facts state it: a symmetric relation is stored in both directions
and a shared value may be shared twice, but "A is married to B" said both ways is one clause
repeated (:func:`edge_key`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._seeds import blocked_entities
from redsearcher.synth._strength import low_cardinality
from redsearcher.synth._treewidth import treewidth

__all__ = [
    "Edge",
    "MasterGraph",
    "SeedFilter",
    "densify",
    "edge_key",
    "expand",
    "pick_seed",
    "seed_pool",
    "text_seeds",
    "text_stated",
]

#: Entity types whose members many others share ("the same country"): the object side of a
#: ``same`` edge. People and works are excluded — "the same spouse" is not a question anyone asks.
SHARED_TYPES = frozenset(
    {"country", "city", "university", "organization", "record_label", "venue", "award"}
)


@dataclass(frozen=True)
class Edge:
    """An edge of a master graph between node indices ``a`` and ``b``."""

    kind: str
    """``relation`` (a fact ``a -pred-> b``) or ``same`` (a and b share a ``pred`` value)."""
    a: int
    b: int
    pred: int
    facts: tuple[int, ...]
    """Fact rows: the relation fact, or one fact of each side."""

    @property
    def key(self) -> tuple[int, int]:
        """The unordered node pair."""
        return (min(self.a, self.b), max(self.a, self.b))


def edge_key(kg: KnowledgeGraph, e: Edge) -> tuple[str, int, int, int]:
    """What an edge says: equal keys state the same constraint (direction kept if it matters)."""
    if e.kind == "same" or kg.symmetric[e.pred]:
        return (e.kind, e.pred, *e.key)
    return (e.kind, e.pred, e.a, e.b)


def _dedupe(kg: KnowledgeGraph, edges: list[Edge], have: list[Edge] | None = None) -> list[Edge]:
    """``edges`` without those that repeat an earlier one or one of ``have``."""
    seen = {edge_key(kg, e) for e in have or ()}
    out = []
    for e in edges:
        key = edge_key(kg, e)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


@dataclass
class MasterGraph:
    """Entity rows and the fact edges between them."""

    rows: list[int]
    edges: list[Edge] = field(default_factory=list)

    def adjacency(self, nodes: set[int] | None = None) -> dict[int, set[int]]:
        """Undirected adjacency over node indices (restricted to ``nodes`` when given)."""
        keep = set(range(len(self.rows))) if nodes is None else nodes
        adj: dict[int, set[int]] = {i: set() for i in sorted(keep)}
        for e in self.edges:
            if e.a in keep and e.b in keep and e.a != e.b:
                adj[e.a].add(e.b)
                adj[e.b].add(e.a)
        return adj

    def width(self) -> int:
        """Exact treewidth of the graph."""
        return treewidth(self.adjacency()).width

    def has_pair(self, a: int, b: int) -> bool:
        """Whether some edge already links ``a`` and ``b``."""
        key = (min(a, b), max(a, b))
        return any(e.key == key for e in self.edges)


@dataclass(frozen=True)
class SeedFilter:
    """The seed filter cascade, in World terms."""

    min_facts: int = 4
    """Facts with the entity as subject (enough to say something about it)."""
    min_mentions: int = 1
    """Documents that mention it (it can be found at all)."""
    max_mentions_quantile: float = 0.98
    """Mentions above this quantile of the World are over-covered (too famous)."""
    min_page_chars: int = 100
    """Where the entity has a text page, at least this many characters (else too sparse)."""
    max_page_chars: int | None = None
    """Where the entity has a text page, at most this many characters (None: no cap; the
    mentions quantile already drops the over-covered)."""
    allow_fictional: bool = False
    """Keep fictional and legendary entities (characters, fictional humans, their classes)."""


class _Pool:
    def __init__(self, kg: KnowledgeGraph, f: SeedFilter) -> None:
        n = len(kg)
        facts = np.diff(kg.out_ptr)
        cap = float(np.quantile(kg.mentions, f.max_mentions_quantile)) if n else 0.0
        ok = (facts >= f.min_facts) & (kg.mentions >= f.min_mentions) & (kg.mentions <= cap)
        ok &= ~kg.is_distractor & kg.is_named
        ok &= kg.types != kg.type_names.index("country") if "country" in kg.type_names else True
        ok &= ~blocked_entities(kg, allow_fictional=f.allow_fictional)
        paged = kg.page_chars > 0
        ok &= ~paged | (kg.page_chars >= f.min_page_chars)
        if f.max_page_chars is not None:
            ok &= ~paged | (kg.page_chars <= f.max_page_chars)
        self.rows = np.flatnonzero(ok)
        self.rows = np.array([r for r in self.rows.tolist() if not kg.is_meta(r)], np.int64)
        self.cap = cap


def seed_pool(kg: KnowledgeGraph, f: SeedFilter) -> np.ndarray:
    """Rows of every entity that passes the seed filter cascade."""
    return _Pool(kg, f).rows


#: Chance that a seed (and each expansion step, where it can) follows text: a seed whose own
#: text page states one of its relations, an edge whose fact a text page states. A cover uses a
#: Wikipedia page only where it replaces a database page, so a task's evidence must lean on
#: facts the text states; drawn uniformly, 96% of the real sample's seeds have no text page and
#: about 1% of their relations are stated by one. A fifth of the draws stay uniform for variety.
#: Only Worlds with knowledge-base pages are affected.
TEXT_FIRST = 0.8


def text_stated(kg: KnowledgeGraph, fact_row: int) -> bool:
    """Whether a text page (a document that is not a knowledge-base page) states the fact."""
    return any(d not in kg.database_docs for d in kg.stated_by(fact_row))


def text_seeds(kg: KnowledgeGraph, pool: np.ndarray) -> np.ndarray:
    """The pool's entities with a text page that states one of their usable relations.

    Empty for a World without knowledge-base pages or text (a synthetic World): sampling
    stays exactly as it was. In a text-only World (``kg.sparse_provenance``) every entity
    with a stated relation, each repeated by the facts its page states (``stated_own``, at
    most ``SEED_WEIGHT_CAP`` times), so that a uniform pick prefers well-described seeds.
    """
    if kg.sparse_provenance:  # every neighbour is stated there: any seed with one will do
        rows = [r for r in pool.tolist() if _neighbours(kg, r)]
        weights = [min(stated_own(kg, r), SEED_WEIGHT_CAP) for r in rows]
        return np.repeat(np.array(rows, np.int64), np.array(weights, np.int64))
    if not kg.database_docs:
        return np.array([], np.int64)
    keep = [
        r
        for r in pool.tolist()
        if kg.page_chars[r] > 0 and any(text_stated(kg, n[0]) for n in _neighbours(kg, r))
    ]
    return np.array(keep, np.int64)


SEED_WEIGHT_CAP = 4
"""In a text-only World a seed's chance grows with the facts its page states, up to this many
times that of a seed with one: a lead that states a person's citizenship and nothing else
starts a graph that cannot be pinned (``thin_strong``, ``crowd_in_reality``), one that also
states a founding date or a capital can."""


def stated_own(kg: KnowledgeGraph, row: int) -> int:
    """The stated facts with ``row`` as subject that may carry a clause.

    Relations and attributes alike; at least 1, so that no seed with a stated neighbour is
    left out.
    """
    out = kg.facts_of(row)
    count = sum(1 for f in out.tolist() if kg.constraint_ok[f] and kg.stated_by(f))
    return max(count, 1)


def pick_seed(
    pool: np.ndarray,
    rng: np.random.Generator,
    preferred: np.ndarray | None = None,
    *,
    sparse: bool = False,
) -> int:
    """A random seed from the pool; from ``preferred`` (if any) with chance ``TEXT_FIRST``.

    With ``sparse`` (a World whose facts mostly lack a source) always from ``preferred``: a
    seed none of whose relations a document states cannot start a coverable graph.
    """
    if not len(pool):
        raise ValueError("no entity of this World passes the seed filter")
    if preferred is not None and len(preferred) and (sparse or rng.random() < TEXT_FIRST):
        return int(preferred[rng.integers(len(preferred))])
    return int(pool[rng.integers(len(pool))])


def _neighbours(
    kg: KnowledgeGraph, row: int, blocked: np.ndarray | None = None
) -> list[tuple[int, int, int, bool]]:
    """(fact row, predicate, other entity, outgoing) for each constraint-capable fact of ``row``.

    Discovery-only predicates, entities without a printable label and ``blocked`` entities
    (fictional or meta ones, :func:`~redsearcher.synth._seeds.blocked_entities`) are left out;
    so is, in a World whose facts mostly lack a source (``kg.sparse_provenance``, a text-only
    World), every fact no document states: its clause could never be covered by evidence.
    """
    sparse = kg.sparse_provenance
    out = kg.facts_of(row)
    out = out[kg.f.obj[out] >= 0]
    into = kg.facts_into(row)
    found = [(int(f), int(kg.f.pred[f]), int(kg.f.obj[f]), True) for f in out]
    found += [(int(f), int(kg.f.pred[f]), int(kg.f.subj[f]), False) for f in into]
    return [
        n
        for n in found
        if not kg.discovery_only[n[1]]
        and kg.is_named[n[2]]
        and kg.constraint_ok[n[0]]
        and (blocked is None or not blocked[n[2]])
        and (not sparse or kg.stated_by(n[0]))
    ]


def walk_degree(kg: KnowledgeGraph, row: int) -> int:
    """The relations a walk weighs against the hub cap: all of them, or the stated ones.

    In a text-only World (``kg.sparse_provenance``) a walk can only follow stated facts, so a
    country with thousands of facts in the dump but a dozen stated by its lead is no hub
    there; counting every fact made most countries unreachable in an ``--all-properties``
    World (diplomatic relations, borders, memberships) and left ``graph_too_small``. Only
    the walk changes: uniqueness is still solved over every fact of the World.
    """
    if not kg.sparse_provenance:
        return kg.degree(row)
    return _stated_degree(kg, row)


SPARSE_HUB_SHARE = 5
"""In a text-only World an entity is a hub past ``hub_cap / SPARSE_HUB_SHARE`` stated relations
(30 by default): leads state few relations even of big hubs, and the one that passes (the
United States, with 96 stated citizenships and 1,361 relations in the dump) turns every
walk through it into a star of one country's citizens (``ambiguous``)."""


def is_hub(kg: KnowledgeGraph, row: int, hub_cap: int) -> bool:
    """Whether walks skip ``row``: more relations than ``hub_cap`` (see ``walk_degree``)."""
    if kg.sparse_provenance:
        return walk_degree(kg, row) > hub_cap // SPARSE_HUB_SHARE
    return walk_degree(kg, row) > hub_cap


@lru_cache(maxsize=1 << 16)
def _stated_degree(kg: KnowledgeGraph, row: int) -> int:
    """Cached: every walk step weighs each candidate, and the count never changes."""
    return len(_neighbours(kg, row))


def expand(
    kg: KnowledgeGraph,
    seed: int,
    size: int,
    rng: np.random.Generator,
    *,
    hub_cap: int,
    blocked: np.ndarray | None = None,
) -> MasterGraph:
    """Grow a tree of ``size`` nodes from ``seed`` over relation facts (both directions).

    Walks prefer the newest node (long chains, as deep backtracking needs) and, in a World
    with knowledge-base pages, mostly an edge whose fact a text page states (``TEXT_FIRST``);
    in a text-only World (``kg.sparse_provenance``: stated facts only), mostly an edge over a
    strong predicate (a capital, a film's cast, a headquarters) rather than a crowd such as
    citizenship, which otherwise turns every walk into a star of one country's citizens;
    they skip look-alike entities, ``blocked`` ones (fictional, meta) and hubs above
    ``hub_cap`` relations (a country has thousands of citizens; it can still join later as a
    shared value).
    """
    g = MasterGraph(rows=[seed])
    index = {seed: 0}
    for _ in range(size * 8):
        if len(g.rows) >= size:
            break
        at = len(g.rows) - 1 if rng.random() < 0.6 else int(rng.integers(len(g.rows)))
        options = [
            n
            for n in _neighbours(kg, g.rows[at], blocked)
            if n[2] not in index and not kg.is_distractor[n[2]] and not is_hub(kg, n[2], hub_cap)
        ]
        if not options:
            continue
        texted = [n for n in options if _text_edge(kg, n)] if kg.database_docs else []
        if texted and rng.random() < TEXT_FIRST:
            options = texted
        if kg.sparse_provenance:  # text only: mostly a strong relation where one is stated
            strong = [n for n in options if not low_cardinality(kg, n[1])]
            if strong and rng.random() < TEXT_FIRST:
                options = strong
        fact, pred, other, outgoing = options[int(rng.integers(len(options)))]
        index[other] = len(g.rows)
        g.rows.append(other)
        a, b = (at, index[other]) if outgoing else (index[other], at)
        g.edges.append(Edge("relation", a, b, pred, (fact,)))
    return g


def _text_edge(kg: KnowledgeGraph, n: tuple[int, int, int, bool]) -> bool:
    """Whether a walk in a World with knowledge-base pages should steer to this edge.

    Stated by a text page, and not over a crowd predicate (citizenship): leads state that for
    most people, and it cannot carry uniqueness on a sample World.
    """
    return text_stated(kg, n[0]) and not low_cardinality(kg, n[1])


def _closing_edges(
    kg: KnowledgeGraph, g: MasterGraph, blocked: np.ndarray | None = None
) -> list[Edge]:
    """Real-fact edges between nodes already in ``g`` that are not edges yet."""
    index = {r: i for i, r in enumerate(g.rows)}
    found: list[Edge] = []
    for i, row in enumerate(g.rows):
        for fact, pred, other, outgoing in _neighbours(kg, row, blocked):
            j = index.get(other)
            if j is None or j == i or not outgoing or g.has_pair(i, j):
                continue
            found.append(Edge("relation", i, j, pred, (fact,)))
    shared: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, row in enumerate(g.rows):
        out = kg.facts_of(row)
        for f in out[(kg.f.obj[out] >= 0) & kg.constraint_ok[out]].tolist():
            if kg.sparse_provenance and not kg.stated_by(f):
                continue  # a text-only World: an unstated shared value is uncoverable
            obj = int(kg.f.obj[f])
            if (
                kg.type_of(obj) in SHARED_TYPES
                and obj not in index
                and (blocked is None or not blocked[obj])
            ):
                shared.setdefault((int(kg.f.pred[f]), obj), []).append((i, f))
    for (pred, _), members in sorted(shared.items()):
        if kg.discovery_only[pred]:
            continue
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                (i, fi), (j, fj) = members[x], members[y]
                if i != j and not g.has_pair(i, j):
                    found.append(Edge("same", i, j, pred, (fi, fj)))
    return _dedupe(kg, found)


def _cycle_nodes(
    kg: KnowledgeGraph, g: MasterGraph, hub_cap: int, blocked: np.ndarray | None = None
) -> list[tuple[int, list[Edge]]]:
    """New entities linked by facts to two or more nodes of ``g`` (each closes a cycle)."""
    index = {r: i for i, r in enumerate(g.rows)}
    links: dict[int, list[tuple[int, int, int, bool]]] = {}
    for i, row in enumerate(g.rows):
        for fact, pred, other, outgoing in _neighbours(kg, row, blocked):
            if other in index or kg.is_distractor[other] or is_hub(kg, other, hub_cap):
                continue
            links.setdefault(other, []).append((i, fact, pred, outgoing))
    new = len(g.rows)
    out: list[tuple[int, list[Edge]]] = []
    for other, hits in sorted(links.items()):
        if len({h[0] for h in hits}) < 2:
            continue
        edges = [
            Edge("relation", new, i, pred, (fact,))
            if not outgoing
            else Edge("relation", i, new, pred, (fact,))
            for i, fact, pred, outgoing in hits
        ]
        out.append((other, _dedupe(kg, edges)))
    return out


@dataclass
class Densified:
    """A densified graph and how it got there."""

    graph: MasterGraph
    width: int
    tried: Counter[str] = field(default_factory=Counter)


def densify(
    kg: KnowledgeGraph,
    g: MasterGraph,
    target: int,
    rng: np.random.Generator,
    *,
    max_nodes: int,
    hub_cap: int,
    rounds: int = 24,
    blocked: np.ndarray | None = None,
) -> Densified:
    """Add real-fact edges until the treewidth reaches ``target`` (never exceeding it).

    ``blocked`` entities (fictional, meta) join neither as cycle nodes nor as shared values.
    """
    width = g.width()
    result = Densified(g, width)
    for _ in range(rounds):
        if width >= target:
            break
        edges = _closing_edges(kg, g, blocked)
        rng.shuffle(edges)  # type: ignore[arg-type]
        grown = False
        for e in _dedupe(kg, edges):
            if any(edge_key(kg, x) == edge_key(kg, e) for x in g.edges):
                continue  # the reverse of a symmetric edge added earlier in this round
            g.edges.append(e)
            w = g.width()
            if w <= target:
                width, grown = w, True
                result.tried["added"] += 1
                if width >= target:
                    break
            else:
                g.edges.pop()
                result.tried["over_target"] += 1
        if width >= target or len(g.rows) >= max_nodes:
            if not grown:
                break
            continue
        candidates = _cycle_nodes(kg, g, hub_cap, blocked)
        if not candidates:
            if not grown:
                break
            continue
        other, new_edges = candidates[int(rng.integers(len(candidates)))]
        g.rows.append(other)
        g.edges.extend(new_edges)
        w = g.width()
        if w <= target:
            width = w
            result.tried["cycle_node"] += 1
        else:
            del g.edges[-len(new_edges) :]
            g.rows.pop()
            result.tried["over_target"] += 1
    result.width = width
    return result
