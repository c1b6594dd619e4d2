"""The document store: what a visit returns, addressed by row, URL or document id in O(1).

Documents are kept in one uncompressed Arrow IPC file that is memory-mapped when the index is
opened: reading a page is a slice of the mapping, with no decompression and no load step, so
opening a 1M-document store takes milliseconds and a visit costs microseconds. The operating
system's page cache decides what stays in memory. (Compressed blocks would cut the disk size by
about 3x but make every visit decompress a block; disk is the cheaper resource here.) Values are
read straight from the mapped Arrow buffers (offsets and UTF-8 bytes) rather than through
``pyarrow`` scalars, which cost several microseconds each: a search reads seven fields of ten
rows per query.

Rows are numbered in World order; the tantivy index stores only this row number. Two
open-addressing hash tables (``.npy`` files, memory-mapped too) map the 64-bit hash of a
normalized URL, and of a document id, to a row. A lookup probes a few slots and confirms the
candidate by comparing the stored key, so hash collisions cannot return a wrong page.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redsearcher.env._urls import key_hash, normalize_url

STORE_FILE: Final = "documents.arrow"
STORE_SCHEMA: Final = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("published", pa.string()),
        pa.field("language", pa.string(), nullable=False),
    ]
)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class StoredDoc:
    """One row of the document store."""

    row: int
    doc_id: str
    url: str
    title: str
    text: str
    kind: str
    published: str | None
    language: str


def build_slots(hashes: U64) -> I64:
    """An open-addressing (linear probing) table of row numbers for the given key hashes.

    Vectorized by rounds: every unplaced row tries its current slot; of the rows that try the
    same free slot the lowest row wins and the others move one slot on. A row therefore only
    passes occupied slots, which is the invariant lookups rely on. Load factor at most 1/2.
    """
    n = len(hashes)
    size = 1 << max(4, (2 * n).bit_length())
    mask = np.uint64(size - 1)
    table = np.full(size, -1, dtype=np.int64)
    current = (hashes & mask).astype(np.int64)
    pending = np.arange(n, dtype=np.int64)
    while pending.size:
        slots = current[pending]
        free = table[slots] == -1
        uniq, first = np.unique(slots[free], return_index=True)
        table[uniq] = pending[free][first]
        placed = table[slots] == pending
        pending = pending[~placed]
        current[pending] = (current[pending] + 1) & (size - 1)
    return table


def probe(table: I64, hashes: U64, h: int, match: Callable[[int], bool]) -> int | None:
    """The row whose key hashes to ``h`` and satisfies ``match``, or None."""
    mask = len(table) - 1
    slot = h & mask
    while True:
        row = int(table[slot])
        if row < 0:
            return None
        if int(hashes[row]) == h and match(row):
            return row
        slot = (slot + 1) & mask


class DocStoreWriter:
    """Append documents (with their URLs) in row order; ``close`` writes the lookup tables."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._writer = pa.ipc.new_file(str(directory / STORE_FILE), STORE_SCHEMA)
        self._url_hashes: list[U64] = []
        self._id_hashes: list[U64] = []
        self.rows = 0

    def add(self, columns: dict[str, Any], url_keys: list[int] | None = None) -> None:
        """Append one batch given as columns (lists or Arrow arrays) of ``STORE_SCHEMA``.

        ``url_keys`` are the URLs' ``key_hash(normalize_url(url))`` when the caller has them.
        """
        batch = pa.RecordBatch.from_pydict(columns, schema=STORE_SCHEMA)
        self._writer.write_batch(batch)
        if url_keys is None:
            urls = batch.column("url").to_pylist()
            url_keys = [key_hash(normalize_url(u)) for u in urls]
        ids = batch.column("doc_id").to_pylist()
        self._url_hashes.append(np.array(url_keys, dtype=np.uint64))
        self._id_hashes.append(np.fromiter((key_hash(d) for d in ids), np.uint64))
        self.rows += batch.num_rows

    def close(self) -> None:
        """Finish the Arrow file and write hash arrays and slot tables next to it."""
        self._writer.close()
        for name, parts in (("url", self._url_hashes), ("id", self._id_hashes)):
            hashes = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
            np.save(self.directory / f"{name}_hash.npy", hashes)
            np.save(self.directory / f"{name}_slots.npy", build_slots(hashes))

    def abort(self) -> None:
        """Close the file handle after a failure (the caller removes the directory)."""
        with contextlib.suppress(OSError, pa.ArrowException):
            self._writer.close()


