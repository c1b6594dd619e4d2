from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_helpers import qualifiers, triples

from redsearcher.errors import ConfigError, InputFormatError
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

ENTITIES = {
    ("Q42", "Douglas Adams", "person"),
    ("Q350", "Cambridge", "city"),
    ("Q2966", "Heidelberg", "city"),
    ("Q145", "United Kingdom", "country"),  # P31 = [Q3624078, Q6256]: first vocabulary match
    ("Q84", "London", "city"),
    ("Q691283", "St John's College, Cambridge", "university"),
    ("Q25169", "The Hitchhiker's Guide to the Galaxy", "book"),
    ("Q7400", "Pan Books", "organization"),
    ("Q21077", "Example Records", "record_label"),
    ("Q3107329", "Hitchhiker Radio Songs", "album"),
    ("Q25202", "The Hitchhiker's Guide to the Galaxy (film)", "film"),
    ("Q6373", "British Museum", "place"),
    ("Q33645", "Battle of Marathon", "event"),
    # no English label; P31 Q12345 is not in the dump, so no class label names it: "item"
    ("Q1000001", "Nur Deutsch", "item"),
    ("Q1000002", "Q1000002", "item"),  # no label, no P31
}

# Every fact of the fixture dump, in dump order (ids 1..36).
FACTS = [
    (1, "Q42", "date_of_birth", ("1952-03-11", 11)),
    (2, "Q42", "date_of_death", ("2001-05-11", 11)),
    (3, "Q42", "born_in", "Q350"),
    (4, "Q42", "citizen_of", "Q145"),
    (5, "Q42", "educated_at", "Q691283"),
    # Q42 spouse Q14623681 is dangling (not in the dump)
    (6, "Q42", "signed_to", "Q21077"),  # P264 on a person
    (7, "Q350", "located_in", "Q145"),
    (8, "Q350", "population", (145700.0, None)),
    (9, "Q350", "coordinates", (52.205, 0.119)),
    (10, "Q350", "twinned_with", "Q2966"),
    (11, "Q2966", "twinned_with", "Q350"),
    (12, "Q2966", "population", (159914.0, None)),
    (13, "Q145", "capital", "Q84"),
    (14, "Q84", "located_in", "Q145"),
    (15, "Q691283", "inception", ("1511", 9)),
    (16, "Q691283", "located_in", "Q350"),
    (17, "Q691283", "students_count", (950.0, None)),
    (18, "Q42", "author_of", "Q25169"),  # Q25169 P50 Q42, inverted
    (19, "Q25169", "publication_date", ("1979-10", 10)),
    (20, "Q25169", "number_of_pages", (180.0, None)),
    (21, "Q25169", "publisher", "Q7400"),
    (22, "Q7400", "headquartered_in", "Q84"),
    (23, "Q7400", "inception", ("1944", 9)),
    (24, "Q7400", "employees", (250.0, None)),
    (25, "Q21077", "headquartered_in", "Q84"),
    (26, "Q3107329", "record_label", "Q21077"),  # P264 on an album
    (27, "Q3107329", "performer", "Q42"),
    (28, "Q3107329", "number_of_tracks", (12.0, None)),
    (29, "Q3107329", "publication_date", ("1978", 9)),
    (30, "Q25202", "screenwriter", "Q42"),
    (31, "Q25202", "duration", (109.0, "Q7727")),
    (32, "Q25202", "publication_date", ("2005-04-28", 11)),
    (33, "Q6373", "address", "Great Russell Street, London"),  # monolingualtext
    (34, "Q6373", "coordinates", (51.519, -0.127)),
    (35, "Q6373", "located_in", "Q84"),
    (36, "Q33645", "point_in_time", ("-0490", 9)),
]

SKIPPED = {
    "bad_json": 1,
    "not_an_object": 1,
    "missing_field": 1,
    "wrong_type": 1,
    "duplicate_entity": 1,
    "not_an_item": 1,
    "bad_value": 1,
    "deprecated_rank": 1,
    "novalue": 1,
    "somevalue": 1,
    "non_earth_coordinate": 1,
}

PROBLEMS = [
    (3, "bad_value"),
    (8, "bad_json"),
    (11, "not_an_object"),
    (14, "missing_field"),
    (17, "wrong_type"),
    (22, "duplicate_entity"),
]


@pytest.fixture
def dump(fixtures: Path) -> Path:
    return fixtures / "wikidata.json"


def test_entities_facts_and_report_are_exact(ingest: Callable[..., World], dump: Path) -> None:
    world = ingest(wikidata=dump, config=IngestConfig(kb_pages=False))
    assert {(e.id, e.label, e.type) for e in world.entities()} == ENTITIES
    assert triples(world) == FACTS
    assert qualifiers(world) == {
        ("Q350", "population", (145700.0, None)): {"point_in_time": "2021"},
        ("Q350", "twinned_with", "Q2966"): {"P580": "1965"},
    }
    douglas = next(e for e in world.entities() if e.id == "Q42")
    assert douglas.description == "English author and humourist"
    assert douglas.aliases == ("Douglas Noël Adams", "DNA")
    report = world.manifest.report
    assert report["skipped"] == SKIPPED
    assert report["dangling"] == 1
    assert [(p["line"], p["reason"]) for p in report["problems"]] == PROBLEMS
    assert all(p["file"] == str(dump) for p in report["problems"])
    assert world.count("documents") == 0
    assert world.count("provenance") == 0


