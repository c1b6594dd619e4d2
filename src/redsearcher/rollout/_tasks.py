"""Task files for rollouts: our synthesized tasks, and the question files peers already use.

A rollout needs an id, a question and (to score) the accepted answers. Every accepted row shape
becomes the one task record, :class:`~redsearcher.log.Task`, read from JSONL (one object per
line) by :func:`~redsearcher.log.iter_records`, so errors name the file, line and field:

- task records (``redsearcher synth`` output, or any row with ``schema_version``,
  ``answer_entity`` or ``nodes``), validated strictly and kept whole;
- ``{id, question, answer?, aliases?}`` rows;
- DeepTraceHub input rows ``{idx, problem, answer}``;
- ``{id, question, answers: [...]}`` rows.

The last three are converted: ``idx`` → ``id``, ``problem`` → ``question``, the answers (``answer``
then ``answers`` then ``aliases``, repeats dropped) → ``answer`` + ``aliases``, and every other
field into :attr:`Task.metadata`. The agent only ever reads a task's question, so a synthesized
task's reasoning graph travels with it but is never shown, and the run log copies only the id,
question and answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import RecordError, Task, iter_records

__all__ = ["load_tasks", "parse_task_row", "tasks_digest"]

# A row holding any of these is a task record (ours), validated as one; others are converted.
_RECORD_KEYS = ("schema_version", "answer_entity", "nodes")


def load_tasks(path: str | Path) -> list[Task]:
    """Read a tasks JSONL file into :class:`~redsearcher.log.Task` records, in file order.

    Raises:
        UserError: when the file does not exist or holds no tasks.
        InputFormatError: for invalid UTF-8 or JSON, a missing or mistyped field, or a repeated
            id, naming the file, line and field.
    """
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{source}: tasks file not found")
    tasks = list(iter_records(source, Task, what="task record", adapt=_task_row, unique="id"))
    if not tasks:
        raise UserError(f"{source}: no tasks in file")
    return tasks


def parse_task_row(row: Any, path: str | Path = "<tasks>", line: int | None = None) -> Task:
    """Turn one parsed row (any of the module's shapes) into a :class:`~redsearcher.log.Task`.

    Raises:
        InputFormatError: naming ``path``, ``line`` and the field at fault.
    """
    try:
        converted = _task_row(row)
    except RecordError as err:
        raise InputFormatError(path, err.message, line=line, field=err.field) from err
    try:
        return Task.model_validate(converted)
    except ValidationError as err:
        raise InputFormatError.from_validation(path, "task record", err, line=line) from err


def _task_row(row: Any) -> dict[str, Any]:
    """One parsed row as the fields of a :class:`~redsearcher.log.Task` (see the module doc).

    Raises:
        RecordError: naming the field at fault.
    """
    if not isinstance(row, dict):
        raise RecordError("a task row must be a JSON object")
    if any(key in row for key in _RECORD_KEYS):
        return row
    rest = dict(row)
    task_id = _pop_id(rest)
    question = _pop_text(rest, ("question", "problem"))
    answers = _pop_answers(rest)
    fields: dict[str, Any] = {"id": task_id, "question": question, "metadata": rest}
    if answers:
        fields.update(answer=answers[0], aliases=answers[1:])
    return fields


def _pop_id(row: dict[str, Any]) -> str:
    for key in ("id", "idx"):
        if key in row:
            value = row.pop(key)
            if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
                raise RecordError("the id must be a non-empty string or an integer", field=key)
            return str(value)
    raise RecordError("missing task id ('id' or 'idx')", field="id")


def _pop_text(row: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        if key in row:
            value = row.pop(key)
            if not isinstance(value, str) or not value.strip():
                raise RecordError("must be a non-empty string", field=key)
            return value
    names = " or ".join(repr(k) for k in keys)
    raise RecordError(f"missing {names}", field=keys[0])


def _pop_answers(row: dict[str, Any]) -> list[str]:
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
                raise RecordError("answers must be strings (or numbers)", field=key)
            text = str(item)
            if text not in answers:
                answers.append(text)
    return answers


def tasks_digest(tasks: Sequence[Task]) -> str:
    """SHA-256 over the tasks' ids, questions and answers, in order: a task set's identity.

    Hashing the parsed tasks rather than the file's bytes lets a file be reformatted (or
    converted between the accepted shapes) without invalidating a run that used it.
    """
    digest = hashlib.sha256()
    for task in tasks:
        record = [task.id, task.question, task.answers]
        digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()
