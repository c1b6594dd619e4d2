"""One loader per benchmark: a file users have locally -> :class:`~redsearcher.log.Task` records.

Each loader reads the file in the benchmark's own published layout (the columns below), so a
user points at the file they downloaded and nothing is converted or fetched. Rows become the
package's one task record (the rollout runs them unchanged): an id, the question, the answer
(``None`` where the benchmark hides it, which evaluation then counts as unscored), and every
other column in :attr:`Task.metadata`, with ``benchmark`` and ``row`` added.

Layouts (data rows numbered from 1 in errors):

- ``browsecomp``: CSV ``problem, answer, problem_topic, canary``; ``problem`` and ``answer``
  encrypted with the row's canary (SHA-256 key stream). Ids ``browsecomp-<row>``.
- ``browsecomp-zh``: the ``.xlsx`` (or a CSV/JSONL export of it) with ``Topic, Question, Answer,
  canary``, all three encrypted the same way. Ids ``browsecomp-zh-<row>``.
- ``gaia``: ``metadata.jsonl`` or ``metadata.parquet`` with ``task_id, Question, Level,
  Final answer, file_name`` (``Annotator Metadata`` and others kept); ``Final answer`` ``?``
  (the test split) means no reference answer; a ``file_name`` must exist in the attachments
  directory (default: the metadata file's directory, GAIA's own layout) and its absolute path
  becomes the task's :attr:`Task.attachments` (and ``metadata["file_path"]``, as before): the
  agent finds the file in the Python tool's working directory and the question names it.
- ``hle``: Parquet with ``id, question, image, answer, answer_type, ...``; ``text_only`` skips
  rows with an image.
- ``xbench-deepsearch``: CSV/JSONL with ``id, prompt, answer`` (and ``canary``: when present,
  ``prompt`` and ``answer`` are decrypted with the canary's bytes as the key stream).
- ``frames``: TSV/CSV with the unnamed index column, ``Prompt, Answer, wikipedia_link_*,
  reasoning_types``. Ids ``frames-<index>``.
- ``jsonl``: generic JSONL ``{question, answer}`` (``id`` optional, else ``q<row>``).
- ``synthesized``: our own task files (``redsearcher synth`` output), read strictly through
  :func:`redsearcher.log.read_tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redsearcher.errors import InputFormatError
from redsearcher.eval._benchmarks._crypto import DecryptionError, Scheme, decrypt
from redsearcher.eval._benchmarks._tables import Table, read_table, row_error
from redsearcher.log import Task, read_tasks

__all__ = ["LOADERS", "LoadOptions", "Loaded"]


@dataclass(frozen=True)
class LoadOptions:
    """Per-benchmark switches (each loader reads the ones that apply to it)."""

    text_only: bool = False
    """HLE: skip rows that come with an image."""
    attachments: Path | None = None
    """GAIA: the directory holding the ``file_name`` attachments."""


@dataclass(frozen=True)
class Loaded:
    """What a loader read: the tasks, and how many rows it left out (by reason)."""

    tasks: list[Task]
    skipped: dict[str, int]


def _text(table: Table, row: int, values: dict[str, Any], column: str) -> str:
    """A required non-empty text cell."""
    value = values.get(column)
    if value is None or (isinstance(value, float) and value != value):  # NaN from a sheet
        raise row_error(table.path, row, column, "is empty")
    text = str(value).strip()
    if not text:
        raise row_error(table.path, row, column, "is empty")
    return text


def _decrypted(
    table: Table, row: int, values: dict[str, Any], column: str, key: str, scheme: Scheme
) -> str:
    try:
        return decrypt(_text(table, row, values, column), key, scheme)
    except DecryptionError as err:
        raise row_error(
            table.path, row, column, f"cannot decrypt with the row's canary: {err}"
        ) from err


def _metadata(name: str, row: int, values: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    skip = set(used)
    rest = {k: _plain(v) for k, v in values.items() if k not in skip and k != ""}
    return {"benchmark": name, "row": row, **rest}


def _plain(value: Any) -> Any:
    """A cell as JSON-able data (Parquet may hold bytes, e.g. an image column)."""
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def _task(
    task_id: str,
    question: str,
    answer: str | None,
    metadata: dict[str, Any],
    attachments: list[str] | None = None,
) -> Task:
    return Task(
        id=task_id,
        question=question,
        answer=answer,
        metadata=metadata,
        attachments=attachments or [],
    )


def load_browsecomp(path: Path, options: LoadOptions) -> Loaded:
    """OpenAI's ``browse_comp_test_set.csv``."""
    table = read_table(path, ["csv"])
    table.require("problem", "answer", "canary")
    tasks = []
    for row, values in table.rows:
        key = _text(table, row, values, "canary")
        question = _decrypted(table, row, values, "problem", key, "sha256")
        answer = _decrypted(table, row, values, "answer", key, "sha256")
        meta = _metadata("browsecomp", row, values, ("problem", "answer", "canary"))
        tasks.append(_task(f"browsecomp-{row}", question, answer, meta))
    return Loaded(tasks, {})


def load_browsecomp_zh(path: Path, options: LoadOptions) -> Loaded:
    """BrowseComp-ZH's ``browsecomp-zh-encrypted.xlsx`` (or a CSV/JSONL export of it)."""
    table = read_table(path, ["xlsx", "csv", "jsonl"])
    table.require("Question", "Answer", "canary")
    tasks = []
    for row, values in table.rows:
        key = _text(table, row, values, "canary")
        question = _decrypted(table, row, values, "Question", key, "sha256")
        answer = _decrypted(table, row, values, "Answer", key, "sha256")
        meta = _metadata("browsecomp-zh", row, values, ("Topic", "Question", "Answer", "canary"))
        if values.get("Topic") not in (None, ""):
            meta["topic"] = _decrypted(table, row, values, "Topic", key, "sha256")
        tasks.append(_task(f"browsecomp-zh-{row}", question, answer, meta))
    return Loaded(tasks, {})


