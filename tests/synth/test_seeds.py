"""The seed cascade on real data (fictional, meta, page length) and the per-graph task budget.

The concept filter is checked on words copied from the real sample (``../shared/realdata``:
types are ingest's class labels, descriptions are Wikidata's) and on the real types slice in
``tests/fixtures/realdata``, ingested as a user would; the cap and distinct answers on the
default synthetic World, whose master graphs give up to six tasks each without them.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from redsearcher._cli import main
from redsearcher.errors import UserError
from redsearcher.log import read_tasks
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._graph import (
    MasterGraph,
    SeedFilter,
    _cycle_nodes,
    densify,
    expand,
    seed_pool,
)
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._pipeline import open_verifier, synthesize
from redsearcher.synth._seeds import blocked_entities, is_fictional_text, is_meta_text
from redsearcher.synth._synth import require_graph
from redsearcher.synth._verify import Verifier
from redsearcher.world import Document, Entity, Fact, Provenance, World, WorldWriter
from redsearcher.world.ingest import IngestConfig, ingest_world

SLICE = Path(__file__).resolve().parents[1] / "fixtures" / "realdata" / "wikidata-types-slice.json"


# -- the concept filter, on the sample's own words ----------------------------------------------


@pytest.mark.parametrize(
    ("type_word", "description", "fictional"),
    [
        ("fictional humanoid", "fictional character created by Dr. Seuss", True),  # Grinch
        ("fictional human", "fictional Russian boxer from the film Rocky IV", True),  # Drago
        ("superhero", "Protagonist of the original Superman film series", True),
        ("comics character", None, True),
        ("person", "character from Disney's Bambi", True),
        ("person", "Star Wars character", True),
        ("class of fictional entities", None, True),
        ("person", "American character actor", False),
        ("person", "Austrian-American actor, businessman and politician", False),
        ("film", "1984 science fiction film by James Cameron", False),
        ("film award category", "award", False),
        ("person", "fictional secret agent", True),  # Harry Palmer, typed person by ingest
        # Works are real even when their description names a character (Auntie Mame).
        ("film", "1958 comedy film starring Rosalind Russell as the title character", False),
        ("book", "collection of biographies; much of its content is regarded as fictional", False),
        # A type word that is a description (no mapped class, no class label): "characters" in
        # another sense.
        ("number or alphanumeric characters assigned to a stretch of public roadway", None, False),
        ("character encoding", "system that maps characters to numbers", False),
    ],
)
def test_fictional_by_type_or_description(
    type_word: str, description: str | None, fictional: bool
) -> None:
    assert is_fictional_text(type_word, description) is fictional


@pytest.mark.parametrize(
    ("label", "type_word", "description", "meta"),
    [
        ("Mercury", "wikimedia disambiguation page", None, True),
        ("Academy Award for Best Actor", "wikimedia list article", None, True),
        ("List of Governors of California", "item", None, True),
        ("Glossary of chess", "item", None, True),
        ("Template:Infobox person", "wikimedia template", None, True),
        ("Saturn (disambiguation)", "item", None, True),
        ("Paris", "item", "Wikimedia disambiguation page", True),
        ("Index on Censorship", "organization", "British magazine", False),
        ("Listowel", "city", "town in County Kerry, Ireland", False),
        ("Academy Award for Best Picture", "film award category", "award", False),
    ],
)
def test_meta_by_label_type_or_description(
    label: str, type_word: str, description: str | None, meta: bool
) -> None:
    assert is_meta_text(label, type_word, description) is meta


def test_real_slice_ivan_drago_is_no_seed_unless_asked(tmp_path: Path) -> None:
    out = tmp_path / "world"
    ingest_world(out, wikidata=SLICE, config=IngestConfig(), progress=False)
    kg = KnowledgeGraph(World.open(out))
    drago, arnold = kg.row_of["Q2288207"], kg.row_of["Q2685"]
    assert kg.type_of(drago) == "fictional human"  # ingest's class label, as in the sample
    blocked = blocked_entities(kg)
    assert blocked[drago] and not blocked[arnold]
    assert not blocked_entities(kg, allow_fictional=True)[drago]
    loose = SeedFilter(min_facts=0, min_mentions=0, max_mentions_quantile=1.0)
    pool = set(seed_pool(kg, loose).tolist())
    assert drago not in pool and arnold in pool
    fictional_ok = SeedFilter(0, 0, 1.0, allow_fictional=True)
    assert drago in set(seed_pool(kg, fictional_ok).tolist())


# -- a hand-built World: fictional and meta entities never join a graph -----------------------

ENTITIES = [
    Entity("Q1", "Sylvester Stallone", "person", "American actor and filmmaker"),
    Entity("Q2", "Rocky IV", "film", "1985 film by Sylvester Stallone"),
    Entity("Q3", "Ivan Drago", "fictional human", "fictional Russian boxer from Rocky IV"),
    Entity("Q4", "Dolph Lundgren", "person", "Swedish actor"),
    Entity("Q5", "Rocky (disambiguation)", "wikimedia disambiguation page"),
    Entity("Q6", "Brigitte Nielsen", "person", "Danish actress"),
]
FACTS = [
    Fact.relation(1, "Q2", "director", "Q1"),
    Fact.relation(2, "Q2", "cast_member", "Q4"),
    Fact.relation(3, "Q2", "characters", "Q3"),
    Fact.relation(4, "Q3", "performer", "Q4"),
    Fact.relation(5, "Q5", "main_subject", "Q2"),
    Fact.relation(6, "Q1", "spouse", "Q6"),
    Fact.relation(7, "Q6", "spouse", "Q1"),
    Fact.relation(8, "Q2", "cast_member", "Q6"),
    Fact.date_value(9, "Q3", "date_of_birth", "1961-01-01"),
    Fact.date_value(10, "Q1", "date_of_birth", "1946-07-06"),
    Fact.date_value(11, "Q4", "date_of_birth", "1957-11-03"),
    Fact.date_value(12, "Q6", "date_of_birth", "1963-07-15"),
    Fact.date_value(13, "Q2", "publication_date", "1985-11-27"),
]
TEXT = "Rocky IV is a 1985 sports film written and directed by Sylvester Stallone. " * 3


@pytest.fixture(scope="module")
def rocky(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path: Path = tmp_path_factory.mktemp("rocky") / "world"
    every = tuple(e.id for e in ENTITIES)
    with WorldWriter(path, source={"kind": "fixture", "name": "rocky"}) as w:
        w.add_entities(ENTITIES)
        w.add_facts(FACTS)
        w.add_documents(
            [
                Document("W2", "Rocky IV", TEXT, "encyclopedia", mentions=every, about="Q2"),
                # Dolph Lundgren's page is a stub: too short to make him a seed.
                Document("W4", "Dolph Lundgren", "Swedish actor.", "encyclopedia", about="Q4"),
                Document("K", "facts", "all facts", "database", mentions=every),
            ]
        )
        w.add_provenance([Provenance("K", f.id) for f in FACTS])
    return KnowledgeGraph(World.open(path))


def test_pool_drops_fictional_meta_and_stub_pages(rocky: KnowledgeGraph) -> None:
    f = SeedFilter(min_facts=1, min_mentions=0, max_mentions_quantile=1.0)
    pool = {rocky.ids[r] for r in seed_pool(rocky, f)}
    # Q4's page has 14 characters; Q1 and Q6 have no page (no threshold applies), Q2 a long one.
    assert pool == {"Q1", "Q2", "Q6"}
    assert rocky.page_chars[rocky.row_of["Q4"]] == len("Swedish actor.")
    assert "Q4" in {rocky.ids[r] for r in seed_pool(rocky, SeedFilter(0, 0, 1.0, 0))}
    assert "Q3" in {
        rocky.ids[r] for r in seed_pool(rocky, SeedFilter(1, 0, 1.0, allow_fictional=True))
    }
    short = SeedFilter(min_facts=1, min_mentions=0, max_mentions_quantile=1.0, max_page_chars=50)
    assert "Q2" not in {rocky.ids[r] for r in seed_pool(rocky, short)}


def test_fictional_and_meta_entities_never_join_a_graph(rocky: KnowledgeGraph) -> None:
    blocked = blocked_entities(rocky)
    bad = {rocky.row_of["Q3"], rocky.row_of["Q5"]}
    seen: set[int] = set()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        g = expand(rocky, rocky.row_of["Q2"], 5, rng, hub_cap=100, blocked=blocked)
        densify(rocky, g, 3, rng, max_nodes=6, hub_cap=100, blocked=blocked)
        assert not set(g.rows) & bad
        seen |= set(g.rows)
    assert {rocky.row_of[e] for e in ("Q1", "Q4", "Q6")} <= seen
    # Without the mask the same walks reach them: the test World can tell.
    reached: set[int] = set()
    for seed in range(40):
        reached |= set(
            expand(rocky, rocky.row_of["Q2"], 5, np.random.default_rng(seed), hub_cap=100).rows
        )
    assert bad <= reached


def test_cycle_nodes_skip_blocked_entities(rocky: KnowledgeGraph) -> None:
    # Q3 (Drago) links Q2 and Q4: a cycle node without the mask, none with it.
    g = MasterGraph(rows=[rocky.row_of["Q2"], rocky.row_of["Q4"]])
    assert rocky.row_of["Q3"] in dict(_cycle_nodes(rocky, g, 100))
    assert rocky.row_of["Q3"] not in dict(_cycle_nodes(rocky, g, 100, blocked_entities(rocky)))


def test_a_world_of_fictional_seeds_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "world"
    fictional = [Entity(f"Q{i}", f"Toon {i}", "animated character") for i in range(1, 4)]
    with WorldWriter(path, source={"kind": "fixture", "name": "toons"}) as w:
        w.add_entities(fictional)
        w.add_facts(
            [Fact.relation(i, f"Q{i}", "sibling", f"Q{i % 3 + 1}") for i in range(1, 4)]
            + [
                Fact.date_value(10 * k + i, f"Q{i}", p, f"19{k}0-01-0{i}")
                for i in range(1, 4)
                for k, p in ((1, "inception"), (2, "date_of_birth"), (3, "publication_date"))
            ]
        )
        w.add_documents(
            [Document("D", "Toons", "toons", "encyclopedia", mentions=("Q1", "Q2", "Q3"))]
        )
    kg = KnowledgeGraph(World.open(path))
    with pytest.raises(UserError, match="nor fictional"):
        require_graph(kg, f=SeedFilter(max_mentions_quantile=1.0))
    allowed = SeedFilter(max_mentions_quantile=1.0, allow_fictional=True)
    assert len(require_graph(kg, f=allowed)) == 3
    # The CLI: refused before sampling; with --allow-fictional the same World gets past it.
    config = tmp_path / "synth.yaml"
    config.write_text("synth:\n  min_nodes: 2\n")
    argv = ["synth", str(path), "--n", "1", "--out", str(tmp_path / "t.jsonl"), "--quiet"]
    assert _main_rc([*argv, "--config", str(config)]) != 0
    assert "nor fictional" in capsys.readouterr().err
    _main_rc([*argv, "--config", str(config), "--allow-fictional"])
    err = capsys.readouterr().err
    assert "nor fictional" not in err and "passes the seed filter" not in err


def _main_rc(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


# -- the per-graph budget and distinct answers -------------------------------------------------


@pytest.fixture(scope="module")
def verifier(default_world: World) -> Iterator[Verifier]:
    with open_verifier(default_world.path) as v:
        yield v


def _run(verifier: Verifier, out: Path, **update: object) -> list[tuple[str, str | None]]:
    cfg = SynthConfig(n=16, seed=0, treewidth="1-3", msd="2-").model_copy(update=update)
    asyncio.run(synthesize(verifier, cfg, out, progress=False))
    return [(t.id.rsplit("-", 1)[0], t.answer_entity) for t in read_tasks(out)]


def test_at_most_three_tasks_per_graph_with_distinct_answers(
    verifier: Verifier, tmp_path: Path
) -> None:
    loose = _run(verifier, tmp_path / "loose.jsonl", max_tasks_per_graph=6, distinct_answers=False)
    # The World does give more per graph, and repeats answers, when nothing stops it.
    assert max(Counter(g for g, _ in loose).values()) > 3
    assert len({a for _, a in loose}) < len(loose)
    capped = _run(verifier, tmp_path / "capped.jsonl")
    assert len(capped) == 16
    assert max(Counter(g for g, _ in capped).values()) <= 3
    assert len({a for _, a in capped}) == len(capped)
    one = _run(verifier, tmp_path / "one.jsonl", max_tasks_per_graph=1)
    assert len(one) == 16 and max(Counter(g for g, _ in one).values()) == 1


def test_resume_keeps_answers_distinct(verifier: Verifier, tmp_path: Path) -> None:
    full = _run(verifier, tmp_path / "full.jsonl")
    part = tmp_path / "part.jsonl"
    cfg = SynthConfig(n=5, seed=0, treewidth="1-3", msd="2-")
    asyncio.run(synthesize(verifier, cfg, part, progress=False))
    resumed = _run(verifier, part)
    assert resumed == full and len({a for _, a in resumed}) == len(resumed)
