"""The run log: one directory per rollout run, appended to and resumed without loss or duplicates.

Layout of a run directory::

    RUN/run.json            the run's manifest: what produced it (model, tasks, World, agent config)
    RUN/trajectories.jsonl  one Trajectory per line, append-only
    RUN/.lock               held (flock) while a process writes the run

Why this shape: evaluation, SFT export and RL all read the same typed records, and a rollout of
thousands of episodes must survive ``kill -9`` (or a lost machine) and continue where it
stopped. The trajectories file is a :class:`~redsearcher.log.JsonlFile` with ``run.json`` as its
pinned header and ``.lock`` as its lock: each record is one complete line made durable with
``fsync`` before it counts, a kill can only ever leave a torn *last* line, which
:meth:`RunLog.open` cuts off before appending again, and the set of ids already in the file is
the resume state: nothing else needs to be written or kept consistent with it.

A run's manifest pins what makes its trajectories comparable (model, protocol, task set, World,
samples per task, agent and sampling config). Resuming with a different one is refused with a
:class:`~redsearcher.errors.UserError` naming every difference, because a run that mixes two
configurations silently is worse than no run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import redsearcher
from redsearcher._util import Closing
from redsearcher.errors import InputFormatError, UserError
from redsearcher.log._jsonl import HeaderMismatch, JsonlFile
from redsearcher.log._reader import iter_records
from redsearcher.log._records import Trajectory

__all__ = [
    "MANIFEST_FILE",
    "TRAJECTORIES_FILE",
    "RunLog",
    "RunManifest",
    "read_manifest",
    "read_trajectories",
]

MANIFEST_FILE = "run.json"
TRAJECTORIES_FILE = "trajectories.jsonl"
_LOCK_FILE = ".lock"
_WHAT = "trajectory record"


class RunManifest(BaseModel):
    """What produced a run; written once to ``run.json`` and checked on every resume."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    """Version of this manifest's layout."""
    model: str
    """Model name sent to the servers."""
    protocol: str
    """Tool-call protocol: ``native`` or ``text``."""
    tasks: str = ""
    """Path of the tasks file, as given (informational: the digest is what is compared)."""
    tasks_digest: str
    """SHA-256 over the loaded tasks (ids, questions, answers): the task set's identity."""
    task_count: int = 0
    """How many tasks the run covers."""
    n_samples: int = Field(ge=1)
    """Episodes per task."""
    world_hash: str | None = None
    """Content hash of the World behind the environment (from its ``/health``), if known."""
    agent: dict[str, Any] = Field(default_factory=dict)
    """The agent configuration, as dumped."""
    sampling: dict[str, Any] = Field(default_factory=dict)
    """Sampling parameters sent to the model (temperature, top_p, ...)."""
    tools: list[dict[str, Any]] = Field(default_factory=list)
    """The OpenAI ``tools`` list offered to the model (exports need it for native calls)."""
    endpoints: list[str] = Field(default_factory=list)
    """Inference servers of the first invocation (informational: a resume may use others)."""
    environment: str | None = None
    """Environment base URL of the first invocation (informational)."""
    services: dict[str, Any] | None = None
    """Where the tools' services were in the first invocation: the search, reader and sandbox
    base URLs, fallbacks nested (``ServicesConfig.endpoints``; never keys). Informational, as
    ``environment``: the World hash is what pins the data. ``None`` in runs made before it."""
    created_at: str = ""
    """ISO-8601 UTC time the run was created."""
    redsearcher_version: str = redsearcher.__version__
    """Version that created the run (informational)."""

    #: Fields that must be equal for a resume to append to the run.
    IDENTITY: ClassVar[tuple[str, ...]] = (
        "model",
        "protocol",
        "tasks_digest",
        "n_samples",
        "world_hash",
        "agent",
        "sampling",
        "tools",
    )


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_manifest(run: str | Path) -> RunManifest:
    """Read ``RUN/run.json``.

    Raises:
        UserError: when ``run`` is not a run directory.
        InputFormatError: for a malformed manifest.
    """
    path = Path(run) / MANIFEST_FILE
    if not path.is_file():
        raise UserError(f"{run}: not a run directory (no {MANIFEST_FILE})")
    try:
        return RunManifest.model_validate_json(path.read_bytes())
    except ValidationError as err:
        raise InputFormatError.from_validation(path, "run manifest", err) from err


