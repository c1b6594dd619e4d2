"""Full-dump machinery: workers, chunks and resume leave the World byte-identical; filters."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

ROOT = Path(__file__).resolve().parents[3]
SLICE = ROOT / "tests" / "fixtures" / "realdata" / "wikidata-types-slice.json"
KILL_ENV = "REDSEARCHER_INGEST_KILL_AFTER_CHUNK"


def _files(world: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(world.iterdir())}


def _build(out: Path, config: IngestConfig, **sources: Any) -> dict[str, bytes]:
    ingest_world(out, config=config, progress=False, **sources)
    return _files(out)


@pytest.fixture
def dump(fixtures: Path) -> Path:
    return fixtures / "wikidata.json"


@pytest.mark.parametrize("workers", [1, 2])
def test_chunks_and_workers_change_no_byte(
    dump: Path, fixtures: Path, tmp_path: Path, workers: int
) -> None:
    """Tiny chunks (about one line each) and two processes: same files, report included."""
    sources = {"wikidata": [dump, SLICE], "wikipedia": fixtures / "wikipedia.jsonl"}
    whole = _build(tmp_path / "whole", IngestConfig(), **sources)
    config = IngestConfig(workers=workers, chunk_bytes=300)
    chunked = _build(tmp_path / "chunked", config, **sources)
    assert chunked == whole
    report = json.loads(whole["manifest.json"])["report"]
    assert report["problems"][0]["line"] == 3  # line numbers survive the cuts
    assert [p["line"] for p in report["problems"]][:6] == [3, 8, 11, 14, 17, 22]
    assert "workers" not in json.loads(whole["manifest.json"])["source"]["config"]


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress])
def test_compressed_dumps_in_chunks_equal_plain(
    dump: Path, tmp_path: Path, compress: Callable[[bytes], bytes]
) -> None:
    packed = tmp_path / ("dump.json.gz" if compress is gzip.compress else "dump.json.bz2")
    packed.write_bytes(compress(dump.read_bytes()))
    plain = ingest_world(tmp_path / "plain", wikidata=dump, progress=False)
    config = IngestConfig(workers=2, chunk_bytes=1000)
    chunked = ingest_world(tmp_path / "packed", wikidata=packed, config=config, progress=False)
    assert chunked.content_hash == plain.content_hash
    assert chunked.report == plain.report | {"problems": chunked.report["problems"]}
    assert [p["line"] for p in chunked.report["problems"]] == [3, 8, 11, 14, 17, 22]


def _ingest_cli(out: Path, dump: Path, *flags: str, kill_after: int | None = None) -> int:
    """Run a real ingest process in 2,000-byte chunks (SIGKILLed after ``kill_after``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env["REDSEARCHER_INGEST__CHUNK_BYTES"] = "2000"
    env.pop(KILL_ENV, None)
    if kill_after is not None:
        env[KILL_ENV] = str(kill_after)
    code = "import sys; from redsearcher._cli import main; sys.argv[0] = 'redsearcher'; main()"
    args = ["world", "ingest", "--out", str(out), "--wikidata", str(dump), "-q", *flags]
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True)
    return done.returncode


@pytest.mark.parametrize(("name", "workers"), [("dump.json", "1"), ("dump.json.gz", "2")])
def test_a_killed_ingest_resumes_byte_identical(
    dump: Path, tmp_path: Path, name: str, workers: str
) -> None:
    source = tmp_path / name
    data = dump.read_bytes()
    source.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    flags = ("--workers", workers, "--all-properties")
    straight = tmp_path / "straight"
    ingest_world(
        straight, wikidata=source, config=IngestConfig(all_properties=True), progress=False
    )
    out = tmp_path / "resumed"
    state = tmp_path / ".resumed.ingest-resume"
    kills = 0
    # Every run is killed after its third chunk: only runs that continue where the last one
    # stopped ever finish (the dump holds about 11 chunks).
    while (code := _ingest_cli(out, source, *flags, "--resume", kill_after=3)) != 0:
        assert code == -signal.SIGKILL
        assert state.is_dir() and not out.exists()
        _spoil_runs(state / "runs", source)
        kills += 1
        assert kills < 8, "the ingest does not resume from its checkpoints"
    assert kills >= 2
    assert _files(out) == _files(tmp_path / "straight")
    assert not state.exists()  # the state goes once the World is in place


