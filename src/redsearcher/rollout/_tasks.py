"""Task files for rollouts: our synthesized tasks, and the question files peers already use.

A rollout needs an id, a question and (to score) the accepted answers. Three row shapes are read
from JSONL, one object per line:

- synthesized :class:`~redsearcher.synth.Task` records (``redsearcher synth``), and any row with
  ``{id, question, answer, aliases?}``;
- DeepTraceHub input rows ``{idx, problem, answer}``;
- ``{id, question, answers: [...]}``.

A synthesized task keeps its difficulty measures (treewidth, msd, shape, required tools, World
hash) in :attr:`AgentTask.metadata` and drops the reasoning graph (the agent must not see it and
the run log need not repeat it); other rows carry every other field into ``metadata``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log._records import AgentTask

__all__ = ["load_tasks", "parse_task_row", "tasks_digest"]

# What a synthesized task row keeps as metadata (the graph, evidence and verdicts stay behind).
_TASK_METADATA = ("treewidth", "msd", "shape", "answer_type", "required_tools")


def load_tasks(path: str | Path) -> list[AgentTask]:
    """Read a tasks JSONL file into :class:`AgentTask` records, in file order.

    Raises:
        UserError: when the file does not exist or holds no tasks.
        InputFormatError: for invalid JSON, a missing or mistyped field, or a repeated id,
            naming the file, line and field.
    """
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{source}: tasks file not found")
    tasks: list[AgentTask] = []
    seen: dict[str, int] = {}
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputFormatError(source, f"not JSON: {err.msg}", line=number) from err
            task = parse_task_row(row, source, number)
            if task.id in seen:
                raise InputFormatError(
                    source,
                    f"task id {task.id!r} repeats the one on line {seen[task.id]}",
                    line=number,
                    field="id",
                )
            seen[task.id] = number
            tasks.append(task)
    if not tasks:
        raise UserError(f"{source}: no tasks in file")
    return tasks


def parse_task_row(row: Any, path: str | Path = "<tasks>", line: int | None = None) -> AgentTask:
    """Turn one parsed row (any of the module's shapes) into an :class:`AgentTask`.

    Raises:
        InputFormatError: naming ``path``, ``line`` and the field at fault.
    """
    if not isinstance(row, dict):
        raise InputFormatError(path, "a task row must be a JSON object", line=line)
    if "answer_entity" in row or "nodes" in row:
        return _from_synth_task(row, path, line)
    rest = dict(row)
    task_id = _pop_id(rest, path, line)
    question = _pop_text(rest, ("question", "problem"), path, line)
    answers = _pop_answers(rest, path, line)
    return AgentTask(id=task_id, question=question, answers=answers, metadata=rest)


def _from_synth_task(row: dict[str, Any], path: str | Path, line: int | None) -> AgentTask:
    # Imported here: the synth package is heavy and a rollout of other task files needs none of it.
    from redsearcher.synth._task import Task

    try:
        task = Task.model_validate(row)
    except ValidationError as err:
        raise InputFormatError.from_validation(path, "task record", err, line=line) from err
    metadata: dict[str, Any] = {name: getattr(task, name) for name in _TASK_METADATA}
    metadata["world_hash"] = task.provenance.world_hash
    return AgentTask(id=task.id, question=task.question, answers=task.answers, metadata=metadata)


def _pop_id(row: dict[str, Any], path: str | Path, line: int | None) -> str:
    for key in ("id", "idx"):
        if key in row:
            value = row.pop(key)
            if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
                raise InputFormatError(
                    path, "the id must be a non-empty string or an integer", line=line, field=key
                )
            return str(value)
    raise InputFormatError(path, "missing task id ('id' or 'idx')", line=line, field="id")


def _pop_text(
    row: dict[str, Any], keys: tuple[str, ...], path: str | Path, line: int | None
) -> str:
    for key in keys:
        if key in row:
            value = row.pop(key)
            if not isinstance(value, str) or not value.strip():
                raise InputFormatError(path, "must be a non-empty string", line=line, field=key)
            return value
    names = " or ".join(repr(k) for k in keys)
    raise InputFormatError(path, f"missing {names}", line=line, field=keys[0])


def _pop_answers(row: dict[str, Any], path: str | Path, line: int | None) -> list[str]:
    answers: list[str] = []
    for key in ("answer", "answers", "aliases"):
        if key not in row:
            continue
        value = row.pop(key)
        values = value if isinstance(value, list) else [value]
        if key == "answer" and value is None:
            continue  # an explicit null: no reference answer
        for item in values:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise InputFormatError(
                    path, "answers must be strings (or numbers)", line=line, field=key
                )
            text = str(item)
            if text not in answers:
                answers.append(text)
    return answers


def tasks_digest(tasks: Sequence[AgentTask]) -> str:
    """SHA-256 over the tasks' ids, questions and answers, in order: a task set's identity.

    Hashing the parsed tasks rather than the file's bytes lets a file be reformatted (or
    converted between the accepted shapes) without invalidating a run that used it.
    """
    digest = hashlib.sha256()
    for task in tasks:
        record = [task.id, task.question, task.answers]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()
