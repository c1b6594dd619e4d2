"""The provenance gold set (tests/fixtures/realgold): schema, invariants, and its scorer.

The gold set is judged by reading, independently of any detector; these tests keep it usable:
every row is well formed, its quote is verbatim page text, its fact exists in a World ingested
from the committed slice, splits are disjoint by page, and ``score`` counts what it should.
The last test holds the detector to the precision target on the held-out split.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from redsearcher.world import PREDICATES, Provenance, World, WorldWriter
from redsearcher.world.ingest import ingest_world, wiki_doc_id

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_provenance  # noqa: E402

GOLD_DIR = ROOT / "tests" / "fixtures" / "realgold"
REQUIRED = {
    "split": str,
    "doc_title": str,
    "page_about": str,
    "kind": str,
    "subject": str,
    "subject_label": str,
    "property": str,
    "property_label": str,
    "predicate": str,
    "object_label": str,
    "stated": bool,
    "note": str,
}


@pytest.fixture(scope="module")
def gold() -> list[dict[str, Any]]:
    return bench_provenance.load_gold(GOLD_DIR / "gold.jsonl")


@pytest.fixture(scope="module")
def pages() -> dict[str, dict[str, Any]]:
    lines = (GOLD_DIR / "pages.jsonl").read_text("utf-8").splitlines()
    return {p["title"]: p for p in map(json.loads, lines)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    out = tmp_path_factory.mktemp("realgold") / "world"
    ingest_world(
        out,
        wikidata=[GOLD_DIR / "wikidata.json.gz"],
        wikipedia=[GOLD_DIR / "pages.jsonl"],
        config=bench_provenance.GOLD_CONFIG,
        progress=False,
    )
    return World.open(out)


def test_rows_are_well_formed(gold: list[dict[str, Any]], pages: dict[str, Any]) -> None:
    for n, row in enumerate(gold, 1):
        where = f"gold.jsonl:{n} ({row.get('doc_title')})"
        for field, typ in REQUIRED.items():
            assert isinstance(row.get(field), typ), f"{where}: {field}"
        assert row["split"] in ("dev", "test"), where
        assert row["page_about"] in ("subject", "object"), where
        assert row["kind"] in bench_provenance.KINDS, where
        assert re.fullmatch(r"Q[1-9]\d*", row["subject"]), where
        assert re.fullmatch(r"P[1-9]\d*", row["property"]), where
        assert row["note"].strip(), f"{where}: every judgement has a reason"
        assert row["doc_title"] in pages, f"{where}: page missing from pages.jsonl"
        if row["kind"] == "entity":
            assert re.fullmatch(r"Q[1-9]\d*", row["object"]) and row["value"] is None, where
        else:
            assert isinstance(row["value"], dict), where
        if row["page_about"] == "object":
            assert row["kind"] == "entity", where
        if row["stated"]:
            assert row["quote"] and row["quote"] in pages[row["doc_title"]]["text"], (
                f"{where}: quote is not verbatim page text"
            )
        else:
            assert row["quote"] is None, where


def test_predicates_are_named_as_ingest_names_them(gold: list[dict[str, Any]]) -> None:
    by_pid = {p.wikidata: p.name for p in PREDICATES.values() if p.wikidata and not p.inverse}
    for row in gold:
        snake = re.sub(r"[^a-z0-9]+", "_", row["property_label"].lower()).strip("_")
        assert row["predicate"] == by_pid.get(row["property"], snake), row["doc_title"]
        assert row["predicate"] != "links_to"


def test_sizes_splits_and_pages(gold: list[dict[str, Any]], pages: dict[str, Any]) -> None:
    split_of: dict[str, set[str]] = defaultdict(set)
    for row in gold:
        split_of[row["doc_title"]].add(row["split"])
        bucket = int(hashlib.sha1(row["doc_title"].encode("utf-8")).hexdigest(), 16) % 100
        assert row["split"] == ("dev" if bucket < 20 else "test"), row["doc_title"]
    assert all(len(s) == 1 for s in split_of.values()), "a page is in both splits"
    counts = Counter(r["split"] for r in gold)
    assert counts["test"] >= 200 and counts["dev"] >= 40
    assert max(Counter(r["doc_title"] for r in gold).values()) <= 3
    assert set(pages) == set(split_of), "pages.jsonl holds exactly the gold pages"
    stated = Counter((r["kind"], r["stated"]) for r in gold)
    for kind in bench_provenance.KINDS:  # every kind measurable both ways
        assert stated[(kind, True)] >= 5 and stated[(kind, False)] >= 5, kind
    keys = [(r["doc_title"], r["subject"], r["property"], r["object_label"]) for r in gold]
    assert len(keys) == len(set(keys)), "duplicate judgement"


def test_every_row_maps_to_a_fact_and_a_joined_page(
    gold: list[dict[str, Any]], world: World
) -> None:
    index = bench_provenance.FactIndex(world, (r["subject"] for r in gold))
    docs = {d["id"]: d for d in world.table("documents", ["id", "about"]).to_pylist()}
    for row in gold:
        assert index.fact_ids(row), f"no World fact for {row['doc_title']!r}: {row}"
        doc = docs.get(wiki_doc_id(row["doc_title"]))
        assert doc is not None, row["doc_title"]
        about = row["subject"] if row["page_about"] == "subject" else row["object"]
        assert doc["about"] == about, f"{row['doc_title']!r} is not joined to {about}"


def _with_provenance(world: World, out: Path, pairs: set[tuple[str, int]]) -> Path:
    """A copy of ``world`` whose provenance is exactly ``pairs``."""
    with WorldWriter(out) as w:
        for name in ("entities", "facts", "documents"):
            w.add_batch(name, world.table(name))
        w.add_provenance(Provenance(doc_id=doc, fact_id=fid) for doc, fid in sorted(pairs))
    return out


def test_score_counts(gold: list[dict[str, Any]], world: World, tmp_path: Path) -> None:
    index = bench_provenance.FactIndex(world, (r["subject"] for r in gold))
    pair = {id(r): (wiki_doc_id(r["doc_title"]), index.fact_ids(r)[0]) for r in gold}
    stated = [r for r in gold if r["stated"]]
    n_true, n_false = len(stated), len(gold) - len(stated)

    oracle = bench_provenance.score(
        _with_provenance(world, tmp_path / "oracle", {pair[id(r)] for r in stated}), gold
    )
    assert (oracle["tp"], oracle["fp"], oracle["fn"], oracle["tn"]) == (n_true, 0, 0, n_false)
    assert oracle["precision"] == oracle["recall"] == oracle["f1"] == 1.0
    assert oracle["unmapped"] == [] and oracle["mapped"] == len(gold)

    everything = bench_provenance.score(
        _with_provenance(world, tmp_path / "all", set(pair.values())), gold
    )
    assert everything["fp"] == n_false and everything["recall"] == 1.0
    assert everything["precision"] == pytest.approx(n_true / len(gold))
    kinds = everything["per_kind"]
    assert sum(k["tp"] + k["fp"] for k in kinds.values()) == len(gold)

    nothing = bench_provenance.score(_with_provenance(world, tmp_path / "none", set()), gold)
    assert nothing["precision"] is None and nothing["recall"] == 0.0 and nothing["fn"] == n_true


def test_score_reports_unmapped_rows(gold: list[dict[str, Any]], world: World) -> None:
    ghost = {**gold[0], "subject": "Q999999999", "doc_title": gold[0]["doc_title"]}
    result = bench_provenance.score(world.path, [*gold[:5], ghost])
    assert result["unmapped"] == [ghost]
    assert result["mapped"] == 5 and result["rows"] == 6


def test_detector_precision_on_the_held_out_split(gold: list[dict[str, Any]], world: World) -> None:
    """Issue 12's target: provenance precision >= 0.9 on the held-out gold rows.

    The slice gives the full sample's numbers within a row or two (0.932 / 0.663 on the slice,
    0.931 / 0.651 on the full sample); recall is pinned under today's value so a change that
    trades recall away silently is noticed too.
    """
    test_rows = [r for r in gold if r["split"] == "test"]
    result = bench_provenance.score(world.path, test_rows)
    assert result["unmapped"] == []
    assert result["precision"] is not None and result["precision"] >= 0.9, result
    assert result["recall"] >= 0.62, result
