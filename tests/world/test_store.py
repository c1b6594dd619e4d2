from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from redsearcher.errors import UserError, WorldFormatError
from redsearcher.testing._worlds import TINY_DOCUMENTS, TINY_ENTITIES, TINY_FACTS, TINY_PROVENANCE
from redsearcher.world import Entity, Fact, World, WorldWriter
from redsearcher.world._schema import TABLES


def _write(path: Path, batch_rows: int = 50_000, **kw: object) -> World:
    with WorldWriter(path, source={"kind": "test"}, batch_rows=batch_rows, **kw) as w:  # type: ignore[arg-type]
        w.add_entities(TINY_ENTITIES)
        w.add_facts(TINY_FACTS)
        w.add_documents(TINY_DOCUMENTS)
        w.add_provenance(TINY_PROVENANCE)
    return World.open(path)


def test_round_trip_records(tmp_path: Path) -> None:
    world = _write(tmp_path / "w")
    assert world.entities() == list(TINY_ENTITIES)
    assert world.facts() == list(TINY_FACTS)
    assert world.documents() == list(TINY_DOCUMENTS)
    assert world.provenance() == list(TINY_PROVENANCE)
    assert world.manifest.counts == {
        "entities": 8,
        "facts": 13,
        "documents": 8,
        "provenance": 12,
        "recorded_searches": 0,
    }
    assert world.manifest.source == {"kind": "test"}


def test_hash_independent_of_batching_and_writer(tmp_path: Path) -> None:
    a = _write(tmp_path / "a", batch_rows=2)
    b = _write(tmp_path / "b", batch_rows=1000)
    assert a.content_hash == b.content_hash
    assert a.recompute_hash() == a.content_hash
    # Arrow batches and records give the same hash.
    with WorldWriter(tmp_path / "c") as w:
        w.add_batch("entities", a.table("entities"))
        w.add_batch("facts", a.table("facts"))
        w.add_batch("documents", a.table("documents"))
        w.add_batch("provenance", a.table("provenance"))
    assert World.open(tmp_path / "c").content_hash == a.content_hash


def test_hash_sees_every_change(tmp_path: Path) -> None:
    base = _write(tmp_path / "a").content_hash
    with WorldWriter(tmp_path / "b") as w:
        w.add_entities(TINY_ENTITIES[:-1])
        w.add_entities([Entity("E8", "Ostrand Pictures", "organization", "film studio")])
        w.add_facts(TINY_FACTS)
        w.add_documents(TINY_DOCUMENTS)
        w.add_provenance(TINY_PROVENANCE)
    assert World.open(tmp_path / "b").content_hash != base
    # A null is not the empty string.
    with WorldWriter(tmp_path / "c") as w:
        w.add_entities([Entity("E1", "x", "person", None)])
    with WorldWriter(tmp_path / "d") as w:
        w.add_entities([Entity("E1", "x", "person", "")])
    assert World.open(tmp_path / "c").content_hash != World.open(tmp_path / "d").content_hash


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "w"
    with pytest.raises(RuntimeError), WorldWriter(out) as w:
        w.add_entities(TINY_ENTITIES)
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_existing_world_needs_overwrite_and_survives_failure(tmp_path: Path) -> None:
    out = tmp_path / "w"
    first = _write(out).content_hash
    with pytest.raises(UserError, match="already exists"):
        WorldWriter(out).open()
    with pytest.raises(RuntimeError), WorldWriter(out, overwrite=True) as w:
        w.add_entities(TINY_ENTITIES[:1])
        raise RuntimeError("interrupted")
    assert World.open(out).content_hash == first  # the old World is intact
    with WorldWriter(out, overwrite=True) as w:
        w.add_entities(TINY_ENTITIES[:1])
    assert World.open(out).count("entities") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]


def test_wrong_record_type_and_schema(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Entity"), WorldWriter(tmp_path / "w") as w:
        w.add_entities([TINY_FACTS[0]])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="entities"), WorldWriter(tmp_path / "w") as w:
        w.add_batch("entities", pa.table({"id": ["E1"]}))
    assert not (tmp_path / "w").exists()


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(WorldFormatError, match="no such World"):
        World.open(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorldFormatError, match="manifest"):
        World.open(tmp_path / "empty")
    world = _write(tmp_path / "w")
    manifest = json.loads((world.path / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (world.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WorldFormatError, match="schema version 99"):
        World.open(world.path)
    manifest["schema_version"] = 1
    (world.path / "manifest.json").write_text(json.dumps(manifest))
    (world.path / "facts.parquet").unlink()
    with pytest.raises(WorldFormatError, match=r"facts\.parquet"):
        World.open(world.path)


def test_streaming_batches(tmp_path: Path) -> None:
    world = _write(tmp_path / "w")
    sizes = [b.num_rows for b in world.iter_batches("facts", batch_size=5)]
    assert sizes == [5, 5, 3]
    assert world.table("documents", ["id"]).column("id").to_pylist()[0] == "D1"


def test_fact_constructors_fill_only_their_columns() -> None:
    f = Fact.quantity(1, "E1", "population", 12, qualifiers={"point_in_time": "2020"})
    assert (f.kind, f.amount, f.object, f.date) == ("quantity", 12.0, None, None)
    assert f.qualifier_dict == {"point_in_time": "2020"}
    c = Fact.coordinate(2, "E1", "coordinates", 1.5, -2)
    assert (c.latitude, c.longitude, c.kind) == (1.5, -2.0, "coordinate")


def _row_groups(path: Path, name: str) -> list[int]:
    meta = pq.ParquetFile(path / f"{name}.parquet").metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def test_append_batch_shares_row_groups_with_records(tmp_path: Path) -> None:
    """Arrow rows from ``append_batch`` are buffered like records: a table's file is the same
    whichever way its rows came, cut in row groups of ``batch_rows``."""
    facts = list(TINY_FACTS)
    with WorldWriter(tmp_path / "records", batch_rows=3) as w:
        w.add_facts(facts)
    with WorldWriter(tmp_path / "mixed", batch_rows=3) as w:
        w.add_facts(facts[:1])
        table = pa.Table.from_pylist([dataclasses.asdict(f) for f in facts[1:6]])
        w.append_batch("facts", table.select(TABLES["facts"].names).cast(TABLES["facts"]))
        w.add_facts(facts[6:7])
        w.append_batch("facts", w_batch(facts[7:11]))
        assert w.count("facts") == 11
        w.add_facts(facts[11:])
    records, mixed = World.open(tmp_path / "records"), World.open(tmp_path / "mixed")
    assert _row_groups(mixed.path, "facts") == _row_groups(records.path, "facts") == [3, 3, 3, 3, 1]
    assert mixed.facts() == facts
    assert mixed.content_hash == records.content_hash
    assert (mixed.path / "facts.parquet").read_bytes() == (
        records.path / "facts.parquet"
    ).read_bytes()


def w_batch(facts: list[Fact]) -> pa.RecordBatch:
    rows = [dataclasses.asdict(f) for f in facts]
    return pa.RecordBatch.from_pylist(rows, schema=TABLES["facts"])


def test_append_batch_checks_the_schema(tmp_path: Path) -> None:
    with WorldWriter(tmp_path / "w") as w, pytest.raises(ValueError, match="facts"):
        w.append_batch("facts", pa.table({"id": ["not an int"]}))
