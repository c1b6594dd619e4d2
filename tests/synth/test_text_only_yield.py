"""Text-only Worlds (``--no-kb-pages``): walks, seeds and attributes over stated facts only.

A small World shaped like the real sample without knowledge-base pages: a country with many
relations in the dump that its lead states few of, a capital, citizens, and name-like strings
(``--all-properties``) that must never become a separating clause.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redsearcher.synth._draft import NAME_PREDICATES, Draft, attribute_options
from redsearcher.synth._graph import SEED_WEIGHT_CAP, expand, is_hub, text_seeds, walk_degree
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.world import Document, Entity, Fact, Provenance, World, WorldWriter

NEIGHBOURS = 200  # the country's relations in the dump that no page states


def _world(path: Path) -> KnowledgeGraph:
    entities = [
        Entity("C", "Velmark", "country", "country in Europe"),
        Entity("K", "Kessel", "city", "capital of Velmark"),
        Entity("P", "Ada Marsh", "person", "Velmark astronaut", aliases=("Ada Marsh-Vell",)),
        Entity("Q", "Bruno Vell", "person", "Velmark painter"),
        *(Entity(f"N{i}", f"Neighbour {i}", "country") for i in range(NEIGHBOURS)),
    ]
    facts = [
        Fact.relation(1, "C", "capital", "K"),
        Fact.relation(2, "P", "citizen_of", "C"),
        Fact.relation(3, "Q", "citizen_of", "C"),
        Fact.string_value(4, "P", "birth_name", "Adelheid Marsh"),
        Fact.string_value(5, "P", "occupation", "astronaut"),
        Fact.string_value(6, "P", "known_for", "the Ada Marsh manoeuvre"),  # holds her label
        Fact.date_value(7, "K", "inception", "1237-10-28"),
        *(Fact.relation(100 + i, "C", "diplomatic_relation", f"N{i}") for i in range(NEIGHBOURS)),
    ]
    docs = [
        Document("DC", "Velmark", "Velmark's capital is Kessel.", "encyclopedia", about="C"),
        Document(
            "DP",
            "Ada Marsh",
            "Ada Marsh, born Adelheid Marsh, is a Velmark astronaut known for the Ada Marsh "
            "manoeuvre.",
            "encyclopedia",
            about="P",
        ),
        Document("DQ", "Bruno Vell", "Bruno Vell is a Velmark painter.", "encyclopedia", about="Q"),
        Document(
            "DK", "Kessel", "Kessel was founded on 28 October 1237.", "encyclopedia", about="K"
        ),
    ]
    prov = [("DC", 1), ("DP", 2), ("DP", 4), ("DP", 5), ("DP", 6), ("DQ", 3), ("DK", 7)]
    with WorldWriter(path, source={"kind": "fixture", "name": "text-only"}) as w:
        w.add_entities(entities)
        w.add_facts(facts)
        w.add_documents(docs)
        w.add_provenance([Provenance(d, f) for d, f in prov])
    return KnowledgeGraph(World.open(path))


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    return _world(tmp_path_factory.mktemp("textonly") / "world")


def test_a_country_with_few_stated_relations_is_no_hub_for_the_walk(kg: KnowledgeGraph) -> None:
    assert kg.sparse_provenance
    country = kg.row_of["C"]
    assert kg.degree(country) > NEIGHBOURS  # the dump's view: a hub ...
    assert walk_degree(kg, country) == 3  # ... the walk's: capital and two stated citizens
    assert not is_hub(kg, country, 150)
    assert is_hub(kg, country, 10)  # past a fifth of the cap in stated relations
    reached = set()
    for seed in range(10):
        g = expand(kg, kg.row_of["P"], 3, np.random.default_rng(seed), hub_cap=150)
        reached.update(g.rows)
        assert all(kg.stated_by(f) for e in g.edges for f in e.facts)
    assert {country, kg.row_of["K"]} <= reached


def test_name_like_strings_never_become_attributes(kg: KnowledgeGraph) -> None:
    assert {"birth_name", "official_name", "native_label", "demonym"} <= NAME_PREDICATES
    person = kg.row_of["P"]
    draft = Draft(
        types={"x0": "person"},
        rows={"x0": person},
        roles={"x0": "answer"},
        constraints=[],
        answer="x0",
        shape="chain",
    )
    options = attribute_options(kg, draft, "x0", np.random.default_rng(0))
    # the birth name (a name predicate) and a value holding her own label are left out
    assert [o.predicate for o in options] == ["occupation"]


def test_text_only_seeds_lean_to_entities_whose_pages_state_more(kg: KnowledgeGraph) -> None:
    pool = np.array([kg.row_of[e] for e in ("C", "K", "P", "Q")], np.int64)
    seeds = text_seeds(kg, pool).tolist()
    counts = {e: seeds.count(kg.row_of[e]) for e in ("C", "K", "P", "Q")}
    # Ada Marsh's page states four facts of hers (citizenship, birth name, occupation,
    # known for): capped; Bruno Vell's one; Velmark's its capital; Kessel its founding day
    assert counts == {"C": 1, "K": 1, "P": SEED_WEIGHT_CAP, "Q": 1}
