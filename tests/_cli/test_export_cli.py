from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from redsearcher._cli import main
from redsearcher.log import (
    GraphNode,
    Message,
    RunLog,
    RunManifest,
    Segment,
    Task,
    TaskProvenance,
    Trajectory,
    TrajectoryProvenance,
)


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


def trajectory(task_id: str, sample: int, prediction: str) -> Trajectory:
    messages = [
        Message(role="system", content="s"),
        Message(role="user", content="Who?"),
        Message(role="assistant", content=f"<answer>{prediction}</answer>", train=True),
    ]
    return Trajectory(
        id=f"{task_id}#{sample}", task_id=task_id, sample=sample, question="Who?", answers=["Ada"],
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        prediction=prediction, termination="answer",
        provenance=TrajectoryProvenance(model="m", protocol="native"),
    )  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    manifest = RunManifest(model="m", protocol="native", tasks_digest="d", n_samples=2)
    with RunLog.open(tmp_path / "run", manifest, fsync=False) as log:
        log.append_many(
            [trajectory("a", 0, "Ada"), trajectory("a", 1, "Ada"), trajectory("b", 0, "Bob")]
        )
    return tmp_path / "run"


def test_export_sft_sharegpt_default_path(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["export", "sft", str(run_dir), "--format", "sharegpt"]) == 0
    rows = [json.loads(line) for line in (run_dir / "sft-sharegpt.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["conversations"][-1] == {
        "from": "gpt",
        "value": "<answer>Ada</answer>",
    }
    out = capsys.readouterr().out
    assert (
        "1 sample(s) from 1 of 3" in out and "incorrect 1" in out and "duplicate_question 1" in out
    )


def test_export_sft_openai_without_filter(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    argv = [
        "export",
        "sft",
        str(run_dir),
        "--format",
        "openai",
        "--out",
        str(out),
        "--no-filter",
        "--flag-key",
        "loss",
    ]
    assert run(argv) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and [m["loss"] for m in rows[0]["messages"]] == [False, False, True]


def test_export_sft_all_per_question(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    assert run(["export", "sft", str(run_dir), "--out", str(out), "--all-per-question"]) == 0
    assert len(out.read_text().splitlines()) == 2


def test_export_sft_errors_are_one_line(
    tmp_path: Path, run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["export", "sft", str(tmp_path / "nope")]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert run(["export", "sft", str(run_dir), "--format", "alpaca"]) == 2
    assert "unknown sft_format 'alpaca'" in capsys.readouterr().err


def task(task_id: str) -> Task:
    return Task(
        id=task_id, question=f"Q {task_id}?", answer="Ada", answer_entity="E1", answer_type="person",
        nodes=[GraphNode(var="x0", entity="E1", label="Ada", type="person", role="answer")],
        constraints=[], shape="chain", treewidth=1, msd=2, evidence_facts=[1], evidence_documents=["D1"],
        provenance=TaskProvenance(world_hash="w", seed=0),
    )  # fmt: skip


@pytest.mark.parametrize("fmt", ["redsearcher", "slime", "verl", "deeptracehub"])
def test_export_rl_every_format(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(task("a").model_dump_json() + "\n" + task("b").model_dump_json() + "\n")
    out = tmp_path / ("rl.parquet" if fmt == "verl" else "rl.jsonl")
    assert run(["export", "rl", str(tasks), "--format", fmt, "--out", str(out)]) == 0
    assert "2 row(s) written" in capsys.readouterr().out
    rows = (
        pq.read_table(out).to_pylist()
        if fmt == "verl"
        else [json.loads(x) for x in out.read_text().splitlines()]
    )
    assert len(rows) == 2
    keys = {
        "redsearcher": {"problem", "answer", "difficulty"},
        "slime": {"prompt", "label"},
        "verl": {"data_source", "prompt", "ability", "reward_model", "extra_info"},
        "deeptracehub": {"idx", "problem", "answer"},
    }[fmt]
    assert set(rows[0]) == keys


def test_export_rl_bad_task_file_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(task("a").model_dump_json() + "\n" + '{"id": "b"}\n')
    assert run(["export", "rl", str(tasks), "--out", str(tmp_path / "x.jsonl")]) == 2
    assert "tasks.jsonl:2" in capsys.readouterr().err
