from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.env import LocalEnvironment
from redsearcher.testing import tiny_world

BIN = Path(sys.executable).parent / "redsearcher"


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


def test_index_writes_beside_the_world_by_default(tmp_path: Path) -> None:
    tiny_world(tmp_path / "w")
    assert run(["env", "index", str(tmp_path / "w"), "--quiet"]) == 0
    with LocalEnvironment.open(tmp_path / "w.index") as env:
        assert env.search("Quiet Harbor")[0].title == "The Quiet Harbor"


def test_index_refuses_to_overwrite_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny_world(tmp_path / "w")
    out = tmp_path / "idx"
    assert run(["env", "index", str(tmp_path / "w"), "--out", str(out), "--quiet"]) == 0
    assert run(["env", "index", str(tmp_path / "w"), "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    argv = ["env", "index", str(tmp_path / "w"), "--out", str(out), "--overwrite"]
    assert run(argv) == 0
    assert "Index written to" in capsys.readouterr().out


def test_config_layers_reach_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny_world(tmp_path / "w")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("env:\n  title_boost: 4.5\n  snippet_chars: 80\n")
    monkeypatch.setenv("REDSEARCHER_ENV__SNIPPET_CHARS", "90")
    argv = ["env", "index", str(tmp_path / "w"), "--config", str(cfg), "--heap-mb", "64", "--quiet"]
    assert run(argv) == 0
    config = json.loads((tmp_path / "w.index" / "index.json").read_text())["config"]
    assert (config["title_boost"], config["snippet_chars"], config["writer_heap_mb"]) == (
        4.5,
        90,
        64,
    )


def test_missing_world_is_a_one_line_user_error(tmp_path: Path) -> None:
    r = subprocess.run(
        [str(BIN), "env", "index", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ.copy(),
    )
    assert r.returncode == 2
    assert "no such World directory" in r.stderr and "Traceback" not in r.stderr
