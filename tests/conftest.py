"""Shared fixtures; slow tests are opt-in with --runslow."""

from __future__ import annotations

from pathlib import Path

import pytest

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