def load_gaia(path: Path, options: LoadOptions) -> Loaded:
    """GAIA's ``metadata.jsonl`` / ``metadata.parquet`` with its attachments directory."""
    table = read_table(path, ["jsonl", "parquet"])
    table.require("task_id", "Question", "Final answer")
    folder = options.attachments or path.parent
    tasks = []
    for row, values in table.rows:
        task_id = _text(table, row, values, "task_id")
        question = _text(table, row, values, "Question")
        final = values.get("Final answer")
        answer = None if final is None or str(final).strip() in ("", "?") else str(final)
        meta = _metadata("gaia", row, values, ("task_id", "Question", "Final answer"))
        attachments: list[str] = []
        name = values.get("file_name")
        if isinstance(name, str) and name.strip():
            attachment = folder / name
            if not attachment.is_file():
                raise row_error(
                    table.path,
                    row,
                    "file_name",
                    f"attachment {attachment} not found (give the attachments directory)",
                )
            meta["file_path"] = str(attachment)
            attachments.append(str(attachment.resolve()))
        tasks.append(_task(task_id, question, answer, meta, attachments))
    return Loaded(tasks, {})


def load_hle(path: Path, options: LoadOptions) -> Loaded:
    """Humanity's Last Exam (``test-*.parquet``)."""
    table = read_table(path, ["parquet", "jsonl"])
    table.require("id", "question", "answer")
    tasks = []
    skipped = 0
    for row, values in table.rows:
        image = values.get("image")
        has_image = bool(image)
        if options.text_only and has_image:
            skipped += 1
            continue
        meta = _metadata("hle", row, values, ("id", "question", "answer", "image"))
        meta["has_image"] = has_image
        question = _text(table, row, values, "question")
        answer = _text(table, row, values, "answer")
        tasks.append(_task(_text(table, row, values, "id"), question, answer, meta))
    return Loaded(tasks, {"image (--text-only)": skipped} if skipped else {})


def load_xbench(path: Path, options: LoadOptions) -> Loaded:
    """xbench-DeepSearch's ``DeepSearch.csv`` (encrypted with a ``canary`` column) or JSONL."""
    table = read_table(path, ["csv", "jsonl"])
    table.require("prompt", "answer")
    encrypted = "canary" in table.columns
    tasks = []
    for row, values in table.rows:
        if encrypted:
            key = _text(table, row, values, "canary")
            question = _decrypted(table, row, values, "prompt", key, "raw")
            answer = _decrypted(table, row, values, "answer", key, "raw")
        else:
            question = _text(table, row, values, "prompt")
            answer = _text(table, row, values, "answer")
        raw_id = values.get("id")
        task_id = f"xbench-{raw_id}" if raw_id not in (None, "") else f"xbench-{row}"
        meta = _metadata("xbench-deepsearch", row, values, ("id", "prompt", "answer", "canary"))
        tasks.append(_task(task_id, question, answer, meta))
    return Loaded(tasks, {})


def load_frames(path: Path, options: LoadOptions) -> Loaded:
    """Google's Frames ``test.tsv`` (or a CSV of the same columns)."""
    table = read_table(path, ["tsv", "csv"])
    table.require("Prompt", "Answer")
    index_column = next((c for c in ("", "Unnamed: 0") if c in table.columns), None)
    tasks = []
    for row, values in table.rows:
        index = values.get(index_column) if index_column is not None else None
        task_id = f"frames-{index}" if index not in (None, "") else f"frames-row{row}"
        meta = _metadata("frames", row, values, ("Prompt", "Answer", "Unnamed: 0"))
        links = [v for k, v in values.items() if k.startswith("wikipedia_link") and str(v).strip()]
        meta["wikipedia_links"] = links
        question = _text(table, row, values, "Prompt")
        answer = _text(table, row, values, "Answer")
        tasks.append(_task(task_id, question, answer, meta))
    return Loaded(tasks, {})


def load_jsonl(path: Path, options: LoadOptions) -> Loaded:
    """A generic JSONL file of ``{question, answer}`` rows (``id`` optional)."""
    table = read_table(path, ["jsonl"])
    table.require("question", "answer")
    tasks = []
    seen: set[str] = set()
    for row, values in table.rows:
        if "answer" not in values:
            raise row_error(table.path, row, "answer", "missing")
        raw_id = values.get("id")
        task_id = str(raw_id) if raw_id not in (None, "") else f"q{row}"
        if task_id in seen:
            raise row_error(table.path, row, "id", f"repeats id {task_id!r}")
        seen.add(task_id)
        answer = values.get("answer")
        meta = _metadata("jsonl", row, values, ("id", "question", "answer"))
        question = _text(table, row, values, "question")
        text = None if answer is None else str(answer)
        tasks.append(_task(task_id, question, text, meta))
    return Loaded(tasks, {})


def load_synthesized(path: Path, options: LoadOptions) -> Loaded:
    """Our own task files, kept whole (graph, treewidth, MSD, evidence, required tools)."""
    tasks = read_tasks(path)
    if not tasks:
        raise InputFormatError(path, "no tasks in file")
    return Loaded(tasks, {})


#: Loader of each benchmark name.
LOADERS: dict[str, Callable[[Path, LoadOptions], Loaded]] = {
    "browsecomp": load_browsecomp,
    "browsecomp-zh": load_browsecomp_zh,
    "gaia": load_gaia,
    "hle": load_hle,
    "xbench-deepsearch": load_xbench,
    "frames": load_frames,
    "jsonl": load_jsonl,
    "synthesized": load_synthesized,
}
