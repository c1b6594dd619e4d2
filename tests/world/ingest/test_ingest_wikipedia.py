from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import value

from redsearcher.errors import InputFormatError
from redsearcher.world import Fact, World
from redsearcher.world.ingest import IngestConfig, ingest_world, wiki_doc_id
from redsearcher.world.ingest._mentions import TextMatcher, quantity_forms, states, year_forms

# title -> (about, mentions, source_url)
DOCUMENTS: dict[str, tuple[str | None, tuple[str, ...], str | None]] = {
    "Douglas Adams": (
        "Q42",
        ("Q42", "Q350", "Q691283", "Q25169", "Q145"),
        "https://en.wikipedia.org/wiki/Douglas_Adams",
    ),
    "cambridge": ("Q350", ("Q350", "Q2966", "Q145"), None),
    "Heidelberg": ("Q2966", ("Q2966",), "https://en.wikipedia.org/wiki/Heidelberg"),
    "Pan Books": ("Q7400", ("Q7400", "Q84"), None),
    "Some Unrelated Page": (None, ("Q84",), None),
    "British Museum": ("Q6373", ("Q6373",), None),
    "Battle of Marathon": ("Q33645", ("Q33645",), None),
}

LINKS = [
    (37, "Q42", "links_to", "Q350"),
    (38, "Q42", "links_to", "Q691283"),
    (39, "Q42", "links_to", "Q25169"),
    (40, "Q42", "links_to", "Q145"),
    (41, "Q350", "links_to", "Q2966"),
    (42, "Q350", "links_to", "Q145"),
    (43, "Q7400", "links_to", "Q84"),
]

# title -> every fact the page states, as (subject, predicate, value). Not stated, though the
# old mention rule counted them: Q42 citizen_of Q145 ("English" is not the UK's demonym, and a
# link alone states nothing), Q350 located_in Q145 (the UK is linked, never named), Q691283
# located_in Q350 ("born in Cambridge" is a birth), and the novel's date and pages ("The
# novel, first published in October 1979, runs to 180 pages": the novel is linked but not
# named in that sentence).
PROVENANCE: dict[str, set[tuple[str, str, Any]]] = {
    "Douglas Adams": {
        ("Q42", "date_of_birth", ("1952-03-11", 11)),  # "(11 March 1952 – 11 May 2001)"
        ("Q42", "date_of_death", ("2001-05-11", 11)),
        ("Q42", "born_in", "Q350"),  # "He was born in Cambridge"
        ("Q42", "educated_at", "Q691283"),  # "studied at St John's College"
        ("Q42", "author_of", "Q25169"),  # "an English author, best known for The Hitch..."
        ("Q42", "links_to", "Q350"),
        ("Q42", "links_to", "Q691283"),
        ("Q42", "links_to", "Q25169"),
        ("Q42", "links_to", "Q145"),
    },
    "cambridge": {
        ("Q350", "population", (145700.0, None)),  # "a population of 145,700"
        ("Q350", "twinned_with", "Q2966"),  # "It is twinned with Heidelberg."
        ("Q2966", "twinned_with", "Q350"),  # the same sentence, from Heidelberg's side
        ("Q350", "links_to", "Q2966"),
        ("Q350", "links_to", "Q145"),
    },
    "Heidelberg": {("Q2966", "population", (159914.0, None))},  # "about 160,000 people"
    "Pan Books": {
        ("Q7400", "headquartered_in", "Q84"),  # "based in London"
        ("Q7400", "inception", ("1944", 9)),  # "founded in 1944"
        ("Q7400", "links_to", "Q84"),
    },
    "British Museum": {("Q6373", "address", "Great Russell Street, London")},
    "Battle of Marathon": {("Q33645", "point_in_time", ("-0490", 9))},  # "490 BC"
}


def _documents(world: World) -> dict[str, tuple[str | None, tuple[str, ...], str | None]]:
    docs = world.documents()
    assert all(d.kind == "encyclopedia" and d.language == "en" for d in docs)
    assert all(d.id == wiki_doc_id(d.title) for d in docs)
    return {d.title: (d.about, d.mentions, d.source_url) for d in docs}


def _provenance(world: World) -> dict[str, set[tuple[str, str, Any]]]:
    titles = {d.id: d.title for d in world.documents()}
    facts = {f.id: f for f in world.facts()}
    out: dict[str, set[tuple[str, str, Any]]] = {}
    for link in world.provenance():
        fact = facts[link.fact_id]
        out.setdefault(titles[link.doc_id], set()).add((fact.subject, fact.predicate, value(fact)))
    return out


def test_documents_links_and_provenance_are_exact(
    ingest: Callable[..., World], fixtures: Path
) -> None:
    world = ingest(
        wikidata=fixtures / "wikidata.json",
        wikipedia=fixtures / "wikipedia.jsonl",
        config=IngestConfig(kb_pages=False),
    )
    assert _documents(world) == DOCUMENTS
    links = [(f.id, f.subject, f.predicate, f.object) for f in world.facts() if f.id > 36]
    assert links == LINKS
    assert _provenance(world) == PROVENANCE
    report = world.manifest.report
    assert report["unjoined"] == 1
    assert report["counts"]["links_unresolved"] == 1  # "Jane Belson"
    assert report["skipped"]["duplicate_title"] == 1  # "Douglas_Adams"
    problems = [
        (p["line"], p["reason"]) for p in report["problems"] if p["file"].endswith(".jsonl")
    ]
    assert problems == [(3, "bad_json"), (5, "missing_field"), (7, "wrong_type")]


