from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.rollout import load_tasks, tasks_digest
from redsearcher.synth._task import GraphNode, Task, TaskProvenance


def synth_task(task_id: str = "syn-1") -> Task:
    return Task(
        id=task_id,
        question="Which film was directed by the father of its lead actor?",
        answer="The Quiet Harbor",
        aliases=["Quiet Harbor"],
        answer_entity="E4",
        answer_type="film",
        nodes=[
            GraphNode(var="x0", entity="E4", label="The Quiet Harbor", type="film", role="answer")
        ],
        constraints=[],
        shape="hub",
        treewidth=2,
        msd=3,
        evidence_facts=[3, 4, 5],
        evidence_documents=["D2", "D3", "D4"],
        required_tools=["maps"],
        provenance=TaskProvenance(world_hash="abc123", seed=0),
    )


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_reads_all_three_row_shapes(tmp_path: Path) -> None:
    rows = [
        synth_task().model_dump(mode="json"),
        {"idx": 7, "problem": "Who wrote X?", "answer": "Y", "source": "dth"},
        {"id": "plain", "question": "Q?", "answers": ["a", "b"]},
        {"id": "min", "question": "Q2?", "answer": "z", "aliases": ["zz"]},
        {"id": "open", "question": "Q3?"},
    ]
    tasks = load_tasks(write(tmp_path / "t.jsonl", rows))
    assert [t.id for t in tasks] == ["syn-1", "7", "plain", "min", "open"]
    synth = tasks[0]
    assert synth.answers == ["The Quiet Harbor", "Quiet Harbor"]
    assert synth.metadata == {
        "treewidth": 2, "msd": 3, "shape": "hub", "answer_type": "film",
        "required_tools": ["maps"], "world_hash": "abc123",
    }  # fmt: skip
    assert "nodes" not in synth.metadata  # the graph never reaches the agent or the log
    assert (tasks[1].question, tasks[1].answers, tasks[1].metadata) == (
        "Who wrote X?", ["Y"], {"source": "dth"},
    )  # fmt: skip
    assert tasks[2].answers == ["a", "b"] and tasks[3].answers == ["z", "zz"]
    assert tasks[4].answers == []


@pytest.mark.parametrize(
    ("row", "field", "line"),
    [
        ({"question": "Q?"}, "id", 2),
        ({"id": "x"}, "question", 2),
        ({"id": "x", "question": ""}, "question", 2),
        ({"id": "x", "question": "Q?", "answers": [{"a": 1}]}, "answers", 2),
        ({"id": True, "question": "Q?"}, "id", 2),
        ({"id": "x", "question": "Q?", "nodes": [], "answer_entity": "E1"}, "answer", 2),
        ({"id": "ok", "question": "again"}, "id", 2),  # repeats line 1's id
    ],
)
def test_bad_rows_name_file_line_and_field(
    tmp_path: Path, row: dict[str, Any], field: str, line: int
) -> None:
    path = write(tmp_path / "t.jsonl", [{"id": "ok", "question": "Q?"}, row])
    with pytest.raises(InputFormatError) as err:
        load_tasks(path)
    assert (err.value.line, err.value.field) == (line, field)
    assert str(path) in str(err.value)


def test_invalid_json_and_non_objects(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError) as err:
        load_tasks(write(tmp_path / "a.jsonl", ["{not json"]))
    assert err.value.line == 1
    with pytest.raises(InputFormatError, match="JSON object"):
        load_tasks(write(tmp_path / "b.jsonl", ["[1, 2]"]))


def test_missing_and_empty_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_tasks(tmp_path / "nope.jsonl")
    with pytest.raises(UserError, match="no tasks"):
        load_tasks(write(tmp_path / "empty.jsonl", ["", "  "]))


def test_digest_depends_on_content_not_formatting(tmp_path: Path) -> None:
    rows = [{"id": "a", "question": "Q?", "answer": "x"}]
    compact = load_tasks(write(tmp_path / "a.jsonl", rows))
    spaced = load_tasks(
        write(tmp_path / "b.jsonl", [json.dumps(rows[0], indent=None, separators=(" , ", " : "))])
    )
    assert tasks_digest(compact) == tasks_digest(spaced)
    other = load_tasks(write(tmp_path / "c.jsonl", [{"id": "a", "question": "Q?", "answer": "y"}]))
    assert tasks_digest(other) != tasks_digest(compact)
