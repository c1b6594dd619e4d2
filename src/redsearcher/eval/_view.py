"""What ``redsearcher view`` shows, read from run directories: runs, their rows, one trajectory.

A viewed directory is a run (``run.json`` + ``trajectories.jsonl``) or holds runs below it (a
bench directory's ``rollout/`` and ``tool-free/``). Each run is indexed on first use and again
whenever its trajectories file changes (a rollout still writing shows up live): one pass over
the file keeps each line's byte offset and the few fields the list needs, so opening one
trajectory reads and validates exactly one line — a 200-turn episode of a 10,000-episode run
opens as fast as a 3-turn one of a small run.

Verdicts come from the run's ``verdicts-<judge>.jsonl`` files (one judge at a time). Tasks are
needed for difficulty and evidence: they are found from ``--tasks``, the path ``run.json``
recorded, or the benchmark identity in a ``summary.json`` beside or above the run, and used
only when their digest is the run's (``run.json``'s ``tasks_digest``): evidence documents of
another task set would be highlighted wrongly, which is worse than not at all.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redsearcher.errors import InputFormatError, UserError
from redsearcher.eval._process import ProcessRecord, process_record
from redsearcher.eval._verdict import Verdict
from redsearcher.log import (
    MANIFEST_FILE,
    TRAJECTORIES_FILE,
    RunManifest,
    Task,
    Trajectory,
    read_manifest,
)

__all__ = ["Opened", "RunRow", "RunView", "Runs", "find_runs"]

_VERDICTS = "verdicts-"
_MAX_DEPTH = 4


def find_runs(root: Path) -> dict[str, Path]:
    """Run directories at or below ``root`` (depth ≤ 4), by name relative to ``root``.

    Raises:
        UserError: when ``root`` is not a directory or holds no run.
    """
    if not root.is_dir():
        raise UserError(f"{root}: not a directory")
    found: dict[str, Path] = {}

    def walk(path: Path, depth: int) -> None:
        if (path / MANIFEST_FILE).is_file() and (path / TRAJECTORIES_FILE).is_file():
            found[path.relative_to(root).as_posix() if path != root else "."] = path
            return
        if depth >= _MAX_DEPTH:
            return
        for child in sorted(path.iterdir()):
            if child.is_dir() and not child.name.startswith("."):
                walk(child, depth + 1)

    walk(root, 0)
    if not found:
        raise UserError(
            f"{root}: no run directory here or below (a run has {MANIFEST_FILE} and "
            f"{TRAJECTORIES_FILE})"
        )
    return found


@dataclass(frozen=True)
class RunRow:
    """What the run's list shows of one trajectory."""

    id: str
    task_id: str
    sample: int
    question: str
    prediction: str | None
    termination: str
    turns: int
    tool_calls: int
    outcome: str
    """``correct``, ``incorrect`` or ``unscored``."""
    treewidth: int | None
    msd: int | None


@dataclass
class Opened:
    """One trajectory with what the page shows beside it."""

    trajectory: Trajectory
    verdict: Verdict | None
    task: Task | None
    process: ProcessRecord | None


@dataclass
class RunView:
    """One run, indexed (see the module docstring)."""

    name: str
    path: Path
    manifest: RunManifest
    judges: list[str]
    judge: str | None
    verdicts: dict[str, Verdict]
    tasks: dict[str, Task]
    tasks_note: str
    rows: list[RunRow]
    offsets: dict[str, int]
    line_numbers: dict[str, int]
    stamp: tuple[int, int]

    def open(self, trajectory_id: str) -> Opened:
        """Read one trajectory (one line of the file) with its verdict, task and process.

        Raises:
            KeyError: when the run has no such trajectory.
            InputFormatError: when its line no longer validates.
        """
        offset = self.offsets[trajectory_id]
        path = self.path / TRAJECTORIES_FILE
        line_number = self.line_numbers[trajectory_id]
        with path.open("rb") as handle:
            handle.seek(offset)
            line = handle.readline()
        try:
            trajectory = Trajectory.model_validate_json(line)
        except ValidationError as err:
            raise InputFormatError.from_validation(
                path, "trajectory record", err, line=line_number
            ) from err
        task = self.tasks.get(trajectory.task_id)
        process = process_record(trajectory, task) if task is not None else None
        return Opened(trajectory, self.verdicts.get(trajectory_id), task, process)


def _stamp(path: Path) -> tuple[int, int]:
    stat = (path / TRAJECTORIES_FILE).stat()
    return stat.st_size, stat.st_mtime_ns


def _judges(path: Path) -> list[str]:
    return sorted(p.name[len(_VERDICTS) : -len(".jsonl")] for p in path.glob(f"{_VERDICTS}*.jsonl"))


def _read_verdicts(path: Path) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                break  # torn tail: a judge killed mid-write; resuming re-judges it
            try:
                verdict = Verdict.model_validate_json(line)
            except ValidationError as err:
                raise InputFormatError.from_validation(path, "verdict", err, line=number) from err
            verdicts[verdict.trajectory_id] = verdict
    return verdicts


