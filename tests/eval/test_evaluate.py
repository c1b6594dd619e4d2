"""Judging a run: verdict files, resume, --retry-unscored, refusals, overrides, kappa, summary."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from records_support import make_manifest, make_trajectory
from redsearcher.errors import ConfigError, UserError
from redsearcher.eval import (
    Judge,
    JudgeRun,
    Summary,
    cohen_kappa,
    evaluate,
    judge_run,
    make_judge,
    read_verdicts,
    verdicts_path,
    write_outputs,
)
from redsearcher.log import Message, RunLog, Trajectory, read_trajectories
from redsearcher.testing import ScriptedModel, Step, StepError

# t0..t3: predictions vs gold. exact: t0 right, t1 wrong, t2 wrong, t3 no gold (unscored).
# contains: t0 right, t1 right ("Paris, France" contains "Paris"), t2 wrong.
TRAJECTORIES = [
    ("t0", "Paris", ["Paris"]),
    ("t1", "Paris, France", ["Paris"]),
    ("t2", "London", ["Paris"]),
    ("t3", "Paris", []),
]


def make_run(path: Path, rows: Sequence[tuple[str, str | None, list[str]]] = TRAJECTORIES,
             samples: int = 1, **manifest: Any) -> Path:  # fmt: skip
    with RunLog.open(path, make_manifest(n_samples=samples, **manifest), fsync=False) as log:
        for task_id, prediction, answers in rows:
            for sample in range(samples):
                log.append(make_trajectory(task_id, sample, answers=answers, prediction=prediction))
    return path


def run_judge(run: Path, judge: Judge, **kw: Any) -> JudgeRun:
    return asyncio.run(judge_run(run, judge, fsync=False, **kw))


def test_verdicts_are_written_and_a_rerun_judges_nothing(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    stats = run_judge(run, make_judge("exact"))
    assert (stats.trajectories, stats.judged, stats.already) == (4, 4, 0)
    assert stats.outcomes == {"correct": 1, "incorrect": 2, "unscored": 1}
    verdicts = read_verdicts(verdicts_path(run, "exact"))
    assert {k: v.correct for k, v in verdicts.items()} == {
        "t0#0": True, "t1#0": False, "t2#0": False, "t3#0": None,
    }  # fmt: skip
    before = verdicts_path(run, "exact").read_bytes()
    again = run_judge(run, make_judge("exact"))
    assert (again.judged, again.already) == (0, 4)
    assert verdicts_path(run, "exact").read_bytes() == before
    header = json.loads((run / "verdicts-exact.jsonl.meta.json").read_text())
    assert header["judge_version"] == "exact-rules-v1" and header["tasks_digest"] == "d" * 64


def test_resume_judges_only_what_is_new(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", TRAJECTORIES[:2])
    assert run_judge(run, make_judge("exact")).judged == 2
    with RunLog.open(run, make_manifest(n_samples=1), fsync=False) as log:
        log.append(make_trajectory("t9", 0, answers=["x"], prediction="x"))
    stats = run_judge(run, make_judge("exact"))
    assert (stats.judged, stats.already) == (1, 2)
    assert len(read_verdicts(verdicts_path(run, "exact"))) == 3


def test_a_torn_verdict_line_is_cut_and_judged_again(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    run_judge(run, make_judge("exact"))
    path = verdicts_path(run, "exact")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])  # killed mid-write
    assert run_judge(run, make_judge("exact")).judged == 1
    assert len(read_verdicts(path)) == 4


def test_retry_unscored_rejudges_exactly_the_unscored(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", TRAJECTORIES[:3])
    outage = Step(error=StepError(status=503, message="overloaded"))
    with ScriptedModel([Step(content="A"), outage, outage], name="j") as model:
        first = run_judge(run, make_judge("ab", model), batch_size=1)
    assert first.outcomes == {"correct": 1, "incorrect": 0, "unscored": 2}
    path = verdicts_path(run, "ab")
    scored_line = path.read_bytes().splitlines()[0]
    assert b'"correct":true' in scored_line
    # A plain rerun leaves them: an unscored verdict is a verdict.
    with ScriptedModel([], name="j") as idle:
        assert run_judge(run, make_judge("ab", idle)).judged == 0
    with ScriptedModel([Step(content="B"), Step(content="B")], name="j") as up:
        stats = run_judge(run, make_judge("ab", up), retry_unscored=True)
    assert len(up.calls) == 2  # the scored verdict was not judged again
    assert (stats.retried, stats.judged, stats.already) == (2, 2, 1)
    verdicts = read_verdicts(path)
    assert [verdicts[f"t{i}#0"].correct for i in range(3)] == [True, False, False]
    assert path.read_bytes().splitlines()[0] == scored_line  # kept byte for byte
    history = (run / "verdicts-ab.retried.jsonl").read_text().splitlines()
    assert len(history) == 2 and all('"correct":null' in line for line in history)
    with ScriptedModel([], name="j") as idle:
        assert run_judge(run, make_judge("ab", idle), retry_unscored=True).judged == 0


def untagged(task_id: str, text: str, answers: list[str]) -> Trajectory:
    t = make_trajectory(task_id, 0, answers=answers, prediction=None)
    messages = [*t.segments[0].messages[:-1], Message(role="assistant", content=text)]
    segment = t.segments[0].model_copy(update={"messages": messages})
    return t.model_copy(update={"segments": [segment]})


def test_another_judge_model_is_refused_but_a_model_less_file_adopts_one(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path / "run", TRAJECTORIES[:1])
    with ScriptedModel([Step(content="A")], name="judge-a") as a:
        run_judge(run, make_judge("ab", a))
    with pytest.raises(UserError, match=r'model: "judge-a" \(recorded\) != "judge-b"'):
        run_judge(run, make_judge("ab", ScriptedModel([], name="judge-b")))
    # gaia without a model: an untagged answer stays unscored; with a model it is retried.
    run2 = make_run(tmp_path / "run2", [("g0", "17", ["17"])])
    with RunLog.open(run2, make_manifest(n_samples=1), fsync=False) as log:
        log.append(untagged("g1", "The bridge is 17 km long.", ["17"]))
    assert run_judge(run2, make_judge("gaia")).outcomes == {
        "correct": 1, "incorrect": 0, "unscored": 1,
    }  # fmt: skip
    step = Step(content="extracted_final_answer: 17 km")
    with ScriptedModel([step], name="extractor") as model:
        stats = run_judge(run2, make_judge("gaia", model), retry_unscored=True)
    assert stats.outcomes == {"correct": 1, "incorrect": 0, "unscored": 0}
    header = json.loads((run2 / "verdicts-gaia.jsonl.meta.json").read_text())
    assert header["model"] == "extractor"
    verdicts = read_verdicts(verdicts_path(run2, "gaia"))
    assert verdicts["g0#0"].model is None and verdicts["g1#0"].model == "extractor"


def test_a_run_from_another_task_set_is_refused(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    with pytest.raises(UserError, match="made on another task set"):
        run_judge(run, make_judge("exact"), tasks_digest="e" * 64)
    run_judge(run, make_judge("exact"))
    # Verdicts of this run put beside a run of another task set: refused.
    other = make_run(tmp_path / "other", TRAJECTORIES[:1], tasks_digest="f" * 64)
    for name in ("verdicts-exact.jsonl", "verdicts-exact.jsonl.meta.json"):
        (other / name).write_bytes((run / name).read_bytes())
    with pytest.raises(UserError, match=r"written for another run .*tasks_digest do not match"):
        run_judge(other, make_judge("exact"))


def test_cohen_kappa_hand_checked() -> None:
    # 50 items: both yes 20, first yes/second no 5, first no/second yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_yes(1) = 25/50, p_yes(2) = 30/50;
    # p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    first = [True] * 20 + [True] * 5 + [False] * 10 + [False] * 15
    second = [True] * 20 + [False] * 5 + [True] * 10 + [False] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert cohen_kappa([True, False], [True, False]) == pytest.approx(1.0)
    assert cohen_kappa([True, False], [False, True]) == pytest.approx(-1.0)
    assert cohen_kappa([True, True], [True, True]) is None  # p_e = 1: undefined
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError):
        cohen_kappa([True], [])


def test_summary_csv_overrides_and_agreement(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", [*TRAJECTORIES, ("t4", None, ["Rome"])], samples=2)
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text(
        "t2: {correct: true, reason: gold answer disputed (London was the capital then)}\n"
        "t1#1: {correct: true, reason: accepted by hand}\n"
    )
    result = asyncio.run(
        evaluate(run, [make_judge("exact"), make_judge("contains")], overrides=overrides,
                 fsync=False)
    )  # fmt: skip
    summary = json.loads((run / "judges.json").read_text())
    assert summary == result.judges
    # summary.json: the metrics of the primary judge, overrides applied
    metrics = Summary.model_validate_json((run / "summary.json").read_bytes())
    assert metrics == result.summary and metrics.judge == "exact"
    assert (metrics.accuracy.correct, metrics.accuracy.scored) == (5, 8)
    assert metrics.accuracy.unscored == 2
    # report.html: the same summary, rendered (self-contained) beside it
    assert result.report == run / "report.html"
    page = result.report.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "62.5%" in page
    exact = summary["judges"]["exact"]
    # per sample (x2): t0 right, t1 wrong (t1#1 overridden right), t2 overridden right,
    # t3 unscored (no gold), t4 wrong (no answer)
    assert exact["correct"] == 2 + 1 + 2 and exact["incorrect"] == 1 + 2
    assert exact["unscored"] == 2 and exact["unscored_reasons"] == {"no reference answer": 2}
    assert exact["overridden"] == 3 and exact["trajectories"] == 10 and exact["missing"] == 0
    assert exact["accuracy"] == pytest.approx(5 / 8)
    assert exact["accuracy_all"] == pytest.approx(5 / 10)
    contains = summary["judges"]["contains"]
    assert (contains["correct"], contains["incorrect"]) == (6, 2)
    # agreement on the 8 scored by both (raw verdicts, before overrides):
    # exact   t0 T T  t1 F F  t2 F F  t4 F F
    # contains t0 T T t1 T T  t2 F F  t4 F F  -> p_o = 6/8, p1 = 2/8, p2 = 4/8
    # p_e = 0.25*0.5 + 0.75*0.5 = 0.5 -> kappa = (0.75 - 0.5) / 0.5 = 0.5
    (pair,) = summary["agreement"]
    assert pair["judges"] == ["exact", "contains"] and pair["n"] == 8
    assert pair["agreement"] == pytest.approx(0.75) and pair["kappa"] == pytest.approx(0.5)
    rows = {r["trajectory_id"]: r for r in csv.DictReader((run / "samples.csv").open())}
    assert len(rows) == 10
    assert rows["t2#0"]["correct"] == "true" and rows["t2#0"]["judge_exact"] == "false"
    assert rows["t2#0"]["override_reason"].startswith("gold answer disputed")
    assert rows["t1#1"]["correct"] == "true" and rows["t1#0"]["correct"] == "false"
    assert rows["t1#0"]["judge_contains"] == "true"
    assert (
        rows["t3#0"]["correct"] == "" and rows["t3#0"]["unscored_reason"] == "no reference answer"
    )
    assert not list(run.glob("*.tmp"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope#0: {correct: true, reason: x}\n", "'nope#0' is neither a trajectory nor a task id"),
        ("t0: {correct: maybe, reason: x}\n", "override 't0'"),
        ("t0: {correct: true}\n", "override 't0': Field required"),
        ("- t0\n", "maps trajectory or task ids"),
    ],
)
def test_bad_overrides_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    run = make_run(tmp_path / "run")
    path = tmp_path / "o.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        asyncio.run(evaluate(run, [make_judge("exact")], overrides=path, fsync=False))
    assert str(path) in str(caught.value)
    assert not (run / "summary.json").exists()


def test_trajectories_not_yet_judged_are_missing_not_wrong(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", TRAJECTORIES[:2])
    run_judge(run, make_judge("exact"))
    with RunLog.open(run, make_manifest(n_samples=1), fsync=False) as log:
        log.append(make_trajectory("t5", 0, answers=["x"], prediction="x"))
    verdicts = {"exact": read_verdicts(verdicts_path(run, "exact"))}
    metrics, judged = write_outputs(run, list(read_trajectories(run)), verdicts)
    row = judged["judges"]["exact"]
    assert metrics.accuracy.unscored == 1 and metrics.unscored_reasons == {"no verdict": 1}
    assert (row["correct"], row["incorrect"], row["missing"]) == (1, 1, 1)
    assert row["accuracy"] == 0.5 and row["accuracy_all"] == pytest.approx(1 / 3)


def test_a_malformed_trajectory_line_names_the_file_and_line(tmp_path: Path) -> None:
    from redsearcher.errors import InputFormatError

    run = make_run(tmp_path / "run", TRAJECTORIES[:2])
    log = run / "trajectories.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b'{"id": "t1#0", "task_id": "t1", "sample": "x"}\n')
    with pytest.raises(InputFormatError, match=r"trajectories.jsonl:2: .*'sample'"):
        run_judge(run, make_judge("exact"))
    assert read_verdicts(verdicts_path(run, "exact")) == {}  # its batch was not committed