class _StringColumn:
    """Zero-copy reads of one Arrow ``string`` array: ``get(i)`` decodes row ``i`` or is None.

    Holds memoryviews of the array's validity bitmap, 32-bit offsets and UTF-8 data, which keep
    the mapping alive as long as this object exists.
    """

    __slots__ = ("_data", "_offset", "_offsets", "_validity")

    def __init__(self, array: pa.Array) -> None:
        if array.type != pa.string():
            raise TypeError(f"expected an Arrow string array, got {array.type}")
        validity, offsets, data = array.buffers()
        self._offset = array.offset
        self._offsets = memoryview(offsets).cast("B").cast("i")
        self._data = memoryview(data) if data is not None else memoryview(b"")
        has_nulls = validity is not None and array.null_count > 0
        self._validity = memoryview(validity).cast("B") if has_nulls else None

    def get(self, i: int) -> str | None:
        i += self._offset
        validity = self._validity
        if validity is not None and not (validity[i >> 3] >> (i & 7)) & 1:
            return None
        offsets = self._offsets
        return str(self._data[offsets[i] : offsets[i + 1]], "utf-8")


class DocStore:
    """The memory-mapped document store of an index directory (safe for concurrent readers)."""

    def __init__(self, directory: Path) -> None:
        self._mmap = pa.memory_map(str(directory / STORE_FILE), "r")
        reader = pa.ipc.open_file(self._mmap)
        batches = [reader.get_batch(i) for i in range(reader.num_record_batches)]
        self._names: tuple[str, ...] = tuple(STORE_SCHEMA.names)
        self._columns = [
            {name: _StringColumn(b.column(name)) for name in self._names} for b in batches
        ]
        self._rows = [[cols[name] for name in self._names] for cols in self._columns]
        sizes = [b.num_rows for b in batches]
        self._starts: list[int] = np.cumsum([0, *sizes], dtype=np.int64).tolist()
        self._len: int = self._starts[-1]
        self._tables = {
            name: (
                np.load(directory / f"{name}_slots.npy", mmap_mode="r"),
                np.load(directory / f"{name}_hash.npy", mmap_mode="r"),
            )
            for name in ("url", "id")
        }

    def __len__(self) -> int:
        return self._len

    def _batch(self, row: int) -> tuple[int, int]:
        if not 0 <= row < self._len:
            raise IndexError(f"row {row} out of range")
        b = bisect_right(self._starts, row) - 1
        return b, row - self._starts[b]

    def value(self, row: int, name: str) -> Any:
        """One column of one row."""
        b, i = self._batch(row)
        return self._columns[b][name].get(i)

    def values(self, row: int) -> tuple[Any, ...]:
        """The whole row as a tuple in ``STORE_SCHEMA`` order (doc id, URL, title, ...)."""
        b, i = self._batch(row)
        return tuple([col.get(i) for col in self._rows[b]])

    def doc(self, row: int) -> StoredDoc:
        """The whole row."""
        return StoredDoc(row, *self.values(row))

    def row_of_id(self, doc_id: str) -> int | None:
        """The row of a World document id, or None."""
        slots, hashes = self._tables["id"]
        return probe(slots, hashes, key_hash(doc_id), lambda r: self.value(r, "doc_id") == doc_id)

    def row_of_url(self, url: str) -> int | None:
        """The row of a URL in any spelling ``normalize_url`` accepts; ``www.`` is optional."""
        key = normalize_url(url)
        if not key:
            return None
        slots, hashes = self._tables["url"]
        for candidate in (key, key[4:] if key.startswith("www.") else "www." + key):

            def same(row: int, candidate: str = candidate) -> bool:
                return normalize_url(self.value(row, "url")) == candidate

            row = probe(slots, hashes, key_hash(candidate), same)
            if row is not None:
                return row
        return None

    def close(self) -> None:
        """Release the memory maps (the store is unusable afterwards)."""
        self._columns = []
        self._rows = []
        self._tables = {}
        self._mmap.close()
