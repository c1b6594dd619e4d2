"""Hierarchical plans from task graphs: the order and the concrete/ambiguous split, by hand."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from redsearcher.errors import UserError
from redsearcher.log import Constraint, GraphNode, Task, TaskProvenance, read_tasks
from redsearcher.midtrain import (
    GenContext,
    MidtrainSample,
    PlanningGenerator,
    Rejection,
    flatten,
    parse_plan,
    verify_plan,
)
from redsearcher.testing import small_world, tiny_world
from redsearcher.world import World

FIXTURE = Path(__file__).parents[1] / "fixtures" / "midtrain" / "tasks-small300.jsonl"


def _task(constraints: list[Constraint], world_hash: str = "h") -> Task:
    """The tiny World's film whose director (born in Harwick) cast their own child."""
    nodes = [
        GraphNode(var="x0", entity="E4", label="The Quiet Harbor", type="film", role="answer"),
        GraphNode(var="x1", entity="E1", label="Marta Velden", type="person", role="latent"),
        GraphNode(var="x2", entity="E2", label="Ilse Velden", type="person", role="latent"),
        GraphNode(var="x3", entity="E5", label="Harwick", type="city", role="observed"),
    ]
    return Task(
        id="t-1",
        question="Which film was directed by a person born in Harwick who cast their own child?",
        answer="The Quiet Harbor",
        answer_entity="E4",
        answer_type="film",
        nodes=nodes,
        constraints=constraints,
        shape="chain",
        treewidth=2,
        msd=3,
        evidence_facts=[1, 3, 4, 5],
        evidence_documents=["D1", "D2", "D3", "D4"],
        provenance=TaskProvenance(world_hash=world_hash, seed=0),
    )


CHAIN = [
    Constraint(kind="relation", predicate="born_in", subject="x1", object="x3", fact_ids=[1],
               text="the person was born in Harwick"),
    Constraint(kind="relation", predicate="child", subject="x1", object="x2", fact_ids=[3],
               text="the other person is a child of the person"),
    Constraint(kind="relation", predicate="director", subject="x0", object="x1", fact_ids=[4],
               text="the film was directed by the person"),
    Constraint(kind="relation", predicate="cast_member", subject="x0", object="x2", fact_ids=[5],
               text="the child appears in the film"),
    Constraint(kind="attribute", predicate="publication_date", subject="x0", fact_ids=[7],
               text="the film came out in the 1990s"),
]  # fmt: skip


def test_flatten_follows_the_flow_of_information() -> None:
    steps = flatten(_task(CHAIN))
    # Harwick is known; the person born there is the only concrete goal; the child and the
    # film wait for the person; with both concrete, the answer comes last.
    assert [s.resolve for s in steps] == ["x1", "x2", "x0"]
    assert (steps[0].concrete, steps[0].ambiguous) == (("x1",), ("x0", "x2"))
    assert (set(steps[1].concrete), steps[1].ambiguous) == ({"x0", "x2"}, ())
    assert steps[2].known == ("x3", "x1", "x2")
    # a seeded tie-break never resolves a goal before it is concrete
    for seed in range(5):
        order = [s.resolve for s in flatten(_task(CHAIN), random.Random(seed))]
        assert order == ["x1", "x2", "x0"]


