"""Process metrics from provenance and ``summarize`` on hand-built runs with hand-computed numbers."""

from __future__ import annotations

from typing import Any

import pytest

from redsearcher.errors import UserError
from redsearcher.eval import Verdict, compare_regimes, process_record, summarize
from redsearcher.log import (
    Condition,
    Constraint,
    GraphNode,
    Message,
    Segment,
    Task,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
)
from redsearcher.tools import DeepTraceHubStyle, RenderStyle, TongyiStyle

URLS = [
    "https://www.northgate-herald.com/2014/03/lars-fenby-a-closer-look",
    "https://wiki.example.org/velden-family",
    "https://forum.example.net/t/quiet-harbor/12",
]


def make_task(task_id: str = "t1", *, treewidth: int = 2, msd: int = 3) -> Task:
    return Task(
        id=task_id,
        question="Which film?",
        answer="The Quiet Harbor",
        evidence_documents=["D2", "D3", "D4"],
        evidence_urls=list(URLS),
        required_tools=["python", "maps"],
        treewidth=treewidth,
        msd=msd,
        nodes=[
            GraphNode(var="x0", entity="E5", label="Harwick", type="city", role="answer"),
            GraphNode(var="x1", entity="E6", label="Caldora", type="country", role="observed"),
        ],
        constraints=[
            Constraint(
                kind="compute",
                predicate="date_of_birth",
                subject="x0",
                condition=Condition(op="days_between", value="2020-07-14", low=16631, high=16631),
                tool="python",
            ),
            Constraint(
                kind="route",
                predicate="coordinates",
                subject="x0",
                object="x1",
                condition=Condition(op="approx_route", value="south", low=185, high=245),
                tool="maps",
            ),
        ],
    )


def search_call(turn: int, queries: list[str], links: list[str], style: RenderStyle) -> Any:
    response = {"organic": [{"title": f"Page {i}", "link": u} for i, u in enumerate(links)]}
    output = style.join(style.search(q, response) for q in queries)
    return ("search", {"query": queries}, output, False, turn)


def visit_call(turn: int, urls: list[str], failed: tuple[str, ...], style: RenderStyle) -> Any:
    blocks = [
        style.visit_failed(u, "g") if u in failed else style.visit(u, "g", "facts", "summary")
        for u in urls
    ]
    return ("visit", {"url": urls, "goal": "g"}, style.join(blocks), False, turn)


def make_trajectory(
    calls: list[Any], *, task_id: str = "t1", sample: int = 0, turns: int | None = None
) -> Trajectory:
    records = [
        ToolCallRecord(
            id=f"c{i}", turn=turn, segment=0, name=name, arguments=args, output=out, error=err
        )
        for i, (name, args, out, err, turn) in enumerate(calls)
    ]
    last = max((c.turn for c in records), default=-1)
    return Trajectory(
        id=f"{task_id}#{sample}",
        task_id=task_id,
        sample=sample,
        question="Which film?",
        answers=["The Quiet Harbor"],
        segments=[Segment(index=0, messages=[Message(role="user")], first_turn=0, end="final")],
        tool_calls=records,
        prediction="x",
        termination="answer",
        turns=turns if turns is not None else last + 2,
        usage=Usage(model_calls=3, prompt_tokens=1000, completion_tokens=50),
        duration_s=2.0,
        provenance=TrajectoryProvenance(model="m", protocol="native"),
    )


@pytest.mark.parametrize("style", [TongyiStyle(), DeepTraceHubStyle()], ids=["tongyi", "dth"])
def test_evidence_recall_first_hits_and_over_search(style: RenderStyle) -> None:
    calls = [
        # turn 0: two queries; the results list evidence 0 and 1 (with query/case noise).
        search_call(0, ["Quiet Harbor", "velden"], [URLS[0] + "?ref=x", URLS[1].upper()], style),
        # turn 1: visit evidence 0 (read) and 1 (the page could not be read).
        visit_call(1, [URLS[0], URLS[1]], (URLS[1],), style),
        # turn 2: the same query again (normalised) -> one redundant search.
        search_call(2, ["  quiet   HARBOR "], [URLS[2]], style),
        # turn 3: read evidence 1 and 2: now all three are read.
        visit_call(3, [URLS[1], URLS[2]], (), style),
        # turn 4: python (a required tool); turn 5: searching on regardless (over-search);
        ("PythonInterpreter", {"code": "print(1)"}, "1", False, 4),
        search_call(5, ["more"], [], style),
        visit_call(6, ["https://elsewhere.example.com/a"], (), style),
    ]
    record = process_record(make_trajectory(calls), make_task())
    assert record is not None
    assert (record.evidence, record.retrieved, record.read) == (3, 3, 3)
    assert record.retrieved_recall == record.read_recall == 1.0
    assert record.first_retrieved_turn == {"D2": 0, "D3": 0, "D4": 2}
    assert record.first_read_turn == {"D2": 1, "D3": 3, "D4": 3}
    assert record.required_tools == {"python": True, "maps": False}
    assert record.deciding_values == {"python": False, "maps": False}  # printed 1, not 16631
    assert (record.searches, record.redundant_searches) == (4, 1)
    assert record.over_search_turns == 2  # turns 5 and 6 browsed; the python turn does not count


