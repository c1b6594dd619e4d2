"""Exact treewidth of small reasoning graphs, with a tree decomposition and an elimination order.

Why exact: the treewidth of a task's reasoning graph is its structural difficulty label (paper
§3.1.1), and labels are training and filtering signals. A heuristic upper bound such as min-fill
silently over-labels some graphs (it already over-estimates some random 8-vertex ones), which would
put easy tasks into a hard bucket. Reasoning graphs are small (typically 4–15 variables,
treewidth 1–5), so an exact answer is cheap.

How: treewidth is the minimum, over elimination orders, of the largest number of later
neighbours a vertex has when it is eliminated. For each connected component we

1. apply the safe reductions of Bodlaender & Koster (2006): a *simplicial* vertex v (its
   neighbours form a clique) can be eliminated first, and tw(G) = max(deg v, tw(G - v)); an
   *almost simplicial* vertex (all neighbours but one form a clique) of degree at most a known
   lower bound can be eliminated first too, because the graph left is a minor of G (so its
   treewidth is no larger) and the elimination costs no more than the bound;
2. bound: a lower bound by minor-min-width (MMD+ with the min-d contraction rule, Bodlaender,
   Koster & Wolle 2011) and an upper bound by the better of the min-fill and min-degree orders;
3. decide "treewidth <= k" for k from the lower bound up by a depth-first search over
   elimination orders, memoizing failed *sets of remaining vertices*: the graph left after
   eliminating a set does not depend on the order it was eliminated in, so this is the
   elimination-order dynamic program of Bodlaender, Fomin, Koster, Kratsch & Thilikos (2006)
   with branch-and-bound pruning. Every search state re-applies the reductions (with k as the
   bound) to the vertices its last elimination touched, splits into connected components
   (solved separately), prunes by MMD+ and branches only on vertices of degree <= k outside a
   fixed maximum clique (some optimal order eliminates any given clique last).

The first k that succeeds is the treewidth; if none below the upper bound does, the upper bound
is. Components whose reduced kernel has more than ``exact_limit`` vertices, and searches that
run past ``time_limit``, return the heuristic order with ``exact=False`` (``exact`` stays True
whenever the bounds meet, since the width is then proven).

Cost (benchmarks/bench_treewidth.py): graphs the size of reasoning graphs take milliseconds
(random 20-vertex graphs of edge density 0.2: median under 1 ms, slowest of 20 about 15 ms;
Petersen and the 4x4 and 5x5 grids: 1–4 ms). The search is exponential, though: the 6x6 grid
takes about 2 s and a random 30-vertex graph of treewidth 8–12 can take tens of seconds, so
callers that may meet such graphs should pass ``time_limit``.

Determinism: vertices are numbered by ``repr`` (ties broken by first appearance in the
mapping), and every choice scans vertices in that numbering, so the same graph always gets the
same order and decomposition, whatever order its mapping was built in.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["TreeDecomposition", "treewidth", "validate_decomposition"]

H = TypeVar("H", bound=Hashable)


@dataclass(frozen=True)
class TreeDecomposition(Generic[H]):
    """A tree decomposition built from an elimination order.

    ``bags[i]`` belongs to ``order[i]``: it holds that vertex and its neighbours that are still
    present when it is eliminated (in the graph filled in by earlier eliminations), so reading
    the bags in order is a ready-made variable order for a constraint solver.
    """

    width: int
    """Largest bag size minus one: the treewidth when ``exact``. 0 for edge-less graphs and,
    by convention here (the textbook value is -1), for the empty graph, which has no bags."""
    bags: tuple[frozenset[H], ...]
    """One bag per vertex, aligned with ``order``."""
    edges: tuple[tuple[int, int], ...]
    """Tree edges ``(i, j)`` with ``i < j`` between bag indices; always a single tree (the
    roots of separate components are chained, which is valid as they share no vertex)."""
    order: tuple[H, ...]
    """An elimination order whose width is ``width`` (optimal when ``exact``)."""
    exact: bool
    """True when ``width`` is proven to be the treewidth."""


class _Timeout(Exception):
    """The search ran past its deadline."""


class _Clock:
    """A cheap deadline check: looks at the time on the first search state and every 64th after."""

    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if (
            self.deadline is not None
            and (self.count & 63) == 1
            and time.monotonic() > self.deadline
        ):
            raise _Timeout


# ---------------------------------------------------------------------------------------------
# Bitmask graph primitives. ``adj[v]`` is the neighbour set of v as a bitmask; within a state
# ``mask`` holds the remaining vertices and every ``adj[v]`` (v in mask) is a subset of mask.
# ---------------------------------------------------------------------------------------------


def _bits(mask: int) -> Iterator[int]:
    """The indices of the set bits of ``mask``, ascending."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _eliminate(adj: list[int], v: int) -> list[int]:
    """A copy of ``adj`` with v eliminated: its neighbours become a clique, v disappears."""
    new = adj[:]
    nb = adj[v]
    gone = 1 << v
    for u in _bits(nb):
        new[u] = (adj[u] | nb) & ~((1 << u) | gone)
    new[v] = 0
    return new


