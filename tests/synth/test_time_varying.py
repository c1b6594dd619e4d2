"""Time-varying facts: used in a constraint only when every value is dated, else not at all.

Built on the hand-written ``tests/fixtures/ingest/ranks.json`` (real dump layout, preferred
and deprecated ranks, ``P585``/``P580``/``P582`` qualifiers): the shared real sample has no
qualifiers at all, so its 57 undated populations of Monaco are what this guards against.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redsearcher.log import Condition, Constraint, GraphNode
from redsearcher.synth import OfflineRealizer
from redsearcher.synth._draft import Draft, attribute_options
from redsearcher.synth._graph import _neighbours
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

RANKS = Path(__file__).resolve().parents[1] / "fixtures" / "ingest" / "ranks.json"


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    out = tmp_path_factory.mktemp("ranks") / "world"
    ingest_world(out, config=IngestConfig(all_properties=True), progress=False, wikidata=[RANKS])
    return KnowledgeGraph(World.open(out))


def _usable(kg: KnowledgeGraph, subject: str, predicate: str) -> list[bool]:
    rows = kg.facts_of(kg.row_of[subject])
    rows = rows[kg.f.pred[rows] == kg.pred_code(predicate)]
    return [bool(kg.constraint_ok[r]) for r in rows]


def test_several_values_are_usable_only_when_each_is_dated(kg: KnowledgeGraph) -> None:
    assert _usable(kg, "Q9001", "population") == [True]  # one value after preferred rank
    assert _usable(kg, "Q9004", "population") == [True]  # one undated value: an ordinary fact
    assert _usable(kg, "Q9003", "population") == [False, False, False]  # undated series
    # a dated series: each value has its own year, which the constraint states
    assert _usable(kg, "Q9002", "population") == [True, True, True]
    rows = kg.facts_of(kg.row_of["Q9002"])
    assert [kg.time_of(int(r)) for r in rows] == ["2020", "2000", "2010", "2001", "2010"]
    assert _usable(kg, "Q9002", "head_of_government") == [True, True]  # every term dated
    assert _usable(kg, "Q9003", "head_of_government") == [False, False]  # undated terms
    assert int(kg.time_varying.sum()) == 3 + 3 + 2 + 2
    assert int(kg.dated.sum()) == 1 + 3 + 2


def _draft(kg: KnowledgeGraph, eid: str) -> Draft:
    return Draft(
        types={"x0": kg.type_of(kg.row_of[eid])},
        rows={"x0": kg.row_of[eid]},
        roles={"x0": "answer"},
        constraints=[],
        answer="x0",
        shape="chain",
    )


def test_attribute_options_skip_time_varying_values(kg: KnowledgeGraph) -> None:
    rng = np.random.default_rng(0)
    assert [c.predicate for c in attribute_options(kg, _draft(kg, "Q9004"), "x0", rng)] == [
        "population"
    ]
    assert [c.predicate for c in attribute_options(kg, _draft(kg, "Q9001"), "x0", rng)] == [
        "population"
    ]
    assert attribute_options(kg, _draft(kg, "Q9003"), "x0", rng) == []
    (only,) = attribute_options(kg, _draft(kg, "Q9001"), "x0", rng)
    assert only.condition is not None and only.condition.at is None  # one value: no year
    dated = attribute_options(kg, _draft(kg, "Q9002"), "x0", rng)
    assert [c.predicate for c in dated] == ["population"] * 3
    assert [c.condition.at for c in dated if c.condition] == ["2020", "2000", "2010"]
    for c in dated:  # the stated year's value passes the fuzzed range
        assert c.condition is not None and c.condition.low is not None
        fact = kg.fact_row(c.fact_ids[0])
        assert c.condition.low <= kg.value(fact) <= (c.condition.high or 0)
        assert kg.time_of(fact) == c.condition.at


def test_a_dated_condition_is_said_with_its_year_and_serialized_only_when_set() -> None:
    nodes = [GraphNode(var="x0", entity="Q9002", label="Datedland", type="country", role="answer")]
    cond = Condition(op="range", low=1_800_000, high=2_100_000, at="2000")
    c = Constraint(kind="attribute", predicate="population", subject="x0", condition=cond)
    text = OfflineRealizer().realize_sync(nodes, [c], seed=0).constraint_texts[0]
    assert text.endswith("in 2000") and "1,800,000" in text
    assert "at" not in Condition(op="range", low=1, high=2).model_dump()
    assert Condition.model_validate_json(cond.model_dump_json()) == cond


def test_graph_edges_leave_out_undated_terms(kg: KnowledgeGraph) -> None:
    def others(eid: str) -> set[str]:
        return {kg.ids[n[2]] for n in _neighbours(kg, kg.row_of[eid])}

    assert others("Q9002") == {"Q9011", "Q9012"}
    assert others("Q9003") == set()
    assert others("Q9001") == {"Q9012"}  # the preferred head only
    assert others("Q9011") == {"Q9002"}  # the undated term of Q9003 is not an edge either way
