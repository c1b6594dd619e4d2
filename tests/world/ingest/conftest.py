from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ingest"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def ingest(tmp_path: Path) -> Callable[..., World]:
    """Ingest into a fresh directory under tmp_path and open the World."""
    counter = iter(range(1000))

    def run(config: IngestConfig | None = None, **sources: Any) -> World:
        out = tmp_path / f"world{next(counter)}"
        ingest_world(out, config=config or IngestConfig(), progress=False, **sources)
        return World.open(out)

    return run
