"""``redsearcher world ingest`` / ``export-dump`` (filled in by the ingest work)."""

from __future__ import annotations


def ingest() -> None:
    """Ingest real data into a World."""


def export_dump() -> None:
    """Export a World as a Wikidata JSON dump plus Wikipedia JSONL."""
