"""SQLite rows to Arrow columns without a Python object per value.

After the dump is read, every fact and every item goes from the scratch store into a Parquet
table. Fetching rows through ``sqlite3`` makes a Python tuple per row and an object per value,
then ``pa.array`` walks them again: that was most of the post-stream phase's cost per fact
(``benchmarks/RESULTS.md``, "post-stream phase, vectorised"). Here SQLite does the per-value
work in C with one aggregate query per range of keys, and Python sees a handful of strings:

* a text column is ``group_concat`` of its values (one buffer) plus the byte length of each
  value as comma-separated text, ``-1`` for a null, parsed by ``numpy.fromstring``; the
  lengths become Arrow offsets over the buffer, so the array is built without a copy per value;
* an integer column is its values as comma-separated text (a null as ``0``) and a ``0``/``1``
  null mask;
* a float column cannot go through text exactly (SQLite prints 15-17 digits), so the rows that
  hold one are fetched as Python floats, the rest are nulls known from a mask.

Every aggregate of a query is computed in one pass over the same rows, so the columns line up;
the order is the key's (a range scan of an ``INTEGER PRIMARY KEY``), and the key column itself
is read back and checked to be increasing, so an order SQLite did not promise is caught rather
than trusted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["Range", "read_range"]


@dataclass(frozen=True, slots=True)
class Range:
    """Rows of ``table`` whose integer primary key ``key`` is in ``[low, high]``.

    Attributes:
        table: The table (or a sub-select in parentheses) to read.
        key: Its ``INTEGER PRIMARY KEY`` column.
        low: The first key.
        high: The last key.
        where: An extra SQL condition on the rows (no parameters), or ``""``.
    """

    table: str
    key: str
    low: int
    high: int
    where: str = ""


def read_range(
    db: sqlite3.Connection, rows: Range, columns: Sequence[tuple[str, pa.DataType]]
) -> tuple[np.ndarray, list[pa.Array]]:
    """The keys and the ``columns`` (``(sql expression, Arrow type)``) of ``rows``, in key order.

    Types are ``string``, an integer type or ``float64``; a text expression must hold text
    (an integer stored in a text column would be read as its decimal digits).

    Raises:
        RuntimeError: when SQLite did not visit the rows in key order.
    """
    where = f"{rows.key} BETWEEN ? AND ?" + (f" AND ({rows.where})" if rows.where else "")
    floats = [expr for expr, kind in columns if pa.types.is_floating(kind)]
    any_float = " OR ".join(f"{expr} IS NOT NULL" for expr in floats) or "0"
    parts = [f"group_concat({rows.key}, ',')", f"group_concat({any_float}, '')"]
    for expr, kind in columns:
        if pa.types.is_string(kind):
            parts.append(f"CAST(group_concat({expr}, '') AS BLOB)")
            parts.append(f"group_concat(IFNULL(length(CAST({expr} AS BLOB)), -1), ',')")
        elif pa.types.is_integer(kind):
            parts.append(f"group_concat(IFNULL({expr}, 0), ',')")
            parts.append(f"group_concat({expr} IS NULL, '')")
        elif not pa.types.is_float64(kind):
            raise TypeError(f"read_range: unsupported column type {kind} for {expr!r}")
    bounds = (rows.low, rows.high)
    row = db.execute(f"SELECT {', '.join(parts)} FROM {rows.table} WHERE {where}", bounds)
    row = row.fetchone()
    keys = _integers(row[0])
    if len(keys) > 1 and not bool(np.all(np.diff(keys) > 0)):
        raise RuntimeError(f"SQLite read {rows.table} out of {rows.key} order")
    held = _float_rows(db, rows, where, floats, any_float) if floats else []
    at = np.flatnonzero(_mask(row[1], len(keys)))
    if floats and len(at) != len(held[0]):
        raise RuntimeError(f"SQLite gave {len(held[0])} rows with floats, marked {len(at)}")
    out: list[pa.Array] = []
    text, n_float = 2, 0
    for _expr, kind in columns:
        if pa.types.is_string(kind):
            out.append(_strings(row[text], row[text + 1], len(keys)))
            text += 2
        elif pa.types.is_integer(kind):
            values, nulls = _integers(row[text]), _mask(row[text + 1], len(keys))
            out.append(pa.array(values, mask=nulls, type=pa.int64()).cast(kind))
            text += 2
        else:
            out.append(_scatter(held[n_float], at, len(keys)))
            n_float += 1
    return keys, out


def _integers(text: str | None) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.int64)
    values: np.ndarray = np.fromstring(text, dtype=np.int64, sep=",")
    return values


def _mask(text: str | None, n: int) -> np.ndarray:
    """A ``0``/``1`` string (one character per row) as booleans."""
    marks = np.frombuffer(text.encode("ascii"), dtype=np.uint8) if text else np.zeros(0, np.uint8)
    if len(marks) != n:
        raise RuntimeError(f"SQLite gave {len(marks)} marks for {n} rows")
    ones: np.ndarray = marks == ord("1")
    return ones


def _strings(data: bytes | None, lengths: str | None, n: int) -> pa.Array:
    sizes = _integers(lengths)
    if len(sizes) != n:
        raise RuntimeError(f"SQLite gave {len(sizes)} text lengths for {n} rows")
    valid = sizes >= 0
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.where(valid, sizes, 0), out=offsets[1:])
    body = data or b""
    if offsets[-1] != len(body):
        raise RuntimeError(f"SQLite gave {len(body)} bytes of text, {offsets[-1]} expected")
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    array = pa.Array.from_buffers(
        pa.large_string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(body)]
    )
    array.validate(full=True)  # the bytes came from SQLite: check they are UTF-8
    return array.cast(pa.string())


def _float_rows(
    db: sqlite3.Connection, rows: Range, where: str, floats: Sequence[str], any_float: str
) -> list[pa.Array]:
    """Each float expression over the rows where any of them is not null (key order)."""
    cursor = db.execute(
        f"SELECT {', '.join(floats)} FROM {rows.table} WHERE {where} AND ({any_float}) "
        f"ORDER BY {rows.key}",
        (rows.low, rows.high),
    )
    by_column = list(zip(*cursor.fetchall(), strict=True)) or [()] * len(floats)
    return [pa.array(values, type=pa.float64()) for values in by_column]


def _scatter(held: pa.Array, at: np.ndarray, n: int) -> pa.Array:
    """Spread ``held`` (the values of the rows at positions ``at``) over ``n`` rows."""
    values = np.zeros(n, dtype=np.float64)
    nulls = np.ones(n, dtype=bool)
    values[at] = held.fill_null(0.0).to_numpy(zero_copy_only=False)
    nulls[at] = ~held.is_valid().to_numpy(zero_copy_only=False)
    return pa.array(values, mask=nulls, type=pa.float64())
