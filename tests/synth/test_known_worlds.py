"""Hand-built Worlds with known answers: uniqueness, MSD, shortcut and completeness verdicts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.log import Constraint, Task
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._draft import Draft
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._synth import Synthesizer
from redsearcher.synth._verify import Verifier
from redsearcher.testing._worlds import (
    TINY_DOCUMENTS,
    TINY_ENTITIES,
    TINY_FACTS,
    TINY_PROVENANCE,
    tiny_world,
)
from redsearcher.tools._backends import LocalBackend
from redsearcher.world import Document, Entity, Fact, Provenance, World, WorldWriter

# A second film (directed by Oskar Brandt, casting Ilse Velden) so that no single constraint
# pins the answer: in the bare tiny World any "film directed by someone" is The Quiet Harbor.
SECOND_FILM = (
    [Entity("E11", "Grey Meridian", "film")],
    [Fact.relation(30, "E11", "director", "E3"), Fact.relation(31, "E11", "cast_member", "E2")],
    [
        Document(
            "D11",
            "Grey Meridian",
            "Grey Meridian is a film directed by Oskar Brandt, with Ilse Velden in the cast.",
            "encyclopedia",
            mentions=("E11", "E3", "E2"),
            about="E11",
        )
    ],
    [Provenance("D11", 30), Provenance("D11", 31)],
)


def _write(
    path: Path, *, entities=(), facts=(), documents=(), provenance=(), drop_docs=()
) -> World:
    e, f, d, p = SECOND_FILM
    with WorldWriter(path, source={"kind": "fixture", "name": "tiny+"}, overwrite=True) as w:
        w.add_entities([*TINY_ENTITIES, *e, *entities])
        w.add_facts([*TINY_FACTS, *f, *facts])
        docs = (*TINY_DOCUMENTS, *d, *documents)
        w.add_documents([x for x in docs if x.id not in drop_docs])
        prov = (*TINY_PROVENANCE, *p, *provenance)
        w.add_provenance([x for x in prov if x.doc_id not in drop_docs])
    return World.open(path)


def _verifier(world: World, index_world: World | None = None) -> Verifier:
    source = index_world or world
    index = Path(str(source.path) + ".index")
    build_index(source.path, index, progress=False, overwrite=True)
    env = LocalEnvironment.open(index)
    return Verifier(kg=KnowledgeGraph(world), env=env, backend=LocalBackend(env))


def director_child_draft(kg: KnowledgeGraph) -> Draft:
    """The film whose director cast the director's own child (no entity is named)."""
    rows = {"x0": kg.row_of["E4"], "x1": kg.row_of["E1"], "x2": kg.row_of["E2"]}

    def fact(fid: int) -> list[int]:
        return [fid]

    return Draft(
        types={"x0": "film", "x1": "person", "x2": "person"},
        rows=rows,
        roles={"x0": "answer", "x1": "latent", "x2": "latent"},
        constraints=[
            Constraint(
                kind="relation", predicate="director", subject="x0", object="x1", fact_ids=fact(4)
            ),
            Constraint(
                kind="relation",
                predicate="cast_member",
                subject="x0",
                object="x2",
                fact_ids=fact(5),
            ),
            Constraint(
                kind="relation", predicate="child", subject="x1", object="x2", fact_ids=fact(3)
            ),
        ],
        answer="x0",
        shape="hub",
    )


def _complete(verifier: Verifier, draft: Draft, **cfg: object) -> tuple[Task | None, Synthesizer]:
    config = SynthConfig(n=1, treewidth="1-3", msd="1-", **cfg)  # type: ignore[arg-type]
    synth = Synthesizer(verifier.kg, verifier, config)
    task = asyncio.run(synth.complete(draft, np.random.default_rng(0), "t-known"))
    return task, synth


def test_director_child_task_has_known_answer_treewidth_and_msd(tmp_path: Path) -> None:
    world = _write(tmp_path / "films")
    verifier = _verifier(world)
    task, synth = _complete(verifier, director_child_draft(verifier.kg))
    assert task is not None, synth.report.rejected
    assert task.answer == "The Quiet Harbor" and task.answer_entity == "E4"
    assert task.treewidth == 2  # a triangle
    assert task.msd == 3 and task.evidence_documents == ["D2", "D3", "D4"]
    assert task.evidence_facts == [3, 4, 5]
    stages = {v.stage: v.passed for v in task.verification}
    assert stages == {"structural": True, "shortcut": True, "completeness": True}
    assert "The Quiet Harbor" not in task.question and "Velden" not in task.question
    assert task.evidence_urls == [verifier.env.url_of(d) for d in ("D2", "D3", "D4")]


