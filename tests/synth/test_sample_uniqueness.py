"""Tasks from a sample World record that their uniqueness holds within the World only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from redsearcher.errors import UserError
from redsearcher.log import read_tasks
from redsearcher.synth import SynthConfig, open_verifier, synthesize
from redsearcher.testing import small_world
from redsearcher.world.ingest import IngestConfig, ingest_world

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realkb"


def _tasks(world: Path, out: Path, n: int) -> list[dict[str, object]]:
    # No shortcut stage: in a World of 22 items the answer's own page, holding a day of birth,
    # pins it; these tests are about the uniqueness field, not about that stage.
    cfg = SynthConfig(n=n, seed=0, verify=["structural", "completeness"])
    with open_verifier(world) as verifier:
        asyncio.run(synthesize(verifier, cfg, out, progress=False))
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def _ingest(out: Path, *, complete: bool) -> Path:
    ingest_world(
        out,
        wikidata=REAL / "wikidata.json",
        wikipedia=REAL / "enwiki.jsonl",
        config=IngestConfig(complete_dump=complete),
        progress=False,
    )
    return out


def test_tasks_of_a_sample_world_say_within_world_sample(tmp_path: Path) -> None:
    rows = _tasks(_ingest(tmp_path / "sample", complete=False), tmp_path / "s.jsonl", 2)
    assert rows and all(r["uniqueness"] == "within_world_sample" for r in rows)
    assert all(t.uniqueness == "within_world_sample" for t in read_tasks(tmp_path / "s.jsonl"))


def test_tasks_of_a_complete_world_leave_the_field_out(tmp_path: Path) -> None:
    complete = _tasks(_ingest(tmp_path / "complete", complete=True), tmp_path / "c.jsonl", 2)
    assert complete and not any("uniqueness" in r for r in complete)
    small_world(tmp_path / "synthetic", entities=300)
    synthetic = _tasks(tmp_path / "synthetic", tmp_path / "y.jsonl", 2)
    assert synthetic and not any("uniqueness" in r for r in synthetic)


def test_a_sample_file_is_not_resumed_from_a_complete_world(tmp_path: Path) -> None:
    """Same rows, same hash: the header still keeps the two kinds of tasks apart."""
    out = tmp_path / "t.jsonl"
    _tasks(_ingest(tmp_path / "sample", complete=False), out, 1)
    complete = _ingest(tmp_path / "complete", complete=True)
    with pytest.raises(UserError, match="uniqueness"):
        _tasks(complete, out, 2)
