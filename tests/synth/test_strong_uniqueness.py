"""On a sample World uniqueness never rests on weak clues; drafts have no filler; named rivals.

Built on a hand-written World in the real dump layout (``_item`` below): 25 citizens of
Freedonia and 20 of Sylvania (a low-cardinality "same citizenship"), one university employing
two people, and two films sharing a cast member and a director.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redsearcher.log import Constraint, NodeRole
from redsearcher.synth._draft import Draft, make_unique
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._strength import hidden_connected, low_cardinality, strong_constraints
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world


def _claim(pid: str, qid: str) -> dict[str, object]:
    value = {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid}
    return {
        "mainsnak": {
            "snaktype": "value",
            "property": pid,
            "datavalue": {"value": value, "type": "wikibase-entityid"},
            "datatype": "wikibase-item",
        },
        "type": "statement",
        "rank": "normal",
    }


def _item(qid: str, label: str, claims: dict[str, list[str]]) -> dict[str, object]:
    return {
        "type": "item",
        "id": qid,
        "labels": {"en": {"language": "en", "value": label}},
        "descriptions": {},
        "aliases": {},
        "claims": {p: [_claim(p, q) for q in qs] for p, qs in claims.items()},
    }


def _dump(path: Path) -> Path:
    items = [
        _item("Q6001", "Freedonia", {"P31": ["Q6256"]}),
        _item("Q6002", "Sylvania", {"P31": ["Q6256"]}),
        _item("Q8001", "University of Testing", {"P31": ["Q3918"]}),
        _item("Q7001", "Ada Answer", {"P31": ["Q5"], "P27": ["Q6001"], "P108": ["Q8001"]}),
        _item("Q8002", "Lone Institute", {"P31": ["Q3918"]}),
        _item("Q7002", "Bea Observed", {"P31": ["Q5"], "P27": ["Q6001"], "P108": ["Q8002"]}),
        _item("Q7003", "Cy Rival", {"P31": ["Q5"], "P27": ["Q6002"], "P108": ["Q8001"]}),
        _item("Q7101", "Al Actor", {"P31": ["Q5"], "P27": ["Q6002"]}),
        _item("Q7102", "Di Director", {"P31": ["Q5"], "P27": ["Q6002"]}),
        _item("Q9101", "Beloved Film", {"P31": ["Q11424"], "P161": ["Q7101"], "P57": ["Q7102"]}),
        _item("Q9102", "Purple Film", {"P31": ["Q11424"], "P161": ["Q7101"], "P57": ["Q7102"]}),
    ]
    items += [
        _item(f"Q{7200 + i}", f"Citizen {i}", {"P31": ["Q5"], "P27": ["Q6001"]}) for i in range(23)
    ]
    items += [
        _item(f"Q{7300 + i}", f"Subject {i}", {"P31": ["Q5"], "P27": ["Q6002"]}) for i in range(16)
    ]
    path.write_text("[\n" + ",\n".join(json.dumps(i) for i in items) + "\n]\n", encoding="utf-8")
    return path


def _kg(tmp: Path, *, complete: bool) -> KnowledgeGraph:
    out = tmp / ("complete" if complete else "sample")
    config = IngestConfig(all_properties=True, complete_dump=complete)
    ingest_world(out, wikidata=[_dump(tmp / "dump.json")], config=config, progress=False)
    return KnowledgeGraph(World.open(out))


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeGraph, KnowledgeGraph]:
    tmp = tmp_path_factory.mktemp("strong")
    return _kg(tmp, complete=False), _kg(tmp, complete=True)


def _pred(kg: KnowledgeGraph, subject: str, obj: str) -> str:
    rows = kg.facts_of(kg.row_of[subject])
    (row,) = rows[kg.f.obj[rows] == kg.row_of[obj]].tolist()
    return kg.pred(int(row))


def _draft(
    kg: KnowledgeGraph, nodes: dict[str, tuple[str, NodeRole]], edges: list[tuple[str, str, str]]
) -> Draft:
    """Variables ``name -> (entity, role)``; edges ``(kind, subject var, object var)``."""
    rows = {v: kg.row_of[e] for v, (e, _) in nodes.items()}
    constraints = [
        Constraint(
            kind=kind,  # type: ignore[arg-type]
            predicate=_pred(kg, nodes[s][0], "Q6001" if kind == "same" else nodes[o][0])
            if kind == "same"
            else _pred(kg, nodes[s][0], nodes[o][0]),
            subject=s,
            object=o,
        )
        for kind, s, o in edges
    ]
    return Draft(
        types={v: kg.type_of(r) for v, r in rows.items()},
        rows=rows,
        roles={v: role for v, (_, role) in nodes.items()},
        constraints=constraints,
        answer=next(v for v, (_, role) in nodes.items() if role == "answer"),
        shape="hub",
    )


def _citizenship_draft(kg: KnowledgeGraph) -> Draft:
    """Employed by the university and a citizen of the same country as Bea: only Ada."""
    return _draft(
        kg,
        {
            "x0": ("Q7001", "answer"),
            "x1": ("Q8001", "observed"),
            "x2": ("Q7002", "observed"),
        },
        [("relation", "x0", "x1"), ("same", "x0", "x2")],
    )


def test_shared_citizenship_is_low_cardinality(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    sample, _ = worlds
    assert low_cardinality(sample, sample.pred_code(_pred(sample, "Q7002", "Q6001")))
    assert not low_cardinality(sample, sample.pred_code(_pred(sample, "Q7001", "Q8001")))


def test_uniqueness_on_shared_citizenship_is_rejected_on_a_sample_world_only(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    sample, complete = worlds
    assert _citizenship_draft(complete).solve(complete, budget=10_000).unique
    assert (
        make_unique(
            complete,
            _citizenship_draft(complete),
            np.random.default_rng(0),
            max_attributes=0,
            budget=10_000,
        )
        is None
    )
    on_sample = _citizenship_draft(sample)
    sols = on_sample.solve(sample, budget=10_000)
    assert not sols.unique and sols.answers == {sample.row_of["Q7001"], sample.row_of["Q7003"]}
    reason = make_unique(
        sample, on_sample, np.random.default_rng(0), max_attributes=2, budget=10_000
    )
    assert reason == "ambiguous"  # no attribute separates Ada from Cy
    assert len(on_sample.constraints) == 2  # the weak clue stays in the question


def test_an_edge_to_a_bare_hidden_node_is_weak_on_a_sample_world(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    sample, complete = worlds
    draft = _draft(
        sample,
        {"x0": ("Q7101", "answer"), "x1": ("Q9101", "latent"), "x2": ("Q6002", "observed")},
        [("relation", "x1", "x0")],
    )
    assert strong_constraints(sample, draft.constraints, draft.roles) == []
    assert strong_constraints(complete, draft.constraints, draft.roles) == draft.constraints


def test_a_filler_component_is_not_connected() -> None:
    roles: dict[str, NodeRole] = {"x0": "answer", "x1": "observed", "x2": "latent"}
    tied_by_a_name = [
        Constraint(kind="relation", predicate="p", subject="x0", object="x1"),
        Constraint(kind="relation", predicate="p", subject="x2", object="x1"),
    ]
    assert not hidden_connected(tied_by_a_name, roles, "x0")
    direct = [
        *tied_by_a_name,
        Constraint(kind="relation", predicate="q", subject="x2", object="x0"),
    ]
    assert hidden_connected(direct, roles, "x0")


def test_the_named_entity_counts_as_a_rival_answer(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    """ "A film with A and B, where A and B made 'Beloved'": 'Beloved' itself fits."""
    for kg in worlds:
        draft = _draft(
            kg,
            {
                "x0": ("Q9102", "answer"),
                "x1": ("Q7101", "latent"),
                "x2": ("Q7102", "latent"),
                "x3": ("Q9101", "observed"),
            },
            [
                ("relation", "x0", "x1"),
                ("relation", "x0", "x2"),
                ("relation", "x3", "x1"),
                ("relation", "x3", "x2"),
            ],
        )
        sols = draft.solve(kg, budget=10_000)
        assert not sols.unique
        assert sols.answers == {kg.row_of["Q9102"], kg.row_of["Q9101"]}


def test_a_named_crowd_value_is_weak_on_a_sample_world(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    """ "A citizen of Freedonia employed by the university" rests on the university alone."""
    sample, complete = worlds
    nodes: dict[str, tuple[str, NodeRole]] = {
        "x0": ("Q7001", "answer"),
        "x1": ("Q8001", "observed"),
        "x2": ("Q6001", "observed"),
    }
    edges = [("relation", "x0", "x1"), ("relation", "x0", "x2")]
    assert _draft(complete, nodes, edges).solve(complete, budget=10_000).unique
    sols = _draft(sample, nodes, edges).solve(sample, budget=10_000)
    assert sols.answers == {sample.row_of["Q7001"], sample.row_of["Q7003"]}


def test_one_strong_clue_is_too_thin_on_a_sample_world(
    worlds: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    """ "Employed by the Lone Institute" pins Bea inside the World, not on the real web."""
    sample, complete = worlds
    nodes: dict[str, tuple[str, NodeRole]] = {
        "x0": ("Q7002", "answer"),
        "x1": ("Q8002", "observed"),
    }
    edges = [("relation", "x0", "x1")]
    for kg, want in ((complete, None), (sample, "thin_strong")):
        draft = _draft(kg, nodes, edges)
        assert draft.solve(kg, budget=10_000).unique
        rng = np.random.default_rng(0)
        assert make_unique(kg, draft, rng, max_attributes=2, budget=10_000) == want
