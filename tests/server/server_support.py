"""Helpers shared by the environment-server tests (imported by name: pytest puts this
directory on ``sys.path``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    """Facts of the session World that tests query for."""

    doc_title: str
    doc_url: str
    doc_text: str
    paper_title: str
    city_a: str
    city_b: str
