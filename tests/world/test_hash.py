"""The World hash's column encoding, built by Arrow kernels, against the Python reference.

``reference`` is the encoding as it was first written (``to_pylist`` and ``str.join``); the
hashes of every World built so far depend on it, so the kernels must give the same bytes for
every column shape a table can hold: nulls, empty strings, non-ASCII, empty and null lists,
sliced arrays (offset != 0) and batches cut anywhere.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.world._hash import TableHasher, encode
from redsearcher.world._schema import TABLES


def reference(column: pa.Array) -> bytes:
    """The original per-value encoding of a text or list column."""
    if pa.types.is_list(column.type):
        rows = ["\x01" if v is None else "\x1f".join(v) for v in column.to_pylist()]
    else:
        rows = ["\x01" if v is None else str(v) for v in column.to_pylist()]
    return (("\x00".join(rows) + "\x00").encode("utf-8")) if rows else b""


TEXTS = ["Douglas Adams", "", None, "Zürich", "東京", "emoji 🦉", "a\x1fb", "tab\tnew\nline", None]
LISTS = [["a", "b"], [], None, [""], ["", ""], ["Zürich", "東京"], ["🦉"], None, []]


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_text_column_matches_reference(kind: pa.DataType) -> None:
    column = pa.array(TEXTS, type=kind)
    assert encode(column) == reference(column)


def test_list_column_matches_reference() -> None:
    column = pa.array(LISTS, type=pa.list_(pa.string()))
    assert encode(column) == reference(column)


@pytest.mark.parametrize("values", [TEXTS, LISTS])
def test_sliced_columns_match_reference(values: list[object]) -> None:
    kind = pa.list_(pa.string()) if isinstance(values[0], list) else pa.string()
    column = pa.array(values, type=kind)
    for start in range(len(values)):
        for length in range(len(values) - start + 1):
            part = column.slice(start, length)
            assert encode(part) == reference(part), (start, length)


def test_all_null_and_empty_columns() -> None:
    for column in (
        pa.array([None, None], type=pa.string()),
        pa.array([None], type=pa.list_(pa.string())),
        pa.array([], type=pa.string()),
        pa.array([], type=pa.list_(pa.string())),
        pa.array(["", ""], type=pa.string()),
        pa.array([[], []], type=pa.list_(pa.string())),
    ):
        assert encode(column) == reference(column)


def test_a_null_list_item_is_refused_like_the_reference() -> None:
    column = pa.array([["a", None]], type=pa.list_(pa.string()))
    with pytest.raises(TypeError):
        reference(column)
    with pytest.raises(TypeError, match="null item"):
        encode(column)


def test_distinct_columns_encode_differently() -> None:
    """The encoding still separates what it must (a guard against a kernel that drops bytes)."""
    pairs = [
        (["ab", "c"], ["a", "bc"]),
        ([None], [""]),
        (["", ""], [""]),
    ]
    for left, right in pairs:
        assert encode(pa.array(left, pa.string())) != encode(pa.array(right, pa.string()))
    a = pa.array([["a", "b"]], type=pa.list_(pa.string()))
    b = pa.array([["a"], ["b"]], type=pa.list_(pa.string()))
    assert encode(a) != encode(b)


text = st.one_of(st.none(), st.text(max_size=6))
rows = st.lists(
    st.tuples(text, st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=3))), max_size=25
)


@settings(max_examples=200, deadline=None)
@given(rows, st.integers(min_value=1, max_value=7))
def test_table_digest_is_the_reference_whatever_the_batches(
    data: list[tuple[str | None, list[str] | None]], cut: int
) -> None:
    """A whole table hashed in batches of ``cut`` rows (sliced from one array) equals the
    reference bytes of the whole columns; so batch boundaries never change a digest."""
    schema = pa.schema([("name", pa.string()), ("aliases", pa.list_(pa.string()))])
    table = pa.table(
        {
            "name": pa.array([r[0] for r in data], pa.string()),
            "aliases": pa.array([r[1] for r in data], pa.list_(pa.string())),
        },
        schema=schema,
    )
    hasher = TableHasher(schema)
    batch = table.combine_chunks().to_batches()
    whole = batch[0] if batch else pa.RecordBatch.from_pylist([], schema=schema)
    for start in range(0, len(data), cut):
        hasher.update(whole.slice(start, cut))
    expected = hashlib.sha256()
    for field in schema:
        column = whole.column(field.name)
        values = hashlib.sha256(reference(column)).hexdigest()
        valid = hashlib.sha256(bytes(int(v) for v in column.is_valid().to_pylist())).hexdigest()
        expected.update(f"{field.name}:{values}:{valid};".encode())
    assert hasher.digest() == expected.hexdigest()


def test_every_text_column_of_the_world_tables_is_encoded_by_kernels() -> None:
    """No table column falls back to the per-value path (a new column type would be slow)."""
    for schema in TABLES.values():
        for field in schema:
            kind = field.type
            fast = (
                pa.types.is_integer(kind)
                or pa.types.is_floating(kind)
                or pa.types.is_string(kind)
                or (pa.types.is_list(kind) and pa.types.is_string(kind.value_type))
            )
            assert fast, f"{field.name}: {kind}"
