"""The scripted server's bookkeeping: which step answers next, what came in, what went wrong.

Kept free of HTTP so the rules (script selection, cursors, fault draws) read in one place and
stay thread-safe on their own: requests are answered on the server's event-loop thread while the
test thread reads :attr:`Ledger.requests` and asks for unused steps, so every access takes the
lock.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from redsearcher.testing import _wire
from redsearcher.testing._script import Script, Step
from redsearcher.testing._wire import RequestError

__all__ = ["Ledger", "RecordedRequest"]

#: Distinct first user messages whose candidate scripts are remembered (later ones are matched
#: each time).
CANDIDATE_CACHE_SIZE = 65_536


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, as answered."""

    method: str
    """HTTP method."""
    path: str
    """URL path, e.g. ``/v1/chat/completions``."""
    headers: dict[str, str]
    """Request headers, names lower-cased."""
    body: Any
    """The parsed JSON body; ``None`` when there was none or it was not JSON."""
    time: float
    """When the request arrived (``time.time()``)."""
    status: int
    """The HTTP status answered."""
    script_index: int | None = None
    """The script that answered, if one did."""
    step_index: int | None = None
    """The step of that script that answered (or whose expectation failed)."""
    injected: bool = False
    """Whether the answer was an injected transient error (``error_rate``)."""
    error: str | None = None
    """The error message answered, if the status is not 200."""


class Ledger:
    """Cursors over the scripts, the fault RNG, and the records of requests and failures.

    Args:
        scripts: The scripts, in priority order.
        latency_s: Server-wide ``(min, max)`` delay in seconds.
        error_rate: Probability of an injected transient error per chat request.
        error_statuses: Statuses injected errors are drawn from.
        seed: Seed of the RNG behind latency ranges and injected errors.
    """

    def __init__(
        self,
        scripts: list[Script],
        *,
        latency_s: tuple[float, float],
        error_rate: float,
        error_statuses: tuple[int, ...],
        seed: int,
    ) -> None:
        self.scripts = scripts
        self._latency = latency_s
        self._error_rate = error_rate
        self._error_statuses = error_statuses
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._cursors = [0] * len(scripts)
        self._requests: list[RecordedRequest] = []
        self._failures: list[str] = []
        # first user text -> candidate scripts. Every turn of an episode repeats its first user
        # message, and matching it against every script's ``match`` was a fifth of the
        # server's CPU with hundreds of scripts. The scripts never change, so this is exact.
        self._candidates: dict[str | None, list[int]] = {}

    @classmethod
    def with_faults(
        cls,
        scripts: list[Script],
        *,
        latency_s: float | tuple[float, float],
        error_rate: float,
        error_statuses: Sequence[int],
        seed: int,
    ) -> Ledger:
        """A ledger with fault settings as users give them, checked (both scripted models).

        Args:
            scripts: The scripts, in priority order.
            latency_s: Delay before every answer: seconds, or a ``(min, max)`` range.
            error_rate: Probability of an injected transient error per chat request.
            error_statuses: Statuses injected errors are drawn from.
            seed: Seed of the RNG behind latency ranges and injected errors.

        Raises:
            ValueError: naming the setting that is out of range.
        """
        low, high = latency_s if isinstance(latency_s, tuple) else (latency_s, latency_s)
        if not 0 <= low <= high:
            raise ValueError(f"latency_s must be >= 0 and min <= max, got {latency_s!r}")
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be in [0, 1], got {error_rate!r}")
        if error_rate and not error_statuses:
            raise ValueError("error_rate needs at least one status in error_statuses")
        if any(not 400 <= s <= 599 for s in error_statuses):
            raise ValueError(f"error_statuses must be HTTP error codes, got {error_statuses!r}")
        return cls(
            scripts,
            latency_s=(float(low), float(high)),
            error_rate=error_rate,
            error_statuses=tuple(error_statuses),
            seed=seed,
        )

    def record(self, request: RecordedRequest) -> None:
        """Append one answered request."""
        with self._lock:
            self._requests.append(request)

    def fail(self, message: str) -> None:
        """Record a failure; :meth:`problems` reports it."""
        with self._lock:
            self._failures.append(message)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, in the order they were answered."""
        with self._lock:
            return list(self._requests)

    @property
    def failures(self) -> list[str]:
        """A snapshot of the recorded failures."""
        with self._lock:
            return list(self._failures)

    def _match(self, text: str | None) -> list[int]:
        matching = [
            i
            for i, s in enumerate(self.scripts)
            if s.match is not None and text and s.match in text
        ]
        if matching:
            best = max((self.scripts[i].match or "" for i in matching), key=len)
            return [i for i in matching if self.scripts[i].match == best]
        return [i for i, s in enumerate(self.scripts) if s.match is None]

    def select(self, body: dict[str, Any]) -> tuple[int, int, Step]:
        """Consume the step that answers ``body``: ``(script_index, step_index, step)``.

        Scripts whose ``match`` occurs in the first user message are candidates, the longest
        ``match`` winning; without one, the ``match=None`` scripts are. Among candidates the
        first with steps left answers.

        Raises:
            RequestError: 400 when no script matches or the matching ones have no steps left.
        """
        text = _wire.first_user_text(body)
        candidates = self._candidates.get(text)
        if candidates is None:
            candidates = self._match(text)
            if len(self._candidates) < CANDIDATE_CACHE_SIZE:
                self._candidates[text] = candidates
        if not candidates:
            known = ", ".join(repr(s.match) for s in self.scripts) or "none"
            preview = None if text is None else text[:120]
            raise RequestError(
                400, f"no script matches the first user message {preview!r} (matches: {known})"
            )
        with self._lock:
            for i in candidates:
                j = self._cursors[i]
                if j < len(self.scripts[i].steps):
                    self._cursors[i] = j + 1
                    return i, j, self.scripts[i].steps[j]
        labels = ", ".join(self.scripts[i].label(i) for i in candidates)
        raise RequestError(400, f"{labels}: no steps left (all steps already used)")

    def draw_fault(self) -> tuple[float, int | None]:
        """Draw this request's server-wide delay and injected error status (``None``: none)."""
        with self._lock:
            low, high = self._latency
            delay = self._rng.uniform(low, high) if high > low else low
            injected = None
            if self._error_rate and self._rng.random() < self._error_rate:
                injected = self._rng.choice(self._error_statuses)
        return delay, injected

    def unused_steps(self) -> list[tuple[int, int]]:
        """``(script_index, step_index)`` of every step not consumed yet."""
        with self._lock:
            cursors = list(self._cursors)
        return [
            (i, j)
            for i, script in enumerate(self.scripts)
            for j in range(cursors[i], len(script.steps))
        ]

    def problems(self) -> list[str]:
        """One line per unused step and per failure; empty when all went as scripted."""
        lines = [
            f"unused: {self.scripts[i].label(i)} step {j}: {self.scripts[i].steps[j].describe()}"
            for i, j in self.unused_steps()
        ]
        return lines + [f"failure: {f}" for f in self.failures]


