"""The post-stream reads of the scratch store: numbering, Arrow batches, alias lists."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa

from redsearcher.world._records import Fact
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._types import _alias_lists


def _fact(subject: str, predicate: str, obj: str | None = None, **values: object) -> Fact:
    kind = "entity" if obj is not None else "quantity"
    return Fact(0, subject, predicate, kind, object=obj, **values)  # type: ignore[arg-type]


def test_numbering_skips_dangling_facts_and_batches_read_back_every_column(
    tmp_path: Path,
) -> None:
    with Scratch(tmp_path, "t") as scratch:
        scratch.add_entities([(q, f"label {q}", (), None) for q in ("Q1", "Q2", "Q3")])
        raw = [
            _fact("Q1", "spouse", "Q2", qualifiers='{"start_time": "1990"}'),
            _fact("Q1", "spouse", "Q9"),  # dangling object
            _fact("Q9", "population", amount=5.0),  # dangling subject
            _fact("Q2", "population", amount=0.1, unit="Q11573"),
            _fact("Q3", "coordinates", latitude=-0.0, longitude=1e300 / 3),
            _fact("Q3", "born", date="1952-03-11", date_precision=11),
            _fact("Q3", "motto", string="Zürich 東京"),
        ]
        scratch.add_raw_facts(raw)
        kept, dangling, completed = scratch.finalize_facts(["spouse"])
        assert (kept, dangling, completed) == (5, 2, 1)
        facts = list(scratch.iter_facts())
        assert [f.id for f in facts] == [1, 2, 3, 4, 5, 6]
        assert [f.predicate for f in facts[:5]] == [
            "spouse",
            "population",
            "coordinates",
            "born",
            "motto",
        ]
        reverse = facts[5]
        assert (reverse.subject, reverse.object, reverse.qualifiers) == (
            "Q2",
            "Q1",
            '{"start_time": "1990"}',
        )
        for size in (1, 4, 6, 50):
            batches = list(scratch.fact_batches(size))
            assert [b.num_rows for b in batches] == [min(size, 6 - s) for s in range(0, 6, size)]
            rows = pa.Table.from_batches(batches).to_pylist()
            assert rows == [dataclasses.asdict(f) for f in facts]
        assert scratch.next_fact_id == 7


def test_no_facts_no_batches(tmp_path: Path) -> None:
    with Scratch(tmp_path, "t") as scratch:
        assert scratch.finalize_facts([]) == (0, 0, 0)
        assert list(scratch.fact_batches(10)) == []


def test_alias_lists_split_like_str_split() -> None:
    joined = ["", "a", "a\x1fb", "a\x1f", "\x1f", "Zürich\x1f東京", ""]
    lists = _alias_lists(pa.array(joined, pa.string()))
    assert lists.type == pa.list_(pa.string())
    assert lists.to_pylist() == [j.split("\x1f") if j else [] for j in joined]
