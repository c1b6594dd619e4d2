"""Checkpoints of a Wikidata ingest, so that an interrupted one continues where it stopped.

Streaming a full dump takes hours; a crash, a reboot or a killed job should not cost them all.
With ``IngestConfig.resume`` the scratch store lives in a fixed directory
(``.<out>.ingest-resume``) and, after every chunk, one SQLite transaction commits the chunk's
rows (copied from its run file, ``P279`` edges included) together with everything else the
writer holds in memory: where the stream stands (file, decompressed byte offset, line), the
report so far, the property entities seen and the deferred properties (so a checkpoint costs
the chunk's rows, never the whole history). Run files left by a killed run are deleted when it
resumes: a worker rewrites the run of every chunk after the checkpoint. A restarted ingest
with the same inputs and settings loads the last checkpoint, skips what was committed (a seek
for a plain file; a gzip/bz2 stream is decompressed up to the offset, which is several times
faster than parsing it) and goes on. Since the writer applies chunks in order and nothing it
does depends on where a run started, the World is byte-identical to an uninterrupted run's.

The database uses a rollback journal (``journal_mode=DELETE``), so a process killed in the
middle of a chunk leaves the last commit intact (``synchronous=OFF`` still trusts the OS to
write its buffers: resume survives a killed process, not a power cut). Once the stream has
ended, the rest of the ingest (naming properties, numbering facts, Wikipedia, KB pages) runs
in one transaction that is never committed: a run killed there resumes from the end of the
stream.

Inputs are fingerprinted (resolved path, size, modification time) with the settings that
decide the content and the layout of the scratch tables; a checkpoint of other inputs, or one
left by a version that laid out its tables otherwise, is refused, never silently continued.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redsearcher.errors import UserError
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._properties import PropertyInfo
from redsearcher.world.ingest._report import IngestReport

#: Test hook: SIGKILL this process right after committing this many chunks.
KILL_AFTER_ENV = "REDSEARCHER_INGEST_KILL_AFTER_CHUNK"

LAYOUT = 2
"""The scratch tables' layout: a state left by an ingest of another layout is refused."""

_DDL = """
CREATE TABLE IF NOT EXISTS ingest_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""


def state_dir(parent: Path, name: str) -> Path:
    """The fixed scratch directory of a resumable ingest of the World ``name``."""
    return parent / f".{name}.ingest-resume"


@dataclass(slots=True)
class Position:
    """Where the stream stands: file index, decompressed byte offset and lines before it.

    ``good``/``bad`` count the current file's JSON and non-JSON lines (a file with bad lines
    and no good one is not a dump at all); ``streamed`` is set once every file is read.
    """

    file: int = 0
    offset: int = 0
    line: int = 0
    good: int = 0
    bad: int = 0
    first_bad: int | None = None
    streamed: bool = False

    def next_file(self) -> None:
        """Move to the start of the next file."""
        self.file, self.offset, self.line, self.good, self.bad = self.file + 1, 0, 0, 0, 0
        self.first_bad = None


@dataclass(slots=True)
class Saved:
    """A loaded checkpoint."""

    position: Position
    report: dict[str, Any]
    from_dump: dict[str, PropertyInfo]
    deferred: set[str]
    keep_classes: list[str] | None


def fingerprint(paths: list[Path], config: IngestConfig) -> str:
    """The inputs, content settings and scratch layout of an ingest, as a JSON string."""
    inputs = []
    for path in paths:
        stat = path.stat()
        inputs.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    state = {"inputs": inputs, "config": config.source_dict(), "layout": LAYOUT}
    return json.dumps(state, sort_keys=True)


def _report_state(report: IngestReport) -> dict[str, Any]:
    return {
        "counts": dict(report.counts),
        "skipped": dict(report.skipped),
        "problems": report.problems,
        "problems_total": report.problems_total,
        "dangling": report.dangling,
        "unjoined": report.unjoined,
    }


def restore_report(report: IngestReport, state: dict[str, Any]) -> None:
    """Put a checkpointed report back into ``report``."""
    report.counts = Counter(state["counts"])
    report.skipped = Counter(state["skipped"])
    report.problems = list(state["problems"])
    report.problems_total = int(state["problems_total"])
    report.dangling = int(state["dangling"])
    report.unjoined = int(state["unjoined"])


class Checkpoints:
    """Save and load checkpoints in the scratch database (a no-op when not ``enabled``).

    Args:
        db: The scratch connection.
        enabled: Whether this ingest is resumable.
        print_: The fingerprint of this run's inputs and settings.
    """

    def __init__(self, db: sqlite3.Connection, enabled: bool, print_: str) -> None:
        self.db = db
        self.enabled = enabled
        self.print_ = print_
        self.committed = 0
        kill = os.environ.get(KILL_AFTER_ENV, "")
        self._kill_after = int(kill) if kill.isdigit() else None
        if enabled:
            db.executescript(_DDL)

    def _get(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM ingest_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def _put(self, values: dict[str, Any]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO ingest_state VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    def load(self, where: Path) -> Saved | None:
        """The last checkpoint, or None for a fresh start.

        Raises:
            UserError: when the checkpoint belongs to other inputs or settings.
        """
        if not self.enabled:
            return None
        saved_print = self._get("fingerprint")
        if saved_print is None:
            self._put({"fingerprint": self.print_})
            self.db.commit()
            return None
        if saved_print != self.print_:
            raise UserError(
                f"{where} holds an interrupted ingest of other inputs or settings; "
                "delete it to start afresh, or run with the same inputs and settings"
            )
        position = self._get("position")
        if position is None:
            return None
        from_dump = {k: PropertyInfo(*v) for k, v in self._get("from_dump").items()}
        return Saved(
            Position(**position),
            self._get("report"),
            from_dump,
            set(self._get("deferred")),
            self._get("keep_classes"),
        )

    def save_classes(self, classes: frozenset[str] | None) -> None:
        """Keep the ``keep_class`` closure of the class pass (not redone on resume)."""
        if self.enabled:
            self._put({"keep_classes": None if classes is None else sorted(classes)})
            self.db.commit()

    def commit(
        self,
        position: Position,
        report: IngestReport,
        from_dump: dict[str, PropertyInfo],
        deferred: set[str],
    ) -> None:
        """Commit the rows written so far with the writer's state."""
        if not self.enabled:
            return
        self._put(
            {
                "position": asdict(position),
                "report": _report_state(report),
                "from_dump": {k: list(asdict(v).values()) for k, v in from_dump.items()},
                "deferred": sorted(deferred),
            }
        )
        self.db.commit()
        self.committed += 1
        if self._kill_after is not None and self.committed >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    def hold(self) -> None:
        """Open the transaction that holds everything after the stream (never committed)."""
        if self.enabled:
            self.db.execute("BEGIN")