def test_compressed_dumps_equal_plain(
    ingest: Callable[..., World], dump: Path, tmp_path: Path
) -> None:
    data = dump.read_bytes()
    gz, bz, hidden = tmp_path / "d.json.gz", tmp_path / "d.json.bz2", tmp_path / "d.json"
    gz.write_bytes(gzip.compress(data))
    bz.write_bytes(bz2.compress(data))
    hidden.write_bytes(gzip.compress(data))  # gzip under a plain name: the magic bytes decide
    plain = ingest(wikidata=dump)
    for path in (gz, bz, hidden):
        other = ingest(wikidata=path)
        assert other.content_hash == plain.content_hash
        assert other.manifest.report["skipped"] == SKIPPED


def test_ingest_is_deterministic(ingest: Callable[..., World], dump: Path) -> None:
    assert ingest(wikidata=dump).content_hash == ingest(wikidata=dump).content_hash


def test_property_map_and_property_selection(ingest: Callable[..., World], dump: Path) -> None:
    config = IngestConfig(properties=["P50", "P569"], property_map={"P1476": "title"})
    world = ingest(wikidata=dump, config=config)
    assert [t[1:] for t in triples(world)] == [
        ("Q42", "date_of_birth", ("1952-03-11", 11)),
        ("Q42", "author_of", "Q25169"),
        ("Q25169", "title", "The Hitchhiker's Guide to the Galaxy"),
    ]


def test_require_sitelink_drops_entities_and_their_relations(
    ingest: Callable[..., World], dump: Path
) -> None:
    world = ingest(wikidata=dump, config=IngestConfig(require_sitelink=True))
    ids = {e.id for e in world.entities()}
    assert ids == {e[0] for e in ENTITIES} - {"Q3107329", "Q1000001", "Q1000002"}
    assert all(f.subject in ids for f in world.facts())
    # Q1000002 appears twice; neither copy is kept, so neither is a duplicate.
    assert world.manifest.report["skipped"]["no_sitelink"] == 4
    assert "duplicate_entity" not in world.manifest.report["skipped"]
    assert world.manifest.report["dangling"] == 1  # the spouse; the album's facts left with it


def test_symmetric_completion_and_entity_data_files(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    def entity(
        qid: str, label: str, claims: dict[str, list[dict[str, object]]]
    ) -> dict[str, object]:
        return {"id": qid, "labels": {"en": {"language": "en", "value": label}}, "claims": claims}

    def item_claim(pid: str, qid: str) -> dict[str, object]:
        value = {"entity-type": "item", "id": qid}
        datavalue = {"value": value, "type": "wikibase-entityid"}
        snak = {"snaktype": "value", "property": pid, "datavalue": datavalue}
        return {"mainsnak": snak, "rank": "normal"}

    a = entity("Q1", "Ann", {"P31": [item_claim("P31", "Q5")], "P26": [item_claim("P26", "Q2")]})
    b = entity("Q2", "Bob", {"P31": [item_claim("P31", "Q5")]})
    path = tmp_path / "Q1.json"  # Special:EntityData shape: one line, {"entities": {...}}
    path.write_text(json.dumps({"entities": {"Q1": a, "Q2": b}}))
    world = ingest(wikidata=path)
    assert [t[1:] for t in triples(world)] == [("Q1", "spouse", "Q2"), ("Q2", "spouse", "Q1")]
    assert world.manifest.report["counts"]["symmetric_completed"] == 1
    plain = ingest(wikidata=path, config=IngestConfig(complete_symmetric=False))
    assert [t[1:] for t in triples(plain)] == [("Q1", "spouse", "Q2")]


def _no_leftovers(directory: Path, keep: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == keep


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("dump.json", b"hello world\n", "not a Wikidata JSON dump"),
        ("dump.json", b"", "empty file"),
        ("dump.json.gz", b"[\n]\n", "not gzip"),
        ("dump.json.bz2", b"[\n]\n", "not bz2"),
        ("dump.json.zst", b"\x28\xb5\x2f\xfd0000", "zstd"),
        ("dump.json", b"[\nnot json,\nnor this,\n]\n", "no line holds a JSON object"),
    ],
)
def test_malformed_files_fail_and_write_nothing(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    path = inputs / name
    path.write_bytes(content)
    with pytest.raises(InputFormatError, match=message) as err:
        ingest_world(tmp_path / "out" / "world", wikidata=path, progress=False)
    assert str(path) in str(err.value)
    assert not (tmp_path / "out").exists()  # not even the parent made for the World


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_truncated_compressed_dump_fails_midway(
    dump: Path, tmp_path: Path, compress: Callable[[bytes], bytes]
) -> None:
    data = compress(dump.read_bytes())
    path = tmp_path / ("dump.json.gz" if compress is gzip.compress else "dump.json.bz2")
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFormatError, match="decompress") as err:
        ingest_world(tmp_path / "world", wikidata=path, progress=False)
    assert err.value.path == str(path)
    _no_leftovers(tmp_path, {path.name})


def test_missing_file_and_invalid_config(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="no such file"):
        ingest_world(tmp_path / "w", wikidata=tmp_path / "nope.json", progress=False)
    with pytest.raises(ValueError, match="expected P123"):
        IngestConfig(properties=["9999"])
    with pytest.raises(ValueError, match="expected Q123"):
        IngestConfig(type_map={"city": "Q515"})
    with pytest.raises(ValueError, match="English word"):
        IngestConfig(type_map={"Q515": "Q515"})
    with pytest.raises(ValueError, match="snake_case"):
        IngestConfig(property_map={"P1476": "Title"})
    from redsearcher.config import load_config

    with pytest.raises(ConfigError, match="language"):
        load_config(IngestConfig, "ingest", overrides={"language": "English!"})
    _no_leftovers(tmp_path, set())
