"""Duplicate records are settled after the stream (``_dedupe``), as the single pass did."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import triples

from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig


def _record(
    qid: str, label: str, *, sitelink: bool, spouse: str | None = None, qualifiers: Any = None
) -> str:
    claims: dict[str, Any] = {}
    if spouse is not None:
        value = {"entity-type": "item", "id": spouse}
        snak = {"property": "P26", "snaktype": "value"}
        snak["datavalue"] = {"value": value, "type": "wikibase-entityid"}
        statement: dict[str, Any] = {"mainsnak": snak, "rank": "normal"}
        if qualifiers is not None:
            statement["qualifiers"] = qualifiers
        claims["P26"] = [statement]
    record = {
        "type": "item",
        "id": qid,
        "labels": {"en": {"language": "en", "value": label}},
        "claims": claims,
        "sitelinks": {"enwiki": {"site": "enwiki", "title": label}} if sitelink else {},
    }
    return json.dumps(record)


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    """Q7 dropped (no sitelink), then kept, then three duplicates: one with a bad qualifier,
    one that a filter drops, one plain."""
    rows = [
        _record("Q7", "First", sitelink=False),
        _record("Q7", "Kept", sitelink=True, spouse="Q8"),
        _record("Q7", "Again", sitelink=True, spouse="Q8", qualifiers="oops"),
        _record("Q7", "Gone", sitelink=False),
        _record("Q7", "Third", sitelink=True, spouse="Q8"),
        _record("Q8", "Bee", sitelink=True),
    ]
    path = tmp_path / "dump.json"
    path.write_text("[\n" + ",\n".join(rows) + "\n]\n")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_a_later_record_of_a_kept_id_counts_for_nothing(
    ingest: Callable[..., World], dump: Path, workers: int
) -> None:
    config = IngestConfig(require_sitelink=True, workers=workers, chunk_bytes=64)
    world = ingest(wikidata=dump, config=config)
    # the kept record wins over the dropped one before it, not the first row of the id
    assert {e.id: e.label for e in world.entities()} == {"Q7": "Kept", "Q8": "Bee"}
    # the duplicates' own spouse facts are gone; the other is the symmetric completion
    assert [t[1:] for t in triples(world)] == [("Q7", "spouse", "Q8"), ("Q8", "spouse", "Q7")]
    report = world.manifest.report
    # a duplicate reports only that it is one: not its bad qualifier, not its filter drop
    assert report["skipped"] == {"no_sitelink": 1, "duplicate_entity": 3}
    problems = [(p["line"], p["reason"], p.get("detail")) for p in report["problems"]]
    assert problems == [(line, "duplicate_entity", "Q7") for line in (4, 5, 6)]
    assert report["problems_total"] == 3
    assert report["counts"]["wikidata_records"] == 6


def test_an_id_never_kept_keeps_its_first_label_and_no_duplicate(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    rows = [
        _record("Q7", "First", sitelink=False),
        _record("Q7", "Second", sitelink=False),
        _record("Q8", "Bee", sitelink=True, spouse="Q7"),
    ]
    path = tmp_path / "dump.json"
    path.write_text("[\n" + ",\n".join(rows) + "\n]\n")
    config = IngestConfig(require_sitelink=True, stubs=True, chunk_bytes=64)
    world = ingest(wikidata=path, config=config)
    # Q7 becomes a stub (Bee's spouse) under the label of its first record
    assert {e.id: e.label for e in world.entities()} == {"Q8": "Bee", "Q7": "First"}
    assert world.manifest.report["skipped"] == {"no_sitelink": 2}
    assert world.manifest.report["counts"]["stubs"] == 1