def test_parquet_equals_jsonl(ingest: Callable[..., World], fixtures: Path, tmp_path: Path) -> None:
    rows = []
    for line in (fixtures / "wikipedia.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row.get("text"), str) and not isinstance(row.get("links"), str):
            rows.append(row)
    rows.append({"title": "Null text", "text": None})
    table = pa.table(
        {
            "title": [r["title"] for r in rows],
            "text": [r["text"] for r in rows],
            "url": [r.get("url") for r in rows],
            "links": pa.array([r.get("links") for r in rows], type=pa.list_(pa.string())),
        }
    )
    path = tmp_path / "pages.parquet"
    pq.write_table(table, path, row_group_size=3)
    dump = fixtures / "wikidata.json"
    from_parquet = ingest(wikidata=dump, wikipedia=path)
    from_jsonl = ingest(wikidata=dump, wikipedia=fixtures / "wikipedia.jsonl")
    for name in ("documents", "facts", "provenance"):
        assert from_parquet.manifest.table_hashes[name] == from_jsonl.manifest.table_hashes[name]
    problems = from_parquet.manifest.report["problems"]
    assert [(p["line"], p["reason"]) for p in problems if p["file"] == str(path)] == [
        (len(rows), "missing_field")
    ]


def test_pages_without_wikidata_are_unjoined(ingest: Callable[..., World], fixtures: Path) -> None:
    world = ingest(wikipedia=fixtures / "wikipedia.jsonl")
    docs = world.documents()
    assert len(docs) == 7
    assert all(d.about is None and d.mentions == () for d in docs)
    assert world.manifest.report["unjoined"] == 7
    assert world.count("facts") == world.count("provenance") == world.count("entities") == 0


def test_provenance_and_links_can_be_turned_off(
    ingest: Callable[..., World], fixtures: Path
) -> None:
    config = IngestConfig(links=False, provenance=False, kb_pages=False)
    world = ingest(
        wikidata=fixtures / "wikidata.json", wikipedia=fixtures / "wikipedia.jsonl", config=config
    )
    assert world.count("provenance") == 0
    assert world.count("facts") == 36


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("pages.parquet", lambda p: pq.write_table(pa.table({"title": ["a"]}), p), "text"),
        (
            "pages.parquet",
            lambda p: pq.write_table(pa.table({"title": [1], "text": ["x"]}), p),
            "title",
        ),
        ("pages.parquet", lambda p: p.write_bytes(b"PAR1 not really"), "Parquet"),
        ("pages.jsonl", lambda p: p.write_bytes(b"\x00\x01binary\nstuff\n"), "not a JSON Lines"),
    ],
)
def test_malformed_page_files_fail(
    tmp_path: Path, fixtures: Path, name: str, make: Callable[[Path], object], message: str
) -> None:
    path = tmp_path / name
    make(path)
    out = tmp_path / "world"
    with pytest.raises(InputFormatError, match=message) as err:
        ingest_world(out, wikidata=fixtures / "wikidata.json", wikipedia=path, progress=False)
    assert str(path) in str(err.value)
    assert {p.name for p in tmp_path.iterdir()} == {name}


def test_mention_rule_pieces() -> None:
    text = TextMatcher(
        "Born in Cambridgeshire in 1952; population 3,245,000 and 1.5 km; 145,700. Paris."
    )
    assert not text.has_phrase("Cambridge")  # word-bounded
    assert text.has_phrase("paris")  # case-insensitive
    assert text.has_phrase("1952")
    assert text.has_number("145,700")
    assert not text.has_number("3,245")  # part of a longer number
    assert not text.has_number("5")  # the 5 of 1.5
    assert quantity_forms(145700.0) == ("145700", "145,700")
    assert quantity_forms(1234.5) == ("1234.5", "1,234.5")
    assert year_forms("-0490") == ("490 BC", "490 BCE", "490 B.C.")
    assert year_forms("0079-08-24") == ("79",)
    coordinate = Fact.coordinate(1, "Q1", "coordinates", 48.85, 2.35)
    assert not states(coordinate, TextMatcher("48.85, 2.35"), {"Q1"}, set(), {})
    relation = Fact.relation(2, "Q1", "capital", "Q2")
    names = {"Q2": ("Paris", "City of Light")}
    assert states(relation, TextMatcher("the city of light"), {"Q1", "Q2"}, set(), names)
    assert not states(relation, TextMatcher("the city of light"), {"Q1"}, set(), names)
    assert states(relation, TextMatcher("nothing"), {"Q1", "Q2"}, {"Q2"}, names)
    assert not states(relation, TextMatcher("Paris"), {"Q2"}, set(), names)  # subject missing