def _spoil_runs(runs: Path, source: Path) -> None:
    """Leave a garbage run file (and a half-written one) for every chunk of ``source``.

    A killed run leaves the run files of chunks in flight; none may reach the resumed one.
    """
    from redsearcher.world.ingest._chunks import iter_chunks
    from redsearcher.world.ingest._runs import run_name

    assert runs.is_dir()
    for chunk in iter_chunks(source, 2000):
        (runs / run_name(0, chunk.offset)).write_bytes(b"not a run")
        (runs / (run_name(0, chunk.offset) + ".part")).write_bytes(b"half")


def test_resume_refuses_state_of_other_inputs(dump: Path, tmp_path: Path) -> None:
    out = tmp_path / "world"
    config = IngestConfig(resume=True, chunk_bytes=2000)
    assert _ingest_cli(out, dump, "--resume", kill_after=1) == -signal.SIGKILL
    other = tmp_path / "other.json"
    other.write_bytes(dump.read_bytes().replace(b"Douglas Adams", b"Douglas Noel"))
    with pytest.raises(UserError, match="other inputs or settings"):
        ingest_world(out, wikidata=other, config=config, progress=False)
    assert (tmp_path / ".world.ingest-resume").is_dir()  # kept for the run it belongs to


def _ids(world: World) -> set[str]:
    return {e.id for e in world.entities()}


def test_resume_refuses_state_of_another_scratch_layout(dump: Path, tmp_path: Path) -> None:
    """A state left by a version whose scratch tables differ is refused, not misread."""
    import sqlite3

    out = tmp_path / "world"
    assert _ingest_cli(out, dump, "--resume", kill_after=1) == -signal.SIGKILL
    db = sqlite3.connect(tmp_path / ".world.ingest-resume" / "scratch.sqlite")
    (saved,) = db.execute("SELECT value FROM ingest_state WHERE key = 'fingerprint'").fetchone()
    older = json.loads(json.loads(saved))  # a JSON string holding the fingerprint's JSON
    older["layout"] -= 1
    value = json.dumps(json.dumps(older, sort_keys=True))
    db.execute("UPDATE ingest_state SET value = ? WHERE key = 'fingerprint'", (value,))
    db.commit()
    db.close()
    config = IngestConfig(resume=True, chunk_bytes=2000)
    with pytest.raises(UserError, match="other inputs or settings"):
        ingest_world(out, wikidata=dump, config=config, progress=False)


def test_keep_class_follows_subclasses_found_by_the_class_pass(
    ingest: Callable[..., World],
) -> None:
    # Greenland is an island nation, whose P279 country edge comes later in the dump
    countries = ingest(wikidata=SLICE, config=IngestConfig(keep_class=["Q6256"]))
    assert _ids(countries) == {"Q30", "Q40", "Q223"}
    assert countries.manifest.report["skipped"]["class_not_kept"] == 21
    direct = ingest(wikidata=SLICE, config=IngestConfig(keep_class=["Q6256"], class_pass=False))
    assert _ids(direct) == {"Q30", "Q40"}  # no class file, no pass: P31 itself only
    cities = ingest(wikidata=SLICE, config=IngestConfig(keep_class=["Q515", "Q5"], workers=2))
    assert _ids(cities) == {"Q1209", "Q2685"}  # Bremen: city-state P279 city
    types = {e.id: e.type for e in cities.entities()}
    assert types == {"Q1209": "city", "Q2685": "person"}  # types still from the full closure


