"""A content hash of a World that depends on its rows only.

Parquet bytes carry writer versions and batch boundaries, so hashing files would make two
identical Worlds look different. Instead every column is hashed as a stream of its values in row
order, with a per-type canonical encoding that does not depend on how rows were batched; the
World hash combines the column digests in schema order.

The encoding of a text column is each value's UTF-8 bytes followed by a NUL byte, a null written
as byte 1 (``_NULL``); a list of strings is its items joined by the unit separator (``_ITEM``; an
empty list is the empty string). It was first computed in Python (``to_pylist`` and
``str.join``), and the hashes of existing Worlds pin it; it is now built by Arrow kernels,
because a full Wikidata ingest hashes billions of values and a Python object per value cost
more than writing the Parquet files (``benchmarks/RESULTS.md``, "post-stream phase,
vectorised"). ``tests/world/test_hash.py`` checks the kernels against the Python encoding.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NULL = "\x01"
_SEP = "\x00"
_ITEM = "\x1f"


class TableHasher:
    """Feeds record batches of one table; ``digest()`` is independent of batch boundaries."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self._values = [hashlib.sha256() for _ in schema]
        self._valid = [hashlib.sha256() for _ in schema]

    def update(self, batch: pa.RecordBatch) -> None:
        """Add the rows of ``batch`` (already cast to ``schema``)."""
        for i, column in enumerate(batch.columns):
            valid = column.is_valid().to_numpy(zero_copy_only=False)
            self._valid[i].update(np.asarray(valid, dtype=np.uint8).tobytes())
            self._values[i].update(encode(column))

    def digest(self) -> str:
        """Hex digest over all columns."""
        top = hashlib.sha256()
        for field, values, valid in zip(self.schema, self._values, self._valid, strict=True):
            top.update(f"{field.name}:{values.hexdigest()}:{valid.hexdigest()};".encode())
        return top.hexdigest()


def encode(column: pa.Array) -> bytes:
    """The canonical bytes of one column's values (see the module docstring)."""
    kind = column.type
    if pa.types.is_integer(kind):
        filled = pc.fill_null(column, 0).cast(pa.int64())
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype="<i8").tobytes()
    if pa.types.is_floating(kind):
        filled = pc.fill_null(column, 0.0).cast(pa.float64())
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype="<f8").tobytes()
    if len(column) == 0:
        return b""
    if _is_text_list(kind):
        if pc.list_flatten(column).null_count:
            raise TypeError("a list column to hash holds a null item")
        items = column.cast(pa.list_(pa.large_string()))
        text = pc.binary_join(items, pa.scalar(_ITEM, pa.large_string()))
    elif _is_text(kind):
        text = column.cast(pa.large_string())
    else:  # no table has such a column; kept exact rather than fast
        rows = [_NULL if v is None else str(v) for v in column.to_pylist()]
        return (_SEP.join(rows) + _SEP).encode("utf-8")
    filled = pc.fill_null(text, pa.scalar(_NULL, pa.large_string()))
    empty, sep = pa.scalar("", pa.large_string()), pa.scalar(_SEP, pa.large_string())
    terminated = pc.binary_join_element_wise(filled, empty, sep)
    return _value_bytes(terminated)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _is_text_list(kind: pa.DataType) -> bool:
    return bool(
        (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and _is_text(kind.value_type)
    )


def _value_bytes(strings: pa.Array) -> bytes:
    """The concatenated values of a ``large_string`` array without nulls, as one copy."""
    offsets = np.frombuffer(strings.buffers()[1], dtype="<i8")
    start, end = offsets[strings.offset], offsets[strings.offset + len(strings)]
    data = strings.buffers()[2]
    return b"" if data is None else data[start:end].to_pybytes()


def combine(table_digests: dict[str, str]) -> str:
    """The World hash from per-table digests (in the given, i.e. schema, order)."""
    top = hashlib.sha256()
    for name, digest in table_digests.items():
        top.update(f"{name}={digest}\n".encode())
    return top.hexdigest()
