"""Exact treewidth on graph families with known treewidth, and against brute force."""

from __future__ import annotations

import itertools
import random

import pytest

from redsearcher.synth._treewidth import treewidth, validate_decomposition

Graph = dict[int, set[int]]


def _graph(n: int, edges: list[tuple[int, int]]) -> Graph:
    g: Graph = {i: set() for i in range(n)}
    for a, b in edges:
        g[a].add(b)
        g[b].add(a)
    return g


def path(n: int) -> Graph:
    return _graph(n, [(i, i + 1) for i in range(n - 1)])


def cycle(n: int) -> Graph:
    return _graph(n, [(i, (i + 1) % n) for i in range(n)])


def complete(n: int) -> Graph:
    return _graph(n, list(itertools.combinations(range(n), 2)))


def grid(k: int) -> Graph:
    edges = [(r * k + c, r * k + c + 1) for r in range(k) for c in range(k - 1)]
    edges += [(r * k + c, (r + 1) * k + c) for r in range(k - 1) for c in range(k)]
    return _graph(k * k, edges)


def petersen() -> Graph:
    outer = [(i, (i + 1) % 5) for i in range(5)]
    spokes = [(i, i + 5) for i in range(5)]
    inner = [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
    return _graph(10, outer + spokes + inner)


def random_tree(n: int, seed: int) -> Graph:
    rng = random.Random(seed)
    return _graph(n, [(i, rng.randrange(i)) for i in range(1, n)])


@pytest.mark.parametrize(
    ("graph", "width"),
    [
        pytest.param(path(1), 0, id="single"),
        pytest.param(_graph(4, []), 0, id="edgeless"),
        pytest.param(path(9), 1, id="path"),
        pytest.param(random_tree(25, 1), 1, id="random-tree"),
        pytest.param(_graph(8, [(0, i) for i in range(1, 8)]), 1, id="star"),
        *[pytest.param(cycle(n), 2, id=f"C{n}") for n in (3, 4, 7, 12)],
        *[pytest.param(complete(n), n - 1, id=f"K{n}") for n in (2, 4, 6, 8)],
        *[pytest.param(grid(k), k, id=f"grid{k}") for k in (2, 3, 4, 5)],
        pytest.param(petersen(), 4, id="petersen"),
        pytest.param(_graph(7, [(a, b) for a in range(3) for b in range(3, 7)]), 3, id="K3,4"),
    ],
)
def test_known_families(graph: Graph, width: int) -> None:
    td = treewidth(graph)
    assert td.width == width and td.exact
    validate_decomposition(graph, td)
    assert set(td.order) == set(graph)


def test_disconnected_union_takes_the_max() -> None:
    union = {**complete(4), **{v + 10: {w + 10 for w in ns} for v, ns in cycle(5).items()}}
    assert treewidth(union).width == 3


def _brute(g: Graph) -> int:
    best = len(g)
    for order in itertools.permutations(g):
        adj = {v: set(ns) for v, ns in g.items()}
        width = 0
        for v in order:
            ns = adj.pop(v)
            width = max(width, len(ns))
            for a in ns:
                adj[a] |= ns - {a}
                adj[a].discard(v)
        best = min(best, width)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_on_small_random_graphs(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(3, 7)
    edges = [e for e in itertools.combinations(range(n), 2) if rng.random() < 0.45]
    g = _graph(n, edges)
    td = treewidth(g)
    assert td.width == _brute(g)
    validate_decomposition(g, td)


def test_broken_decompositions_are_rejected() -> None:
    g = cycle(4)
    td = treewidth(g)
    broken = type(td)(width=td.width, bags=td.bags[:-1], edges=(), order=td.order, exact=td.exact)
    with pytest.raises(ValueError):
        validate_decomposition(g, broken)
