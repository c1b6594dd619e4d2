"""Synthesis output through the resumable-JSONL primitive: lock, pinned meta, bad lines."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import JsonlFile
from redsearcher.synth import SynthConfig, Verifier, open_verifier, read_tasks, synthesize
from redsearcher.world import World


@pytest.fixture(scope="module")
def verifier(default_world: World) -> Iterator[Verifier]:
    with open_verifier(default_world.path) as v:
        yield v


def run(verifier: Verifier, config: SynthConfig, out: Path) -> int:
    return asyncio.run(synthesize(verifier, config, out, progress=False)).emitted


def test_resume_cuts_the_torn_tail_and_keeps_the_meta(verifier: Verifier, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    config = SynthConfig(n=2, seed=4, treewidth="1-2", msd="2-")
    assert run(verifier, config, out) == 2
    meta = JsonlFile.header_path(out)
    recorded = meta.read_text()
    assert json.loads(recorded)["world_hash"] == verifier.kg.world_hash
    assert "n" not in json.loads(recorded)["config"]  # asking for more is a resume
    whole = out.read_bytes()
    out.write_bytes(whole + whole[:25])  # killed while writing a third task
    assert run(verifier, config.model_copy(update={"n": 3, "workers": 1}), out) == 1
    tasks = read_tasks(out)
    assert len(tasks) == 3 and out.read_bytes().startswith(whole)
    assert meta.read_text() == recorded


def test_a_second_writer_is_refused(verifier: Verifier, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(UserError, match="another process"):
            run(verifier, SynthConfig(n=1, seed=1), out)
    finally:
        os.close(fd)


def test_another_config_is_refused_naming_what_differs(verifier: Verifier, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    meta = JsonlFile.header_path(out)
    recorded = {"world_hash": "another-world", "config": {"seed": 1}}
    meta.write_text(json.dumps(recorded))
    with pytest.raises(UserError) as err:
        run(verifier, SynthConfig(n=1, seed=1), out)
    text = str(err.value)
    assert "world_hash:" in text and "config.treewidth:" in text and "another-world" in text
    assert "use another --out" in text and not out.exists()


def test_records_without_meta_and_bad_lines_are_refused(verifier: Verifier, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    out.write_text('{"id": "t1-0-0"}\n')
    with pytest.raises(UserError, match=r"no t\.jsonl\.meta\.json"):
        run(verifier, SynthConfig(n=1, seed=1), out)
    good = tmp_path / "good.jsonl"
    assert run(verifier, SynthConfig(n=1, seed=2, treewidth="1-2", msd="2-"), good) == 1
    good.write_text(good.read_text() + '{"question": "no id"}\n')
    with pytest.raises(InputFormatError) as bad:
        run(verifier, SynthConfig(n=2, seed=2, treewidth="1-2", msd="2-"), good)
    assert (bad.value.line, bad.value.field) == (2, "id")
