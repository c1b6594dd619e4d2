"""Readers for the Wikipedia formats, and telling them apart by content.

* ``jsonl``: JSON Lines ``{title, text[, url, links, wikibase_item]}`` (FineWiki-style).
* ``parquet``: Parquet with string ``title``/``text`` columns, such as the Hugging Face
  ``wikimedia/wikipedia`` dataset (``id, url, title, text``); read in record batches.
* ``wikiextractor``: WikiExtractor ``--json`` output, ``{id, revid, url, title, text}`` per
  line; with ``--links`` the text holds ``<a href>`` anchors, stripped into links.
* ``cirrus``: a CirrusSearch dump, Elasticsearch bulk lines with an ``{"index": {...}}`` action
  before each page document; namespace 0 only.
* ``enterprise``: a Wikimedia Enterprise HTML dump, NDJSON articles inside a tar(.gz) (or the
  NDJSON itself); text and links come from ``article_body.html``.

``detect_format`` decides by content, never by name: Parquet magic bytes, a tar header, then
the keys of the first JSON object (an ``index`` action is Cirrus, ``article_body`` is
Enterprise, ``revid`` is WikiExtractor, anything else plain JSON Lines). A forced format is
checked on the first record, so a wrong ``--wikipedia-format`` fails at once with the file,
line and the field it expected. Every reader streams (one page at a time) and turns a bad
record into a reported skip with file, line and field.
"""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from redsearcher.errors import InputFormatError
from redsearcher.world.ingest._io import JsonLines, detect_compression, open_binary
from redsearcher.world.ingest._report import IngestReport
from redsearcher.world.ingest._wiki_markup import parsoid_text, split_extractor_links
from redsearcher.world.ingest._wiki_page import (
    BadPage,
    WikiLink,
    WikiPage,
    field,
    object_list,
    optional_item,
    optional_str,
    required_str,
    string_list,
)

WikiFormat = Literal["jsonl", "parquet", "wikiextractor", "cirrus", "enterprise"]
WIKI_FORMATS: tuple[str, ...] = get_args(WikiFormat)
#: Formats that name a page's item and its redirects: they are read twice (index, then pages).
INDEXED_FORMATS = frozenset({"cirrus", "enterprise"})

_PARQUET_MAGIC = b"PAR1"
_PARQUET_BATCH = 1024
_TAR_MAGIC_OFFSET = 257
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error)

Rows = Iterator[tuple[str | Path, int, dict[str, Any]]]  # (file shown in reports, line, row)


# -- detection ---------------------------------------------------------------------------------
def _is_tar(path: Path) -> bool:
    try:
        with open_binary(path) as fh:
            head = fh.read(_TAR_MAGIC_OFFSET + 8)
    except (OSError, EOFError, zlib.error, ValueError):
        return False
    return head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + 5] == b"ustar"


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == _PARQUET_MAGIC


def _first_object(path: Path) -> Mapping[str, Any] | None:
    for _, raw in JsonLines(path, IngestReport(0), report_errors=False):
        return raw
    return None


def _format_of(obj: Mapping[str, Any]) -> WikiFormat:
    if "index" in obj and "title" not in obj:
        return "cirrus"
    if "article_body" in obj:
        return "enterprise"
    if "revid" in obj:
        return "wikiextractor"
    return "jsonl"


def detect_format(path: Path) -> WikiFormat:
    """The format of a Wikipedia input, by its content.

    Raises:
        InputFormatError: for a missing, misnamed or unsupported-compression file.
    """
    detect_compression(path)
    if _is_parquet(path):
        return "parquet"
    if _is_tar(path):
        return "enterprise"
    try:
        first = _first_object(path)
    except InputFormatError:
        return "jsonl"  # the JSON Lines reader reports what is wrong with it
    return "jsonl" if first is None else _format_of(first)


_EXPECTED: dict[str, tuple[str, str]] = {  # format -> (required key of its first record, what)
    "cirrus": ("index", "an Elasticsearch bulk action line"),
    "enterprise": ("article_body", "an Enterprise article"),
    "wikiextractor": ("revid", "a WikiExtractor --json page"),
}


def _check_first(path: str | Path, fmt: str, line: int, row: Mapping[str, Any]) -> None:
    key, what = _EXPECTED[fmt]
    if key not in row and not (fmt == "cirrus" and "title" in row and "namespace" in row):
        raise InputFormatError(
            path, f"not a {fmt} file: the first record is not {what}", line=line, field=key
        )


# -- rows ----------------------------------------------------------------------------------------
def _json_rows(path: Path, report: IngestReport) -> Rows:
    for line, row in JsonLines(path, report):
        yield path, line, row


def _parquet_rows(path: Path) -> Rows:
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
    columns = [c for c in ("title", "text", "url", "links", "wikibase_item") if c in schema.names]
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
            for record in batch.to_pylist():
                row += 1
                yield path, row, record
    except (pa.ArrowException, OSError) as err:
        raise InputFormatError(path, f"cannot read Parquet row group: {err}", line=row) from err


def _member_rows(
    path: Path, member: str, lines: Iterator[bytes], report: IngestReport
) -> Iterator[tuple[str, int, dict[str, Any]]]:
    where = f"{path}/{member}"
    for line, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8").lstrip("\ufeff").strip()
        except UnicodeDecodeError as err:
            report.skip("bad_encoding", file=where, line=line, detail=str(err))
            continue
        if not text:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            report.skip("bad_json", file=where, line=line, detail=str(err))
            continue
        if not isinstance(obj, dict):
            detail = f"a JSON {type(obj).__name__}, not an object"
            report.skip("not_an_object", file=where, line=line, detail=detail)
            continue
        yield where, line, obj


