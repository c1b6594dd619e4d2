"""Shared fixtures; slow tests are opt-in with --runslow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher.env import LocalEnvironment
from redsearcher.world import World


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def default_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The acceptance World: 5000 entities, seed 1 (built once per session)."""
    from redsearcher.world.generate import GeneratorConfig, generate_world

    out = tmp_path_factory.mktemp("default") / "w"
    generate_world(GeneratorConfig(entities=5000, seed=1), out, progress=False)
    return World.open(out)


@pytest.fixture
def tiny(tmp_path: Path) -> World:
    from redsearcher.testing._worlds import tiny_world

    return tiny_world(tmp_path / "tiny")


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny World's index, built once per session (agent and rollout tests run on it)."""
    from redsearcher.env import build_index
    from redsearcher.testing import tiny_world

    root = tmp_path_factory.mktemp("tiny-index")
    tiny_world(root / "world")
    build_index(root / "world", root / "index", progress=False)
    return root / "index"


@pytest.fixture(scope="session")
def tiny_env(tiny_index: Path) -> Iterator[LocalEnvironment]:
    """The tiny World's index, opened once per session."""
    with LocalEnvironment.open(tiny_index) as env:
        yield env