def test_planted_second_solution_fails_uniqueness(tmp_path: Path) -> None:
    # Oskar Brandt (born 1951, like Marta Velden) directs a second 1990 film that casts his own
    # son: two films fit and no attribute separates them, so the draft is rejected.
    world = _write(
        tmp_path / "twin",
        entities=[Entity("E9", "Night Ferry", "film"), Entity("E10", "Lars Brandt", "person")],
        facts=[
            Fact.relation(20, "E9", "director", "E3"),
            Fact.relation(21, "E9", "cast_member", "E10"),
            Fact.relation(22, "E3", "child", "E10"),
            Fact.date_value(23, "E9", "publication_date", "1990", precision=9),
            Fact.date_value(24, "E3", "date_of_birth", "1951-09-09"),
        ],
        documents=[
            Document(
                "D9",
                "Night Ferry",
                "Night Ferry, directed by Oskar Brandt, stars his son Lars Brandt.",
                "encyclopedia",
                mentions=("E9", "E3", "E10"),
            )
        ],
        provenance=[Provenance("D9", f) for f in (20, 21, 22, 23, 24)],
    )
    verifier = _verifier(world)
    draft = director_child_draft(verifier.kg)
    sols = draft.solve(verifier.kg, budget=10_000)
    assert sols.complete and sols.count == 2
    assert {verifier.kg.ids[r] for r in sols.answers} == {"E4", "E9"}
    task, synth = _complete(verifier, director_child_draft(verifier.kg))
    assert task is None and synth.report.rejected == {"ambiguous": 1}
    assert synth.report.ambiguous == {"2": 1}  # rejected with its solution count
    # The stored task of the plain World fails stage 1 over this World.
    plain = _verifier(_write(tmp_path / "plain"))
    good, _ = _complete(plain, director_child_draft(plain.kg))
    assert good is not None
    verdict = verifier.structural(good)
    assert verdict.passed is False and "not unique: 2 solutions" in verdict.detail["problems"]


def test_planted_whole_chain_document_fails_shortcut(tmp_path: Path) -> None:
    chain = Document(
        "D9",
        "Velden's harbor film",
        "The Quiet Harbor was directed by Marta Velden, who cast her child Ilse Velden in it; "
        "a film whose director cast their own child.",
        "news",
        mentions=("E4", "E1", "E2"),
    )
    world = _write(
        tmp_path / "leaky", documents=[chain], provenance=[Provenance("D9", f) for f in (3, 4, 5)]
    )
    verifier = _verifier(world)
    task, synth = _complete(verifier, director_child_draft(verifier.kg), verify=["structural"])
    assert task is not None and task.msd == 1  # one document states everything
    verdict = verifier.shortcut(task)
    assert verdict.passed is False and verdict.detail["document"] == "D9"
    task, synth = _complete(verifier, director_child_draft(verifier.kg))
    assert task is None and synth.report.rejected["failed_shortcut"] == 1


def test_removed_evidence_document_fails_completeness(tmp_path: Path) -> None:
    world = _write(tmp_path / "films")
    without_d4 = _write(tmp_path / "no-d4", drop_docs={"D4"})
    verifier = _verifier(world, index_world=without_d4)
    task, _synth = _complete(
        verifier, director_child_draft(verifier.kg), verify=["structural", "shortcut"]
    )
    assert task is not None
    verdict = asyncio.run(verifier.completeness(task))
    assert verdict.passed is False
    assert verdict.detail["documents"]["D4"] is None
    assert any("D4" in p for p in verdict.detail["problems"])
    full = _verifier(world)
    assert asyncio.run(full.completeness(task)).passed is True


def test_look_alike_is_not_a_solution(tmp_path: Path) -> None:
    # "The person born in Harwick in the 1950s": the painter look-alike E7 shares the name and
    # the city but has no birth date, so only E1 passes.
    world = tiny_world(tmp_path / "tiny")
    kg = KnowledgeGraph(world)
    from redsearcher.log import Condition
    from redsearcher.synth._csp import solve

    cons = [
        Constraint(kind="relation", predicate="born_in", subject="x0", object="x1", fact_ids=[1]),
        Constraint(
            kind="attribute",
            predicate="date_of_birth",
            subject="x0",
            condition=Condition(op="decade", low=1950, high=1959),
            fact_ids=[2],
        ),
    ]
    types = {"x0": "person", "x1": "city"}
    sols = solve(kg, types, cons, bound={"x1": kg.row_of["E5"]}, answer="x0")
    assert sols.unique and kg.ids[sols.assignments[0]["x0"]] == "E1"
    sols = solve(kg, types, cons[:1], bound={"x1": kg.row_of["E5"]}, answer="x0")
    assert sols.count == 2 and {kg.ids[r] for r in sols.answers} == {"E1", "E7"}


@pytest.mark.parametrize("budget", [1, 2])
def test_exhausted_budget_is_never_unique(tmp_path: Path, budget: int) -> None:
    kg = KnowledgeGraph(tiny_world(tmp_path / "tiny"))
    from redsearcher.synth._csp import solve

    cons = [
        Constraint(kind="relation", predicate="born_in", subject="x0", object="x1", fact_ids=[1])
    ]
    sols = solve(kg, {"x0": "person", "x1": "city"}, cons, bound={}, answer="x0", budget=budget)
    assert not sols.complete and not sols.unique
