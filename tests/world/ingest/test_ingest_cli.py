from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from redsearcher._cli import app, main
from redsearcher.errors import InputFormatError, UserError
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

runner = CliRunner()


def test_cli_ingest_and_export(fixtures: Path, tmp_path: Path) -> None:
    config = tmp_path / "redsearcher.yaml"
    config.write_text("ingest:\n  require_sitelink: true\n  max_problems: 2\n")
    out = tmp_path / "world"
    args = [
        "world",
        "ingest",
        "--wikidata",
        str(fixtures / "wikidata.json"),
        "--wikipedia",
        str(fixtures / "wikipedia.jsonl"),
        "--replay",
        str(fixtures / "replay"),
        "--property",
        "P1476=title",
        "--config",
        str(config),
        "--out",
        str(out),
        "--quiet",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "content hash" in result.output
    world = World.open(out)
    source = world.manifest.source
    assert source["config"]["require_sitelink"] is True
    assert source["config"]["property_map"] == {"P1476": "title"}
    assert len(world.manifest.report["problems"]) == 2
    assert world.manifest.report["problems_total"] > 2
    assert "Q1000001" not in {e.id for e in world.entities()}
    assert [f.string for f in world.facts() if f.predicate == "title"] == [
        "The Hitchhiker's Guide to the Galaxy"
    ]
    assert world.count("recorded_searches") == 7

    again = runner.invoke(app, args)  # the World exists now
    assert isinstance(again.exception, UserError)
    flag = runner.invoke(app, [*args, "--overwrite", "--no-require-sitelink"])
    assert flag.exit_code == 0, flag.output
    assert "Q1000001" in {e.id for e in World.open(out).entities()}

    dump_dir = tmp_path / "dump"
    exported = runner.invoke(app, ["world", "export-dump", str(out), "--out", str(dump_dir)])
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in dump_dir.iterdir()) == ["wikidata.json.gz", "wikipedia.jsonl"]


def test_cli_reports_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "dump.json"
    bad.write_text("<html>not a dump</html>\n")
    out = tmp_path / "world"
    result = runner.invoke(app, ["world", "ingest", "--wikidata", str(bad), "--out", str(out)])
    assert isinstance(result.exception, InputFormatError)
    with pytest.raises(SystemExit) as exit_:
        main(["world", "ingest", "--wikidata", str(bad), "--out", str(out), "-q"])
    assert exit_.value.code == 2
    assert str(bad) in capsys.readouterr().err.replace("\n", "")
    with pytest.raises(SystemExit):
        main(["world", "ingest", "--property", "P1476=", "--wikidata", str(bad), "--out", str(out)])
    assert "P123=predicate_name" in capsys.readouterr().err
    assert not out.exists()


def test_all_sources_deterministic_with_progress(fixtures: Path, tmp_path: Path) -> None:
    sources = {
        "wikidata": fixtures / "wikidata.json",
        "wikipedia": [fixtures / "wikipedia.jsonl"],
        "replay": [str(fixtures / "replay")],
    }
    first = ingest_world(tmp_path / "a", progress=True, **sources)  # type: ignore[arg-type]
    second = ingest_world(
        tmp_path / "b",
        config=IngestConfig(batch_rows=2),
        progress=False,
        **sources,  # type: ignore[arg-type]
    )
    assert first.content_hash == second.content_hash
    assert first.counts == {
        "entities": 15,
        "facts": 43,
        "documents": 7 + 6 + 13,  # pages, recordings, knowledge-base pages
        "provenance": 20 + 34,  # every fact but the 2 coordinates has a knowledge-base page
        "recorded_searches": 7,
    }
    assert World.open(tmp_path / "a").recompute_hash() == first.content_hash
    with pytest.raises(UserError, match="nothing to ingest"):
        ingest_world(tmp_path / "c", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
