from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import value

from redsearcher.world import Document, Entity, Fact, World, WorldWriter
from redsearcher.world._vocab import ENTITY_TYPES, PREDICATES
from redsearcher.world.ingest import export_dump

# One entity per vocabulary type, plus second entities for same-type relations, an entity with
# a non-Q id, and a look-alike that shares its label with another (sitelinks must stay unique).
ENTITIES = [Entity(f"Q{i + 1}", f"The {name} {i + 1}", name) for i, name in enumerate(ENTITY_TYPES)]
SECOND = {"person": "Q101", "city": "Q102", "paper": "Q103", "organization": "ent-7"}
ENTITIES += [Entity(qid, f"Second {t}", t) for t, qid in SECOND.items() if qid.startswith("Q")]
ENTITIES += [
    Entity("ent-7", "Custom id", "organization", description="has a non-Q id", aliases=("CI",)),
    Entity("Q200", "The city 3", "city", distractor_of="Q3"),
    Entity("Q201", "Untyped", "item"),
    Entity("Q202", "Odd type", "Q999"),
]
FIRST = {e.type: e.id for e in ENTITIES}
FIRST.update({t: ENTITIES[i].id for i, t in enumerate(ENTITY_TYPES)})


def _facts() -> list[Fact]:
    facts: list[Fact] = []
    for pred in PREDICATES.values():
        s, name = FIRST[pred.subject_types[0]], pred.name
        if pred.kind == "entity":
            target = pred.object_types[0]
            o = SECOND[target] if target == pred.subject_types[0] else FIRST[target]
            facts.append(Fact.relation(len(facts) + 1, s, name, o))
            if pred.symmetric:
                facts.append(Fact.relation(len(facts) + 1, o, name, s))
        elif pred.kind == "date":
            facts.append(Fact.date_value(len(facts) + 1, s, name, "1990-05-17", 11))
            facts.append(Fact.date_value(len(facts) + 1, s, name, "-0044", 9))
        elif pred.kind == "quantity":
            facts.append(Fact.quantity(len(facts) + 1, s, name, 1234.5, pred.unit))
        elif pred.kind == "coordinate":
            facts.append(Fact.coordinate(len(facts) + 1, s, name, 48.8566, 2.3522))
        else:
            facts.append(Fact.string_value(len(facts) + 1, s, name, "Some value"))
    qualified = Fact.relation(len(facts) + 1, "Q1", "employer", "ent-7", {"point_in_time": "1994"})
    facts.append(qualified)
    facts.append(Fact.relation(len(facts) + 1, "Q1", "born_in", "Q200"))
    facts.append(Fact.relation(len(facts) + 1, "Q200", "located_in", "Q2"))
    return facts


def _documents() -> list[Document]:
    docs = [
        Document(
            id=f"d{e.id}",
            title=e.label,
            text=f"{e.label} is mentioned here with The person 1 and 1990.",
            kind="encyclopedia",
            mentions=(e.id, "Q1"),
            about=e.id,
        )
        for e in ENTITIES
    ]
    docs.append(Document("free", "No entity", "text", "news"))
    return docs


@pytest.fixture
def world(tmp_path: Path) -> World:
    with WorldWriter(tmp_path / "source") as writer:
        writer.add_entities(ENTITIES)
        writer.add_facts(_facts())
        writer.add_documents(_documents())
    return World.open(tmp_path / "source")


def _mapped(world: World, kind: str | None = None) -> set[tuple[str, str, Any]]:
    return {
        (f.subject, f.predicate, value(f))
        for f in world.facts()
        if PREDICATES.get(f.predicate)
        and PREDICATES[f.predicate].wikidata
        and kind in (None, f.kind)
    }


def _without_units(facts: set[tuple[str, str, Any]]) -> set[tuple[str, str, Any]]:
    return {(s, p, v[0] if isinstance(v, tuple) and p in _QUANTITIES else v) for s, p, v in facts}


_QUANTITIES = {name for name, p in PREDICATES.items() if p.kind == "quantity"}


def test_round_trip(world: World, ingest: Callable[..., World], tmp_path: Path) -> None:
    dump = export_dump(world, tmp_path / "dump")
    assert dump.entities == len(ENTITIES)
    assert dump.documents == len(ENTITIES)
    back = ingest(wikidata=dump.wikidata, wikipedia=dump.wikipedia)
    # A type that is a bare class id comes back as "item": ingest never uses an id as a type,
    # and the dump has no item Q999 whose label could name the class.
    entity_view = {
        (e.id, e.label, "item" if e.type == "Q999" else e.type, e.description, e.aliases)
        for e in ENTITIES
    }
    assert {(e.id, e.label, e.type, e.description, e.aliases) for e in back.entities()} == (
        entity_view
    )
    relations = _mapped(world, "entity")
    assert _mapped(back, "entity") == relations
    assert {p.name for p in PREDICATES.values() if p.wikidata and p.kind == "entity"} == {
        t[1] for t in relations
    }
    assert _without_units(_mapped(back)) == _without_units(_mapped(world))
    durations = [f for f in back.facts() if f.predicate == "duration"]
    assert [f.unit for f in durations] == ["Q7727"]  # "minute" is written as its item
    employer = next(f for f in back.facts() if f.predicate == "employer" and f.object == "ent-7")
    assert employer.qualifier_dict == {"point_in_time": "1994"}
    report = back.manifest.report
    assert report["dangling"] == 0
    assert report["unjoined"] == 0
    assert report["problems"] == []
    assert {d.about for d in back.documents()} == {e.id for e in ENTITIES}
    assert back.count("provenance") > 0


def test_dump_layout(world: World, tmp_path: Path) -> None:
    dump = export_dump(world, tmp_path / "dump")
    lines = gzip.decompress(dump.wikidata.read_bytes()).decode().splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    assert all(line.endswith(",") for line in lines[1:-2]) and not lines[-2].endswith(",")
    records = {r["id"]: r for r in (json.loads(line.rstrip(",")) for line in lines[1:-1])}
    book = records[FIRST["book"]]
    (author,) = book["claims"]["P50"]  # person author_of book is written on the book
    assert author["mainsnak"]["datavalue"]["value"]["id"] == FIRST["person"]
    assert author["mainsnak"]["datatype"] == "wikibase-item"
    person = records["Q1"]
    birth = person["claims"]["P569"][0]["mainsnak"]
    assert birth["datatype"] == "time"
    assert birth["datavalue"]["value"]["time"] == "+1990-05-17T00:00:00Z"
    assert person["claims"]["P31"][0]["mainsnak"]["datavalue"]["value"]["id"] == "Q5"
    qualifier = person["claims"]["P108"][-1]["qualifiers"]["P585"][0]
    assert qualifier["datavalue"]["value"]["precision"] == 9
    assert "P31" not in records["Q201"]["claims"]
    titles = {r["id"]: r["sitelinks"]["enwiki"]["title"] for r in records.values()}
    assert titles["Q3"] == "The city 3"
    assert titles["Q200"] == "The city 3 (Q200)"
    assert (
        dump.wikidata.read_bytes() == export_dump(world, tmp_path / "again").wikidata.read_bytes()
    )
    pages = [json.loads(line) for line in dump.wikipedia.read_text().splitlines()]
    text = "The city 3 is mentioned here with The person 1 and 1990."
    assert {"title": "The city 3 (Q200)", "text": text, "links": ["The person 1"]} in pages
    assert len(pages) == len(ENTITIES)  # the document about nothing is not a page