def test_class_file_alone_serves_the_filter(ingest: Callable[..., World], tmp_path: Path) -> None:
    class_file = tmp_path / "classes.csv"
    class_file.write_text("Q112099,Q6256\n")
    config = IngestConfig(keep_class=["Q6256"], class_pass=False, class_file=class_file)
    assert _ids(ingest(wikidata=SLICE, config=config)) == {"Q30", "Q40", "Q223"}


def test_stubs_keep_relation_targets_as_label_only_entities(
    ingest: Callable[..., World],
) -> None:
    people = ingest(wikidata=SLICE, config=IngestConfig(keep_class=["Q5"]))
    assert _ids(people) == {"Q2685"}
    assert people.manifest.report["dangling"] > 0
    facts = [f for f in people.facts() if f.kind == "entity"]
    stubbed = ingest(wikidata=SLICE, config=IngestConfig(keep_class=["Q5"], stubs=True))
    relations = [f for f in stubbed.facts() if f.kind == "entity"]
    targets = {f.object for f in relations}
    assert len(relations) > len(facts)
    assert {"Q30", "Q40"} <= targets  # citizenship of the United States and Austria
    assert _ids(stubbed) == {"Q2685"} | targets
    entities = {e.id: e for e in stubbed.entities()}
    assert entities["Q30"].label == "United States of America"
    assert entities["Q30"].type == "country"
    assert entities["Q30"].aliases == ()
    assert not [f for f in stubbed.facts() if f.subject in targets]  # no claims of their own
    assert stubbed.manifest.report["counts"]["stubs"] == len(targets)
    gone = people.manifest.report["dangling"] - stubbed.manifest.report["dangling"]
    assert gone == len(relations) - len(facts)  # only targets missing from the dump dangle


def _item(qid: str, labels: dict[str, str], sitelinks: int) -> str:
    record = {
        "type": "item",
        "id": qid,
        "labels": {k: {"language": k, "value": v} for k, v in labels.items()},
        "descriptions": {k: {"language": k, "value": f"{v} ({k})"} for k, v in labels.items()},
        "sitelinks": {f"wiki{i}": {"site": f"wiki{i}", "title": qid} for i in range(sitelinks)},
        "claims": {},
    }
    return json.dumps(record)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    rows = [
        _item("Q1", {"en": "One", "de": "Eins"}, 3),
        _item("Q2", {"de": "Zwei"}, 1),
        _item("Q3", {"fr": "Trois"}, 0),
        _item("Q4", {"mul": "Vier"}, 5),
    ]
    path.write_text("[\n" + ",\n".join(rows) + "\n]\n")
    return path