def _components(adj: list[int], mask: int) -> list[int]:
    """Connected components of G[mask], each a bitmask, ordered by their lowest vertex."""
    comps = []
    rest = mask
    while rest:
        comp = frontier = rest & -rest
        while frontier:
            reach = 0
            for v in _bits(frontier):
                reach |= adj[v]
            frontier = reach & rest & ~comp
            comp |= frontier
        comps.append(comp)
        rest &= ~comp
    return comps


def _fill(adj: list[int], v: int) -> int:
    """The number of edges eliminating v would add."""
    nb = adj[v]
    missing = sum((nb & ~adj[u] & ~(1 << u)).bit_count() for u in _bits(nb))
    return missing // 2


def _is_clique(adj: list[int], vertices: int) -> bool:
    """Whether ``vertices`` induce a clique."""
    return all(vertices & ~(1 << u) & ~adj[u] == 0 for u in _bits(vertices))


def _kind(adj: list[int], v: int) -> int:
    """0 if v is simplicial, 1 if almost simplicial, 2 otherwise."""
    nb = adj[v]
    for u in _bits(nb):
        missing = nb & ~adj[u] & ~(1 << u)
        if missing:
            break
    else:
        return 0
    # If all of N(v) but w is a clique, every missing edge touches w: so w is u itself or, when
    # u misses exactly one neighbour, that one.
    candidates = [u]
    if missing.bit_count() == 1:
        candidates.append(missing.bit_length() - 1)
    if any(_is_clique(adj, nb & ~(1 << w)) for w in candidates):
        return 1
    return 2


def _mmd_plus(adj: list[int], mask: int) -> int:
    """Minor-min-width lower bound: contract a min-degree vertex into its min-degree neighbour."""
    a = adj[:]
    live = mask
    lb = 0
    while live:
        size = live.bit_count()
        if size - 1 <= lb:
            break
        best, best_d = -1, size
        for v in _bits(live):
            d = a[v].bit_count()
            if d < best_d:
                best, best_d = v, d
        lb = max(lb, best_d)
        nb = a[best]
        live &= ~(1 << best)
        if not nb:
            continue
        u = min(_bits(nb), key=lambda w: (a[w].bit_count(), w))
        for w in _bits(nb):
            a[w] &= ~(1 << best)
        others = nb & ~(1 << u)
        for w in _bits(others):
            a[w] |= 1 << u
        a[u] |= others
        a[best] = 0
    return lb


def _greedy(adj: list[int], mask: int, *, by_fill: bool) -> tuple[int, list[int]]:
    """A min-fill (or min-degree) elimination order of the state and its width."""
    width, order = 0, []
    while mask:
        if by_fill:
            v = min(_bits(mask), key=lambda x: (_fill(adj, x), adj[x].bit_count(), x))
        else:
            v = min(_bits(mask), key=lambda x: (adj[x].bit_count(), _fill(adj, x), x))
        width = max(width, adj[v].bit_count())
        order.append(v)
        adj = _eliminate(adj, v)
        mask &= ~(1 << v)
    return width, order


