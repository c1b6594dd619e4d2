"""What a question names: never a name two entities share ("A Star Is Born": four films),
and never a clause between two named entities ("Oaxaca lies in Mexico")."""

from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.synth._draft import drafts
from redsearcher.synth._graph import Edge, MasterGraph
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.world import Entity, Fact, World, WorldWriter

ENTITIES = [
    Entity("Q1", "A Star Is Born", "film", "1976 film"),
    Entity("Q2", "A Star Is Born", "film", "2018 film"),  # a remake: same label
    Entity("Q3", "Kris Kristofferson", "person"),
    Entity("Q4", "Rita Coolidge", "person"),
    Entity("Q5", "Pomona College", "university"),
    Entity("Q6", "John Quincy Adams", "person", aliases=("John Adams",)),
    Entity("Q7", "John Adams", "person"),  # another's alias
    Entity("Q8", "United States", "country"),
]
FACTS = [
    Fact.relation(1, "Q1", "cast_member", "Q3"),
    Fact.relation(2, "Q3", "spouse", "Q4"),
    Fact.relation(3, "Q3", "educated_at", "Q5"),
    Fact.relation(4, "Q4", "citizen_of", "Q8"),
    Fact.relation(5, "Q3", "citizen_of", "Q8"),
]


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path: Path = tmp_path_factory.mktemp("names") / "world"
    with WorldWriter(path, source={"kind": "fixture", "name": "shared-names"}) as w:
        w.add_entities(ENTITIES)
        w.add_facts(FACTS)
    return KnowledgeGraph(World.open(path))


def test_shared_labels_and_aliases_are_marked(kg: KnowledgeGraph) -> None:
    shared = {kg.ids[r] for r in range(len(kg)) if kg.shared_name[r]}
    # Q6's own label is its alone; "John Adams" is Q7's label and Q6's alias.
    assert shared == {"Q1", "Q2", "Q7"}


def test_the_named_node_is_one_whose_name_picks_one_entity(kg: KnowledgeGraph) -> None:
    film, kris, rita, pomona = (kg.row_of[e] for e in ("Q1", "Q3", "Q4", "Q5"))
    cast, spouse, edu = (kg.pred_code(p) for p in ("cast_member", "spouse", "educated_at"))
    # A chain film - Kris - Rita and Kris - Pomona: from the answer Pomona, the farthest
    # nodes are the film and Rita (both two steps); the film comes first but its name is
    # shared, so Rita is the one named.
    graph = MasterGraph(
        rows=[film, kris, pomona, rita],
        edges=[
            Edge("relation", 1, 2, edu, (kg.fact_row(3),)),
            Edge("relation", 0, 1, cast, (kg.fact_row(1),)),
            Edge("relation", 1, 3, spouse, (kg.fact_row(2),)),
        ],
    )
    seen = 0
    for draft in drafts(kg, graph, min_nodes=3, per_graph=1):
        named = [draft.rows[v] for v, r in draft.roles.items() if r == "observed"]
        if draft.rows[draft.answer] == pomona:
            assert named == [rita]
            seen += 1
        assert film not in named
    assert seen == 1


def test_a_clause_between_two_named_entities_is_left_out(kg: KnowledgeGraph) -> None:
    kris, rita, pomona, usa = (kg.row_of[e] for e in ("Q3", "Q4", "Q5", "Q8"))
    edu, spouse, citizen = (kg.pred_code(p) for p in ("educated_at", "spouse", "citizen_of"))
    # Pomona - Kris - Rita, both citizens of the United States: from the answer Pomona, Rita
    # is the farthest node and named, the country is named too, so "Rita is a citizen of the
    # United States" would tie two named entities; Kris's citizenship stays.
    graph = MasterGraph(
        rows=[pomona, kris, rita, usa],
        edges=[
            Edge("relation", 1, 0, edu, (kg.fact_row(3),)),
            Edge("relation", 1, 2, spouse, (kg.fact_row(2),)),
            Edge("relation", 2, 3, citizen, (kg.fact_row(4),)),
            Edge("relation", 1, 3, citizen, (kg.fact_row(5),)),
        ],
    )
    draft = next(d for d in drafts(kg, graph, min_nodes=3, per_graph=1) if d.shape == "chain")
    assert draft.rows[draft.answer] == pomona
    named = {draft.rows[v] for v, r in draft.roles.items() if r == "observed"}
    assert named == {rita, usa}
    clauses = [(draft.rows[c.subject], c.predicate) for c in draft.constraints]
    assert sorted(clauses) == sorted(
        [(kris, "educated_at"), (kris, "spouse"), (kris, "citizen_of")]
    )
