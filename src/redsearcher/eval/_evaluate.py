"""Judging a rollout run: ``RUN/verdicts-<judge>.jsonl``, resumable, never re-running the agent.

The run's trajectories are read from its log and judged; each verdict is appended (group
commit) to a :class:`~redsearcher.log.JsonlFile` keyed by ``trajectory_id``, so

- re-running skips the trajectories already judged (a killed evaluation loses at most the batch
  in flight), and scoring with another judge writes another file beside it — the agent's
  trajectories are only read;
- the file's pinned header is the judge's identity (name, ``judge_version``, model) and the
  run's (its task set's digest and creation time): resuming with another judge version or
  model, or after the run directory was made anew, is refused naming the difference, because
  a file that mixes two judges is worse than none. One exception: a file written without a
  judge model (whose verdicts therefore never consulted one) adopts the model now given, so
  ``gaia``'s unscored fallbacks can be retried with a model;
- ``retry_unscored`` re-judges exactly the unscored verdicts: the file is rewritten atomically
  without them (they are appended to ``verdicts-<judge>.retried.jsonl``, so the audit trail of
  failed attempts stays) and they are judged again.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redsearcher._util import write_atomic
from redsearcher.errors import InputFormatError, UserError
from redsearcher.eval._judges import Judge
from redsearcher.eval._verdict import Verdict
from redsearcher.log import (
    TRAJECTORIES_FILE,
    HeaderMismatch,
    JsonlFile,
    Trajectory,
    iter_records,
    read_manifest,
)

__all__ = ["JudgeRun", "judge_run", "read_verdicts", "verdicts_path"]

_OUTCOMES = ("correct", "incorrect", "unscored")
_IDENTITY = ("judge", "judge_version", "model", "tasks_digest", "run_created_at")


def verdicts_path(run: str | Path, judge: str) -> Path:
    """``RUN/verdicts-<judge>.jsonl``."""
    return Path(run) / f"verdicts-{judge}.jsonl"


def read_verdicts(path: str | Path) -> dict[str, Verdict]:
    """The verdicts of a file by trajectory id (a torn last line skipped).

    Raises:
        UserError: when the file does not exist.
        InputFormatError: for a malformed line (file, line, field) or a repeated id.
    """
    records = iter_records(path, Verdict, what="verdict", unique="trajectory_id", torn_tail=True)
    return {verdict.trajectory_id: verdict for verdict in records}


@dataclass
class JudgeRun:
    """What one :func:`judge_run` did."""

    judge: str
    judge_version: str
    model: str | None
    path: Path
    trajectories: int = 0
    """Trajectories in the run."""
    already: int = 0
    """Already judged in the file, skipped."""
    retried: int = 0
    """Unscored verdicts taken out of the file to be judged again."""
    judged: int = 0
    """Judged now."""
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_OUTCOMES, 0))
    """``correct`` / ``incorrect`` / ``unscored`` among the verdicts made now."""


def _outcome(verdict: Verdict) -> str:
    if verdict.correct is None:
        return "unscored"
    return "correct" if verdict.correct else "incorrect"


def _header(judge: Judge, run: Path) -> dict[str, Any]:
    manifest = read_manifest(run)
    return {
        "judge": judge.name,
        "judge_version": judge.version,
        "model": judge.model_name,
        "tasks_digest": manifest.tasks_digest,
        "run_created_at": manifest.created_at,
    }


def _open(path: Path, header: dict[str, Any], *, fsync: bool) -> JsonlFile:
    """Open the verdicts file; a model-less file adopts the model given now (module doc)."""
    sidecar = JsonlFile.header_path(path)
    recorded: Any = None
    if sidecar.is_file():
        try:
            recorded = json.loads(sidecar.read_bytes())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputFormatError(sidecar, f"not a JSON header: {err}") from err
    adopt = isinstance(recorded, dict) and recorded.get("model") is None and header["model"]
    opened = {**header, "model": None} if adopt else header
    try:
        file = JsonlFile.open(
            path,
            header=opened,
            identity=_IDENTITY,
            key="trajectory_id",
            model=Verdict,
            what="verdict",
            hint="use another --judge, or move the verdicts file away to judge afresh",
            fsync=fsync,
        )
    except HeaderMismatch as err:
        keys = {key for key, _, _ in err.differences}
        if keys & {"tasks_digest", "run_created_at"}:
            lines = "\n  ".join(
                f"{key}: {old!r} (verdicts) != {new!r} (run)" for key, old, new in err.differences
            )
            raise UserError(
                f"{path} was written for another run (another task set, or a run directory "
                f"made anew): {', '.join(sorted(keys))} do not match {path.parent}/run.json; "
                f"move it away to judge this run:\n  {lines}"
            ) from None
        raise
    if adopt:
        write_atomic(sidecar, json.dumps({**recorded, **header}, indent=2) + "\n")
        file.header = {**recorded, **header}
    return file


def _take_out_unscored(path: Path) -> int:
    """Rewrite ``path`` without its unscored verdicts (kept in ``.retried.jsonl``); how many."""
    kept: list[bytes] = []
    retried: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            (retried if json.loads(line).get("correct") is None else kept).append(line)
    if retried:
        history = path.with_name(path.name.removesuffix(".jsonl") + ".retried.jsonl")
        with history.open("ab") as handle:
            handle.write(b"".join(retried))
            handle.flush()
            os.fsync(handle.fileno())
        write_atomic(path, b"".join(kept).decode("utf-8"))
    return len(retried)


# A trajectory line's head up to its id (the run log writes ``schema_version`` then ``id``).
_HEAD = re.compile(rb'^\{\s*(?:"schema_version"\s*:\s*\d+\s*,\s*)?"id"\s*:\s*("(?:[^"\\]|\\.)*")')


def _trajectories(run: Path, done: set[str]) -> Iterator[tuple[str, Trajectory | None]]:
    """``(id, trajectory)`` per complete line of the run log; ``None`` for ids in ``done``.

    A line whose id is already judged is not parsed at all: a resume of a large run reads
    its ids, not its megabytes of trajectories. A torn last line is skipped (never
    acknowledged), as :func:`~redsearcher.log.read_trajectories` does.

    Raises:
        UserError: no trajectories file.
        InputFormatError: a malformed line, naming the file, the line and the field.
    """
    path = run / TRAJECTORIES_FILE
    if not path.is_file():
        raise UserError(f"{run}: not a run directory (no {TRAJECTORIES_FILE})")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                return
            if not line.strip():
                continue
            head = _HEAD.match(line)
            if head is not None:
                trajectory_id = json.loads(head.group(1))
                if trajectory_id in done:
                    yield trajectory_id, None
                    continue
            try:
                trajectory = Trajectory.model_validate_json(line)
            except ValidationError as err:
                raise InputFormatError.from_validation(
                    path, "trajectory record", err, line=number
                ) from None
            yield trajectory.id, None if trajectory.id in done else trajectory


def _batches(items: Iterable[Trajectory], size: int) -> Iterator[list[Trajectory]]:
    batch: list[Trajectory] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def judge_run(
    run: str | Path,
    judge: Judge,
    *,
    retry_unscored: bool = False,
    tasks_digest: str | None = None,
    concurrency: int = 16,
    batch_size: int | None = None,
    fsync: bool = True,
    progress: Callable[[JudgeRun], None] | None = None,
    trajectories: Iterable[Trajectory] | None = None,
) -> JudgeRun:
    """Judge every trajectory of ``run`` not yet in ``RUN/verdicts-<judge>.jsonl``.

    Args:
        run: The run directory (``redsearcher rollout --out``).
        judge: The judge (see :func:`~redsearcher.eval.make_judge`).
        retry_unscored: Judge the unscored verdicts of the file again (module docstring).
        tasks_digest: The digest of the task set the run must have been made on (a benchmark
            file's); a run made on another set is refused.
        concurrency: Judgements in flight at once (LLM judges).
        batch_size: Verdicts per group commit; a kill loses at most one batch of work. Default
            2048 for rule judges; ``2 × concurrency`` (at least 16) for judges with a model,
            whose calls cost money and minutes.
        fsync: ``fsync`` every commit.
        progress: Called with the running stats after every commit.
        trajectories: The run's trajectories, already read (``evaluate`` reads them once for
            the judges and the summary); by default the log is read here, parsing only the
            lines not yet judged.

    Raises:
        UserError: not a run directory; a run from another task set; a verdicts file made by
            another judge version or model, or for another run (every difference named);
            another process writing the same file.
        ConfigError: the judge model rejected the API key (verdicts so far are kept).
    """
    directory = Path(run)
    manifest = read_manifest(directory)
    if tasks_digest is not None and manifest.tasks_digest != tasks_digest:
        raise UserError(
            f"{directory}: the run was made on another task set (its tasks_digest "
            f"{manifest.tasks_digest[:12]}… from {manifest.tasks or '?'}; expected "
            f"{tasks_digest[:12]}…)"
        )
    path = verdicts_path(directory, judge.name)
    stats = JudgeRun(judge.name, judge.version, judge.model_name, path)
    file = _open(path, _header(judge, directory), fsync=fsync)
    try:
        if retry_unscored:
            stats.retried = _take_out_unscored(path)
            if stats.retried:
                header = file.header
                file.close()
                file = JsonlFile.open(
                    path,
                    header=header,
                    identity=_IDENTITY,
                    key="trajectory_id",
                    model=Verdict,
                    what="verdict",
                    fsync=fsync,
                )
        done = set(file.done)
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(trajectory: Trajectory) -> Verdict:
            async with limit:
                return await judge.judge(trajectory)

        source = (
            _trajectories(directory, done)
            if trajectories is None
            else ((t.id, None if t.id in done else t) for t in trajectories)
        )

        def pending() -> Iterator[Trajectory]:
            for trajectory_id, trajectory in source:
                stats.trajectories += 1
                if trajectory is None:
                    stats.already += 1
                    continue
                done.add(trajectory_id)  # a duplicate line in the run is judged once
                yield trajectory

        # Rule judges (no model) make no reference cycles: automatic collection is paused.
        paused = gc_paused() if judge.model_name is None else nullcontext()
        with paused:
            size = batch_size or (2048 if judge.model_name is None else max(16, 2 * concurrency))
            for batch in _batches(pending(), size):
                if judge.model_name is None:  # nothing to wait for: no task per trajectory
                    verdicts = [await judge.judge(t) for t in batch]
                else:
                    verdicts = list(await asyncio.gather(*(one(t) for t in batch)))
                file.append_many(verdicts)
                stats.judged += len(verdicts)
                for verdict in verdicts:
                    stats.outcomes[_outcome(verdict)] += 1
                if progress is not None:
                    progress(stats)
    finally:
        file.close()
    return stats


@contextmanager
def gc_paused() -> Iterator[None]:
    """CPython's automatic garbage collection off for the block (restored after it).

    Validating thousands of large trajectory records allocates millions of objects, and the
    automatic collector answers with collections that walk the live objects again and again:
    measured on 3,000 trajectories of 13 KiB, judging took 0.81 s of CPU with it, 0.55 s
    without; reading them into one list for the summary, 1.6 s instead of 0.2 s. Used where
    the objects made are acyclic records freed by reference counting: reading the log,
    summarizing, rule judging. Not around an LLM judge's calls: failed calls leave
    exception/traceback cycles, and they wait on the network anyway.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What the block made and still holds would all sit in the youngest generation, and
        # the first collection after re-enabling would walk it (0.17 s per 3,000 trajectories
        # kept): move it out of the collector's way. Reference counting still frees it.
        gc.freeze()
        if enabled:
            gc.enable()