def test_ids_sitelinks_and_languages(
    ingest: Callable[..., World], small: Path, tmp_path: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# wanted\nQ1\nQ3  # a comment\n\nQ99\n")
    assert _ids(ingest(wikidata=small, config=IngestConfig(ids_file=ids))) == {"Q1", "Q3"}
    assert _ids(ingest(wikidata=small, config=IngestConfig(min_sitelinks=2))) == {"Q1", "Q4"}
    german = ingest(wikidata=small, config=IngestConfig(languages=["de", "en"]))
    labels = {e.id: (e.label, e.description) for e in german.entities()}
    assert labels == {
        "Q1": ("Eins", "Eins (de)"),
        "Q2": ("Zwei", "Zwei (de)"),
        "Q4": ("Vier", "Vier (mul)"),
    }
    assert german.manifest.report["skipped"]["no_label_in_languages"] == 1
    everyone = ingest(wikidata=small)  # default: en, mul, then any label; nobody dropped
    assert {e.id: e.label for e in everyone.entities()} == {
        "Q1": "One",
        "Q2": "Zwei",
        "Q3": "Trois",
        "Q4": "Vier",
    }


def test_bad_filter_inputs_are_named(small: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("Q1\nBerlin\n")
    with pytest.raises(InputFormatError, match="expected one Q-id") as err:
        ingest_world(tmp_path / "w", wikidata=small, config=IngestConfig(ids_file=ids))
    assert err.value.line == 2 and str(ids) in str(err.value)
    with pytest.raises(ValueError, match="expected Q123"):
        IngestConfig(keep_class=["city"])
    with pytest.raises(ValueError, match="language code"):
        IngestConfig(languages=["English"])


@pytest.mark.parametrize("workers", [1, 2])
def test_errors_come_in_input_order(tmp_path: Path, workers: int) -> None:
    """A worker pool reads ahead; the first bad file is still the one reported."""
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_bytes(b"[\nnot json,\nnor this,\n]\n")
    second.write_bytes(b"")
    config = IngestConfig(workers=workers, chunk_bytes=8)
    with pytest.raises(InputFormatError, match="no line holds a JSON object") as err:
        ingest_world(tmp_path / "w", wikidata=[first, second], config=config, progress=False)
    assert err.value.path == str(first) and err.value.line == 2


def test_cli_flags_reach_the_config(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("Q30\nQ223\nQ2685\n")
    out = tmp_path / "world"
    flags = ["--keep-class", "Q6256", "--ids", str(ids), "--languages", "en", "--stubs"]
    assert _ingest_cli(out, SLICE, *flags, "--min-sitelinks", "1", "--workers", "2") == 0
    world = World.open(out)
    assert _ids(world) == {"Q223"}  # Q30 has no sitelink in the slice, Q2685 is no country
    config = world.manifest.source["config"]
    assert config["keep_class"] == ["Q6256"] and config["min_sitelinks"] == 1
    assert config["languages"] == ["en"] and config["stubs"] is True
    assert "workers" not in config and "resume" not in config
    no_pass = tmp_path / "no-pass"
    assert _ingest_cli(no_pass, SLICE, "--keep-class", "Q6256", "--no-class-pass") == 0
    assert _ids(World.open(no_pass)) == {"Q30", "Q40"}


@pytest.mark.parametrize("chunk_bytes", [1, 5, 17, 64, 700])
def test_compressed_chunks_are_shortest_runs_of_whole_lines(
    tmp_path: Path, chunk_bytes: int
) -> None:
    """Block reads cut a compressed stream where a ``readline`` loop would (resume offsets)."""
    from redsearcher.world.ingest._chunks import iter_chunks

    lines = [b"x" * (n * 7 % 23) + b"\n" for n in range(200)] + [b"tail without newline"]
    data = b"".join(lines)
    path = tmp_path / "d.json.gz"
    path.write_bytes(gzip.compress(data))
    expected: list[bytes] = []
    current = b""
    for line in lines:
        current += line
        if len(current) >= chunk_bytes:
            expected.append(current)
            current = b""
    expected += [current] if current else []
    chunks = list(iter_chunks(path, chunk_bytes))
    assert [c.data for c in chunks] == expected
    assert [c.offset for c in chunks] == [sum(map(len, expected[:i])) for i in range(len(chunks))]
    later = list(iter_chunks(path, chunk_bytes, chunks[2].offset, 0))
    assert [c.data for c in later] == expected[2:]


def test_a_truncated_stream_names_the_line_reached(tmp_path: Path) -> None:
    """Chunks are cut from views of the blocks read; a cut-off stream still names its line."""
    from redsearcher.world.ingest._chunks import iter_chunks

    data = b"".join(b"line %d\n" % n for n in range(100_000))
    packed = gzip.compress(data)
    path = tmp_path / "d.json.gz"
    path.write_bytes(packed[: len(packed) // 2])
    read = 0
    with pytest.raises(InputFormatError, match="cannot decompress") as err:
        for chunk in iter_chunks(path, 1000):
            assert chunk.data is not None and chunk.data.endswith(b"\n")
            read += chunk.data.count(b"\n")
    assert err.value.line is not None and read < err.value.line <= 100_000
