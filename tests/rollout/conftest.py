"""A tiny World's index, shared by the rollout tests that run real episodes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.testing import tiny_world


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rollout-tiny")
    tiny_world(root / "world")
    build_index(root / "world", root / "world.index", progress=False)
    return root / "world.index"


@pytest.fixture(scope="session")
def tiny_env(tiny_index: Path) -> Iterator[LocalEnvironment]:
    with LocalEnvironment.open(tiny_index) as env:
        yield env
