"""Hyperlink discovery, the graph agent's checks, and the derived World of ``world densify``.

The World is ingested (the real ingest path) from a tiny Wikidata dump and Wikipedia pages
with links, written by the test. The model is a ``ScriptedModel`` (the real chat client over a
mock transport); its replies include hostile ones, which must be rejected with reasons.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from redsearcher._cli import main
from redsearcher.errors import UserError
from redsearcher.log import HeaderMismatch, iter_records
from redsearcher.model import ModelUnavailable
from redsearcher.synth import GraphAgent, Judgment, KnowledgeGraph, densify_world, link_pairs
from redsearcher.synth._discovery import Candidate, Page
from redsearcher.synth._graph import _neighbours
from redsearcher.synth._graph_agent import (
    PredicateMap,
    _Context,
    check_relation,
    clean_label,
    parse_reply,
)
from redsearcher.testing import Script, ScriptedChatServer, ScriptedModel, Step
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world, wiki_doc_id

CLASSES = {"person": "Q5", "city": "Q515", "university": "Q3918", "org": "Q31855", "land": "Q6256"}


def _claim(pid: str, target: str) -> dict[str, Any]:
    value = {"entity-type": "item", "numeric-id": int(target[1:]), "id": target}
    snak = {
        "snaktype": "value",
        "property": pid,
        "datavalue": {"value": value, "type": "wikibase-entityid"},
        "datatype": "wikibase-item",
    }
    return {"mainsnak": snak, "type": "statement", "id": f"{pid}${target}", "rank": "normal"}


def _item(qid: str, label: str, cls: str, description: str, **claims: str) -> dict[str, Any]:
    all_claims: dict[str, list[dict[str, Any]]] = {"P31": [_claim("P31", CLASSES[cls])]}
    for pid, target in claims.items():
        all_claims.setdefault(pid, []).append(_claim(pid, target))
    return {
        "type": "item",
        "id": qid,
        "labels": {"en": {"language": "en", "value": label}},
        "descriptions": {"en": {"language": "en", "value": description}},
        "aliases": {},
        "claims": all_claims,
        "sitelinks": {"enwiki": {"site": "enwiki", "title": label}},
    }


ITEMS = [
    _item("Q101", "Ada Lindqvist", "person", "chemist", P19="Q102", P27="Q105"),
    _item("Q102", "Harwick", "city", "city in Caldora", P17="Q105"),
    _item("Q103", "Norrland University", "university", "university in Harwick", P131="Q102"),
    _item("Q104", "Velden Institute", "org", "research institute", P159="Q102"),
    _item("Q105", "Caldora", "land", "country"),
    _item("Q106", "Oskar Brandt", "person", "physicist", P19="Q102"),
]
ADA = (
    "Ada Lindqvist (born 1950) is a chemist from Harwick. Lindqvist studied at Norrland "
    "University and later worked for the Velden Institute. At the institute she met the "
    "physicist Oskar Brandt. The Velden Institute was founded in 1961, a year after Norrland "
    "University opened its chemistry department."
)
VELDEN = (
    "The Velden Institute is a research institute in Harwick. Oskar Brandt was the first "
    "director of the Velden Institute."
)
PAGES = [
    {
        "title": "Ada Lindqvist",
        "text": ADA,
        "links": ["Norrland University", "Velden Institute", "Oskar Brandt", "Harwick"],
    },
    {"title": "Velden Institute", "text": VELDEN, "links": ["Harwick", "Oskar Brandt"]},
]


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("linked")
    dump = "[\n" + ",\n".join(json.dumps(item) for item in ITEMS) + "\n]\n"  # dump layout
    (root / "wikidata.json").write_text(dump)
    (root / "pages.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PAGES))
    out = root / "world"
    ingest_world(
        out,
        wikidata=root / "wikidata.json",
        wikipedia=root / "pages.jsonl",
        config=IngestConfig(kb_pages=False),
        progress=False,
    )
    return out


def _pairs(world_dir: Path) -> dict[str, list[tuple[str, str]]]:
    world = World.open(world_dir)
    kg = KnowledgeGraph(world)
    found = link_pairs(world, kg)
    return {
        page.title: [(kg.label(c.a), kg.label(c.b)) for c in cands] for page, cands in found.pages
    }


def test_discovery_pairs_linked_entities_without_a_typed_relation(world_dir: Path) -> None:
    world = World.open(world_dir)
    kg = KnowledgeGraph(world)
    found = link_pairs(world, kg)
    assert found.links == 6  # 4 links of Ada's page, 2 of the institute's
    assert _pairs(world_dir) == {
        "Ada Lindqvist": [
            ("Ada Lindqvist", "Norrland University"),
            ("Ada Lindqvist", "Velden Institute"),
            ("Ada Lindqvist", "Oskar Brandt"),
            ("Norrland University", "Velden Institute"),
            ("Norrland University", "Oskar Brandt"),
            ("Velden Institute", "Oskar Brandt"),
        ],
        "Velden Institute": [("Velden Institute", "Oskar Brandt")],
    }
    # born_in, located_in, headquartered_in relate the rest already: nothing to discover there
    assert (
        found.skipped["already_related"] == 6
    )  # 4 pairs with Harwick on Ada's page, 2 on the other
    assert not found.pages or found.pages[0][0].title == "Ada Lindqvist"  # most pairs first
    assert link_pairs(world, kg, co_links=False).pairs == 4


def _reply(*items: dict[str, Any]) -> Step:
    return Step(content=json.dumps({"relations": list(items)}))


ADA_REPLY = _reply(
    # accepted: maps to the vocabulary's educated_at; the subject's page names her "Lindqvist"
    {"pair": 1, "related": True, "subject": "A", "relation": "educated at",
     "quote": "Lindqvist studied at Norrland University"},
    # accepted: the direction given by label; a verb phrase mapped to the property
    {"pair": 2, "related": True, "subject": "Ada Lindqvist", "relation": "Worked for",
     "quote": "Lindqvist studied at Norrland University and later worked for the Velden Institute."},
    # hostile: the quote is not in the page
    {"pair": 3, "related": True, "subject": "A", "relation": "spouse",
     "quote": "Ada Lindqvist married Oskar Brandt in 1980."},
    # unrelated
    {"pair": 4, "related": False},
    # hostile: the quote is in the page but does not name Norrland University
    {"pair": 5, "related": True, "subject": "A", "relation": "employer",
     "quote": "At the institute she met the physicist Oskar Brandt."},
    # hostile: no quote, a vague relation, a direction that is neither entity
    {"pair": 6, "related": True, "subject": "Caldora", "relation": "related to"},
)  # fmt: skip
VELDEN_REPLY = _reply(
    {"pair": 1, "related": True, "subject": "B", "relation": "director of",
     "quote": "Oskar Brandt was the first director of the Velden Institute"},
)  # fmt: skip


def _scripts(ada: list[Step], velden: list[Step]) -> list[Script]:
    pages = (("Ada Lindqvist", ada), ("Velden Institute", velden))
    return [Script(steps=steps, match=f"Page title: {title}") for title, steps in pages if steps]


def _densify(world_dir: Path, out: Path, model: ScriptedModel, **kw: Any) -> Any:
    return asyncio.run(densify_world(world_dir, out, GraphAgent(model), **kw))


def test_agent_answers_are_checked_and_become_facts_with_page_provenance(
    world_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dense"
    with ScriptedModel(_scripts([ADA_REPLY], [VELDEN_REPLY]), name="judge") as model:
        report = _densify(world_dir, out, model)
    assert report.calls == 2 and report.pages == 2
    assert dict(report.judged) == {"accepted": 3, "unrelated": 1, "rejected": 3}
    records = list(iter_records(Path(f"{out}.judgments.jsonl"), Judgment))
    ada_page = wiki_doc_id("Ada Lindqvist")
    judged = {j.id.split("|", 1)[1]: j for j in records if j.doc_id == ada_page}
    assert judged["Q101|Q103"].predicate == "educated_at" and not judged["Q101|Q103"].new_predicate
    assert (judged["Q101|Q104"].predicate, judged["Q101|Q104"].new_predicate) == (
        "employer",
        False,
    )
    assert judged["Q101|Q106"].reasons == ["quote_not_in_page"]
    assert judged["Q103|Q104"].verdict == "unrelated"
    assert judged["Q103|Q106"].reasons == ["quote_misses_entity: Norrland University"]
    reasons = [r.split(":")[0] for r in judged["Q104|Q106"].reasons]
    assert reasons == ["no_quote", "bad_direction", "vague_relation"]
    assert all(j.prompt_sha256 == GraphAgent(model).prompt_sha256 for j in records)

    dense, parent = World.open(out), World.open(world_dir)
    source = dense.manifest.source
    assert source["kind"] == "densify" and source["parent"]["content_hash"] == parent.content_hash
    assert source["model"] == "judge" and len(source["prompt_sha256"]) == 64
    assert dense.completeness == "sample" == parent.completeness
    new = {(f.subject, f.predicate, f.object): f for f in dense.facts()[len(parent.facts()) :]}
    assert set(new) == {
        ("Q101", "educated_at", "Q103"),
        ("Q101", "employer", "Q104"),
        ("Q106", "director_of", "Q104"),
    }
    velden_page = wiki_doc_id("Velden Institute")
    stated = {(p.doc_id, p.fact_id) for p in dense.provenance()}
    assert (ada_page, new["Q101", "educated_at", "Q103"].id) in stated
    assert (velden_page, new["Q106", "director_of", "Q104"].id) in stated
    assert "Norrland University" in new["Q101", "educated_at", "Q103"].qualifier_dict["quote"]
    assert dense.recompute_hash() == dense.content_hash

    # synthesis walks the new facts like any relation (links_to never)
    kg = KnowledgeGraph(dense)
    ada = kg.row_of["Q101"]
    reached = {kg.ids[other]: kg.pred(f) for f, _, other, _ in _neighbours(kg, ada)}
    assert reached["Q103"] == "educated_at" and reached["Q104"] == "employer"
    assert "links_to" not in reached.values()


def test_resume_asks_nothing_twice_and_rewrites_the_same_world(
    world_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dense"
    with ScriptedModel(_scripts([ADA_REPLY], [])) as model:
        first = _densify(world_dir, out, model, max_calls=1)  # budget: one page this run
    assert first.calls == 1 and first.remaining_pairs == 1
    with ScriptedModel(_scripts([], [VELDEN_REPLY])) as model:
        second = _densify(world_dir, out, model)
    assert second.already_judged == 6 and second.calls == 1 and second.remaining_pairs == 0
    hash_two = World.open(out).content_hash
    with ScriptedModel([]) as model:
        third = _densify(world_dir, out, model)
    assert third.calls == 0 and World.open(out).content_hash == hash_two

    with ScriptedModel([], name="another-model") as model, pytest.raises(HeaderMismatch):
        _densify(world_dir, out, model)


def test_malformed_replies_are_retried_then_rejected(world_dir: Path, tmp_path: Path) -> None:
    ada = [Step(content="Sure! Here are the relations: educated at."), ADA_REPLY]
    velden = [Step(content="{not json"), Step(content='{"relations": "none"}')]
    with ScriptedModel(_scripts(ada, velden)) as model:
        report = _densify(world_dir, tmp_path / "dense", model)
        retry = model.calls[1].messages[-1].content or ""
    assert report.calls == 4
    assert "could not be used: malformed_json" in retry
    assert report.judged["accepted"] == 2  # Ada's page, on the second try
    assert report.rejected["malformed_json"] == 1  # the institute's pair, after two tries


def test_endpoint_failure_stops_the_run_and_keeps_what_was_judged(
    world_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dense"
    with ScriptedModel(_scripts([ADA_REPLY], [])) as model:
        _densify(world_dir, out, model, max_pages=1)
    with ScriptedModel([]) as model:
        model.down = True
        with pytest.raises(ModelUnavailable):
            _densify(world_dir, out, model)
    judged = list(iter_records(Path(f"{out}.judgments.jsonl"), Judgment))
    assert len(judged) == 6


def test_without_a_model_nothing_is_densified(world_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "dense"
    report = asyncio.run(densify_world(world_dir, out, None))
    assert report.candidate_pairs == 7 and report.world is None
    assert report.note and "nothing is densified" in report.note
    assert not out.exists()


def test_out_that_is_not_a_derivation_is_refused(world_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()  # an existing directory that is no World
    with ScriptedModel([]) as model, pytest.raises(UserError, match="not a densified copy"):
        _densify(world_dir, other, model)


def test_labels_and_predicates(world_dir: Path) -> None:
    kg = KnowledgeGraph(World.open(world_dir))
    names = ("Ada Lindqvist", "Velden Institute")
    assert clean_label("  Was Educated at. ", names) == ("educated at", None)
    assert clean_label("P108", names)[1] is not None  # digits: an id is no label
    assert clean_label("associated with", names)[1] == "vague_relation: 'associated with'"
    assert "holds the name" in str(clean_label("director of velden institute", names)[1])
    assert clean_label("one two three four five six", names)[1] is not None
    assert clean_label(None, names) == (None, "no_relation")
    predicates = PredicateMap(kg)
    assert predicates.resolve("place of birth") == ("born_in", False, None, False)
    assert predicates.resolve("educated at") == ("educated_at", False, None, False)
    assert predicates.resolve("mentor of") == ("mentor_of", True, None, False)
    assert predicates.resolve("founded") == ("founded_by", False, None, True)  # turned around
    assert predicates.resolve("links to")[2] is not None  # discovery-only: never a constraint
    assert predicates.resolve("coordinates")[2] is not None  # tool-only
    assert "names a value" in str(predicates.resolve("population")[2])


def test_a_verb_label_that_reads_the_other_way_turns_the_fact_around(world_dir: Path) -> None:
    kg = KnowledgeGraph(World.open(world_dir))
    oskar, velden = kg.row_of["Q106"], kg.row_of["Q104"]
    page = Page("doc", "Oskar Brandt", "Oskar Brandt founded the Velden Institute in 1961.", oskar)
    cand = Candidate(page, oskar, velden, "Q106", "Q104")
    item = {"subject": "A", "relation": "founded", "quote": "Brandt founded the Velden Institute"}
    judged = check_relation(kg, cand, item, PredicateMap(kg), _Context("m", "v1", "0" * 64))
    assert judged.verdict == "accepted", judged.reasons
    assert (judged.subject, judged.predicate, judged.object) == ("Q104", "founded_by", "Q106")


def test_reply_parsing() -> None:
    items, problem = parse_reply('```json\n{"relations": [{"pair": "2", "related": false}]}\n```')
    assert problem is None and items == {2: {"pair": "2", "related": False}}
    items, _ = parse_reply('noise {"relations": [{"pair": 1}, {"pair": 1, "x": 1}]} noise')
    assert items == {1: {"pair": 1}}  # the first answer for a pair counts
    assert parse_reply("[]")[0] == {}
    assert parse_reply('{"relations": 3}')[1] == "malformed_json: no 'relations' list"
    assert parse_reply("nothing")[0] is None


def _main_rc(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


def test_cli_densify_with_and_without_a_model(
    world_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dense"
    assert _main_rc(["world", "densify", str(world_dir), "--out", str(out)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "candidate pairs: 7 on 2 pages" in text and "nothing is densified" in text
    assert not out.exists()
    with ScriptedChatServer(_scripts([ADA_REPLY], [VELDEN_REPLY])) as chat:
        argv = ["world", "densify", str(world_dir), "--out", str(out), "--quiet"]
        rc = _main_rc([*argv, "--model", "judge", "--base-url", chat.base_url])
        chat.assert_all_used()
    text = " ".join(capsys.readouterr().out.split())
    assert rc == 0, text
    assert "new predicates: director_of" in text
    assert f"wrote {out}: 3 new facts" in text
    assert World.open(out).manifest.source["model"] == "judge"
