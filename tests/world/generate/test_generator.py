from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from redsearcher.world import World
from redsearcher.world._info import world_info
from redsearcher.world.generate import GeneratorConfig, generate_world
from redsearcher.world.generate._names import _FAMOUS


def _gen(path: Path, **kw: object) -> World:
    generate_world(GeneratorConfig(**kw), path, progress=False)  # type: ignore[arg-type]
    return World.open(path)


def test_same_seed_same_hash_whatever_the_workers(default_world: World, tmp_path: Path) -> None:
    again = _gen(tmp_path / "a", entities=5000, seed=1, workers=1, batch_rows=777)
    assert again.content_hash == default_world.content_hash
    assert default_world.recompute_hash() == default_world.content_hash
    other = _gen(tmp_path / "b", entities=5000, seed=2)
    assert other.content_hash != default_world.content_hash


def test_default_dispersion_and_distractors(default_world: World) -> None:
    info = world_info(default_world)
    assert info.share_stated_2plus >= 0.30
    assert info.docs_per_fact_text["0"] == 0  # every stateable fact is stated somewhere
    # tool-only facts (coordinates, citation counts) never, so only a tool can serve them
    assert (
        info.docs_per_fact["0"]
        == info.predicates["coordinates"] + info.predicates["citation_count"]
    )
    assert info.distractor_entities > 0
    assert set(info.entity_types) >= {
        "person",
        "city",
        "country",
        "film",
        "paper",
        "place",
        "university",
        "organization",
        "record_label",
        "event",
    }
    assert len(info.predicates) >= 40
    assert default_world.manifest.report["noise_documents"] > 0


def _by_id(world: World) -> dict[str, dict[str, object]]:
    return {e["id"]: e for e in world.table("entities").to_pylist()}


def test_distractors_resemble_their_base(default_world: World) -> None:
    ents = _by_id(default_world)
    twins = [e for e in ents.values() if e["distractor_of"]]
    assert {e["type"] for e in twins} >= {"person", "film", "organization", "place", "paper"}
    for t in twins:
        base = ents[t["distractor_of"]]  # type: ignore[index]
        assert base["type"] == t["type"]
        assert base["id"] != t["id"]
        if t["type"] == "person":
            assert str(t["label"]).split()[-1] == str(base["label"]).split()[-1]
            assert str(t["label"])[0] == str(base["label"])[0]
        elif t["type"] == "organization":
            assert str(t["label"]).split()[0] == str(base["label"]).split()[0]
        else:
            assert t["label"] == base["label"]


def _render_forms(fact: dict[str, object], labels: dict[str, str]) -> list[str]:
    kind = fact["kind"]
    if kind == "entity":
        return [labels[str(fact["object"])]]
    if kind == "date":
        return [str(fact["date"])[:4]]
    if kind == "quantity":
        x = float(fact["amount"])  # type: ignore[arg-type]
        return [f"{int(x):,}", str(int(x))] if x == int(x) else [f"{x:g}"]
    return [str(fact["string"])]


def test_provenance_is_faithful(default_world: World) -> None:
    """Every sampled (document, fact) link: the text names the subject and states the value."""
    labels = {k: str(v["label"]) for k, v in _by_id(default_world).items()}
    facts = {f["id"]: f for f in default_world.table("facts").to_pylist()}
    docs = {d["id"]: d for d in default_world.table("documents").to_pylist()}
    links = default_world.table("provenance").to_pylist()
    for link in random.Random(0).sample(links, 4000):
        fact, doc = facts[link["fact_id"]], docs[link["doc_id"]]
        text = str(doc["text"])
        assert labels[str(fact["subject"])] in text, (fact, text)
        assert any(form in text for form in _render_forms(fact, labels)), (fact, text)
        assert fact["subject"] in doc["mentions"]  # type: ignore[operator]
        if fact["object"]:
            assert fact["object"] in doc["mentions"]  # type: ignore[operator]
        assert fact["kind"] != "coordinate" and fact["predicate"] != "citation_count"


