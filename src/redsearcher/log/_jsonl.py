r"""Resumable append-only JSONL: the one file format of run logs, synthesis output and task files.

Why one primitive: a rollout of thousands of episodes and a synthesis run of thousands of tasks
have the same problem — append records for hours, survive ``kill -9`` or a lost machine, and
continue where they stopped without losing or repeating a record — and every reader of their
files (export, evaluation, the rollout's task loader, scripts) needs the same answer to "which
file, which line, which field is wrong". Two copies of that logic drift; this module is the copy.

Writing (:class:`JsonlFile`):

- One writer at a time: an exclusive ``flock`` is held while the file is open for writing (on a
  named lock file, or on the data file itself), and a second writer gets a
  :class:`~redsearcher.errors.UserError` rather than interleaved lines.
- Each record is one complete line written with ``os.write`` on an ``O_APPEND`` descriptor and
  made durable with ``fsync`` before it counts as done (several records may share one write and
  one ``fsync``: group commit). So a kill can only ever leave a torn *last* line, which
  :meth:`JsonlFile.open` cuts off (and reports) before appending again.
- The ids of the complete lines are the resume state — nothing else has to be kept consistent
  with the file. They are read from each line's head when the record starts with its id (as
  the package's records do), so resuming does not parse megabytes of trajectory per line.
- A pinned header: a sidecar JSON file (the run's manifest, synthesis' ``.meta.json``) written
  atomically (temporary file, rename, directory ``fsync``) when the file is created and
  compared on every resume. A mismatch is refused naming every differing key, because a file
  that silently mixes two configurations is worse than no file.

Reading (:func:`iter_records`): typed records with :class:`~redsearcher.errors.InputFormatError`
naming the file, the line and the field of the first bad one — invalid UTF-8 and invalid JSON
included. A torn last line is skipped only when asked (a run log that is being written);
everywhere else an unterminated last line is read like any other, so a truncated file fails
loudly instead of silently losing its last record.

A record is always writable: text holding lone surrogates (``"\ud800"`` decoded from a model's
JSON; UTF-8 cannot encode it) is written with each replaced by U+FFFD and a warning, rather than
failing the append and with it the rest of a group commit — and, on resume, the same episode
again. (The agent loop already repairs what it keeps and counts it in ``Trajectory.text_repairs``;
this is the last line of defense for records made elsewhere.)
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticSerializationError

from redsearcher._util import Closing, replace_surrogates, write_atomic
from redsearcher.errors import InputFormatError, UserError
from redsearcher.log._reader import parse_line, record_name, utf8_text

__all__ = ["HeaderMismatch", "JsonlFile"]

logger = logging.getLogger(__name__)

Header = BaseModel | Mapping[str, Any]
"""A pinned header: a pydantic model (compared field by field) or a JSON object."""


class HeaderMismatch(UserError):
    """A resume whose header differs from the recorded one.

    Args:
        path: The data file.
        differences: ``(key, recorded, requested)`` for every differing key.
        hint: What the user can do about it.
    """

    def __init__(self, path: Path, differences: list[tuple[str, Any, Any]], hint: str) -> None:
        self.path = path
        self.differences = differences
        keys = ", ".join(key for key, _, _ in differences)
        lines = [
            f"{k}: {_short(old)} (recorded) != {_short(new)} (now)" for k, old, new in differences
        ]
        advice = f"; {hint}" if hint else ""
        super().__init__(
            f"{path}: cannot resume, it was written with a different {keys}{advice}:\n  "
            + "\n  ".join(lines)
        )


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- writing ---------------------------------------------------------------------------------


def _head_pattern(key: str) -> re.Pattern[bytes]:
    """A line's head up to the string value of ``key`` (after an optional ``schema_version``)."""
    name = re.escape(json.dumps(key).encode())
    return re.compile(
        rb'^\{\s*(?:"schema_version"\s*:\s*\d+\s*,\s*)?' + name + rb'\s*:\s*("(?:[^"\\]|\\.)*")'
    )