def _upper(adj: list[int], mask: int) -> tuple[int, list[int]]:
    """The better of the min-fill and min-degree orders (min-fill wins ties)."""
    by_fill = _greedy(adj, mask, by_fill=True)
    by_degree = _greedy(adj, mask, by_fill=False)
    return by_degree if by_degree[0] < by_fill[0] else by_fill


def _touched(adj: list[int], v: int) -> int:
    """Vertices whose (almost) simplicial status may change when v's neighbours are joined."""
    nb = adj[v]
    out = nb
    for u in _bits(nb):
        out |= adj[u]
    return out & ~(1 << v)


def _reduce(
    adj: list[int], mask: int, low: int, cap: int | None, dirty: int
) -> tuple[list[int], int, list[int], int]:
    """Eliminate simplicial and almost simplicial vertices while it is safe.

    Only vertices in ``dirty`` (and those touched by an elimination made here) are examined:
    an elimination changes no neighbourhood outside the neighbours of the vertex and theirs.
    Skipping a reduction never breaks correctness, it only costs search.

    Invariant: tw(state before) == max(low, tw(state after)). With ``cap`` set (deciding
    "tw <= cap", and ``low == cap``) vertices of degree above the cap are left alone.
    """
    prefix: list[int] = []
    dirty &= mask
    while dirty:
        bit = dirty & -dirty
        dirty ^= bit
        v = bit.bit_length() - 1
        d = adj[v].bit_count()
        if cap is not None and d > cap:
            continue  # could only prove "no", which the lower bound checks more cheaply
        kind = _kind(adj, v)
        if kind == 0 and d > low:
            low = d
            dirty = mask  # a higher bound may admit almost simplicial vertices passed over
        elif kind == 2 or (kind == 1 and d > low):
            continue
        prefix.append(v)
        dirty = (dirty | _touched(adj, v)) & ~bit
        adj = _eliminate(adj, v)
        mask &= ~bit
    return adj, mask, prefix, low


def _max_clique(adj: list[int], mask: int) -> int:
    """A maximum clique of G[mask] (Bron–Kerbosch with pivoting; graphs here are small)."""
    best = 0

    def grow(clique: int, cand: int, excl: int) -> None:
        nonlocal best
        if not cand and not excl:
            if clique.bit_count() > best.bit_count():
                best = clique
            return
        if clique.bit_count() + cand.bit_count() <= best.bit_count():
            return
        pivot = max(_bits(cand | excl), key=lambda u: ((cand & adj[u]).bit_count(), -u))
        for v in _bits(cand & ~adj[pivot]):
            grow(clique | 1 << v, cand & adj[v], excl & adj[v])
            cand &= ~(1 << v)
            excl |= 1 << v

    grow(0, mask, 0)
    return best


class _Decider:
    """Decide "treewidth <= k" for one kernel by depth-first search over elimination orders.

    A state is the set of vertices still to eliminate; the graph at a state is the kernel with
    the other vertices eliminated, which does not depend on the order they went in. States that
    fail are memoized, so each is expanded once (the Bodlaender et al. 2006 dynamic program,
    explored depth first). At each state: safe reductions with k as the bound, a split into
    connected components (each must succeed on its own), the MMD+ lower bound, then branching
    on the vertices of degree <= k, never on the vertices of ``clique``: a clique of the kernel
    stays a clique in every state, and some optimal order of any graph eliminates a given
    clique last.
    """

    def __init__(self, k: int, clique: int, clock: _Clock) -> None:
        self.k = k
        self.clique = clique
        self.clock = clock
        self.failed: set[int] = set()

    def decide(self, adj: list[int], mask: int, dirty: int) -> list[int] | None:
        """An elimination order of the state with width <= k, or None if there is none."""
        if mask.bit_count() <= self.k + 1:
            return list(_bits(mask))
        if mask in self.failed:
            return None
        self.clock.tick()
        result = self._expand(adj, mask, dirty)
        if result is None:
            self.failed.add(mask)
        return result

    def _expand(self, adj: list[int], mask: int, dirty: int) -> list[int] | None:
        k = self.k
        adj, rest, prefix, _ = _reduce(adj, mask, k, k, dirty)
        if rest != mask:
            sub = self.decide(adj, rest, 0)
            return None if sub is None else prefix + sub
        comps = _components(adj, mask)
        if len(comps) > 1:
            order: list[int] = []
            for comp in comps:
                part = self.decide(adj, comp, 0)
                if part is None:
                    return None
                order += part
            return order
        if _mmd_plus(adj, mask) > k:
            return None
        candidates = [v for v in _bits(mask & ~self.clique) if adj[v].bit_count() <= k]
        candidates.sort(key=lambda v: (_fill(adj, v), adj[v].bit_count(), v))
        for v in candidates:
            touched = _touched(adj, v)
            sub = self.decide(_eliminate(adj, v), mask & ~(1 << v), touched)
            if sub is not None:
                return [v, *sub]
        return None


