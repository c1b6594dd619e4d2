"""Exact treewidth: reference values on known graph families, brute force, and validation.

The references here (brute force over elimination orders, a clique/degeneracy lower bound, the
min-fill order) are written with plain sets, independently of the module's bitmask code.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.synth._treewidth import TreeDecomposition, treewidth, validate_decomposition

Graph = dict[Hashable, set[Hashable]]


# --- graph builders ---------------------------------------------------------------------------


def from_edges(vertices: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]]) -> Graph:
    g: Graph = {v: set() for v in vertices}
    for a, b in edges:
        g[a].add(b)
        g[b].add(a)
    return g


def path(n: int) -> Graph:
    return from_edges(range(n), [(i, i + 1) for i in range(n - 1)])


def star(leaves: int) -> Graph:
    return from_edges(range(leaves + 1), [(0, i) for i in range(1, leaves + 1)])


def random_tree(n: int, seed: int) -> Graph:
    rng = random.Random(seed)
    return from_edges(range(n), [(i, rng.randrange(i)) for i in range(1, n)])


def cycle(n: int) -> Graph:
    return from_edges(range(n), [(i, (i + 1) % n) for i in range(n)])


def complete(n: int) -> Graph:
    return from_edges(range(n), itertools.combinations(range(n), 2))


def grid(k: int) -> Graph:
    cells = [(r, c) for r in range(k) for c in range(k)]
    edges = [((r, c), (r, c + 1)) for r in range(k) for c in range(k - 1)]
    edges += [((r, c), (r + 1, c)) for r in range(k - 1) for c in range(k)]
    return from_edges(cells, edges)


def petersen() -> Graph:
    outer = [(i, (i + 1) % 5) for i in range(5)]
    spokes = [(i, i + 5) for i in range(5)]
    inner = [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
    return from_edges(range(10), outer + spokes + inner)


def bipartite(m: int, n: int) -> Graph:
    left, right = [("L", i) for i in range(m)], [("R", j) for j in range(n)]
    return from_edges(left + right, itertools.product(left, right))


def union(*graphs: Graph) -> Graph:
    out: Graph = {}
    for i, g in enumerate(graphs):
        out.update({(i, v): {(i, u) for u in ns} for v, ns in g.items()})
    return out


# --- independent references -------------------------------------------------------------------


def eliminate(adj: dict[Hashable, set[Hashable]], v: Hashable) -> int:
    """Eliminate v in place; return its degree at that moment."""
    ns = adj.pop(v)
    for a in ns:
        adj[a] |= ns - {a}
        adj[a].discard(v)
    return len(ns)


def order_width(g: Mapping[Hashable, set[Hashable]], order: Iterable[Hashable]) -> int:
    adj = {v: set(ns) for v, ns in g.items()}
    return max((eliminate(adj, v) for v in order), default=0)


def brute_force(g: Graph) -> int:
    return min((order_width(g, p) for p in itertools.permutations(g)), default=0)


def subset_dp(g: Graph) -> int:
    """Treewidth by the O*(2^n) recurrence TW(S) = min_v max(TW(S - v), |Q(S - v, v)|).

    Q(S, v) are the vertices outside S + v reachable from v through S: v's degree when it is
    eliminated right after the set S (Bodlaender et al. 2006).
    """
    vs = list(g)
    index = {v: i for i, v in enumerate(vs)}
    nbr = [sum(1 << index[u] for u in g[v]) for v in vs]
    n = len(vs)

    def q(s: int, v: int) -> int:
        seen, frontier, out = 1 << v, 1 << v, 0
        while frontier:
            reach = 0
            for i in range(n):
                if frontier >> i & 1:
                    reach |= nbr[i]
            reach &= ~seen
            seen |= reach
            out |= reach & ~s
            frontier = reach & s
        return out.bit_count()

    tw = [-1] * (1 << n)
    for s in range(1, 1 << n):
        tw[s] = min(max(tw[s & ~(1 << v)], q(s & ~(1 << v), v)) for v in range(n) if s >> v & 1)
    return max(tw[(1 << n) - 1], 0)


def min_fill_width(g: Graph) -> int:
    adj = {v: set(ns) for v, ns in g.items()}
    width = 0
    while adj:

        def fill(v: Hashable) -> int:
            ns = adj[v]
            return sum(1 for a, b in itertools.combinations(ns, 2) if b not in adj[a])

        v = min(adj, key=lambda x: (fill(x), len(adj[x]), repr(x)))
        width = max(width, eliminate(adj, v))
    return width


def lower_bound(g: Graph) -> int:
    """max(degeneracy, largest clique - 1): both are lower bounds on treewidth."""
    adj = {v: set(ns) for v, ns in g.items()}
    degeneracy = 0
    while adj:
        v = min(adj, key=lambda x: len(adj[x]))
        degeneracy = max(degeneracy, len(adj[v]))
        for u in adj.pop(v):
            adj[u].discard(v)
    clique = 0

    def grow(size: int, candidates: set[Hashable]) -> None:  # plain clique enumeration
        nonlocal clique
        clique = max(clique, size)
        for v in list(candidates):
            candidates = candidates - {v}
            grow(size + 1, candidates & g[v])

    grow(0, set(g))
    return max(degeneracy, clique - 1)


def check(g: Graph) -> TreeDecomposition[Hashable]:
    td = treewidth(g)
    validate_decomposition(g, td)
    assert set(td.order) == set(g) and len(td.order) == len(g)
    assert len(td.bags) == len(g)
    return td


# --- known families ---------------------------------------------------------------------------


def test_empty_graph_has_width_zero_and_no_bags() -> None:
    td = check({})
    assert (td.width, td.bags, td.edges, td.order, td.exact) == (0, (), (), (), True)


@pytest.mark.parametrize(
    ("graph", "width"),
    [
        pytest.param({"x": []}, 0, id="single"),
        pytest.param(from_edges(range(6), []), 0, id="edgeless"),
        pytest.param({"a": ["a"], "b": []}, 0, id="self-loops-ignored"),
        *[pytest.param(path(n), 1, id=f"P{n}") for n in (2, 3, 10, 30)],
        *[pytest.param(star(n), 1, id=f"star{n}") for n in (1, 5, 40)],
        *[pytest.param(random_tree(n, seed), 1, id=f"tree{n}-{seed}") for n, seed in
          [(5, 0), (12, 1), (25, 2), (60, 3)]],
        *[pytest.param(cycle(n), 2, id=f"C{n}") for n in (3, 4, 5, 9, 20, 45)],
        *[pytest.param(complete(n), n - 1, id=f"K{n}") for n in range(1, 10)],
        *[pytest.param(grid(k), k, id=f"grid{k}") for k in (2, 3, 4, 5)],
        pytest.param(petersen(), 4, id="petersen"),
        *[pytest.param(bipartite(m, n), min(m, n), id=f"K{m},{n}") for m, n in
          [(1, 1), (1, 4), (2, 2), (2, 5), (3, 3), (3, 5), (4, 4), (5, 3)]],
    ],
)  # fmt: skip
def test_known_families(graph: Graph, width: int) -> None:
    td = check(graph)
    assert td.width == width
    assert td.exact


@pytest.mark.slow
def test_six_by_six_grid() -> None:
    td = check(grid(6))
    assert (td.width, td.exact) == (6, True)


@pytest.mark.parametrize(
    ("parts", "width"),
    [
        ((complete(4), cycle(5)), 3),
        ((path(3), petersen(), star(4)), 4),
        ((grid(3), bipartite(2, 2), complete(1)), 3),
        ((from_edges(range(3), []), cycle(3)), 2),
    ],
)
def test_disconnected_union_takes_the_max(parts: tuple[Graph, ...], width: int) -> None:
    td = check(union(*parts))
    assert td.width == width and td.exact
    # Components are chained into one tree: bags - 1 edges.
    assert len(td.edges) == len(td.bags) - 1


# --- input handling and determinism -----------------------------------------------------------


def test_one_sided_symmetric_and_repeated_edges_agree() -> None:
    one_sided = {0: [1, 2, 3], 1: [2], 2: [3], 3: []}
    symmetric = from_edges(range(4), [(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)])
    repeated = {0: [1, 1, 2, 3, 0], 1: [0, 2, 2], 2: [3, 0], 3: [2]}
    results = {treewidth(g) for g in (one_sided, symmetric, repeated)}
    assert len(results) == 1
    assert results.pop().width == 2


def test_vertices_named_only_as_neighbours_count() -> None:
    td = treewidth({"a": ["b", "c"], "b": ["c"]})  # "c" is never a key
    assert td.width == 2 and set(td.order) == {"a", "b", "c"}


def test_result_does_not_depend_on_mapping_order() -> None:
    g = union(petersen(), grid(3), cycle(6))
    items = list(g.items())
    random.Random(7).shuffle(items)
    shuffled = {v: sorted(ns, key=repr, reverse=True) for v, ns in items}
    assert treewidth(g) == treewidth(shuffled)


def test_order_and_bags_line_up() -> None:
    g = grid(4)
    td = treewidth(g)
    for v, bag in zip(td.order, td.bags, strict=True):
        assert v in bag
    assert order_width(g, td.order) == td.width


def test_exact_limit_falls_back_to_the_heuristic() -> None:
    td = treewidth(grid(5), exact_limit=0)  # the bounds (4 and 5) do not meet on the 5x5 grid
    validate_decomposition(grid(5), td)
    assert td.width >= 5 and not td.exact
    # Bounds that meet prove the width even without search: trees, cycles, cliques.
    assert treewidth(cycle(40), exact_limit=0).exact
    assert treewidth(complete(7), exact_limit=0).exact


def test_time_limit_falls_back_to_the_heuristic() -> None:
    td = treewidth(grid(5), time_limit=0)
    validate_decomposition(grid(5), td)
    assert td.width >= 5 and not td.exact
    assert treewidth(grid(5), time_limit=60).exact


@pytest.mark.parametrize("kwargs", [{"exact_limit": -1}, {"time_limit": -0.5}])
def test_invalid_limits(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        treewidth(cycle(4), **kwargs)  # type: ignore[arg-type]


# --- reference comparisons --------------------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn, max_n: int) -> Graph:
    n = draw(st.integers(0, max_n))
    pairs = list(itertools.combinations(range(n), 2))
    edges = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    return from_edges(range(n), edges)


@settings(max_examples=150, deadline=None)
@given(graphs(max_n=7))
def test_matches_brute_force_over_all_orders(g: Graph) -> None:
    td = check(g)
    assert td.width == brute_force(g)
    assert td.exact


# Graphs where the min-fill / min-degree bound is not tight, so the answer needs the search to
# *succeed* below the heuristic width (rare in small random graphs; found by sampling).
HEURISTIC_MISSES = [
    pytest.param(12, [(0, 2), (0, 3), (0, 5), (0, 7), (0, 8), (1, 2), (1, 3), (1, 7), (1, 9), (1, 11), (2, 3), (2, 4), (2, 8), (2, 10), (3, 4), (3, 6), (3, 9), (3, 10), (4, 5), (4, 7), (4, 9), (4, 11), (5, 8), (5, 9), (6, 8), (6, 9), (6, 10), (7, 9), (7, 10), (8, 9), (8, 10), (9, 11)], 5, id="n12-tw5"),
    pytest.param(13, [(0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (0, 7), (0, 8), (1, 4), (1, 7), (1, 10), (2, 7), (2, 8), (2, 11), (3, 4), (3, 5), (3, 8), (3, 9), (3, 10), (4, 11), (4, 12), (5, 6), (5, 10), (5, 12), (6, 10), (7, 11), (7, 12), (9, 10), (10, 11), (11, 12)], 5, id="n13-tw5"),
    pytest.param(13, [(0, 1), (0, 3), (0, 5), (0, 6), (0, 7), (0, 10), (1, 3), (1, 6), (1, 7), (1, 9), (2, 3), (2, 4), (2, 5), (2, 8), (2, 9), (2, 10), (2, 11), (3, 4), (3, 10), (3, 11), (3, 12), (4, 5), (4, 6), (4, 8), (4, 9), (4, 11), (4, 12), (5, 6), (5, 7), (5, 9), (5, 12), (6, 10), (6, 12), (7, 8), (7, 11), (7, 12), (8, 11), (9, 12), (10, 11)], 6, id="n13-tw6"),
]  # fmt: skip


@pytest.mark.parametrize(("n", "edges", "width"), HEURISTIC_MISSES)
def test_search_beats_the_heuristic(n: int, edges: list[tuple[int, int]], width: int) -> None:
    g = from_edges(range(n), edges)
    assert subset_dp(g) == width
    td = check(g)
    assert (td.width, td.exact) == (width, True)
    assert treewidth(g, exact_limit=0).width > width


@settings(max_examples=40, deadline=None)
@given(graphs(max_n=10))
def test_matches_the_subset_dp(g: Graph) -> None:
    assert check(g).width == subset_dp(g)


@settings(max_examples=150, deadline=None)
@given(graphs(max_n=12))
def test_valid_and_between_bounds(g: Graph) -> None:
    td = check(g)
    assert lower_bound(g) <= td.width <= min_fill_width(g)
    assert td.exact


@pytest.mark.parametrize("seed", range(8))
def test_random_twenty_vertex_graphs_are_valid(seed: int) -> None:
    rng = random.Random(seed)
    g = from_edges(
        range(20), [e for e in itertools.combinations(range(20), 2) if rng.random() < 0.2]
    )
    td = check(g)
    assert td.exact
    assert lower_bound(g) <= td.width <= min_fill_width(g)


# --- validate_decomposition rejects broken decompositions -------------------------------------


@pytest.fixture
def c4() -> tuple[Graph, TreeDecomposition[Hashable]]:
    g = cycle(4)
    return g, treewidth(g)


def test_valid_hand_built_decomposition_is_accepted() -> None:
    g = cycle(4)
    td = TreeDecomposition(
        width=2,
        bags=(frozenset({0, 1, 2}), frozenset({0, 2, 3}), frozenset({0, 3}), frozenset({3})),
        edges=((0, 1), (1, 2), (2, 3)),
        order=(1, 2, 0, 3),
        exact=True,
    )
    validate_decomposition(g, td)


@pytest.mark.parametrize(
    ("bags", "edges", "message"),
    [
        # vertex 3 in no bag (the edges touching it are then uncovered too)
        ([{0, 1, 2}], [], "vertex coverage"),
        # edge (2, 3) in no bag
        ([{0, 1, 2}, {0, 3}, {3}], [(0, 1), (1, 2)], "edge coverage"),
        # 0 sits in bags 0 and 2, but bag 1 between them lacks it
        ([{0, 1, 2}, {2, 3}, {0, 3}], [(0, 1), (1, 2)], "running intersection"),
        # bags of 0 are disconnected in a forest
        ([{0, 1, 2}, {0, 2, 3}], [], "running intersection"),
        ([{0, 1, 2}, {0, 2, 3}, {0}], [(0, 1), (1, 2), (0, 2)], "cycle"),
        ([{0, 1, 2}, {0, 2, 3}], [(0, 5)], "does not join"),
        ([{0, 1, 2}, {0, 2, 3}], [(1, 1)], "does not join"),
        ([{0, 1, 2}, {0, 2, 3, 9}], [(0, 1)], "non-vertices"),
    ],
)
def test_broken_decompositions_are_rejected(
    bags: list[set[int]], edges: list[tuple[int, int]], message: str
) -> None:
    g = cycle(4)
    td = TreeDecomposition(
        width=max(len(b) for b in bags) - 1,
        bags=tuple(frozenset(b) for b in bags),
        edges=tuple(edges),
        order=(1, 2, 0, 3),
        exact=True,
    )
    with pytest.raises(ValueError, match=message):
        validate_decomposition(g, td)


def test_wrong_width_or_order_is_rejected(c4: tuple[Graph, TreeDecomposition[Hashable]]) -> None:
    g, td = c4
    with pytest.raises(ValueError, match="width"):
        validate_decomposition(g, replace(td, width=td.width + 1))
    with pytest.raises(ValueError, match="order"):
        validate_decomposition(g, replace(td, order=td.order[:-1]))
    with pytest.raises(ValueError, match="order"):
        validate_decomposition(g, replace(td, order=(*td.order[:-1], td.order[0])))


def test_order_wider_than_the_bags_is_rejected() -> None:
    g = path(4)
    td = treewidth(g)
    assert td.width == 1
    with pytest.raises(ValueError, match="order has elimination width 2"):
        validate_decomposition(g, replace(td, order=(1, 0, 2, 3)))


def test_decomposition_of_another_graph_is_rejected() -> None:
    td = treewidth(path(5))
    with pytest.raises(ValueError, match="edge coverage"):
        validate_decomposition(cycle(5), td)