def test_partial_recall_and_no_over_search_when_evidence_is_missing() -> None:
    style = TongyiStyle()
    calls = [
        search_call(0, ["a"], [URLS[2]], style),
        visit_call(1, [URLS[0]], (URLS[0],), style),  # failed visit: not read
        ("PythonInterpreter", {"code": "x"}, "Error", True, 2),  # a tool error: not answered
    ]
    record = process_record(make_trajectory(calls), make_task())
    assert record is not None
    assert (record.retrieved, record.read) == (1, 0)
    assert record.retrieved_recall == pytest.approx(1 / 3)
    assert record.read_recall == 0.0
    assert record.first_read_turn == {"D2": None, "D3": None, "D4": None}
    assert record.required_tools == {"python": False, "maps": False}
    assert record.over_search_turns is None


@pytest.mark.parametrize(
    ("python_out", "route_out", "expected"),
    [
        (
            "16,631\n",
            "Route from Caldora to Harwick by driving: 250 km, about 200 minutes.",
            {"python": True, "maps": True},
        ),
        (
            "16631.0",
            "Route from Caldora to Harwick by driving: 400 km, about 300 minutes.",
            {"python": True, "maps": False},  # the travel time is outside 185-245 minutes
        ),
        (
            "16630",
            "Route from Caldora to Ostrand by driving: 250 km, about 200 minutes.",
            {"python": False, "maps": False},  # a wrong count; a route to another place
        ),
    ],
)
def test_deciding_values(python_out: str, route_out: str, expected: dict[str, bool]) -> None:
    calls = [
        ("PythonInterpreter", {"code": "..."}, python_out, False, 0),
        ("google_maps_route", {"origin": "Caldora", "destination": "Harwick"}, route_out, False, 1),
    ]
    record = process_record(make_trajectory(calls), make_task())
    assert record is not None
    assert record.required_tools == {"python": True, "maps": True}
    assert record.deciding_values == expected


def test_a_task_without_evidence_urls_has_no_process_record() -> None:
    task = Task(id="t1", question="q", answer="a")
    assert process_record(make_trajectory([]), task) is None


def verdict(trajectory: Trajectory, correct: bool | None, **extra: Any) -> Verdict:
    return Verdict(
        trajectory_id=trajectory.id,
        task_id=trajectory.task_id,
        sample=trajectory.sample,
        judge="exact",
        judge_version="rule",
        correct=correct,
        **extra,
    )


