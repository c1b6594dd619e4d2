"""``redsearcher run``: the main job on the embedded default."""

from __future__ import annotations


def run() -> None:
    """Run the pipeline on the embedded default World."""
