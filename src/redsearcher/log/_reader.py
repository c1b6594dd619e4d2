"""The one typed JSONL reader: records with errors that name the file, the line and the field.

Every JSONL file the package reads — run logs, synthesis output, task files of any shape,
scripts' inputs — goes through :func:`iter_records`, so "which file, which line, which field is
wrong" has one answer everywhere, invalid UTF-8 and invalid JSON included. See
:mod:`redsearcher.log._jsonl` for the writing side and why a torn last line is skipped only when
asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from redsearcher._util import surrogate_path
from redsearcher.errors import InputFormatError, UserError

__all__ = ["RecordError", "iter_records"]

M = TypeVar("M", bound=BaseModel)


class RecordError(ValueError):
    """A row adapter's complaint about one record; :func:`iter_records` adds file and line.

    Args:
        message: What is wrong.
        field: The field at fault, if one is.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """``(number, line, complete)`` of each non-blank line (``complete``: it ends in a newline)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            complete = line.endswith(b"\n")
            if line.strip():
                yield number, line, complete


def utf8_text(path: Path, number: int, line: bytes) -> str:
    """Line ``number`` of ``path`` as text, or an error naming them (never a bare decode error)."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputFormatError(
            path, f"not UTF-8 text (invalid byte at column {err.start + 1})", line=number
        ) from err


def _validate(path: Path, number: int, model: type[M], value: str | Any, what: str) -> M:
    try:
        if isinstance(value, str):
            return model.model_validate_json(value)
        return model.model_validate(value)
    except ValidationError as err:
        raise InputFormatError.from_validation(path, what, err, line=number) from err


def parse_line(
    path: Path,
    number: int,
    line: bytes,
    model: type[M],
    what: str,
    adapt: Callable[[Any], Any] | None,
) -> M:
    """One line as a ``model`` record (through ``adapt``, if given); errors name file and line."""
    text = utf8_text(path, number, line)
    if adapt is None:
        return _validate(path, number, model, text, what)
    try:
        row = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFormatError(path, f"not JSON: {err.msg}", line=number) from err
    where = surrogate_path(row)
    if where is not None:  # "\ud800": valid JSON, but no UTF-8 text (a model request would fail)
        raise InputFormatError(
            path,
            "not valid Unicode text (a lone surrogate escape)",
            line=number,
            field=where or None,
        )
    try:
        row = adapt(row)
    except RecordError as err:
        raise InputFormatError(path, err.message, line=number, field=err.field) from err
    return _validate(path, number, model, row, what)


def record_name(model: type[BaseModel], what: str | None) -> str:
    """How errors name a record: ``what``, else ``"{Model} record"``."""
    return what or f"{model.__name__} record"


def iter_records(
    path: str | Path,
    model: type[M],
    *,
    what: str | None = None,
    adapt: Callable[[Any], Any] | None = None,
    unique: str | None = None,
    torn_tail: bool = False,
) -> Iterator[M]:
    """Read a JSONL file as ``model`` records, in file order; blank lines are skipped.

    Args:
        path: The file.
        model: The record type; each line is validated into it.
        what: How errors name a record (``"not a {what}"``); default ``"{Model} record"``.
        adapt: Turns each parsed JSON value into what ``model`` validates (a row from another
            tool's file into ours); it raises :class:`RecordError` to reject a row.
        unique: A field whose value must not repeat (the record id); a repeat is an error
            naming both lines.
        torn_tail: Skip an unterminated last line instead of reading it: for a file that is
            being appended to (a run log), whose last line may be half written.

    Raises:
        UserError: when the file does not exist.
        InputFormatError: for a line that is not UTF-8, not JSON or not a valid record, or a
            repeated ``unique`` value, naming the file, the line and (when known) the field.
    """
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{source}: file not found")
    name = record_name(model, what)
    seen: dict[Any, int] = {}
    for number, line, complete in _lines(source):
        if not complete and torn_tail:
            return  # half written by a live (or killed) writer: never acknowledged
        record = parse_line(source, number, line, model, name, adapt)
        if unique is not None:
            value = getattr(record, unique)
            if value in seen:
                raise InputFormatError(
                    source,
                    f"{unique} {value!r} repeats the one on line {seen[value]}",
                    line=number,
                    field=unique,
                )
            seen[value] = number
        yield record
