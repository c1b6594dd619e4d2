"""``synth --env`` and ``verify --env`` refuse a server that holds another World, naming both.

Before, the walk ran against the wrong World and reported each task's evidence as "not found".
The server here serves the hand-built tiny World; the tasks' World is another small World.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.env import build_index
from redsearcher.errors import UserError
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.synth import check_served_world
from redsearcher.testing import small_world, tiny_world
from redsearcher.world import World


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EnvServer, World]]:
    root = tmp_path_factory.mktemp("served")
    world = tiny_world(root / "served")
    build_index(root / "served", root / "served.index", progress=False)
    with EnvServer(ServerConfig(index=root / "served.index", sandbox=None)) as server:
        yield server, world


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> World:
    return small_world(tmp_path_factory.mktemp("other") / "world", entities=60)


@pytest.mark.parametrize("command", ["verify", "synth"])
def test_the_cli_refuses_a_server_of_another_world(
    command: str,
    served: tuple[EnvServer, World],
    other: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, world = served
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("")
    if command == "verify":
        argv = ["verify", str(tasks), "--world", str(other.path), "--env", server.base_url]
    else:
        argv = ["synth", str(other.path), "--n", "1", "--out", str(tasks)]
        argv += ["--env", server.base_url, "--quiet"]
    assert run(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert world.content_hash in err and other.content_hash in err
    assert "serves World" in err
    assert tasks.read_text() == ""  # nothing synthesized against the wrong World


def test_the_same_world_passes_the_check(served: tuple[EnvServer, World]) -> None:
    server, world = served
    check_served_world(server.base_url, world.content_hash, world.path)


def test_an_unreachable_server_is_named(other: World) -> None:
    with pytest.raises(UserError, match=re.escape("not reachable at http://127.0.0.1:9/health")):
        check_served_world("http://127.0.0.1:9", other.content_hash, other.path, timeout_s=2)