def test_summarize_hand_computed_run() -> None:
    style = TongyiStyle()
    full = [
        search_call(0, ["q"], URLS, style),
        visit_call(1, URLS, (), style),
        ("google_maps_route", {"origin": "a", "destination": "b"}, "Route", False, 2),
        ("PythonInterpreter", {"code": "x"}, "1", False, 3),
    ]
    half = [search_call(0, ["q", "q"], URLS[:1], style), visit_call(1, URLS[:1], (), style)]
    runs = [
        make_trajectory(full, task_id="t1", sample=0),  # correct, read 3/3
        make_trajectory(half, task_id="t1", sample=1),  # incorrect, read 1/3
        make_trajectory(half, task_id="t2", sample=0),  # unscored (judge failed)
        make_trajectory([], task_id="t2", sample=1),  # no verdict at all
    ]
    verdicts = [
        verdict(runs[0], True),
        verdict(runs[1], False),
        verdict(runs[2], None, unscored_reason="judge output not parseable"),
    ]
    tasks = [make_task("t1", treewidth=1, msd=2), make_task("t2", treewidth=3, msd=4)]
    summary = summarize(runs, verdicts, tasks, seed=1)
    assert summary.judge == "exact"
    assert (summary.trajectories, summary.tasks) == (4, 2)
    assert summary.accuracy.value == 0.5
    assert (summary.accuracy.scored, summary.accuracy.unscored) == (2, 2)
    assert summary.unscored_reasons == {"judge output not parseable": 1, "no verdict": 1}
    assert summary.repeats.k == 2
    assert summary.repeats.pass_at_k == {1: 0.5, 2: 1.0}
    assert summary.calibration.rms is None
    assert summary.episodes["correct"].tool_calls.mean == 4
    assert summary.episodes["incorrect"].tool_calls.mean == 2
    assert summary.episodes["unscored"].episodes == 2
    assert summary.tools == {
        "search": 3,
        "visit": 3,
        "google_maps_route": 1,
        "PythonInterpreter": 1,
    }
    assert summary.tool_categories == {"search": 3, "visit": 3, "maps": 1, "python": 1}
    assert summary.search_credits == 1 + 2 + 2
    assert summary.terminations == {"answer": 4}
    assert (summary.tokens.prompt, summary.tokens.completion) == (4000, 200)
    assert summary.wall_time_s.total == 8.0
    process = summary.process
    assert process is not None
    assert process.trajectories == 4
    # read recall: 1, 1/3, 1/3, 0 -> mean 5/12; histogram: 0 -> bin 0, 1/3 -> bin 3, 1 -> last.
    assert process.read_recall == pytest.approx(5 / 12)
    assert process.read_recall_histogram == [1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1]
    assert process.all_read == 1
    assert process.read_recall_correct == 1.0
    assert process.read_recall_incorrect == pytest.approx(1 / 3)
    assert process.redundant_searches == 2  # "q" twice in each half run
    # required (python, maps): full 2/2, the three others 0/2 -> 2 of 8.
    assert process.required_tools_called == pytest.approx(2 / 8)
    assert process.deciding_values_returned == 0.0  # "Route" and "1" state no deciding value
    cells = {(c.treewidth, c.msd): c for c in summary.difficulty}
    assert cells[(1, 2)].accuracy.value == 0.5
    assert cells[(1, 2)].read_recall == pytest.approx(2 / 3)
    assert cells[(3, 4)].accuracy.value is None
    assert cells[(3, 4)].accuracy.unscored == 2
    assert summary.model_dump_json()  # the whole record serializes (summary.json)


def test_summarize_without_tasks_has_no_process_metrics() -> None:
    run = make_trajectory([])
    summary = summarize([run], [verdict(run, True)])
    assert summary.process is None
    assert summary.process_reason is not None
    assert summary.difficulty == []


def test_summarize_refuses_mixed_judges_foreign_verdicts_and_foreign_tasks() -> None:
    a, b = make_trajectory([], task_id="t1"), make_trajectory([], task_id="t2")
    other = verdict(b, True).model_copy(update={"judge": "f1"})
    with pytest.raises(UserError, match="several judges"):
        summarize([a, b], [verdict(a, True), other])
    stray = verdict(make_trajectory([], task_id="zz"), True)
    with pytest.raises(UserError, match="not in the run"):
        summarize([a], [stray])
    with pytest.raises(UserError, match="two verdicts"):
        summarize([a], [verdict(a, True), verdict(a, False)])
    with pytest.raises(UserError, match="another task set"):
        summarize([a, b], [], [make_task("t1")])


def test_calibration_in_summary_when_confidences_are_enough() -> None:
    runs = [make_trajectory([], task_id=f"t{i}") for i in range(4)]
    verdicts = [verdict(r, i < 2, confidence=0.75) for i, r in enumerate(runs)]
    summary = summarize(runs, verdicts, calibration_bin_size=4)
    assert summary.calibration.rms == pytest.approx(0.25)


def test_compare_regimes_pairs_shared_tasks() -> None:
    free = [verdict(make_trajectory([], task_id=t), c) for t, c in [("a", False), ("b", True)]]
    tools = [
        verdict(make_trajectory([], task_id=t, sample=s), c)
        for t, s, c in [("a", 0, True), ("a", 1, False), ("b", 0, True), ("c", 0, True)]
    ]
    gap = compare_regimes(free, tools, seed=2)
    assert gap.tasks == 2  # c was not run without tools
    assert gap.tool_free == 0.5
    assert gap.tool_enabled == 0.75
    assert gap.gap == pytest.approx(0.25)
    assert gap.ci95 is not None and gap.ci95.low <= 0.25 <= gap.ci95.high
