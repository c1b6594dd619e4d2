"""The one task record: synthesized tasks byte for byte as before, benchmark rows as tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redsearcher.errors import InputFormatError
from redsearcher.log import Task, read_tasks

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tasks"

# Every field of a synthesized task as ``redsearcher synth`` wrote it before the record moved
# to redsearcher.log, in its order.
V1_FIELDS = [
    "schema_version", "id", "question", "answer", "aliases", "answer_entity", "answer_type",
    "nodes", "constraints", "shape", "treewidth", "msd", "evidence_facts", "evidence_documents",
    "evidence_urls", "required_tools", "verification", "provenance",
]  # fmt: skip


def test_a_task_file_written_before_the_change_loads_and_dumps_byte_for_byte() -> None:
    path = FIXTURES / "synth-v1.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tasks = read_tasks(path)
    assert [list(json.loads(line)) for line in lines] == [V1_FIELDS] * len(lines)
    assert [t.model_dump_json() + "\n" for t in tasks] == lines
    assert all(t.synthesized and t.verified and t.metadata == {} for t in tasks)
    assert tasks[0].provenance is not None
    assert tasks[0].world_hash == tasks[0].provenance.world_hash


def test_a_plain_benchmark_row_is_a_task(tmp_path: Path) -> None:
    path = tmp_path / "bench.jsonl"
    path.write_text(
        '{"id": "g1", "question": "How many?", "answer": "3"}\n'
        '{"id": "g2", "question": "Who?", "aliases": ["Ada"], "metadata": {"level": 2}}\n'
    )
    first, second = read_tasks(path)
    assert (first.answers, first.treewidth, first.msd, first.provenance) == (
        ["3"],
        None,
        None,
        None,
    )
    assert not first.synthesized and first.world_hash is None and first.verified
    assert second.answer is None and second.answers == ["Ada"]
    assert second.metadata == {"level": 2}
    # Its JSON carries what it has and nothing of the synthesis fields it lacks.
    assert json.loads(first.model_dump_json()) == {
        "schema_version": 1, "id": "g1", "question": "How many?", "answer": "3", "aliases": [],
    }  # fmt: skip
    assert json.loads(second.model_dump_json())["metadata"] == {"level": 2}


def test_a_synthesized_record_must_carry_every_synthesis_field(tmp_path: Path) -> None:
    row = json.loads((FIXTURES / "synth-v1.jsonl").read_text().splitlines()[0])
    for name in ("answer", "treewidth", "provenance", "nodes"):
        partial = {k: v for k, v in row.items() if k != name}
        path = tmp_path / f"{name}.jsonl"
        path.write_text(json.dumps(row) + "\n" + json.dumps(partial) + "\n")
        with pytest.raises(InputFormatError, match="Field required") as err:
            read_tasks(path)
        assert (err.value.line, err.value.field) == (2, name)
    with pytest.raises(ValueError, match="msd"):
        Task.model_validate({k: v for k, v in row.items() if k != "msd"})


def test_a_sample_world_task_records_its_uniqueness_and_round_trips(tmp_path: Path) -> None:
    line = (FIXTURES / "synth-v1.jsonl").read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(line)
    record["uniqueness"] = "within_world_sample"
    path = tmp_path / "sample.jsonl"
    path.write_text(json.dumps(record, separators=(",", ":")) + "\n", encoding="utf-8")
    (task,) = read_tasks(path)
    assert task.uniqueness == "within_world_sample"
    dumped = json.loads(task.model_dump_json())
    assert list(dumped) == [*V1_FIELDS, "uniqueness"]  # after provenance, nothing else moved
    assert dumped["uniqueness"] == "within_world_sample"
    # A complete World's task leaves the field out (byte for byte as before, test above).
    assert "uniqueness" not in task.model_copy(update={"uniqueness": None}).model_dump_json()


def test_an_unknown_uniqueness_names_line_and_field(tmp_path: Path) -> None:
    record = json.loads((FIXTURES / "synth-v1.jsonl").read_text(encoding="utf-8").splitlines()[0])
    record["uniqueness"] = "everywhere"
    path = tmp_path / "bad.jsonl"
    path.write_text("\n" + json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(InputFormatError) as info:
        read_tasks(path)
    message = str(info.value)
    assert "bad.jsonl" in message and ":2" in message and "uniqueness" in message


def test_attachments_round_trip_and_are_left_out_when_empty(tmp_path: Path) -> None:
    task = Task(id="g9", question="What is in the file?", answer="7", attachments=["/d/x.csv"])
    path = tmp_path / "tasks.jsonl"
    path.write_text(task.model_dump_json() + "\n")
    (again,) = read_tasks(path)
    assert again.attachments == ["/d/x.csv"] and again == task
    bare = task.model_copy(update={"attachments": []})
    assert "attachments" not in json.loads(bare.model_dump_json())
