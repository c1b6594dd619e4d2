"""What a rollout shows while it runs: running counters and a live progress line.

The runner updates one :class:`RolloutStats` per finished episode and hands it to a display;
the display only reads it. :class:`RichDisplay` draws a progress bar with the numbers that tell
whether a long run is healthy (done, accuracy so far, tool calls per episode, errors, endpoints
out), refreshed by rich's own thread a few times a second, so an update costs a counter bump.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from redsearcher.log import Trajectory

__all__ = ["NoDisplay", "RichDisplay", "RolloutDisplay", "RolloutStats"]


@dataclass
class RolloutStats:
    """Counters of one rollout invocation."""

    planned: int = 0
    """Episodes the run covers (tasks x samples)."""
    skipped: int = 0
    """Episodes already in the run log (resume)."""
    completed: int = 0
    """Episodes finished and written by this invocation."""
    unavailable: int = 0
    """Episodes abandoned because no model endpoint answered (not written: a resume retries)."""
    errors: int = 0
    """Written episodes that ended with termination ``error``."""
    scored: int = 0
    """Written episodes with a score."""
    correct: int = 0
    """Written episodes scored 1.0."""
    tool_calls: int = 0
    """Tool calls of the written episodes."""
    failed_tool_calls: int = 0
    """Of those, tool calls that came back as tool errors."""
    model_calls: int = 0
    """Model requests of the written episodes."""
    prompt_tokens: int = 0
    """Prompt tokens of the written episodes."""
    completion_tokens: int = 0
    """Completion tokens of the written episodes."""
    terminations: Counter[str] = field(default_factory=Counter)
    """How the written episodes ended."""
    endpoints_down: int = 0
    """Endpoints out of the pool at the last update."""

    def add(self, trajectory: Trajectory) -> None:
        """Count one finished (and about to be written) trajectory."""
        self.completed += 1
        self.terminations[trajectory.termination] += 1
        if trajectory.termination == "error":
            self.errors += 1
        if trajectory.score is not None:
            self.scored += 1
            self.correct += trajectory.score >= 1.0
        self.tool_calls += len(trajectory.tool_calls)
        self.failed_tool_calls += trajectory.failed_tool_calls
        self.model_calls += trajectory.usage.model_calls
        self.prompt_tokens += trajectory.usage.prompt_tokens
        self.completion_tokens += trajectory.usage.completion_tokens

    @property
    def remaining(self) -> int:
        """Episodes neither skipped nor finished (abandoned ones included)."""
        return self.planned - self.skipped - self.completed - self.unavailable

    @property
    def accuracy(self) -> float | None:
        """Correct over scored episodes so far (None before the first score)."""
        return self.correct / self.scored if self.scored else None

    @property
    def tool_calls_per_episode(self) -> float:
        """Mean tool calls of the written episodes."""
        return self.tool_calls / self.completed if self.completed else 0.0


class RolloutDisplay(Protocol):
    """What the runner tells a display."""

    def start(self, stats: RolloutStats) -> None:
        """The run begins (``planned`` and ``skipped`` are set)."""
        ...

    def update(self, stats: RolloutStats) -> None:
        """An episode finished (or was abandoned)."""
        ...

    def stop(self, stats: RolloutStats) -> None:
        """The run ended (normally or not)."""
        ...


class NoDisplay:
    """Shows nothing (``--quiet``, tests, benchmarks)."""

    def start(self, stats: RolloutStats) -> None:
        """Nothing to show."""

    def update(self, stats: RolloutStats) -> None:
        """Nothing to show."""

    def stop(self, stats: RolloutStats) -> None:
        """Nothing to show."""


class RichDisplay:
    """A live rich progress bar on stderr with the run's health numbers.

    Args:
        console: A ``rich.console.Console`` (default: stderr).
        description: The bar's label.
    """

    def __init__(self, console: Any = None, description: str = "rollout") -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.description = description
        self._progress: Any = None
        self._task: Any = None

    def start(self, stats: RolloutStats) -> None:
        """Draw the bar (already-done episodes count as done)."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[health]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            refresh_per_second=4,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            self.description,
            total=stats.planned,
            completed=stats.skipped,
            health=self._health(stats),
        )

    @staticmethod
    def _health(stats: RolloutStats) -> str:
        accuracy = "-" if stats.accuracy is None else f"{stats.accuracy:.1%}"
        parts = [
            f"acc {accuracy}",
            f"tools/ep {stats.tool_calls_per_episode:.1f}",
            f"errors {stats.errors}",
        ]
        if stats.unavailable:
            parts.append(f"[red]unavailable {stats.unavailable}[/]")
        if stats.endpoints_down:
            parts.append(f"[yellow]endpoints down {stats.endpoints_down}[/]")
        return "  ".join(parts)

    def update(self, stats: RolloutStats) -> None:
        """Move the bar and refresh the numbers."""
        if self._progress is not None:
            done = stats.skipped + stats.completed + stats.unavailable
            self._progress.update(self._task, completed=done, health=self._health(stats))

    def stop(self, stats: RolloutStats) -> None:
        """Draw the final state and stop refreshing."""
        if self._progress is not None:
            self.update(stats)
            self._progress.stop()
            self._progress = None
