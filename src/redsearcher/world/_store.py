"""Streaming, atomic writing and batched reading of World directories.

Writing goes to a hidden sibling directory and is renamed into place only when every table is
closed and the manifest written, so an interrupted build never leaves a half-written World that
looks complete. A build killed outright (``kill -9``: no cleanup runs) does leave that directory;
it records its writer, and the next build of the same World removes the ones whose writer is
dead (:func:`redsearcher._util.make_build_dir`). Nothing here holds more than one batch per
table in memory.

Reading is the one place that opens a World's Parquet files, so it is also the one place that
turns a damaged file (truncated, garbled, empty, or another table's schema) into a
:class:`~redsearcher.errors.WorldFormatError` naming the file and the table: every command that
reads a World (``world info``, ``env index``, ``synth``, ``export-dump``) then reports it in one
line instead of a pyarrow traceback.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import redsearcher
from redsearcher._util import make_build_dir, release_build_dir
from redsearcher.errors import UserError, WorldFormatError
from redsearcher.world._hash import TableHasher, combine
from redsearcher.world._manifest import Completeness, Manifest
from redsearcher.world._records import (
    RECORD_TYPES,
    Document,
    Entity,
    Fact,
    Provenance,
    RecordedSearch,
)
from redsearcher.world._schema import TABLES

DEFAULT_BATCH_ROWS = 50_000

#: What pyarrow raises for a file it cannot read (``ArrowInvalid`` is also a ``ValueError``,
#: ``ArrowIOError`` an ``OSError``).
_READ_ERRORS = (pa.ArrowException, OSError, ValueError)


def _rows_to_batch(name: str, rows: Sequence[Any]) -> pa.RecordBatch:
    schema = TABLES[name]
    columns = []
    for field in schema:
        values = [getattr(r, field.name) for r in rows]
        if pa.types.is_list(field.type):
            values = [list(v) if v is not None else None for v in values]
        columns.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _conform(name: str, batch: pa.RecordBatch | pa.Table) -> pa.Table:
    schema = TABLES[name]
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    try:
        return table.select(schema.names).cast(schema)
    except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError) as err:
        raise ValueError(f"batch for table {name!r} does not fit its schema: {err}") from err


class WorldWriter:
    """Write a World table by table, in batches, atomically.

    Use as a context manager; the World appears at ``out`` only if the block finishes without
    an exception. Rows may be added as records (``add_entities`` ...) or as Arrow batches
    (``add_batch``) in any interleaving; within a table, rows keep the order they were added.

    Args:
        out: The World directory to create.
        source: The configuration that produced the World (stored in the manifest).
        overwrite: Replace an existing World at ``out`` (only once the new one is complete).
        batch_rows: Rows buffered per table before a Parquet row group is written.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        source: dict[str, Any] | None = None,
        overwrite: bool = False,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        self.out = Path(out)
        self.source = source or {}
        self.overwrite = overwrite
        self.batch_rows = batch_rows
        self.report: dict[str, Any] = {}
        self._tmp = self.out.parent / f".{self.out.name}.tmp-unopened"  # made by open()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._hashers = {name: TableHasher(schema) for name, schema in TABLES.items()}
        self._counts = dict.fromkeys(TABLES, 0)
        self._buffers: dict[str, list[Any]] = {name: [] for name in TABLES}
        # Arrow rows from ``append_batch`` (records buffered before them are converted in
        # first), so rows added either way share row groups of exactly ``batch_rows``.
        self._pending: dict[str, list[pa.RecordBatch]] = {name: [] for name in TABLES}
        self._pending_rows = dict.fromkeys(TABLES, 0)
        self._open = False
        self.manifest: Manifest | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> WorldWriter:
        """Create the temporary directory and the table writers."""
        if self.out.exists() and not self.overwrite:
            raise UserError(f"{self.out} already exists (pass overwrite=True / --overwrite)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = make_build_dir(self.out)  # after removing what killed builds left
        for name, schema in TABLES.items():
            self._writers[name] = pq.ParquetWriter(
                self._tmp / f"{name}.parquet", schema, compression="zstd"
            )
        self._open = True
        return self

    def __enter__(self) -> WorldWriter:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def abort(self) -> None:
        """Discard everything written so far."""
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # already failing; the directory goes below
                writer.close()
        self._writers.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._open = False

    def close(self) -> Manifest:
        """Flush, write the manifest and move the World into place."""
        if not self._open:
            raise RuntimeError("WorldWriter is not open")
        try:
            for name in TABLES:
                self._flush(name)
                self._writers[name].close()
            digests = {name: self._hashers[name].digest() for name in TABLES}
            manifest = Manifest(
                redsearcher_version=redsearcher.__version__,
                source=self.source,
                counts=dict(self._counts),
                table_hashes=digests,
                content_hash=combine(digests),
                report=self.report,
            )
            manifest.write(self._tmp)
            release_build_dir(self._tmp)
            self._replace_out()
        except BaseException:
            self.abort()
            raise
        self._open = False
        self.manifest = manifest
        return manifest

    def _replace_out(self) -> None:
        old: Path | None = None
        if self.out.exists():
            old = self.out.parent / f".{self.out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(self.out, old)
        os.replace(self._tmp, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # -- rows --------------------------------------------------------------------------------
    def add_batch(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Append Arrow rows to table ``name`` (cast to the table's schema).

        They are written as row groups of their own (the batch, or each chunk of a table).
        """
        self._flush(name)
        for rb in _conform(name, batch).to_batches():
            self._write(name, rb)

    def append_batch(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Append Arrow rows to table ``name`` as if they were records.

        They are buffered with the records added before and after them and written in row
        groups of ``batch_rows`` rows, so a table's file does not depend on which rows came
        as records and which as Arrow (ingest writes millions of facts as Arrow and a few
        later ones as records).
        """
        self._stash(name)
        for rb in _conform(name, batch).to_batches():
            if rb.num_rows:
                self._pending[name].append(rb)
                self._pending_rows[name] += rb.num_rows
        self._cut(name, final=False)

    def _add(self, name: str, rows: Iterable[Any]) -> None:
        kind = RECORD_TYPES[name]
        buf = self._buffers[name]
        for row in rows:
            if not isinstance(row, kind):
                raise TypeError(f"{name} rows must be {kind.__name__}, got {type(row).__name__}")
            buf.append(row)
            if len(buf) + self._pending_rows[name] >= self.batch_rows:
                self._flush(name)

    def add_entities(self, rows: Iterable[Entity]) -> None:
        """Append entities."""
        self._add("entities", rows)

    def add_facts(self, rows: Iterable[Fact]) -> None:
        """Append facts."""
        self._add("facts", rows)

    def add_documents(self, rows: Iterable[Document]) -> None:
        """Append documents."""
        self._add("documents", rows)

    def add_provenance(self, rows: Iterable[Provenance]) -> None:
        """Append (document, fact) provenance links."""
        self._add("provenance", rows)

    def add_recorded_searches(self, rows: Iterable[RecordedSearch]) -> None:
        """Append recorded search results."""
        self._add("recorded_searches", rows)

    def _flush(self, name: str) -> None:
        self._stash(name)
        self._cut(name, final=True)

    def _stash(self, name: str) -> None:
        """Move the buffered records behind the pending Arrow rows, as one batch."""
        buf = self._buffers[name]
        if buf:
            self._pending[name].append(_rows_to_batch(name, buf))
            self._pending_rows[name] += len(buf)
            buf.clear()

    def _cut(self, name: str, *, final: bool) -> None:
        """Write the pending rows in row groups of ``batch_rows`` (and, if ``final``, the rest)."""
        pending, size = self._pending[name], self.batch_rows
        if self._pending_rows[name] < (1 if final else size):
            return
        if len(pending) == 1 and (final or len(pending[0]) == size):
            rows = pending[0]
        else:
            rows = pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
        start = 0
        while len(rows) - start >= size or (final and start < len(rows)):
            self._write(name, rows.slice(start, size))
            start += size
        rest = rows.slice(start) if start < len(rows) else None
        pending.clear()
        if rest is not None:
            pending.append(rest)
        self._pending_rows[name] = 0 if rest is None else len(rest)

    def _write(self, name: str, batch: pa.RecordBatch) -> None:
        if not self._open:
            raise RuntimeError("WorldWriter is not open")
        if batch.num_rows == 0:
            return
        self._writers[name].write_batch(batch)
        self._hashers[name].update(batch)
        self._counts[name] += batch.num_rows

    def count(self, name: str) -> int:
        """Rows added to ``name`` so far (buffered ones included)."""
        return self._counts[name] + self._pending_rows[name] + len(self._buffers[name])


class World:
    """A World directory opened for reading. Opening reads only the manifest."""

    def __init__(self, path: Path, manifest: Manifest) -> None:
        self.path = path
        self.manifest = manifest

    @classmethod
    def open(cls, path: str | Path) -> World:
        """Open the World at ``path``.

        Raises:
            WorldFormatError: when it is not a complete World of a supported version.
        """
        directory = Path(path)
        if not directory.is_dir():
            raise WorldFormatError(f"{directory}: no such World directory")
        manifest = Manifest.read(directory)
        for name in TABLES:
            if not (directory / f"{name}.parquet").is_file():
                raise WorldFormatError(f"{directory}: table {name}.parquet is missing")
        return cls(directory, manifest)

    @property
    def content_hash(self) -> str:
        """The content hash recorded in the manifest."""
        return self.manifest.content_hash

    @property
    def completeness(self) -> Completeness:
        """``complete`` or ``sample`` (see :attr:`Manifest.completeness`)."""
        return self.manifest.completeness

    def count(self, name: str) -> int:
        """Rows in table ``name``."""
        return self.manifest.counts.get(name, 0)

    @contextlib.contextmanager
    def _reading(self, name: str) -> Iterator[Path]:
        """Turn pyarrow's errors while reading table ``name`` into one naming its file."""
        path = self.path / f"{name}.parquet"
        try:
            yield path
        except _READ_ERRORS as err:
            raise WorldFormatError(
                f"{path}: table {name} cannot be read ({type(err).__name__}: {err}); the World "
                "is damaged: build, ingest or copy it again"
            ) from err

    def _file(self, name: str) -> pq.ParquetFile:
        """Open table ``name`` and check it has the table's columns and types.

        Raises:
            WorldFormatError: for a file pyarrow cannot open or another table's schema.
        """
        if name not in TABLES:
            raise KeyError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        with self._reading(name) as path:
            parquet = pq.ParquetFile(path)
            schema = parquet.schema_arrow
        for field in TABLES[name]:
            index = schema.get_field_index(field.name)
            if index < 0:
                raise WorldFormatError(f"{path}: table {name} has no column {field.name!r}")
            found = schema.field(index).type
            if found != field.type:
                raise WorldFormatError(
                    f"{path}: table {name}: column {field.name!r} is {found}, expected {field.type}"
                )
        return parquet

    def table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        """Read a whole table (or some columns). Use ``iter_batches`` for large tables.

        Raises:
            WorldFormatError: when the table's file cannot be read, naming it.
        """
        parquet = self._file(name)
        with self._reading(name):
            return parquet.read(columns=list(columns) if columns else None)

    def iter_batches(
        self, name: str, *, batch_size: int = 65_536, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table in record batches of at most ``batch_size`` rows.

        Raises:
            WorldFormatError: when the table's file cannot be read, naming it.
        """
        parquet = self._file(name)
        with self._reading(name):
            yield from parquet.iter_batches(
                batch_size=batch_size, columns=list(columns) if columns else None
            )

    def iter_records(self, name: str, *, batch_size: int = 8_192) -> Iterator[Any]:
        """Stream a table as record dataclasses (``Entity``, ``Fact``, ``Document`` ...)."""
        kind = RECORD_TYPES[name]
        for batch in self.iter_batches(name, batch_size=batch_size):
            for row in batch.to_pylist():
                for key, value in row.items():
                    if isinstance(value, list):
                        row[key] = tuple(value)
                yield kind(**row)

    def entities(self) -> list[Entity]:
        """All entities as records."""
        return list(self.iter_records("entities"))

    def facts(self) -> list[Fact]:
        """All facts as records."""
        return list(self.iter_records("facts"))

    def documents(self) -> list[Document]:
        """All documents as records (small Worlds only)."""
        return list(self.iter_records("documents"))

    def provenance(self) -> list[Provenance]:
        """All provenance links as records."""
        return list(self.iter_records("provenance"))

    def recompute_hash(self) -> str:
        """Hash the stored rows again (to check a World was not altered or corrupted)."""
        digests = {}
        for name, schema in TABLES.items():
            hasher = TableHasher(schema)
            for batch in self.iter_batches(name):
                hasher.update(batch)
            digests[name] = hasher.digest()
        return combine(digests)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.manifest.counts.items())
        return f"World({str(self.path)!r}, {counts})"
