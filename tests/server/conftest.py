"""One small World, its index and one environment server per test session.

Every test here talks to the server over real HTTP (httpx against ``EnvServer``), with the
payloads the peers send. Expected values come from the World itself (a paper's title, two
cities, a document's URL), so the tests do not depend on generator details.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Known

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import small_world
from redsearcher.world import World


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("env-server") / "world"
    small_world(out, entities=300)
    return out


@pytest.fixture(scope="session")
def index_dir(world_dir: Path) -> Path:
    out = world_dir.parent / "world.index"
    build_index(world_dir, out, progress=False)
    return out


@pytest.fixture(scope="session")
def local_env(index_dir: Path) -> Iterator[LocalEnvironment]:
    with LocalEnvironment.open(index_dir) as env:
        yield env


@pytest.fixture(scope="session")
def known(world_dir: Path, local_env: LocalEnvironment) -> Known:
    entities = World.open(world_dir).table("entities", columns=["label", "type"]).to_pylist()
    paper = next(e["label"] for e in entities if e["type"] == "paper")
    cities = [e["label"] for e in entities if e["type"] == "city"]
    hit = local_env.search("film director", 1)[0]
    page = local_env.visit(hit.url)
    assert page is not None
    return Known(hit.title, hit.url, page.text, paper, cities[0], cities[1])


def sandbox_config() -> SandboxConfig:
    """Short limits so hanging runs end fast; isolated where bubblewrap works."""
    return SandboxConfig(timeout=5.0, max_timeout=5.0, insecure=True, max_concurrency=4)


@pytest.fixture(scope="session")
def server(index_dir: Path) -> Iterator[EnvServer]:
    """The main server: it opens the index itself (the lifespan path) and a sandbox."""
    config = ServerConfig(index=index_dir, sandbox=sandbox_config())
    with EnvServer(config) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: EnvServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30.0) as c:
        yield c
