"""Which services stayed down under one tool call, so the per-run cache can leave it out.

Why: a tool's text can carry an outage deep inside (one query of a search, one page of a
visit) below code that only passes strings around, and a cached outage would outlive the
service's recovery for the rest of the run. So :class:`~redsearcher.tools._tools.Toolbox` opens a
record around each call (:func:`track_outages`) and a backend notes each service it gave up on
(:func:`note_outage`); a call with a noted outage is not cached. The record sits in a context
variable because ``asyncio.gather`` runs a call's queries and pages as tasks: they copy the
context, so they share the one mutable record and their notes reach the call that started them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["Outages", "note_outage", "track_outages"]


@dataclass
class Outages:
    """The services that stayed down during one tool call (see :func:`track_outages`)."""

    services: list[str] = field(default_factory=list)
    """What was down, one entry per given-up request (``"search: POST … after 4 tries"``)."""


_OUTAGES: ContextVar[Outages | None] = ContextVar("redsearcher_tool_outages", default=None)


@contextmanager
def track_outages() -> Iterator[Outages]:
    """Record the outages of everything awaited inside the block (and the tasks it starts)."""
    record = Outages()
    token = _OUTAGES.set(record)
    try:
        yield record
    finally:
        _OUTAGES.reset(token)


def note_outage(what: str) -> None:
    """Record that a service stayed down through its retries (no-op outside a record).

    A backend calls it when it gives up on a service, whether it then raises
    :class:`~redsearcher.tools._backends.ServiceDown` or answers "could not read".
    """
    record = _OUTAGES.get()
    if record is not None:
        record.services.append(what)
