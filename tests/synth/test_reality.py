"""Rivals in reality on a sample World: small-direction relations and days pin, crowds do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redsearcher.log import Condition, Constraint, NodeRole
from redsearcher.synth._draft import Draft, make_unique
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._reality import MAX_RIVALS, cardinality, estimate_rivals
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realkb"


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    out = tmp_path_factory.mktemp("reality") / "w"
    ingest_world(
        out,
        wikidata=REAL / "wikidata.json",
        wikipedia=REAL / "enwiki.jsonl",
        config=IngestConfig(kb_pages=True),
        progress=False,
    )
    graph = KnowledgeGraph(World.open(out))
    assert graph.completeness == "sample"
    return graph


def _rel(pred: str, s: str, o: str) -> Constraint:
    return Constraint(kind="relation", predicate=pred, subject=s, object=o)


def _born(var: str, cond: Condition) -> Constraint:
    return Constraint(kind="attribute", predicate="date_of_birth", subject=var, condition=cond)


def _rivals(kg: KnowledgeGraph, rows: dict[str, str], cs: list[Constraint], answer: str) -> float:
    roles: dict[str, NodeRole] = {v: "latent" for v in rows}
    roles[answer] = "answer"
    roles["o"] = "observed"
    ids = {v: kg.row_of[e] for v, e in rows.items()}
    types = {v: kg.type_of(r) for v, r in ids.items()}
    return estimate_rivals(kg, cs, roles, ids, types, answer).rivals


def test_a_small_direction_and_a_day_pin_the_answer_in_reality(kg: KnowledgeGraph) -> None:
    # Katherine: born on 13 December 1989, a child of the man married to Maria Shriver.
    rows = {"o": "Q230654", "x": "Q2685", "a": "Q4521676"}
    chain = [_rel("spouse", "x", "o"), _rel("child", "x", "a")]
    day = _born("a", Condition(op="eq", value="1989-12-13"))
    assert _rivals(kg, rows, [*chain, day], "a") < MAX_RIVALS
    # Without the day, Arnold's children (about 3 in reality) are all candidates.
    assert _rivals(kg, rows, chain, "a") > MAX_RIVALS
    # A year keeps far more than a day.
    year = _born("a", Condition(op="year", value=1989.0, low=1989, high=1989))
    assert _rivals(kg, rows, [*chain, year], "a") > _rivals(kg, rows, [*chain, day], "a")


def test_a_crowd_never_pins_however_it_is_intersected(kg: KnowledgeGraph) -> None:
    # "A person who studied at UCLA, born in 1947": unique in the slice, thousands in reality.
    rows = {"o": "Q174710", "a": "Q2685"}
    year = _born("a", Condition(op="year", value=1947.0, low=1947, high=1947))
    assert _rivals(kg, rows, [_rel("educated_at", "a", "o"), year], "a") > 10
    # A shared citizenship says nothing; a second alma mater is a correlated crowd.
    rows["b"] = "Q230654"
    same = Constraint(kind="same", predicate="citizen_of", subject="a", object="b")
    base = _rivals(kg, rows, [_rel("educated_at", "a", "o"), _rel("spouse", "a", "b"), year], "a")
    more = _rivals(
        kg, rows, [_rel("educated_at", "a", "o"), _rel("spouse", "a", "b"), year, same], "a"
    )
    assert more == pytest.approx(base)


def test_the_table_reads_directions_and_defaults_to_a_crowd() -> None:
    assert cardinality("director").forward == 1 and cardinality("director").reverse > 1
    assert cardinality("spouse").forward == cardinality("spouse").reverse
    unknown = cardinality("no_such_predicate")
    assert unknown.forward >= 1 and unknown.reverse >= 1000


def test_make_unique_pins_with_a_day_or_rejects_a_crowd(kg: KnowledgeGraph) -> None:
    rng = np.random.default_rng(0)
    rows = {"o": kg.row_of["Q230654"], "x": kg.row_of["Q2685"], "a": kg.row_of["Q4521676"]}
    roles: dict[str, NodeRole] = {"o": "observed", "x": "latent", "a": "answer"}
    draft = Draft(
        types={v: kg.type_of(r) for v, r in rows.items()},
        rows=dict(rows),
        roles=roles,
        constraints=[_rel("spouse", "x", "o"), _rel("child", "x", "a")],
        answer="a",
        shape="chain",
    )
    assert make_unique(kg, draft, rng, max_attributes=4, budget=10_000) is None
    assert draft.reality is not None and draft.reality.rivals <= MAX_RIVALS
    added = [c for c in draft.constraints if c.kind == "attribute"]
    assert any(c.condition is not None and c.condition.op == "eq" for c in added)  # a day
    record = draft.reality.record()
    assert record["max_rivals"] == MAX_RIVALS and record["placement"]
    # An alumnus of UCLA: no attribute brings a crowd of alumni down to one.
    crowd = Draft(
        types={"o": kg.type_of(kg.row_of["Q174710"]), "a": "person"},
        rows={"o": kg.row_of["Q174710"], "a": kg.row_of["Q2685"]},
        roles={"o": "observed", "a": "answer"},
        constraints=[_rel("educated_at", "a", "o")],
        answer="a",
        shape="chain",
    )
    assert make_unique(kg, crowd, rng, max_attributes=1, budget=10_000) is not None
