"""A World records whether it is a complete dump or a sample of one (``completeness``)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from redsearcher._cli import app
from redsearcher.testing import small_world
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "realkb"


def _ingest_cli(out: Path, *flags: str) -> World:
    args = ["world", "ingest", "--wikidata", str(REAL / "wikidata.json"), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, *flags, "--quiet"])
    assert result.exit_code == 0, result.output
    return World.open(out)


def test_an_ingest_is_a_sample_unless_told_it_is_a_complete_dump(tmp_path: Path) -> None:
    sample = _ingest_cli(tmp_path / "sample")
    assert sample.completeness == "sample"
    assert sample.manifest.source["completeness"] == "sample"
    assert sample.manifest.source["config"]["complete_dump"] is False
    complete = _ingest_cli(tmp_path / "complete", "--complete-dump")
    assert complete.completeness == "complete"
    assert complete.manifest.source["completeness"] == "complete"
    # The record describes the inputs, not the content: the rows (and the hash) are the same.
    assert complete.content_hash == sample.content_hash
    api = ingest_world(
        tmp_path / "api",
        wikidata=REAL / "wikidata.json",
        config=IngestConfig(complete_dump=True),
        progress=False,
    )
    assert api.completeness == "complete"


def test_an_ingest_written_before_the_record_reads_as_a_sample(tmp_path: Path) -> None:
    ingest_world(tmp_path / "old", wikidata=REAL / "wikidata.json", progress=False)
    path = tmp_path / "old" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["source"]["completeness"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert World.open(tmp_path / "old").completeness == "sample"


def test_a_synthetic_world_is_complete_and_its_manifest_unchanged(tmp_path: Path) -> None:
    world = small_world(tmp_path / "w", entities=120)
    assert world.completeness == "complete"
    assert "completeness" not in world.manifest.source  # byte for byte as before
