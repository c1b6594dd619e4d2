"""How values read in text: surface forms, canonical answers, word-boundary matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.midtrain import GenContext, canonical_value, surface_forms, world_index
from redsearcher.midtrain._surface import sentences, states
from redsearcher.midtrain._world_index import DocView, WorldIndex
from redsearcher.testing import tiny_world


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> WorldIndex:
    world = tiny_world(tmp_path_factory.mktemp("t") / "w")
    return world_index(GenContext(world, world.content_hash))


def _fact(index: WorldIndex, fact_id: int):  # type: ignore[no-untyped-def]
    return index.fact(index.fact_row[fact_id])


def test_surface_forms_and_canonical_values(index: WorldIndex) -> None:
    assert surface_forms(index, _fact(index, 2)) == ["1951-04-02", "April 2, 1951", "2 April 1951"]
    assert canonical_value(index, _fact(index, 2)) == "1951-04-02"
    assert surface_forms(index, _fact(index, 7)) == ["1990"]  # year precision
    assert surface_forms(index, _fact(index, 10)) == ["182,000", "182000"]
    assert canonical_value(index, _fact(index, 1)) == "Harwick"
    assert canonical_value(index, _fact(index, 12)) == "painter"
    assert surface_forms(index, _fact(index, 9)) == []  # coordinates are in no text
    assert canonical_value(index, _fact(index, 9)) is None


def test_values_match_on_word_boundaries_only(index: WorldIndex) -> None:
    fact = _fact(index, 10)  # Harwick population 182,000
    doc = DocView(0, "X", "t", "", "news", "E5")
    assert states(index, fact, doc, "Harwick has 182,000 people.")
    assert not states(index, fact, doc, "Harwick has 1,182,000 people.")
    assert not states(index, fact, doc, "Harwick has 182,0001 people.")
    year = _fact(index, 7)  # The Quiet Harbor, 1990
    page = DocView(0, "Y", "t", "", "news", "E8")  # not about the film
    assert states(index, year, page, "The Quiet Harbor came out in 1990.")
    assert not states(index, year, page, "It came out in 1990.")  # subject not named
    assert not states(index, year, page, "The Quiet Harbor came out in 19901.")


def test_sentences_split_prose_and_list_lines() -> None:
    text = "Intro line\n- A is here. B is there.\n\nC, D. E"
    parts = [text[a:b] for a, b in sentences(text)]
    assert parts == ["Intro line", "A is here.", "B is there.", "C, D.", "E"]


def test_index_refuses_a_world_without_documents(tmp_path: Path) -> None:
    from redsearcher.errors import UserError
    from redsearcher.world import Entity, World, WorldWriter

    with WorldWriter(tmp_path / "w", source={"kind": "fixture", "name": "x"}) as w:
        w.add_entities([Entity("E1", "A", "city")])
    world = World.open(tmp_path / "w")
    with pytest.raises(UserError, match="documents table is empty"):
        WorldIndex(world)
