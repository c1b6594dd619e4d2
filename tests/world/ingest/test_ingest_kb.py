"""Knowledge-base pages: one ``database`` document per entity, stating every fact it renders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redsearcher._cli import app
from redsearcher.env._urls import UrlMinter
from redsearcher.world import DOCUMENT_KINDS, Document, World
from redsearcher.world.ingest import IngestConfig, export_dump
from redsearcher.world.ingest._kb import format_date, property_label, unit_text
from redsearcher.world.ingest._mentions import TextMatcher, states

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "realkb"

DOUGLAS = """Douglas Adams
English author and humourist

Date of birth: 11 March 1952
Date of death: 11 May 2001
Born in: Cambridge
Citizen of: United Kingdom
Educated at: St John's College, Cambridge
Signed to: Example Records
Author of: The Hitchhiker's Guide to the Galaxy
"""


def _kb(world: World) -> dict[str, Document]:
    return {d.about or "": d for d in world.documents() if d.kind == "database"}


def _names(world: World) -> dict[str, tuple[str, ...]]:
    return {e.id: (e.label, *e.aliases) for e in world.entities()}


def test_a_page_per_entity_with_its_facts(ingest: Callable[..., World], fixtures: Path) -> None:
    world = ingest(wikidata=fixtures / "wikidata.json")
    pages = _kb(world)
    douglas = pages["Q42"]
    assert (
        douglas.id == "kb:Q42" and douglas.kind == "database" and douglas.title == "Douglas Adams"
    )
    assert douglas.text == DOUGLAS
    assert douglas.mentions == ("Q42", "Q350", "Q145", "Q691283", "Q21077", "Q25169")
    cambridge = pages["Q350"].text
    assert "Population: 145,700 (point in time: 2021)\n" in cambridge
    assert "Twinned with: Heidelberg (start time: 1965)\n" in cambridge
    assert "coordinates" not in cambridge.casefold()  # the maps tool serves them
    assert "Duration: 109 minutes\n" in pages["Q25202"].text
    assert "Publication date: October 1979\n" in pages["Q25169"].text
    assert "Point in time: 490 BC\n" in pages["Q33645"].text
    # Every entity with a fact has a page; the others have none.
    subjects = {f.subject for f in world.facts() if f.kind != "coordinate"}
    assert set(pages) == subjects
    assert world.manifest.report["counts"]["kb_pages"] == len(pages)
    assert "kb_unstated" not in world.manifest.report["counts"]


def test_every_fact_but_coordinates_has_a_page_and_the_rule_agrees(
    ingest: Callable[..., World], fixtures: Path
) -> None:
    world = ingest(wikidata=fixtures / "wikidata.json", wikipedia=fixtures / "wikipedia.jsonl")
    docs = {d.id: d for d in world.documents()}
    facts = {f.id: f for f in world.facts()}
    names = _names(world)
    by_kb: dict[int, str] = {}
    for link in world.provenance():
        doc = docs[link.doc_id]
        if doc.kind != "database":
            continue
        fact = facts[link.fact_id]
        assert fact.subject == doc.about  # a page states facts of its own entity only
        assert states(fact, TextMatcher(doc.text), set(doc.mentions), (), names)
        by_kb[fact.id] = doc.id
    expected = {
        f.id for f in facts.values() if f.kind != "coordinate" and f.predicate != "links_to"
    }
    assert set(by_kb) == expected
    # The Wikipedia pages keep exactly the provenance they had without knowledge-base pages.
    text_only = ingest(
        wikidata=fixtures / "wikidata.json",
        wikipedia=fixtures / "wikipedia.jsonl",
        config=IngestConfig(kb_pages=False),
    )
    wiki = {(p.doc_id, p.fact_id) for p in world.provenance() if not p.doc_id.startswith("kb:")}
    assert wiki == {(p.doc_id, p.fact_id) for p in text_only.provenance()}
    assert [d.id for d in text_only.documents()] == [
        d.id for d in world.documents() if d.kind != "database"
    ]


def test_pages_can_be_turned_off_and_are_deterministic(
    ingest: Callable[..., World], fixtures: Path
) -> None:
    off = ingest(wikidata=fixtures / "wikidata.json", config=IngestConfig(kb_pages=False))
    assert off.count("documents") == off.count("provenance") == 0
    first = ingest(wikidata=fixtures / "wikidata.json")
    second = ingest(wikidata=fixtures / "wikidata.json", config=IngestConfig(batch_rows=1))
    assert first.content_hash == second.content_hash
    assert first.count("documents") == 13
    silent = ingest(wikidata=fixtures / "wikidata.json", config=IngestConfig(provenance=False))
    assert silent.count("documents") == 13 and silent.count("provenance") == 0


def test_export_leaves_pages_out_and_ingest_writes_them_again(
    ingest: Callable[..., World], fixtures: Path, tmp_path: Path
) -> None:
    first = ingest(wikidata=fixtures / "wikidata.json", wikipedia=fixtures / "wikipedia.jsonl")
    dump = export_dump(first, tmp_path / "dump")
    lines = dump.wikipedia.read_text(encoding="utf-8").splitlines()
    assert (
        len(lines)
        == dump.documents
        == sum(d.kind == "encyclopedia" and d.about is not None for d in first.documents())
    )
    again = ingest(wikidata=dump.wikidata, wikipedia=dump.wikipedia)
    assert _kb(again).keys() == _kb(first).keys()
    # The same lines (fact order follows the dump, which export sorts by entity id).
    lines_of = {e: sorted(d.text.splitlines()) for e, d in _kb(first).items()}
    assert {e: sorted(d.text.splitlines()) for e, d in _kb(again).items()} == lines_of


def test_real_slice_every_labelled_fact_has_a_source(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    world = ingest(wikidata=REAL / "wikidata.json", wikipedia=REAL / "enwiki.jsonl")
    pages = _kb(world)
    arnold = pages["Q2685"].text
    assert arnold.startswith(
        "Arnold Schwarzenegger\nAustrian-American actor, businessman, bodybuilder and politician\n"
    )
    assert "Date of birth: 30 July 1947\n" in arnold
    assert "Spouse: Maria Shriver\n" in arnold
    stated = {p.fact_id for p in world.provenance() if p.doc_id.startswith("kb:")}
    facts = [f for f in world.facts() if f.predicate != "links_to"]
    assert stated == {f.id for f in facts}  # the slice has no coordinates
    # Wikipedia text alone states almost none of them: the reason the pages exist.
    text = {p.fact_id for p in world.provenance() if p.doc_id.startswith("wiki:")}
    assert len(text) < len(facts) / 10


def test_an_entity_without_a_label_is_never_shown(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    dump = tmp_path / "d.json"
    item = (
        '{"type":"item","id":"Q%s","labels":%s,"claims":{"P27":[{"mainsnak":{"snaktype":"value",'
        '"property":"P27","datavalue":{"value":{"entity-type":"item","id":"Q%s"},'
        '"type":"wikibase-entityid"},"datatype":"wikibase-item"},"type":"statement",'
        '"rank":"normal"}]%s}}'
    )
    person = item % ("1", '{"en":{"language":"en","value":"Ann Example"}}', "2", "")
    p31 = (
        ',"P31":[{"mainsnak":{"snaktype":"value","property":"P31","datavalue":{"value":'
        '{"entity-type":"item","id":"Q5"},"type":"wikibase-entityid"},"datatype":"wikibase-item"},'
        '"type":"statement","rank":"normal"}]'
    )
    person = person[:-2] + p31 + "}}"
    nameless = '{"type":"item","id":"Q2","labels":{},"claims":{}}'
    dump.write_text(f"[\n{person},\n{nameless}\n]\n")
    world = ingest(wikidata=dump)
    facts = world.facts()
    assert [(f.subject, f.object) for f in facts] == [("Q1", "Q2")]
    assert world.count("documents") == 0  # the one fact would show a raw id: no page


@pytest.mark.parametrize(
    ("date", "precision", "text"),
    [
        ("1952-03-11", 11, "11 March 1952"),
        ("1979-10", 10, "October 1979"),
        ("1511", 9, "1511"),
        ("-0490", 9, "490 BC"),
        ("1950", 8, "1950s (decade from 1950)"),
        ("1900", 7, "1900 (century)"),
        ("1952-03-11", None, "11 March 1952"),
    ],
)
def test_dates_at_their_precision(date: str, precision: int | None, text: str) -> None:
    assert format_date(date, precision) == text
    year = date.lstrip("-").split("-")[0].lstrip("0")
    assert TextMatcher(text).has_phrase(year)  # the provenance rule's year check accepts it


def test_labels_and_units() -> None:
    assert property_label("date_of_birth") == "Date of birth"
    assert unit_text(109, "minute") == "minutes" and unit_text(1, "minute") == "minute"
    assert unit_text(6, "foot") == "feet" and unit_text(3, "Q999") == "Q999"


def test_database_kind_has_its_own_urls() -> None:
    assert "database" in DOCUMENT_KINDS
    url = UrlMinter("hash").mint("kb:Q42", "Douglas Adams", "database", "person")
    assert url.split("/")[2] in {
        "www.factregistry.org",
        "www.opendatabank.net",
        "www.knowledgeledger.org",
    }
    assert url.endswith("/douglas-adams")


def test_cli_flag(fixtures: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["world", "ingest", "--wikidata", str(fixtures / "wikidata.json"), "-q"]
    on = runner.invoke(app, [*base, "--out", str(tmp_path / "on")])
    off = runner.invoke(app, [*base, "--out", str(tmp_path / "off"), "--no-kb-pages"])
    assert on.exit_code == off.exit_code == 0, on.output + off.output
    assert World.open(tmp_path / "on").count("documents") == 13
    assert World.open(tmp_path / "off").count("documents") == 0
    assert World.open(tmp_path / "off").manifest.source["config"]["kb_pages"] is False