class JsonlFile(Closing):
    """An open append-only JSONL file: the ids already in it, and durable appends of new ones.

    Use :meth:`open`; close with :meth:`close` (or ``with``).

    Args:
        path: The data file.
        key: The field of a record that identifies it (its id).
        header: The pinned header (as recorded when resuming), if the file has one.
        done: Ids of the records already in the file.
        repaired: Bytes of a torn last line cut off when opening (0 when none).
        fd: Append descriptor of the data file.
        lock_fd: Descriptor holding the lock (the same as ``fd`` when the data file is locked).
        fsync: Whether each append is followed by ``fsync``.
    """

    def __init__(
        self,
        path: Path,
        *,
        key: str,
        header: Header | None,
        done: set[str],
        repaired: int,
        fd: int,
        lock_fd: int,
        fsync: bool,
    ) -> None:
        self.path = path
        self.key = key
        self.header = header
        self.done = done
        self.repaired = repaired
        self.fsync = fsync
        self._fd: int | None = fd
        self._lock_fd: int | None = lock_fd
        self._broken = False

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        header: Header | None = None,
        header_path: str | Path | None = None,
        identity: Sequence[str] | None = None,
        lock_path: str | Path | None = None,
        key: str = "id",
        model: type[BaseModel] | None = None,
        what: str | None = None,
        fsync: bool = True,
        hint: str = "",
    ) -> JsonlFile:
        """Create the file, or resume it: lock, check the header, cut a torn tail, read the ids.

        Args:
            path: The data file (its directory is created if missing).
            header: Pinned on creation and compared on resume; ``None``: no header.
            header_path: Where the header lives; default ``<path>.meta.json``.
            identity: The header keys compared on resume (default: all of them). Others are
                informational: the recorded value is kept.
            lock_path: A file to ``flock``; default the data file itself.
            key: The id field of the records.
            model: The record type, used to name the field at fault when a line's id cannot be
                read from its head.
            what: How errors name a record (default ``"{Model} record"`` or ``"record"``).
            fsync: ``fsync`` after every append (off only when losing the last records on a
                power cut is acceptable; a killed process loses nothing either way).
            hint: Appended to a header mismatch's message: what the user can do.

        Raises:
            UserError: if another process holds the lock, or if the data file holds records
                but its header is missing.
            HeaderMismatch: if the recorded header differs on an ``identity`` key.
            InputFormatError: for a malformed complete line, or a repeated id, naming the file
                and line; for a malformed header file.
        """
        data = Path(path)
        data.parent.mkdir(parents=True, exist_ok=True)
        sidecar = Path(header_path) if header_path else cls.header_path(data)
        lock = Path(lock_path) if lock_path else None
        fd = lock_fd = -1
        existed = data.exists()
        try:
            if lock is not None:
                lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
                _lock(lock_fd, lock, data)
            fd = os.open(data, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if lock is None:
                lock_fd = fd
                _lock(fd, data, data)
            if header is not None:
                header = _pin(data, sidecar, header, identity, hint)
            done, repaired = _scan(data, key, model, what)
            if fsync:
                _fsync_dir(data.parent)
        except BaseException:
            for handle in {fd, lock_fd} - {-1}:
                os.close(handle)
            if not existed and data.exists() and not data.stat().st_size:
                data.unlink()  # leave nothing behind for a refused open
            raise
        return cls(
            data,
            key=key,
            header=header,
            done=done,
            repaired=repaired,
            fd=fd,
            lock_fd=lock_fd,
            fsync=fsync,
        )

    @staticmethod
    def header_path(path: str | Path) -> Path:
        """The default header file of the data file ``path``: ``<path>.meta.json``."""
        data = Path(path)
        return data.with_name(data.name + ".meta.json")

    def append(self, record: BaseModel | Mapping[str, Any]) -> None:
        """Append one record durably (one ``write`` of one full line, then ``fsync``).

        Raises:
            ValueError: if its id is already in the file.
            RuntimeError: if the file is closed, or an earlier append failed mid-write.
        """
        self.append_many([record])

    def append_many(self, records: Iterable[BaseModel | Mapping[str, Any]]) -> None:
        """Append several records with one ``write`` and one ``fsync`` (group commit).

        Their ids join :attr:`done` only once the ``fsync`` returned: what counts as done is
        what survives a power cut. Each record is a complete line, so a torn write can only
        cut the last one.

        Raises:
            ValueError: if an id is already in the file or repeats in ``records``, or a
                record has no string id.
            RuntimeError: if the file is closed, or an earlier append failed mid-write (its
                line may be torn: reopen the file to cut it).
        """
        if self._fd is None:
            raise RuntimeError(f"{self.path} is closed")
        if self._broken:
            raise RuntimeError(f"{self.path}: an earlier append failed; reopen it to repair")
        batch = list(records)
        ids = [replace_surrogates(self._id(record))[0] for record in batch]  # as written
        fresh: set[str] = set()
        for rid in ids:
            if rid in self.done or rid in fresh:
                raise ValueError(f"record {rid!r} is already in {self.path}")
            fresh.add(rid)
        if not batch:
            return
        data = b"".join(_line(record) for record in batch)
        try:
            _write_all(self._fd, data)
            if self.fsync:
                os.fsync(self._fd)
        except BaseException:
            self._broken = True
            raise
        self.done.update(ids)

    def _id(self, record: BaseModel | Mapping[str, Any]) -> str:
        value = (
            getattr(record, self.key, None)
            if isinstance(record, BaseModel)
            else record.get(self.key)
        )
        if not isinstance(value, str):
            raise ValueError(f"a record for {self.path} needs a string {self.key!r}: {value!r}")
        return value

    def close(self) -> None:
        """Close the file and release its lock (idempotent)."""
        for handle in {self._fd, self._lock_fd} - {None}:
            assert handle is not None
            os.close(handle)
        self._fd = self._lock_fd = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._fd is None


def _line(record: BaseModel | Mapping[str, Any]) -> bytes:
    try:
        if isinstance(record, BaseModel):
            text = record.model_dump_json()
        else:
            text = json.dumps(record, ensure_ascii=False)
        return text.encode("utf-8") + b"\n"
    except (UnicodeEncodeError, PydanticSerializationError) as err:
        if not isinstance(err, UnicodeEncodeError) and "surrogates" not in str(err):
            raise
    data = record.model_dump(mode="json") if isinstance(record, BaseModel) else record
    fixed, count = replace_surrogates(data)
    logger.warning("replaced %d lone surrogate(s) with U+FFFD to write a record", count)
    text = json.dumps(fixed, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _lock(fd: int, lock: Path, data: Path) -> None:
    """Take the exclusive lock on ``fd`` or refuse: one writer per file, never interleaved."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise UserError(
            f"{data}: another process is writing it (lock on {lock.name} is held)"
        ) from None


def _pin(
    data: Path,
    sidecar: Path,
    header: Header,
    identity: Sequence[str] | None,
    hint: str,
) -> Header:
    """Compare ``header`` with the recorded one (which is returned), or write it."""
    if sidecar.exists():
        recorded = _read_header(sidecar, header)
        keys = identity if identity is not None else _keys(recorded, header)
        diffs = [d for k in keys for d in _differences(k, _get(recorded, k), _get(header, k))]
        if diffs:
            raise HeaderMismatch(data, diffs, hint)
        return recorded
    if data.stat().st_size:
        raise UserError(f"{data} exists but has no {sidecar.name}; refusing to append to it")
    if isinstance(header, BaseModel):
        text = header.model_dump_json(indent=2) + "\n"
    else:
        text = json.dumps(header, indent=2) + "\n"
    write_atomic(sidecar, text)
    return header


def _read_header(sidecar: Path, like: Header) -> Header:
    raw = sidecar.read_bytes()
    if isinstance(like, BaseModel):
        try:
            return type(like).model_validate_json(raw)
        except ValidationError as err:
            raise InputFormatError.from_validation(sidecar, "header", err) from err
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputFormatError(sidecar, f"not a JSON header: {err}") from err
    if not isinstance(value, dict):
        raise InputFormatError(sidecar, "a header must be a JSON object")
    return value


def _keys(recorded: Header, header: Header) -> list[str]:
    if isinstance(header, BaseModel):
        return list(type(header).model_fields)
    assert isinstance(recorded, Mapping)
    return sorted({*recorded, *header})


_ABSENT: Any = "(absent)"


def _differences(key: str, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """``(key, old, new)`` where they differ, objects key by key (``agent.render_style``).

    So a long config names what changed instead of two truncated dumps.
    """
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            d
            for k in sorted(set(old) | set(new))
            for d in _differences(f"{key}.{k}", old.get(k, _ABSENT), new.get(k, _ABSENT))
        ]
    return [(key, old, new)]


def _get(header: Header, key: str) -> Any:
    return getattr(header, key, None) if isinstance(header, BaseModel) else header.get(key)


def _scan(
    path: Path, key: str, model: type[BaseModel] | None, what: str | None
) -> tuple[set[str], int]:
    """The ids of the complete lines of ``path``; cut a torn last line. ``(ids, bytes cut)``.

    This is the package's one torn-tail cut: everything that appends goes through here first.
    """
    head = _head_pattern(key)
    done: set[str] = set()
    good = 0  # offset just past the last complete line
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break
            good += len(line)
            if not line.strip():
                continue
            rid = _line_id(path, number, line, head, key, model, what)
            if rid in done:
                raise InputFormatError(path, f"duplicate {key} {rid!r}", line=number, field=key)
            done.add(rid)
    size = path.stat().st_size
    if size > good:
        with path.open("r+b") as handle:
            handle.truncate(good)
            handle.flush()
            os.fsync(handle.fileno())
    return done, size - good


def _line_id(
    path: Path,
    number: int,
    line: bytes,
    head: re.Pattern[bytes],
    key: str,
    model: type[BaseModel] | None,
    what: str | None,
) -> str:
    match = head.match(line)
    if match is not None:
        value = json.loads(utf8_text(path, number, match.group(1)))
        assert isinstance(value, str)
        return value
    # No id at the head: parse the whole line, so the error names the field at fault.
    if model is not None:
        record = parse_line(path, number, line, model, record_name(model, what), None)
        value = getattr(record, key, None)
    else:
        try:
            row = json.loads(utf8_text(path, number, line))
        except json.JSONDecodeError as err:
            raise InputFormatError(path, f"not JSON: {err.msg}", line=number) from err
        value = row.get(key) if isinstance(row, dict) else None
    if not isinstance(value, str):
        raise InputFormatError(path, f"a record needs a string {key!r}", line=number, field=key)
    return value


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