def _solve_component(
    adj: list[int], comp: int, exact_limit: int, clock: _Clock
) -> tuple[int, list[int], bool]:
    """Width, elimination order and exactness for one connected component."""
    low0 = _mmd_plus(adj, comp)
    adj, kernel, prefix, low = _reduce(adj, comp, low0, None, comp)
    if not kernel:
        return low, prefix, True
    lb = max(low, _mmd_plus(adj, kernel))
    ub_width, ub_order = _upper(adj, kernel)
    ub = max(low, ub_width)
    if lb >= ub or kernel.bit_count() > exact_limit:
        return ub, prefix + ub_order, lb >= ub
    try:
        clique = _max_clique(adj, kernel)
        lb = max(lb, clique.bit_count() - 1)
        for k in range(lb, ub):
            found = _Decider(k, clique, clock).decide(adj, kernel, kernel)
            if found is not None:
                return k, prefix + found, True
    except _Timeout:
        return ub, prefix + ub_order, False
    return ub, prefix + ub_order, True


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def _index(graph: Mapping[H, Iterable[H]]) -> tuple[list[H], list[int]]:
    """Number the vertices by (repr, first appearance) and build symmetric bitmask adjacency."""
    seen: dict[H, int] = {}
    pairs: list[tuple[H, H]] = []
    for v, nbrs in graph.items():
        seen.setdefault(v, len(seen))
        for u in nbrs:
            seen.setdefault(u, len(seen))
            if u != v:
                pairs.append((v, u))
    nodes = sorted(seen, key=lambda x: (repr(x), seen[x]))
    pos = {v: i for i, v in enumerate(nodes)}
    adj = [0] * len(nodes)
    for v, u in pairs:
        adj[pos[v]] |= 1 << pos[u]
        adj[pos[u]] |= 1 << pos[v]
    return nodes, adj


def _build(
    nodes: list[H], adj: list[int], order: list[int]
) -> tuple[int, tuple[frozenset[H], ...], tuple[tuple[int, int], ...]]:
    """Bags and tree edges of the decomposition an elimination order induces."""
    position = {v: i for i, v in enumerate(order)}
    bags: list[frozenset[H]] = []
    edges: list[tuple[int, int]] = []
    roots: list[int] = []
    width = 0
    for i, v in enumerate(order):
        later = adj[v]
        width = max(width, later.bit_count())
        bags.append(frozenset(nodes[u] for u in (v, *_bits(later))))
        if later:
            edges.append((i, min(position[u] for u in _bits(later))))
        else:
            roots.append(i)
        adj = _eliminate(adj, v)
    edges += itertools.pairwise(roots)
    return width, tuple(bags), tuple(sorted(edges))