def read_trajectories(run: str | Path) -> Iterator[Trajectory]:
    """Iterate the trajectories of a run, in the order they were written.

    A torn last line (the process was killed while writing it) is skipped: it was never
    acknowledged, and a resume re-runs that episode.

    Raises:
        UserError: when ``run`` has no trajectories file.
        InputFormatError: for a malformed complete line (file, line number and field).
    """
    path = Path(run) / TRAJECTORIES_FILE
    if not path.is_file():
        raise UserError(f"{run}: not a run directory (no {TRAJECTORIES_FILE})")
    return iter_records(path, Trajectory, what=_WHAT, torn_tail=True)


class RunLog(Closing):
    """An open run: the ids already done, and durable appends of new trajectories.

    Use :meth:`open`; close with :meth:`close` (or ``with``).

    Args:
        path: The run directory.
        manifest: The run's manifest (as recorded).
        file: The open trajectories file (holding the run's lock).
    """

    def __init__(self, path: Path, manifest: RunManifest, file: JsonlFile) -> None:
        self.path = path
        self.manifest = manifest
        self._file = file

    @property
    def done(self) -> set[str]:
        """Ids of the trajectories in the log (durably written)."""
        return self._file.done

    @property
    def fsync(self) -> bool:
        """Whether each append is followed by ``fsync``."""
        return self._file.fsync

    @property
    def repaired(self) -> int:
        """Bytes of a torn last line cut off when opening (0 when none)."""
        return self._file.repaired

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, manifest: RunManifest, *, fsync: bool = True) -> RunLog:
        """Create the run at ``path``, or resume it when it exists with the same identity.

        On resume the trajectories file is scanned: the ids of complete lines form
        :attr:`done`; a torn last line (no newline: the writer was killed mid-write) is cut off.

        Args:
            path: The run directory (created if missing).
            manifest: What this invocation would produce; ``created_at`` is filled if empty.
            fsync: ``fsync`` after every append (off only when losing the last records on a
                power cut is acceptable; a killed process loses nothing either way).

        Raises:
            UserError: if the run exists with a different identity (every difference is named),
                if the directory exists but is not a run, or if another process holds the run.
            InputFormatError: for a malformed complete line in the trajectories file.
        """
        run = Path(path)
        if run.exists() and not run.is_dir():
            raise UserError(f"{run}: exists and is not a directory")
        if run.is_dir() and not (run / MANIFEST_FILE).exists() and any(run.iterdir()):
            raise UserError(f"{run}: directory is not empty and is not a run (no {MANIFEST_FILE})")
        if not manifest.created_at:
            manifest = manifest.model_copy(update={"created_at": _now()})
        try:
            file = JsonlFile.open(
                run / TRAJECTORIES_FILE,
                header=manifest,
                header_path=run / MANIFEST_FILE,
                identity=RunManifest.IDENTITY,
                lock_path=run / _LOCK_FILE,
                model=Trajectory,
                what=_WHAT,
                fsync=fsync,
                hint="use a new --out directory or the run's settings",
            )
        except HeaderMismatch as err:
            raise UserError(
                f"{run}: cannot resume, this run was made with other settings; use a new "
                "--out directory or the run's settings:\n  "
                + "\n  ".join(
                    f"{name}: {_short(old)} (run) != {_short(new)} (now)"
                    for name, old, new in err.differences
                )
            ) from None
        recorded = file.header
        assert isinstance(recorded, RunManifest)
        return cls(run, recorded, file)

    # -- writing ---------------------------------------------------------------------------

    def append(self, trajectory: Trajectory) -> None:
        """Append one trajectory durably (one ``write`` of one full line, then ``fsync``).

        Raises:
            ValueError: if its id is already in the log (a caller bug: resume skips done ids).
            RuntimeError: if the log is closed.
        """
        self.append_many([trajectory])

    def append_many(self, trajectories: Iterable[Trajectory]) -> None:
        """Append several trajectories with one ``write`` and one ``fsync`` (group commit).

        Each record is a complete line, so a torn write can only cut the last one.

        Raises:
            ValueError: if an id is already in the log or repeats in ``trajectories``.
            RuntimeError: if the log is closed.
        """
        if self._file.closed:
            raise RuntimeError("the run log is closed")
        self._file.append_many(trajectories)

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the file and release the run's lock (idempotent)."""
        self._file.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._file.closed

    def trajectories(self) -> Iterator[Trajectory]:
        """Iterate the trajectories written so far (see :func:`read_trajectories`)."""
        return read_trajectories(self.path)
