"""The ingest report (counts, skips by reason, first problems) and the progress display.

Real dumps always hold some records that do not parse; failing on them would make ingest
useless, silently dropping them would make it untrustworthy. So every skipped record or value
is counted under a reason, and the first problems are kept with file and line, in the report
that lands in the World's manifest. A problem is something wrong with the input (bad JSON, a
missing field, an unparsable value); skips that are normal in real data (``somevalue`` snaks,
duplicate titles) are only counted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.table import Table
from rich.text import Text


class IngestReport:
    """Counters and problems of one ingest run.

    Args:
        max_problems: How many problems to keep with file and line (all are counted).
    """

    def __init__(self, max_problems: int = 100) -> None:
        self.max_problems = max_problems
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.problems: list[dict[str, Any]] = []
        self.problems_total = 0
        self.dangling = 0
        self.unjoined = 0
        self.predicates: dict[str, list[str]] = {}
        """Wikidata property id -> the predicate(s) its claims became (ids stay on record)."""

    def count(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key``."""
        self.counts[key] += n

    def skip(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        detail: str | None = None,
        n: int = 1,
    ) -> None:
        """Count a skipped record or value; with ``file`` it is also a reported problem."""
        self.skipped[reason] += n
        if file is None:
            return
        self.problems_total += 1
        if len(self.problems) < self.max_problems:
            problem: dict[str, Any] = {"file": str(file), "line": line, "reason": reason}
            if detail:
                problem["detail"] = detail[:300]
            self.problems.append(problem)

    def to_dict(self) -> dict[str, Any]:
        """The report as stored in ``manifest.json``."""
        extra = {"predicates": dict(self.predicates)} if self.predicates else {}
        return {
            **extra,
            "counts": dict(sorted(self.counts.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "dangling": self.dangling,
            "unjoined": self.unjoined,
            "problems": list(self.problems),
            "problems_total": self.problems_total,
        }


def summary_table(report: dict[str, Any], counts: dict[str, int] | None = None) -> Table:
    """A rich table summarizing an ingest report (and the World's table counts)."""
    table = Table(title="ingest summary", show_header=True, header_style="bold")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in (counts or {}).items():
        table.add_row(f"table {name}", f"{value:,}")
    for name, value in report.get("counts", {}).items():
        table.add_row(name, f"{value:,}")
    table.add_row("dangling relations dropped", f"{report.get('dangling', 0):,}")
    table.add_row("documents not joined to an entity", f"{report.get('unjoined', 0):,}")
    for reason, value in report.get("skipped", {}).items():
        table.add_row(f"skipped: {reason}", f"{value:,}")
    table.add_row("problems (see manifest report)", f"{report.get('problems_total', 0):,}")
    return table


class _RateColumn(ProgressColumn):
    """Records per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} records/s", style="progress.data.speed")


class ProgressDisplay:
    """A ``rich.progress`` display of records read per source, or nothing when disabled.

    Args:
        enabled: Show the display (on stderr).
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._progress: Progress | None = None

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,.0f} records"),
                _RateColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def task(self, description: str) -> Tracker:
        """Start counting records for one input."""
        return Tracker(self._progress, description)


class Tracker:
    """Advances one progress task; batches updates so the display costs nothing per record."""

    _EVERY = 1000

    def __init__(self, progress: Progress | None, description: str) -> None:
        self._progress = progress
        self._task = progress.add_task(description, total=None) if progress else None
        self._pending = 0
        self._completed = 0

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more records."""
        if self._progress is None or self._task is None:
            return
        self._pending += n
        self._completed += n
        if self._pending >= self._EVERY:
            self._progress.advance(self._task, self._pending)
            self._pending = 0

    def done(self) -> None:
        """Flush the count and mark the task finished."""
        if self._progress is None or self._task is None:
            return
        self._progress.advance(self._task, self._pending)
        self._pending = 0
        self._progress.update(self._task, total=self._completed)
        self._progress.stop_task(self._task)
