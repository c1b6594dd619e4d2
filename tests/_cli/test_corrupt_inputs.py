"""Damaged inputs give one error line naming the file (and line), exit code 2, no traceback.

A World's Parquet tables truncated, garbled, emptied or swapped for another table's; an index's
Arrow files likewise; a tasks file with a line that is not UTF-8; a binary ``--config``. Each
goes through the real CLI entry point (``main``), as a user would meet it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.env import build_index
from redsearcher.testing import tiny_world


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(8, len(data) - 8, 7):  # every 7th byte of the data pages and the footer
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def swap(path: Path) -> None:
    """Another table's file under this table's name (same manifest)."""
    other = "facts.parquet" if path.name != "facts.parquet" else "entities.parquet"
    shutil.copyfile(path.with_name(other), path)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": truncate,
    "garbled": garble,
    "empty": empty,
    "swapped": swap,
}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; assert it failed as a user error (exit 2); its stderr."""
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    err = capsys.readouterr().err
    assert done.value.code == 2, err
    assert "Traceback" not in err
    return " ".join(err.split())  # rich wraps long lines


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corrupt")
    tiny_world(root / "w")
    build_index(root / "w", root / "w.index", progress=False)
    return root


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("table", ["entities", "documents"])
def test_a_damaged_world_table_is_named_by_every_command_that_reads_it(
    world_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, table: str
) -> None:
    world = tmp_path / "w"
    shutil.copytree(world_dir / "w", world)
    DAMAGE[damage](world / f"{table}.parquet")
    name = f"{table}.parquet"
    commands = [
        ["world", "info", str(world), "--verify"],
        ["env", "index", str(world), "--out", str(tmp_path / "index"), "--quiet"],
        ["synth", str(world), "--n", "1", "--out", str(tmp_path / "tasks.jsonl")],
        ["world", "info", str(world)],
    ]
    for argv in commands:
        err = run_cli(capsys, *argv)
        assert name in err and str(world) in err, (argv, err)
    assert not (tmp_path / "index").exists()


@pytest.mark.parametrize("damage", ["truncated", "garbled", "empty"])
@pytest.mark.parametrize("part", ["documents.arrow", "places.arrow", "papers.arrow"])
def test_a_damaged_index_file_is_named_when_the_index_opens(
    world_dir: Path, tmp_path: Path, damage: str, part: str
) -> None:
    from redsearcher.env import IndexFormatError, LocalEnvironment

    index = tmp_path / "index"
    shutil.copytree(world_dir / "w.index", index)
    DAMAGE[damage](index / part)
    with pytest.raises(IndexFormatError) as caught:
        LocalEnvironment.open(index).close()
    assert str(index / part) in str(caught.value)
    assert "env index" in str(caught.value)  # what to do about it


def test_a_damaged_index_fails_env_serve_in_one_line(
    world_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    shutil.copytree(world_dir / "w.index", index)
    truncate(index / "documents.arrow")
    err = run_cli(capsys, "env", "serve", str(index), "--port", "0", "--no-sandbox")
    assert str(index / "documents.arrow") in err


def test_a_non_utf8_task_line_is_named_by_export_rl_and_rollout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    good = json.dumps({"id": "a", "question": "Which?", "answer": "x"}).encode()
    tasks.write_bytes(good + b"\n" + b'{"id": "b", "question": "Wh\xff\xfeich?"}\n')
    err = run_cli(capsys, "export", "rl", str(tasks), "--out", str(tmp_path / "rl.jsonl"))
    assert f"{tasks}:2: not UTF-8 text" in err
    err = run_cli(
        capsys, "rollout", str(tasks), "--out", str(tmp_path / "run"), "--model", "m",
        "--base-url", "http://127.0.0.1:9/v1", "--env", "http://127.0.0.1:9",
    )  # fmt: skip
    assert f"{tasks}:2: not UTF-8 text" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02\xff\xfe binary", b"model:\n  name: caf\xe9\n"],
    ids=["binary", "latin1"],
)
def test_a_binary_or_non_utf8_config_is_a_config_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(content)
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "a", "question": "Which?", "answer": "x"}) + "\n")
    err = run_cli(
        capsys, "rollout", str(tasks), "--out", str(tmp_path / "run"), "--config", str(config)
    )
    assert str(config) in err and "UTF-8" in err
