"""Wikipedia page text (FineWiki-style extracts) as encyclopedia documents with provenance.

Pages come as JSON Lines (plain, ``.gz`` or ``.bz2``) or Parquet with ``title`` and ``text``
and optionally ``url`` and ``links`` (titles of linked pages). A page joins to the entity whose
sitelink title equals its title after normalization (``_`` -> space, first letter
case-insensitive), and so do its links. Each page becomes one ``encyclopedia`` document whose
mentions are the joined entity followed by the linked entities; pages that join to nothing are
kept as documents about nothing and counted as ``unjoined``. Links between joined pages become
``links_to`` facts, and the documents' provenance follows the mention-matching rule
(``_mentions``). Pages are streamed one at a time (Parquet in record batches); the only state
kept is in the scratch store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from redsearcher.errors import InputFormatError
from redsearcher.world._records import Document, Fact, Provenance
from redsearcher.world._store import WorldWriter
from redsearcher.world.ingest._config import LINKS_TO, IngestConfig
from redsearcher.world.ingest._io import JsonLines, detect_compression, stem
from redsearcher.world.ingest._replay import canonical_url
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._sink import DocumentSink
from redsearcher.world.ingest._statements import LinkedEntity, page_statements
from redsearcher.world.ingest._wikidata import title_key

_PARQUET_MAGIC = b"PAR1"
_PARQUET_BATCH = 1024


@dataclass(frozen=True, slots=True)
class WikiPage:
    """One Wikipedia page as read from the input."""

    title: str
    text: str
    url: str | None
    links: tuple[str, ...]


def wiki_doc_id(title: str) -> str:
    """The document id of a page: ``wiki:`` + sha1(normalized title)[:16]."""
    return "wiki:" + hashlib.sha1(title_key(title).encode("utf-8")).hexdigest()[:16]


def _page(row: dict[str, Any]) -> WikiPage | tuple[str, str]:
    """A ``WikiPage``, or ``(reason, detail)`` when the row is malformed."""
    title, text, url, links = row.get("title"), row.get("text"), row.get("url"), row.get("links")
    for name, value in (("title", title), ("text", text)):
        if value is None:
            return "missing_field", name
        if not isinstance(value, str):
            return "wrong_type", f"{name} is a {type(value).__name__}, not a string"
    assert isinstance(title, str) and isinstance(text, str)
    if not title.strip():
        return "missing_field", "title is empty"
    if url is not None and not isinstance(url, str):
        return "wrong_type", f"url is a {type(url).__name__}, not a string"
    if links is None:
        links = []
    if not isinstance(links, list) or not all(isinstance(t, str) for t in links):
        return "wrong_type", "links is not a list of strings"
    return WikiPage(title, text, url or None, tuple(links))


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() == ".parquet":
        return True
    with path.open("rb") as fh:
        return fh.read(4) == _PARQUET_MAGIC


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise InputFormatError(path, f"not a readable Parquet file: {err}") from err
    schema = parquet.schema_arrow
    for name in ("title", "text"):
        if name not in schema.names:
            raise InputFormatError(path, "Parquet file lacks a required column", field=name)
        if not (
            pa.types.is_string(schema.field(name).type)
            or pa.types.is_large_string(schema.field(name).type)
        ):
            raise InputFormatError(path, "column is not a string column", field=name)
    columns = [c for c in ("title", "text", "url", "links") if c in schema.names]
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
            for record in batch.to_pylist():
                row += 1
                yield row, record
    except (pa.ArrowException, OSError) as err:
        raise InputFormatError(path, f"cannot read Parquet row group: {err}", line=row) from err


def iter_pages(path: Path, report: IngestReport) -> Iterator[tuple[int, WikiPage]]:
    """Stream the well-formed pages of a JSONL or Parquet file with their line/row numbers.

    Malformed rows are skipped and reported; for Parquet the "line" is the 1-based row.

    Raises:
        InputFormatError: for a file that is not JSON Lines or Parquet with ``title``/``text``.
    """
    detect_compression(path)
    rows = _parquet_rows(path) if _is_parquet(path) else iter(JsonLines(path, report))
    for line, row in rows:
        page = _page(row)
        if isinstance(page, WikiPage):
            yield line, page
        else:
            report.skip(page[0], file=path, line=line, detail=page[1])


class _PageWriter:
    """Turns pages into documents, ``links_to`` facts and provenance."""

    def __init__(
        self, config: IngestConfig, scratch: Scratch, writer: WorldWriter, report: IngestReport
    ) -> None:
        self.config = config
        self.scratch = scratch
        self.writer = writer
        self.report = report
        self.docs = DocumentSink(writer, config.batch_rows)

    def add(self, page: WikiPage) -> None:
        scratch, report = self.scratch, self.report
        doc_id = wiki_doc_id(page.title)
        if not scratch.add_doc(doc_id):
            report.skip("duplicate_title")
            return
        about = scratch.entity_by_title(title_key(page.title))
        linked: list[str] = []
        for title in page.links:
            target = scratch.entity_by_title(title_key(title)) if title.strip() else None
            if target is None:
                report.count("links_unresolved")
            elif target != about and target not in linked:
                linked.append(target)
        mentions = ([about] if about else []) + linked
        if about is None:
            report.unjoined += 1
        if page.url:
            scratch.add_url(canonical_url(page.url), doc_id)
        self.docs.add(
            Document(
                id=doc_id,
                title=page.title,
                text=page.text,
                kind="encyclopedia",
                language=self.config.language,
                mentions=tuple(mentions),
                about=about,
                source_url=page.url,
            )
        )
        report.count("wikipedia_documents")
        stated: set[int] = set()
        if about is not None and self.config.links:
            for target in linked:
                fact_id, new = scratch.add_link(about, target)
                if new:
                    self.writer.add_facts([Fact.relation(fact_id, about, LINKS_TO, target)])
                    report.count("links_to")
                stated.add(fact_id)
        if self.config.provenance and mentions:
            links = [LinkedEntity(target) for target in linked]
            stated.update(page_statements(scratch, page.text, about, links))
        self.writer.add_provenance(Provenance(doc_id, f) for f in sorted(stated))


def ingest_wikipedia(
    paths: Sequence[Path],
    config: IngestConfig,
    scratch: Scratch,
    writer: WorldWriter,
    report: IngestReport,
    display: ProgressDisplay,
) -> None:
    """Stream Wikipedia pages into documents, ``links_to`` facts and provenance.

    Facts from Wikidata must already be numbered (``Scratch.finalize_facts``).
    """
    pages = _PageWriter(config, scratch, writer, report)
    for path in paths:
        tracker = display.task(f"wikipedia {stem(path)}")
        for _, page in iter_pages(path, report):
            tracker.advance()
            pages.add(page)
        tracker.done()
    pages.docs.flush()
