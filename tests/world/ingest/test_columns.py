"""``read_range``: SQLite columns to Arrow in C, checked against ``sqlite3`` rows + ``pa.array``."""

from __future__ import annotations

import math
import sqlite3

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.world.ingest._columns import Range, read_range

COLUMNS = [
    ("name", pa.string()),
    ("size", pa.int64()),
    ("small", pa.int8()),
    ("x", pa.float64()),
    ("y", pa.float64()),
    ("note", pa.string()),
]


def _db(rows: list[tuple[object, ...]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, name, size, small, x, y, note, keep)")
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return db


def _expected(db: sqlite3.Connection, low: int, high: int, where: str = "1") -> list[pa.Array]:
    names = ", ".join(c for c, _ in COLUMNS)
    rows = db.execute(
        f"SELECT {names} FROM t WHERE k BETWEEN ? AND ? AND ({where}) ORDER BY k", (low, high)
    ).fetchall()
    by_column = list(zip(*rows, strict=True)) or [()] * len(COLUMNS)
    return [pa.array(list(v), type=t) for v, (_, t) in zip(by_column, COLUMNS, strict=True)]


def _same(got: list[pa.Array], want: list[pa.Array]) -> None:
    for a, b in zip(got, want, strict=True):
        assert a.type == b.type
        assert a.to_pylist() == b.to_pylist() or _same_floats(a, b)
        assert a.is_null().to_pylist() == b.is_null().to_pylist()


def _same_floats(a: pa.Array, b: pa.Array) -> bool:
    """Equal with NaN == NaN and the sign of zero kept."""
    return all(
        (x is None and y is None)
        or (x is not None and y is not None and (math.isnan(x) and math.isnan(y)))
        or (x == y and math.copysign(1, x) == math.copysign(1, y))
        for x, y in zip(a.to_pylist(), b.to_pylist(), strict=True)
    )


ROWS = [
    (1, "Douglas Adams", 42, 9, 0.1, None, None, 1),
    (2, "", None, None, None, None, "", 0),
    (3, None, -(2**63), -128, -0.0, 1e300 / 3, "Zürich \x1f 東京 🦉", 1),
    (5, "tab\tline\nend", 2**63 - 1, 127, float("nan"), float("inf"), None, 1),
    (6, "x", 0, 0, None, 2.5, '{"point_in_time": "1994"}', 0),
    (9, "last", 1, 1, 5e-324, None, "z", 1),
]


def test_columns_match_the_row_by_row_reading() -> None:
    db = _db(ROWS)
    keys, got = read_range(db, Range("t", "k", 1, 9), COLUMNS)
    assert keys.tolist() == [1, 2, 3, 5, 6, 9]
    _same(got, _expected(db, 1, 9))


def test_a_sub_range_with_a_condition() -> None:
    db = _db(ROWS)
    keys, got = read_range(db, Range("t", "k", 2, 6, where="keep = 1"), COLUMNS)
    assert keys.tolist() == [3, 5]
    _same(got, _expected(db, 2, 6, "keep = 1"))


def test_an_empty_range_gives_empty_columns() -> None:
    db = _db(ROWS)
    keys, got = read_range(db, Range("t", "k", 100, 200), COLUMNS)
    assert len(keys) == 0
    assert [len(a) for a in got] == [0] * len(COLUMNS)
    assert [a.type for a in got] == [t for _, t in COLUMNS]


def test_rows_out_of_key_order_are_refused() -> None:
    """The order is checked, not trusted: a source that yields keys backwards fails."""
    db = _db(ROWS)
    backwards = Range("(SELECT * FROM t ORDER BY k DESC)", "k", 1, 9)
    with pytest.raises(RuntimeError, match="out of k order"):
        read_range(db, backwards, COLUMNS)


def test_an_unsupported_type_is_named() -> None:
    with pytest.raises(TypeError, match="bool"):
        read_range(_db(ROWS), Range("t", "k", 1, 9), [("keep", pa.bool_())])


text = st.one_of(st.none(), st.text(max_size=8))
number = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
real = st.one_of(st.none(), st.floats(allow_nan=False))
small = st.one_of(st.none(), st.integers(min_value=-128, max_value=127))
row = st.tuples(text, number, small, real, real, text, st.integers(0, 1))


@settings(max_examples=150, deadline=None)
@given(st.lists(row, max_size=30), st.integers(0, 31), st.integers(0, 31))
def test_any_rows_read_like_sqlite3(rows: list[tuple[object, ...]], low: int, high: int) -> None:
    db = _db([(k * 2 + 1, *r) for k, r in enumerate(rows)])  # keys with gaps
    keys, got = read_range(db, Range("t", "k", low, high, where="keep = 1"), COLUMNS)
    want = _expected(db, low, high, "keep = 1")
    assert len(keys) == len(want[0])
    _same(got, want)