class LedgerChecks:
    """What both scripted models say about their run, read off their :class:`Ledger`.

    One implementation for :class:`~redsearcher.testing.ScriptedChatServer` and
    :class:`~redsearcher.testing.ScriptedModel`, so "unused step" and "failure" mean the same
    thing over HTTP and in process. ``_label`` names the double in assertion messages.
    """

    _ledger: Ledger
    _label: ClassVar[str] = "scripted model"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in the order they were answered (a snapshot copy)."""
        return self._ledger.requests

    @property
    def failures(self) -> list[str]:
        """Every recorded failure (unmatched, exhausted, failed expectation, malformed)."""
        return self._ledger.failures

    def unused_steps(self) -> list[tuple[int, int]]:
        """``(script_index, step_index)`` of every step not consumed yet."""
        return self._ledger.unused_steps()

    def problems(self) -> list[str]:
        """One line per unused step and per failure; empty when the test went as scripted."""
        return self._ledger.problems()

    def assert_all_used(self) -> None:
        """Fail unless every step was consumed and no failure was recorded.

        Raises:
            AssertionError: listing every unused step and every failure.
        """
        problems = self.problems()
        if problems:
            unused = len(self.unused_steps())
            head = f"{self._label}: {unused} unused step(s), {len(self.failures)} failure(s)"
            raise AssertionError(head + "\n  " + "\n  ".join(problems))
