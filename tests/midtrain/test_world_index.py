"""One World index for every generator: the relation lookups the tools answer from.

Expected rows and values are written by hand from the tiny World (``redsearcher.testing``):
E1 and E7 are both "Marta Velden" (E1 with the alias "M. Velden"), E4 is the film with two
cast members, E5 is Harwick (population 182,000, coordinates 51.2, 4.4).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.midtrain import (
    GenContext,
    GroundingGenerator,
    MidtrainSample,
    ToolDialogueGenerator,
    WorldIndex,
    world_index,
)
from redsearcher.midtrain._tools_world import WorldTools
from redsearcher.midtrain._world_index import fact_value
from redsearcher.testing import tiny_world
from redsearcher.world import Document, Entity, Fact, Provenance, World, WorldWriter


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> WorldIndex:
    world = tiny_world(tmp_path_factory.mktemp("wi") / "w")
    return WorldIndex(world)


def _rows(index: WorldIndex, *ids: str) -> list[int]:
    return [index.row_of[e] for e in ids]


def _facts(index: WorldIndex, *ids: int) -> list[int]:
    return [index.fact_row[f] for f in ids]


def test_names_and_aliases_find_entities_in_any_case(index: WorldIndex) -> None:
    assert index.named("MARTA VELDEN") == _rows(index, "E1", "E7")
    assert index.named("m. velden") == _rows(index, "E1")
    assert index.named("nobody") == []


def test_single_valued_relations_of_a_subject(index: WorldIndex) -> None:
    (film,) = _rows(index, "E4")
    # cast_member has two values (facts 5, 6): never a chain's step.
    assert index.functional(film) == list(
        zip(
            ["director", "production_company", "publication_date"],
            _facts(index, 4, 11, 7),
            strict=True,
        )
    )
    assert index.facts_for(film, "cast_member") == _facts(index, 5, 6)
    assert index.facts_for(film, "born_in") == []
    single = {index.ids[r] for r in range(len(index.ids)) if index.single_valued[r]}
    assert single == {"E1", "E4", "E5", "E7"}  # E2, E3, E6, E8 are subjects of nothing
    assert index.object_row(index.fact_row[1]) == index.row_of["E5"]
    assert index.object_row(index.fact_row[2]) == -1  # a date


def test_subjects_by_entity_or_literal_value(index: WorldIndex) -> None:
    assert index.subjects_with("born_in", "e5") == _rows(index, "E1", "E7")
    assert index.subjects_with("born_in", "E6") == []
    assert index.subjects_with("population", "182000") == _rows(index, "E5")
    assert index.subjects_with("publication_date", "1990") == _rows(index, "E4")
    assert index.subjects_with("coordinates", "51.2000, 4.4000") == _rows(index, "E5")
    assert index.subjects_with("occupation", "PAINTER") == _rows(index, "E7")
    assert index.subjects_with("no_such_relation", "E5") == []
    assert "cast_member" in index.predicates and index.predicates == sorted(index.predicates)


def test_values_as_tools_state_them(index: WorldIndex) -> None:
    born_in = index.fact(index.fact_row[1])
    assert fact_value(born_in) == "E5" and fact_value(born_in, index.label) == "Harwick"
    assert index.value_text(index.fact_row[2]) == "1951-04-02"
    assert index.value_text(index.fact_row[7]) == "1990"  # year precision
    assert index.value_text(index.fact_row[9]) == "51.2000, 4.4000"
    assert index.value_text(index.fact_row[10]) == "182000"


def test_one_index_serves_stage_one_and_two_and_tools_never_read_pages(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    ctx = GenContext(world, world.content_hash)
    tools = ToolDialogueGenerator()
    tools.check(ctx)
    index = world_index(ctx)
    made = [s for s in tools.generate(ctx, 5, 0) if isinstance(s, MidtrainSample)]
    assert len(made) == 5
    # Tool dialogues cite documents by id only: the texts were never read.
    assert "_doc_texts" not in vars(index)
    GroundingGenerator().check(ctx)
    grounding = [
        s for s in GroundingGenerator().generate(ctx, 3, 0) if isinstance(s, MidtrainSample)
    ]
    assert grounding and "_doc_texts" in vars(index)
    assert world_index(ctx) is index
    assert [k for k, v in ctx.cache.items() if isinstance(v, WorldIndex)] == ["world_index"]


def test_references_outside_the_world_are_literals_not_crashes(tmp_path: Path) -> None:
    """A fact whose object is no entity of the World: found by its id text, leads nowhere."""
    with WorldWriter(tmp_path / "w", source={"kind": "fixture", "name": "x"}) as w:
        w.add_entities([Entity("E1", "Alma", "person"), Entity("E2", "Brill", "city")])
        w.add_facts(
            [Fact.relation(1, "E1", "born_in", "E2"), Fact.relation(2, "E1", "employer", "E99")]
        )
        w.add_documents([Document("D1", "Alma", "Alma was born in Brill.", "news", about="E1")])
        w.add_provenance([Provenance("D1", 1), Provenance("D1", 2)])
    index = WorldIndex(World.open(tmp_path / "w"))
    employer = index.fact_row[2]
    assert index.object_row(employer) == -1
    assert index.subjects_with("employer", "e99") == _rows(index, "E1")
    tools = WorldTools(index)
    assert tools.respond("get_employer", {"entity": "E1"}) == (
        '{"entity": "E1", "values": [{"id": "E99", "name": "E99"}]}',
        False,
    )
    found = tools.respond(
        "find_entities", {"type": "person", "relation": "employer", "value": "E99"}
    )
    assert '"id": "E1"' in found[0] and not found[1]