def _tar_rows(path: Path, report: IngestReport) -> Rows:
    """The NDJSON records of every file in a (compressed) tar, streamed member by member."""
    member = "?"
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for info in archive:
                if not info.isfile():
                    continue
                member = info.name
                handle = archive.extractfile(info)
                if handle is None:
                    continue
                with handle:
                    yield from _member_rows(path, member, iter(handle), report)
    except _TAR_ERRORS as err:
        raise InputFormatError(path, f"cannot read the tar archive (at {member}): {err}") from err


# -- records -> pages ----------------------------------------------------------------------------
def _jsonl_page(row: Mapping[str, Any], language: str, text: bool) -> WikiPage | None:
    links = string_list(row, "links")
    return WikiPage(
        title=required_str(row, "title"),
        text=required_str(row, "text"),
        url=optional_str(row, "url"),
        links=tuple(WikiLink(t) for t in links if t.strip()),
        item=optional_item(row, "wikibase_item"),
    )


def _wikiextractor_page(row: Mapping[str, Any], language: str, text: bool) -> WikiPage | None:
    plain, links = split_extractor_links(required_str(row, "text"))
    return WikiPage(
        title=required_str(row, "title"),
        text=plain,
        url=optional_str(row, "url"),
        links=links,
    )


def title_url(title: str, language: str) -> str:
    """The canonical article URL of a title (``https://en.wikipedia.org/wiki/Title_With_Underscores``)."""
    path = quote(title.strip().replace(" ", "_"), safe="/:(),'!*;@$&+=~-._")
    return f"https://{language}.wikipedia.org/wiki/{path}"


def _namespace(value: Any, path: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadPage("wrong_type", f"{path} is a {type(value).__name__}, not a number")
    return int(value)


def _cirrus_page(row: Mapping[str, Any], language: str, text: bool) -> WikiPage | None:
    if _namespace(field(row, "namespace"), "namespace") != 0:
        return None
    title = required_str(row, "title")
    plain = optional_str(row, "text")
    if plain is None:
        plain = optional_str(row, "opening_text")
    if plain is None:
        raise BadPage("missing_field", "text")
    redirects = [
        r.get("title")
        for r in object_list(row, "redirect")
        if _namespace(r.get("namespace"), "redirect.namespace") == 0
    ]
    if not all(isinstance(t, str) for t in redirects):
        raise BadPage("wrong_type", "redirect.title is not a string")
    return WikiPage(
        title=title,
        text=plain,
        url=title_url(title, language),
        links=tuple(WikiLink(t) for t in string_list(row, "outgoing_link") if t.strip()),
        item=optional_item(row, "wikibase_item"),
        redirects=tuple(cast(list[str], redirects)),
    )


def _enterprise_page(row: Mapping[str, Any], language: str, text: bool) -> WikiPage | None:
    if _namespace(field(row, "namespace.identifier"), "namespace.identifier") != 0:
        return None
    title = required_str(row, "name")
    body = required_str(row, "article_body.html")
    plain, links = parsoid_text(body) if text else ("", ())
    redirects = []
    for redirect in object_list(row, "redirects"):
        name = redirect.get("name")
        if not isinstance(name, str):
            raise BadPage("wrong_type", "redirects.name is not a string")
        redirects.append(name)
    return WikiPage(
        title=title,
        text=plain,
        url=optional_str(row, "url") or title_url(title, language),
        links=links,
        item=optional_item(row, "main_entity.identifier"),
        redirects=tuple(redirects),
    )


_PAGE: dict[str, Callable[[Mapping[str, Any], str, bool], WikiPage | None]] = {
    "jsonl": _jsonl_page,
    "parquet": _jsonl_page,
    "wikiextractor": _wikiextractor_page,
    "cirrus": _cirrus_page,
    "enterprise": _enterprise_page,
}


def _rows(path: Path, fmt: WikiFormat, report: IngestReport) -> Rows:
    if fmt == "parquet":
        return _parquet_rows(path)
    if fmt == "enterprise" and _is_tar(path):
        return _tar_rows(path, report)
    return _json_rows(path, report)


def iter_pages(
    path: Path, fmt: WikiFormat, report: IngestReport, language: str = "en", *, text: bool = True
) -> Iterator[tuple[int, WikiPage]]:
    """Stream the pages of one input with their line (Parquet: row) numbers.

    Malformed records are skipped and reported (file, line, reason, the field in the detail);
    Cirrus action lines and pages outside namespace 0 are passed over (``other_namespace``).
    With ``text=False`` the Enterprise HTML is not parsed (pages come without text and
    links): the first pass needs only titles, items and redirects.

    Raises:
        InputFormatError: for a file that is not of format ``fmt`` as a whole.
    """
    detect_compression(path)
    page_of = _PAGE[fmt]
    first = True
    for where, line, row in _rows(path, fmt, report):
        if first and fmt in _EXPECTED:
            _check_first(where, fmt, line, row)
        first = False
        if fmt == "cirrus" and "index" in row and "title" not in row:
            continue  # the bulk action line before each page
        try:
            page = page_of(row, language, text)
        except BadPage as bad:
            report.skip(bad.reason, file=where, line=line, detail=bad.detail)
            continue
        if page is None:
            report.skip("other_namespace")
            continue
        yield line, page