def _scan(path: Path) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(line number, byte offset, parsed record) of each complete line of the trajectories."""
    file = path / TRAJECTORIES_FILE
    offset = 0
    with file.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                break  # torn tail (see redsearcher.log.read_trajectories)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError("not a JSON object")
            except (ValueError, TypeError) as err:
                raise InputFormatError(file, f"not a trajectory: {err}", line=number) from err
            yield number, start, record


def _outcome(verdict: Verdict | None) -> str:
    if verdict is None or verdict.correct is None:
        return "unscored"
    return "correct" if verdict.correct else "incorrect"


def _row(
    file: Path,
    number: int,
    record: Mapping[str, Any],
    verdicts: Mapping[str, Verdict],
    tasks: Mapping[str, Task],
) -> RunRow:
    try:
        tid, task_id = str(record["id"]), str(record["task_id"])
        task = tasks.get(task_id)
        return RunRow(
            id=tid,
            task_id=task_id,
            sample=int(record.get("sample", 0)),
            question=str(record.get("question", "")),
            prediction=None if record.get("prediction") is None else str(record["prediction"]),
            termination=str(record.get("termination", "")),
            turns=int(record.get("turns", 0)),
            tool_calls=len(record.get("tool_calls") or []),
            outcome=_outcome(verdicts.get(tid)),
            treewidth=None if task is None else task.treewidth,
            msd=None if task is None else task.msd,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InputFormatError(
            file, f"not a trajectory: {type(err).__name__}", line=number, field=str(err)
        ) from err


@dataclass
class Runs:
    """The runs under one directory, each indexed on first use and when its file changes.

    Args:
        root: The directory given to ``redsearcher view``.
        tasks_file: Tasks to use for every run (``--tasks``) instead of finding them.
        judge: The judge whose verdicts to show (default: the only one, else the first by name).
    """

    root: Path
    tasks_file: Path | None = None
    judge: str | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    _views: dict[str, RunView] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.paths = find_runs(self.root)
        if self.tasks_file is not None and not self.tasks_file.is_file():
            raise UserError(f"{self.tasks_file}: tasks file not found")

    def manifests(self) -> dict[str, RunManifest]:
        """Each run's manifest (for the index page)."""
        return {name: read_manifest(path) for name, path in self.paths.items()}

    def get(self, name: str, judge: str | None = None) -> RunView:
        """The run ``name`` indexed (re-indexed when its file changed or another judge is asked).

        Raises:
            KeyError: for a name that is not one of :attr:`paths`.
        """
        path = self.paths[name]
        with self._lock:
            view = self._views.get(name)
            wanted = judge or self.judge
            if (
                view is None
                or view.stamp != _stamp(path)
                or (wanted is not None and wanted != view.judge and wanted in view.judges)
                or view.judges != _judges(path)
            ):
                view = self._index(name, path, wanted)
                self._views[name] = view
            return view

    def _index(self, name: str, path: Path, judge: str | None) -> RunView:
        manifest = read_manifest(path)
        judges = _judges(path)
        chosen = judge if judge in judges else (judges[0] if judges else None)
        verdicts = _read_verdicts(path / f"{_VERDICTS}{chosen}.jsonl") if chosen else {}
        tasks, note = self._tasks(path, manifest)
        stamp = _stamp(path)
        rows: list[RunRow] = []
        offsets: dict[str, int] = {}
        numbers: dict[str, int] = {}
        file = path / TRAJECTORIES_FILE
        for number, offset, record in _scan(path):
            row = _row(file, number, record, verdicts, tasks)
            offsets[row.id], numbers[row.id] = offset, number
            rows.append(row)
        return RunView(
            name,
            path,
            manifest,
            judges,
            chosen,
            verdicts,
            tasks,
            note,
            rows,
            offsets,
            numbers,
            stamp,
        )

    def _tasks(self, path: Path, manifest: RunManifest) -> tuple[dict[str, Task], str]:
        """The run's tasks if found and of the run's digest, and a note saying which."""
        from redsearcher.rollout import load_tasks, tasks_digest

        candidates: list[tuple[str, Any]] = []
        if self.tasks_file is not None:
            candidates.append((str(self.tasks_file), lambda: load_tasks(self.tasks_file)))
        elif manifest.tasks and Path(manifest.tasks).is_file():
            candidates.append((manifest.tasks, lambda: load_tasks(manifest.tasks)))
        else:
            candidates += _bench_tasks(path)
        for source, load in candidates:
            tasks = load()
            if tasks_digest(tasks) != manifest.tasks_digest:
                message = f"{source}: not this run's task set (its digest differs from run.json's)"
                if self.tasks_file is not None:
                    raise UserError(message)
                return {}, message + "; difficulty and evidence are not shown"
            return {t.id: t for t in tasks}, f"tasks: {source}"
        return {}, "tasks not found (pass --tasks FILE for difficulty and evidence)"


def _bench_tasks(path: Path) -> list[tuple[str, Any]]:
    """The task set named by a bench ``summary.json`` beside or above the run, if any."""
    for folder in (path, path.parent):
        summary = folder / "summary.json"
        if not summary.is_file():
            continue
        try:
            identity = json.loads(summary.read_text(encoding="utf-8")).get("identity") or {}
        except (OSError, ValueError):
            continue
        name, file = identity.get("benchmark"), identity.get("file")
        if not isinstance(name, str) or not isinstance(file, str) or not os.path.isfile(file):
            continue

        def load(name: str = name, file: str = file) -> list[Task]:
            from redsearcher.eval._benchmarks import BENCHMARKS, SYNTHETIC_NAME, load_benchmark
            from redsearcher.log import read_tasks

            if name == SYNTHETIC_NAME or name not in BENCHMARKS:
                return list(read_tasks(file))
            return list(load_benchmark(name, Path(file)).tasks)

        return [(file, load)]
    return []
