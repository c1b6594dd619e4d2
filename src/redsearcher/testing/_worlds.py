"""Tiny Worlds for tests: one hand-built with known answers, one small generated.

The hand-built World encodes the paper's Type II example ("the director cast their own
daughter") so later stages (task synthesis, uniqueness, MSD) have a case whose answer and
minimal evidence set are known by construction.
"""

from __future__ import annotations

from pathlib import Path

from redsearcher.world import Document, Entity, Fact, Provenance, World, WorldWriter
from redsearcher.world.generate import GeneratorConfig, generate_world

TINY_ENTITIES = (
    Entity("E1", "Marta Velden", "person", "film director", ("M. Velden",)),
    Entity("E2", "Ilse Velden", "person", "actor"),
    Entity("E3", "Oskar Brandt", "person", "actor"),
    Entity("E4", "The Quiet Harbor", "film", "1990 film"),
    Entity("E5", "Harwick", "city", "city in Caldora"),
    Entity("E6", "Caldora", "country", "country"),
    Entity("E7", "Marta Velden", "person", "painter", distractor_of="E1"),
    Entity("E8", "Ostrand Pictures", "organization", "film company"),
)
TINY_FACTS = (
    Fact.relation(1, "E1", "born_in", "E5"),
    Fact.date_value(2, "E1", "date_of_birth", "1951-04-02"),
    Fact.relation(3, "E1", "child", "E2"),
    Fact.relation(4, "E4", "director", "E1"),
    Fact.relation(5, "E4", "cast_member", "E2"),
    Fact.relation(6, "E4", "cast_member", "E3"),
    Fact.date_value(7, "E4", "publication_date", "1990", precision=9),
    Fact.relation(8, "E5", "located_in", "E6"),
    Fact.coordinate(9, "E5", "coordinates", 51.2, 4.4),
    Fact.quantity(10, "E5", "population", 182_000),
    Fact.relation(11, "E4", "production_company", "E8"),
    Fact.string_value(12, "E7", "occupation", "painter"),
    Fact.relation(13, "E7", "born_in", "E5"),
)
TINY_DOCUMENTS = (
    Document("D1", "Marta Velden", "Marta Velden was born in Harwick on April 2, 1951.",
             "encyclopedia", mentions=("E1", "E5"), about="E1"),
    Document("D2", "The Quiet Harbor", "The Quiet Harbor is a 1990 film directed by Marta Velden.",
             "encyclopedia", mentions=("E4", "E1"), about="E4"),
    Document("D3", "Cast of The Quiet Harbor", "Ilse Velden and Oskar Brandt appear in The Quiet "
             "Harbor.", "listing", mentions=("E4", "E2", "E3"), about="E4"),
    Document("D4", "Velden family", "Ilse Velden is a child of Marta Velden.", "news",
             published="2001-05-06", mentions=("E1", "E2"), about="E2"),
    Document("D5", "Harwick", "Harwick is a city in Caldora with a population of 182,000.",
             "encyclopedia", mentions=("E5", "E6"), about="E5"),
    Document("D6", "Ostrand Pictures", "Ostrand Pictures produced The Quiet Harbor.", "homepage",
             mentions=("E8", "E4"), about="E8"),
    Document("D7", "Marta Velden (painter)", "Marta Velden is a painter born in Harwick.",
             "encyclopedia", mentions=("E7", "E5"), about="E7"),
    Document("D8", "Forum: old films", "Anyone seen The Quiet Harbor? Great harbor scenes.",
             "forum", published="2010-01-01", mentions=("E4",)),
)  # fmt: skip
TINY_PROVENANCE = (
    *(Provenance("D1", f) for f in (1, 2)),
    *(Provenance("D2", f) for f in (4, 7)),
    *(Provenance("D3", f) for f in (5, 6)),
    Provenance("D4", 3),
    *(Provenance("D5", f) for f in (8, 10)),
    Provenance("D6", 11),
    *(Provenance("D7", f) for f in (12, 13)),
)


def tiny_world(path: str | Path) -> World:
    """Write the hand-built 8-entity World to ``path`` and open it.

    Known by construction: the film whose director cast the director's own child is
    "The Quiet Harbor" (E4); its evidence (facts 3, 4, 5) needs documents D2, D3 and D4
    (minimum source dispersion 3); E7 is a same-name look-alike of E1.
    """
    with WorldWriter(path, source={"kind": "fixture", "name": "tiny"}, overwrite=True) as w:
        w.add_entities(TINY_ENTITIES)
        w.add_facts(TINY_FACTS)
        w.add_documents(TINY_DOCUMENTS)
        w.add_provenance(TINY_PROVENANCE)
    return World.open(path)


def small_world(path: str | Path, *, entities: int = 300, seed: int = 0) -> World:
    """Generate a small synthetic World (under a second) and open it."""
    generate_world(
        GeneratorConfig(entities=entities, seed=seed, workers=1), path,
        overwrite=True, progress=False,
    )  # fmt: skip
    return World.open(path)