def treewidth(
    graph: Mapping[H, Iterable[H]], *, exact_limit: int = 30, time_limit: float | None = None
) -> TreeDecomposition[H]:
    """Compute the treewidth of an undirected graph, with a decomposition that proves it.

    Args:
        graph: Adjacency mapping. Edges may be listed on one side or both; self-loops are
            ignored and repeated edges collapse. Vertices that appear only as neighbours count.
        exact_limit: Components whose kernel (what is left after the safe reductions) has more
            vertices than this get the heuristic (min-fill / min-degree) order instead of the
            exact search; ``exact`` is then False unless the lower bound meets it.
        time_limit: Seconds for the whole call; when the exact search runs past it the
            heuristic order is returned with ``exact=False``. None means no limit.

    Returns:
        The decomposition; ``width`` is the treewidth when ``exact`` is True.

    Raises:
        ValueError: ``exact_limit`` or ``time_limit`` is negative.
    """
    if exact_limit < 0:
        raise ValueError(f"exact_limit must be >= 0, got {exact_limit}")
    if time_limit is not None and not time_limit >= 0:
        raise ValueError(f"time_limit must be >= 0 or None, got {time_limit}")
    nodes, adj = _index(graph)
    clock = _Clock(None if time_limit is None else time.monotonic() + time_limit)
    order: list[int] = []
    claimed, exact = 0, True
    for comp in _components(adj, (1 << len(nodes)) - 1):
        width, part, proven = _solve_component(adj, comp, exact_limit, clock)
        claimed, exact = max(claimed, width), exact and proven
        order += part
    width, bags, edges = _build(nodes, adj, order)
    assert width == claimed, f"internal error: order width {width} != claimed {claimed}"
    return TreeDecomposition(
        width=width, bags=bags, edges=edges, order=tuple(nodes[v] for v in order), exact=exact
    )


def validate_decomposition(graph: Mapping[H, Iterable[H]], td: TreeDecomposition[H]) -> None:
    """Check that ``td`` is a tree decomposition of ``graph`` with a consistent width and order.

    Checks, in order: bags hold only graph vertices; tree edges join existing bags and form a
    forest; every vertex is in a bag; every edge is inside a bag; the bags holding any vertex
    form a connected subtree (running intersection); ``width`` is the largest bag size minus one
    (0 with no bags); ``order`` lists every vertex once and its elimination width is ``width``.

    Raises:
        ValueError: Naming the first property that does not hold.
    """
    nodes, adj = _index(graph)
    pos = {v: i for i, v in enumerate(nodes)}
    for i, bag in enumerate(td.bags):
        strangers = [v for v in bag if v not in pos]
        if strangers:
            raise ValueError(f"bag {i} contains non-vertices {strangers!r}")
    parent = list(range(len(td.bags)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    neighbours: list[list[int]] = [[] for _ in td.bags]
    for i, j in td.edges:
        if not (0 <= i < len(td.bags) and 0 <= j < len(td.bags)) or i == j:
            raise ValueError(f"tree edge {(i, j)} does not join two distinct bags")
        if find(i) == find(j):
            raise ValueError(f"tree edges contain a cycle (edge {(i, j)})")
        parent[find(i)] = find(j)
        neighbours[i].append(j)
        neighbours[j].append(i)
    holding: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    masks = []
    for b, bag in enumerate(td.bags):
        mask = 0
        for vertex in bag:
            holding[pos[vertex]].append(b)
            mask |= 1 << pos[vertex]
        masks.append(mask)
    for v, where in holding.items():
        if not where:
            raise ValueError(f"vertex coverage: {nodes[v]!r} is in no bag")
    for v in range(len(nodes)):
        for u in _bits(adj[v] & ~((1 << (v + 1)) - 1)):
            if not any(m >> v & 1 and m >> u & 1 for m in masks):
                raise ValueError(f"edge coverage: edge {(nodes[v], nodes[u])!r} is in no bag")
    for v, where in holding.items():
        inside, stack, reached = set(where), [where[0]], {where[0]}
        while stack:
            for j in neighbours[stack.pop()]:
                if j in inside and j not in reached:
                    reached.add(j)
                    stack.append(j)
        if reached != inside:
            raise ValueError(f"running intersection: bags holding {nodes[v]!r} are not connected")
    expected = max((len(bag) for bag in td.bags), default=1) - 1
    if td.width != expected:
        raise ValueError(
            f"width {td.width} does not match the largest bag ({expected + 1} vertices)"
        )
    if len(td.order) != len(nodes) or {pos.get(v) for v in td.order} != set(range(len(nodes))):
        raise ValueError("order must list every vertex exactly once")
    order_width = _build(nodes, adj, [pos[v] for v in td.order])[0]
    if order_width != td.width:
        raise ValueError(f"order has elimination width {order_width}, not width {td.width}")
