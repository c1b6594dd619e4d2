"""``redsearcher world ingest``: build a World from real dumps (filled in by the ingest work)."""

from __future__ import annotations


def ingest() -> None:
    """Ingest real data into a World."""