def test_plan_sample_messages_and_targets(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    task = _task(CHAIN, world.content_hash)
    ctx = GenContext(world, world.content_hash, tasks=[task])
    items = list(PlanningGenerator().generate(ctx, 5, seed=0))
    assert len(items) == 1 and isinstance(items[0], MidtrainSample)
    sample = items[0]
    assert sample.id == "planning-0-0" and sample.source["order"] == ["x1", "x2", "x0"]
    roles = [m.role for m in sample.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant",
                     "user", "assistant"]  # fmt: skip
    assert [m.loss_weight for m in sample.messages] == [0, 0, 1, 0, 1, 0, 1, 0, 1]
    first = sample.messages[2].content
    assert parse_plan(first) == (["x1"], ["x0", "x2"])
    assert "[x1] Find the person: the person was born in Harwick" in first
    assert "Known: [x3] Harwick." in first
    assert sample.messages[3].content == "Result: [x1] is Marta Velden."
    assert parse_plan(sample.messages[4].content) == (["x0", "x2"], [])
    assert sample.messages[-1].content.endswith("Answer: The Quiet Harbor")
    assert sample.answer_entities == ["E4"]
    assert sample.evidence_docs == ["D1", "D2", "D3", "D4"]


def test_verify_plan_catches_wrong_splits_and_orders() -> None:
    task = _task(CHAIN)
    step = flatten(task)[0]
    good = "Concrete goals:\n- [x1] a\nAmbiguous goals:\n- [x0] b needs [x1]\n- [x2] c"
    assert verify_plan(task, step, good) is None
    swapped = "Concrete goals:\n- [x0] b\nAmbiguous goals:\n- [x1] a\n- [x2] c"
    assert verify_plan(task, step, swapped) == "plan_split_mismatch"
    invented = "Concrete goals:\n- [x1] a\n- [x9] z\nAmbiguous goals:\n- [x0] b\n- [x2] c"
    assert verify_plan(task, step, invented) == "goal_not_in_graph"
    assert verify_plan(task, step, "[x1] then [x0]") == "plan_sections_missing"
    early = step.__class__(step.known, step.concrete, step.ambiguous, "x0")
    assert verify_plan(task, early, good) == "plan_order"


def test_disconnected_graph_is_rejected_not_written(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    island = [c for c in CHAIN if c.predicate != "born_in"]  # nothing links to Harwick
    island = [c for c in island if c.kind == "relation"]
    task = _task(island, world.content_hash)
    items = list(PlanningGenerator().generate(GenContext(world, world.content_hash, [task]), 1, 0))
    assert len(items) == 1 and isinstance(items[0], Rejection)
    assert items[0].reason == "disconnected_graph"


def test_tasks_without_graphs_or_from_another_world_are_refused(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    gen = PlanningGenerator()
    with pytest.raises(UserError, match="none were given"):
        gen.check(GenContext(world, world.content_hash, tasks=[]))
    bare = Task(id="q1", question="Who?", answer="x")
    with pytest.raises(UserError, match=r"1 of 1 tasks have no reasoning graph.*q1"):
        gen.check(GenContext(world, world.content_hash, tasks=[bare]))
    with pytest.raises(UserError, match="not from this World"):
        gen.check(GenContext(world, world.content_hash, tasks=[_task(CHAIN, "other")]))


def test_synthesized_tasks_all_yield_verified_plans(tmp_path: Path) -> None:
    world: World = small_world(tmp_path / "w", entities=300, seed=0)
    tasks = read_tasks(FIXTURE)
    ctx = GenContext(world, world.content_hash, tasks=tasks)
    PlanningGenerator().check(ctx)
    items = list(PlanningGenerator().generate(ctx, 100, seed=0))
    samples = [i for i in items if isinstance(i, MidtrainSample)]
    assert len(samples) == len(tasks)  # one per task, then the generator stops
    by_id = {t.id: t for t in tasks}
    for s in samples:
        task = by_id[s.source["task_id"]]
        observed = {n.var for n in task.nodes if n.role == "observed"}
        assert set(s.source["order"]) == {n.var for n in task.nodes} - observed
        plans = [m.content for m in s.messages if m.role == "assistant"][:-1]
        assert len(plans) == len(s.source["order"])
        known = set(observed)
        for plan, var in zip(plans, s.source["order"], strict=True):
            parsed = parse_plan(plan)
            assert parsed is not None
            concrete, ambiguous = parsed
            assert var in concrete
            assert set(concrete) | set(ambiguous) == {n.var for n in task.nodes} - known
            # dependency order: linked to something known, or described by attributes alone
            links = [
                c for c in task.constraints
                if c.kind in ("relation", "same", "route") and var in (c.subject, c.object)
            ]  # fmt: skip
            assert not links or any({c.subject, c.object} - {var} <= known for c in links)
            known.add(var)
        assert s.messages[-1].content.endswith(f"Answer: {task.answer}")
