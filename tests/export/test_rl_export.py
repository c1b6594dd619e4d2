from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from redsearcher.agent import load_prompt
from redsearcher.errors import ConfigError, UserError
from redsearcher.export import (
    agent_system_prompt,
    difficulty_label,
    export_rl,
    rl_format_names,
    rl_rows,
)
from redsearcher.log import GraphNode, Task, TaskProvenance, Verdict


def task(task_id: str, *, tw: int = 2, msd: int = 3, passed: bool | None = True) -> Task:
    return Task(
        id=task_id,
        question=f"Which film ({task_id})?",
        answer="The Quiet Harbor",
        aliases=["Quiet Harbor"],
        answer_entity="E4",
        answer_type="film",
        nodes=[
            GraphNode(var="x0", entity="E4", label="The Quiet Harbor", type="film", role="answer")
        ],
        constraints=[],
        shape="hub",
        treewidth=tw,
        msd=msd,
        evidence_facts=[3],
        evidence_documents=["D2"],
        verification=[Verdict(stage="solver", passed=passed)],
        provenance=TaskProvenance(world_hash="abc", seed=0),
    )


def write_tasks(path: Path, tasks: list[Task]) -> Path:
    path.write_text("".join(t.model_dump_json() + "\n" for t in tasks))
    return path


def test_formats_are_registered() -> None:
    assert rl_format_names() == ["deeptracehub", "redsearcher", "slime", "verl"]


def test_redsearcher_rows_and_difficulty(tmp_path: Path) -> None:
    assert difficulty_label(task("a", tw=3, msd=4)) == "tw3-msd4"
    out = tmp_path / "rl.jsonl"
    summary = export_rl(write_tasks(tmp_path / "t.jsonl", [task("a"), task("b", tw=1, msd=5)]), out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert summary.rows == 2 and rows == [
        {"problem": "Which film (a)?", "answer": "The Quiet Harbor", "difficulty": "tw2-msd3"},
        {"problem": "Which film (b)?", "answer": "The Quiet Harbor", "difficulty": "tw1-msd5"},
    ]


def test_slime_prompt_is_the_agents_opening(tmp_path: Path) -> None:
    (row,) = rl_rows([task("a")], "slime")
    assert set(row) == {"prompt", "label"} and row["label"] == "The Quiet Harbor"
    system, user = row["prompt"]
    assert system == {"role": "system", "content": load_prompt("system")}
    assert user == {"role": "user", "content": "Which film (a)?"}
    text = agent_system_prompt("text")
    assert text.startswith(load_prompt("system")) and "<tools>" in text and '"search"' in text
    custom = tmp_path / "system.txt"
    custom.write_text("Be brief.\n")
    out = tmp_path / "slime.jsonl"
    export_rl(
        write_tasks(tmp_path / "t.jsonl", [task("a")]),
        out,
        format="slime",
        system_prompt_file=custom,
    )
    assert json.loads(out.read_text())["prompt"][0]["content"] == "Be brief."


def test_verl_parquet_matches_search_r1(tmp_path: Path) -> None:
    out = tmp_path / "train.parquet"
    export_rl(write_tasks(tmp_path / "t.jsonl", [task("a"), task("b")]), out, format="verl")
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == 2
    first = rows[0]
    assert first["data_source"] == "redsearcher" and first["ability"] == "fact-reasoning"
    assert first["prompt"] == [{"role": "user", "content": "Which film (a)?"}]
    assert first["reward_model"] == {
        "style": "rule",
        "ground_truth": {"target": ["The Quiet Harbor", "Quiet Harbor"]},
    }
    assert first["extra_info"]["id"] == "a" and first["extra_info"]["index"] == 0
    assert rows[1]["extra_info"]["difficulty"] == "tw2-msd3"


def test_deeptracehub_rows(tmp_path: Path) -> None:
    (row,) = rl_rows([task("a")], "deeptracehub")
    assert row == {"idx": "a", "problem": "Which film (a)?", "answer": "The Quiet Harbor"}


def test_rejected_tasks_are_left_out_unless_asked(tmp_path: Path) -> None:
    path = write_tasks(
        tmp_path / "t.jsonl", [task("a"), task("b", passed=False), task("c", passed=None)]
    )
    summary = export_rl(path, tmp_path / "a.jsonl", format="deeptracehub")
    assert (summary.rows, summary.skipped_unverified) == (2, 1)
    everything = export_rl(
        path, tmp_path / "b.jsonl", format="deeptracehub", include_unverified=True
    )
    assert everything.rows == 3
    with pytest.raises(UserError, match="no task to export"):
        export_rl(
            write_tasks(tmp_path / "bad.jsonl", [task("b", passed=False)]), tmp_path / "c.jsonl"
        )


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="deeptracehub"):
        rl_rows([task("a")], "alpaca")
    with pytest.raises(UserError, match="not found"):
        export_rl(tmp_path / "missing.jsonl", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()


FIXTURES = Path(__file__).parent.parent / "fixtures" / "tasks"


def test_a_task_file_written_before_the_one_task_record_exports_as_it_did(tmp_path: Path) -> None:
    # synth-v1.rl-redsearcher.jsonl was written by export_rl before Task moved to redsearcher.log.
    out = tmp_path / "rl.jsonl"
    export_rl(FIXTURES / "synth-v1.jsonl", out)
    assert out.read_bytes() == (FIXTURES / "synth-v1.rl-redsearcher.jsonl").read_bytes()


def test_unsynthesized_tasks_have_no_difficulty_and_need_an_answer(tmp_path: Path) -> None:
    plain = Task(id="q", question="Who?", answer="Ada", metadata={"world_hash": "w"})
    assert difficulty_label(plain) == ""
    (row,) = rl_rows([plain], "verl")
    assert row["extra_info"]["treewidth"] is None and row["extra_info"]["world_hash"] == "w"
    open_question = write_tasks(tmp_path / "t.jsonl", [task("a"), Task(id="q", question="Why?")])
    with pytest.raises(UserError, match=r"without a reference answer.*q"):
        export_rl(open_question, tmp_path / "x.jsonl")
