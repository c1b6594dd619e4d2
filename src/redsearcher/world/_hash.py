"""A content hash of a World that depends on its rows only.

Parquet bytes carry writer versions and batch boundaries, so hashing files would make two
identical Worlds look different. Instead every column is hashed as a stream of its values in row
order, with a per-type canonical encoding that does not depend on how rows were batched; the
World hash combines the column digests in schema order.
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
            self._values[i].update(_encode(column))

    def digest(self) -> str:
        """Hex digest over all columns."""
        top = hashlib.sha256()
        for field, values, valid in zip(self.schema, self._values, self._valid, strict=True):
            top.update(f"{field.name}:{values.hexdigest()}:{valid.hexdigest()};".encode())
        return top.hexdigest()


def _encode(column: pa.Array) -> bytes:
    kind = column.type
    if pa.types.is_integer(kind):
        filled = pc.fill_null(column, 0).cast(pa.int64())
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype="<i8").tobytes()
    if pa.types.is_floating(kind):
        filled = pc.fill_null(column, 0.0).cast(pa.float64())
        return np.asarray(filled.to_numpy(zero_copy_only=False), dtype="<f8").tobytes()
    if pa.types.is_list(kind):
        rows = [_NULL if v is None else _ITEM.join(v) for v in column.to_pylist()]
    else:
        rows = [_NULL if v is None else str(v) for v in column.to_pylist()]
    if not rows:
        return b""
    return (_SEP.join(rows) + _SEP).encode("utf-8")


def combine(table_digests: dict[str, str]) -> str:
    """The World hash from per-table digests (in the given, i.e. schema, order)."""
    top = hashlib.sha256()
    for name, digest in table_digests.items():
        top.update(f"{name}={digest}\n".encode())
    return top.hexdigest()