def test_referential_integrity(default_world: World) -> None:
    ents = _by_id(default_world)
    facts = default_world.table("facts").to_pylist()
    assert [f["id"] for f in facts] == list(range(1, len(facts) + 1))
    for f in facts:
        assert f["subject"] in ents
        assert f["object"] is None or f["object"] in ents
    doc_ids = set(default_world.table("documents", ["id"]).column("id").to_pylist())
    for link in default_world.table("provenance").to_pylist():
        assert link["doc_id"] in doc_ids


def test_temporal_coherence_and_planted_cycles(default_world: World) -> None:
    facts = default_world.table("facts").to_pylist()
    by = defaultdict(list)
    for f in facts:
        by[(f["subject"], f["predicate"])].append(f)
    birth = {s: int(fs[0]["date"][:4]) for (s, p), fs in by.items() if p == "date_of_birth"}
    films = [s for (s, p) in by if p == "director"]
    cycles = 0
    for film in films:
        director = by[(film, "director")][0]["object"]
        year = int(by[(film, "publication_date")][0]["date"][:4])
        assert year >= birth[director] + 25
        kin = {f["object"] for f in by[(director, "child")] + by[(director, "spouse")]}
        cast = {f["object"] for f in by[(film, "cast_member")]}
        cycles += bool(kin & cast)
    assert cycles >= 3  # "the director cast their own child": treewidth-2 structures exist


def test_names_avoid_famous_surnames(default_world: World) -> None:
    for label in default_world.table("entities", ["label"]).column("label").to_pylist():
        assert not set(label.replace("'s", "").split()) & _FAMOUS


def test_knobs(tmp_path: Path) -> None:
    low = world_info(
        _gen(
            tmp_path / "lo",
            entities=2000,
            seed=3,
            dispersion=0.05,
            article_coverage=0.3,
            object_side=0.0,
        )
    )
    high = world_info(
        _gen(tmp_path / "hi", entities=2000, seed=3, dispersion=0.8, article_coverage=0.9)
    )
    assert low.share_stated_2plus < 0.15 < 0.5 < high.share_stated_2plus
    clean = _gen(tmp_path / "clean", entities=2000, seed=3, distractor_rate=0.0, noise_rate=0.0)
    assert world_info(clean).distractor_entities == 0
    assert clean.manifest.report["noise_documents"] == 0
    noisy = _gen(tmp_path / "noisy", entities=2000, seed=3, noise_rate=1.0)
    assert (
        noisy.manifest.report["noise_documents"] >= noisy.manifest.report["entity_documents"] * 0.9
    )


@pytest.mark.parametrize("entities", [50, 137])
def test_tiny_sizes_work(tmp_path: Path, entities: int) -> None:
    world = _gen(tmp_path / "w", entities=entities, seed=5)
    assert world.count("entities") >= entities * 0.8
    assert world.count("documents") > 0


def test_plan_is_independent_of_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning in smaller chunks (bounded memory) must not change the World."""
    from redsearcher.world.generate import _plan
    from redsearcher.world.generate._graph import sample_graph

    cfg = GeneratorConfig(entities=2000, seed=7)
    graph = sample_graph(cfg)
    plans = []
    for chunk in (1 << 20, 1000, 777):
        monkeypatch.setattr(_plan, "_CHUNK", chunk)
        p = _plan.plan_documents(graph, cfg)
        plans.append((p.ptr.tobytes(), p.fact.tobytes(), p.doc_kind.tobytes()))
    assert plans[0] == plans[1] == plans[2]


def test_venue_names_stay_short_and_unique_when_many_share_a_field() -> None:
    from redsearcher.world.generate._works import _venue_label

    seen: set[str] = set()
    for _ in range(40):  # 40 journals and 40 conferences (one acronym) in the same field
        for conference in (False, True):
            label = _venue_label("Ethnomusicology", "ICEM", conference, seen)
            assert label not in seen
            seen.add(label)
    assert len(seen) == 80
    assert max(len(label) for label in seen) <= 60  # a repeated prefix once made kilobytes
    assert "Journal of Ethnomusicology" in seen and "Annals of Ethnomusicology" in seen
