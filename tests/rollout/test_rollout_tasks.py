from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import GraphNode, Task, TaskProvenance
from redsearcher.rollout import load_tasks, tasks_digest, trajectory_id

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tasks"
SYNTH_V1_DIGEST = "a5cc17440515009b4e6c722a4e6e1f8ec65a12c83e2df30f992e5a245316e69c"


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


def test_every_row_shape_becomes_the_one_task_record(tmp_path: Path) -> None:
    synthesized = synth_task()
    rows = [
        synthesized.model_dump(mode="json"),
        {"idx": 7, "problem": "Who wrote X?", "answer": "Y", "source": "dth"},
        {"id": "plain", "question": "Q?", "answers": ["a", "b"]},
        {"id": "min", "question": "Q2?", "answer": "z", "aliases": ["zz", "z"]},
        {"id": "open", "question": "Q3?", "answer": None, "level": 2},
        {"id": 12, "question": "Q4?", "aliases": ["only"]},
    ]
    tasks = load_tasks(write(tmp_path / "t.jsonl", rows))
    assert all(type(t) is Task for t in tasks)
    assert [t.id for t in tasks] == ["syn-1", "7", "plain", "min", "open", "12"]
    # A synthesized row is kept whole: measures, graph and provenance as written.
    assert tasks[0] == synthesized and tasks[0].synthesized and tasks[0].metadata == {}
    assert tasks[0].answers == ["The Quiet Harbor", "Quiet Harbor"]
    assert tasks[0].world_hash == "abc123"
    # Other shapes: id/idx, question/problem, the answers in order without repeats, the rest
    # as metadata; nothing of a synthesized task is invented for them.
    dth = tasks[1]
    assert (dth.question, dth.answer, dth.aliases, dth.metadata) == (
        "Who wrote X?", "Y", [], {"source": "dth"},
    )  # fmt: skip
    assert (dth.treewidth, dth.msd, dth.provenance, dth.nodes, dth.synthesized) == (
        None, None, None, [], False,
    )  # fmt: skip
    assert (tasks[2].answer, tasks[2].aliases) == ("a", ["b"])
    assert tasks[3].answers == ["z", "zz"]
    assert (tasks[4].answer, tasks[4].answers, tasks[4].metadata) == (None, [], {"level": 2})
    assert tasks[5].answers == ["only"]


def test_a_converted_task_round_trips_through_its_own_json(tmp_path: Path) -> None:
    rows = [{"idx": 7, "problem": "Who?", "answer": "Y", "source": "dth", "world_hash": "w1"}]
    task = load_tasks(write(tmp_path / "a.jsonl", rows))[0]
    line = task.model_dump_json()
    assert json.loads(line) == {
        "schema_version": 1, "id": "7", "question": "Who?", "answer": "Y", "aliases": [],
        "metadata": {"source": "dth", "world_hash": "w1"},
    }  # fmt: skip
    again = load_tasks(write(tmp_path / "b.jsonl", [line]))
    assert again == [task] and again[0].world_hash == "w1"


def test_digest_and_trajectory_ids_are_those_of_the_old_loader() -> None:
    # The digest of the committed pre-change task file, computed by the loader that turned rows
    # into AgentTask: run logs made before the one task record must resume.
    tasks = load_tasks(FIXTURES / "synth-v1.jsonl")
    assert tasks_digest(tasks) == SYNTH_V1_DIGEST
    assert [trajectory_id(t.id, 1) for t in tasks] == ["t0-0-4#1", "t0-0-5#1"]
    plain = [Task(id="t1", question="Q?", answer="a", aliases=["b"]), Task(id="t2", question="R?")]
    # AgentTask(id="t1", question="Q?", answers=["a", "b"]), AgentTask(id="t2", question="R?")
    assert (
        tasks_digest(plain)
        == hashlib.sha256(b'["t1", "Q?", ["a", "b"]]\n["t2", "R?", []]\n').hexdigest()
    )


@pytest.mark.parametrize(
    ("row", "field", "line"),
    [
        ({"question": "Q?"}, "id", 2),
        ({"id": "x"}, "question", 2),
        ({"id": "x", "question": ""}, "question", 2),
        ({"id": "x", "question": "Q?", "answers": [{"a": 1}]}, "answers", 2),
        ({"id": True, "question": "Q?"}, "id", 2),
        ({"id": "x", "question": "Q?", "nodes": [], "answer_entity": "E1"}, "answer", 2),
        ({"schema_version": 1, "id": "x", "question": "Q?", "answer": 3}, "answer", 2),
        ({"schema_version": 1, "id": "x", "question": "Q?", "level": 3}, "level", 2),
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


def test_invalid_json_utf8_and_non_objects(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError) as err:
        load_tasks(write(tmp_path / "a.jsonl", ["{not json"]))
    assert err.value.line == 1
    with pytest.raises(InputFormatError, match="JSON object"):
        load_tasks(write(tmp_path / "b.jsonl", ["[1, 2]"]))
    latin = tmp_path / "c.jsonl"
    latin.write_bytes(b'{"id": "a", "question": "Q?"}\n{"id": "b", "question": "Caf\xe9?"}\n')
    with pytest.raises(InputFormatError, match="not UTF-8") as err:
        load_tasks(latin)
    assert (err.value.line, err.value.path) == (2, str(latin))


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
