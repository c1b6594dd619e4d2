"""A document buffer bounded by bytes, not only by rows.

``WorldWriter`` buffers ``batch_rows`` records per table before writing a row group. That is
right for entities and facts (small rows) but not for documents: 50,000 real Wikipedia pages
are gigabytes. Ingest therefore collects documents here and hands them to the writer as Arrow
batches once ``max_bytes`` of text (or ``max_rows`` rows) have accumulated, so memory stays
bounded whatever the page sizes. Row order is kept; the World's content hash does not depend
on batch boundaries.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from redsearcher.world._records import Document
from redsearcher.world._schema import DOCUMENTS
from redsearcher.world._store import WorldWriter

DEFAULT_MAX_BYTES = 32 << 20


class DocumentSink:
    """Buffer documents and write them to ``writer`` in bounded batches.

    Args:
        writer: The open World writer.
        max_rows: Rows per batch at most.
        max_bytes: Text bytes (title + text, UTF-8 length estimated by ``len``) per batch.
    """

    def __init__(
        self, writer: WorldWriter, max_rows: int, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.writer = writer
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._rows: list[Document] = []
        self._bytes = 0

    def add(self, doc: Document) -> None:
        """Queue one document (written once the buffer is full, or on ``flush``)."""
        self._rows.append(doc)
        self._bytes += len(doc.text) + len(doc.title)
        if len(self._rows) >= self.max_rows or self._bytes >= self.max_bytes:
            self.flush()

    def flush(self) -> None:
        """Write the queued documents."""
        if not self._rows:
            return
        columns: list[Any] = []
        for field in DOCUMENTS:
            values = [getattr(doc, field.name) for doc in self._rows]
            if pa.types.is_list(field.type):
                values = [list(v) for v in values]
            columns.append(pa.array(values, type=field.type))
        self.writer.add_batch("documents", pa.RecordBatch.from_arrays(columns, schema=DOCUMENTS))
        self._rows.clear()
        self._bytes = 0
