"""Opening input files: compression detection and line streaming with file-level errors.

Dumps arrive plain, gzip'ed or bzip2'ed, and file names lie often enough (a ``.json`` that is
really gzip, a truncated ``.bz2``) that the extension alone cannot be trusted. The magic bytes
decide how a file is decompressed; an extension that promises a compression the bytes do not
have is a malformed *file*. Lines are read as bytes and decoded one at a time so that a single
badly encoded line is a skipped record, while a decompression failure anywhere is an
``InputFormatError`` naming the file and the line it happened at.
"""

from __future__ import annotations

import bz2
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from redsearcher.errors import InputFormatError
from redsearcher.world.ingest._report import IngestReport

Compression = Literal["gzip", "bz2"] | None

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_UNSUPPORTED = {b"\x28\xb5\x2f\xfd": "zstd", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
_EXTENSIONS: dict[str, Compression] = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2"}
_DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, ValueError)


def detect_compression(path: Path) -> Compression:
    """How ``path`` is compressed, decided by its magic bytes and checked against its name.

    Raises:
        InputFormatError: when the file is missing, compressed with an unsupported method, or
            named ``.gz``/``.bz2`` without being so compressed.
    """
    if not path.is_file():
        raise InputFormatError(path, "no such file")
    with path.open("rb") as fh:
        head = fh.read(8)
    by_magic: Compression = None
    if head.startswith(_GZIP_MAGIC):
        by_magic = "gzip"
    elif head.startswith(_BZ2_MAGIC):
        by_magic = "bz2"
    for magic, name in _UNSUPPORTED.items():
        if head.startswith(magic):
            raise InputFormatError(path, f"{name}-compressed files are not supported")
    by_name = _EXTENSIONS.get(path.suffix.lower())
    if by_name is not None and by_magic != by_name:
        raise InputFormatError(path, f"named {path.suffix} but the content is not {by_name}")
    return by_magic


def stem(path: Path) -> str:
    """The file name without a compression extension (``a.jsonl.gz`` -> ``a.jsonl``)."""
    name = path.name
    for ext in _EXTENSIONS:
        if name.lower().endswith(ext):
            return name[: -len(ext)]
    return name


def open_binary(path: Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing as its magic bytes say."""
    compression = detect_compression(path)
    if compression == "gzip":
        return cast(BinaryIO, gzip.open(path, "rb"))
    if compression == "bz2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    return path.open("rb")


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, raw_line)`` (1-based, decompressed, newline kept).

    Raises:
        InputFormatError: when decompression fails; the message names the last line reached.
    """
    line_no = 0
    fh = open_binary(path)
    try:
        with fh:
            while True:
                try:
                    raw = fh.readline()
                except _DECOMPRESSION_ERRORS as err:
                    raise InputFormatError(
                        path, f"cannot decompress after line {line_no}: {err}", line=line_no + 1
                    ) from err
                if not raw:
                    return
                line_no += 1
                yield line_no, raw
    except _DECOMPRESSION_ERRORS as err:  # raised by close() on some truncated streams
        raise InputFormatError(path, f"cannot decompress: {err}", line=line_no) from err


def first_char(path: Path) -> str | None:
    """The first non-whitespace character of the decompressed file (``None`` if empty)."""
    for _, raw in iter_lines(path):
        text = raw.removeprefix(b"\xef\xbb\xbf").lstrip()
        if text:
            return chr(text[0])
    return None


class JsonLines:
    """Iterate the JSON object on each non-blank line of a file, skipping bad ones.

    A line is stripped of surrounding whitespace and of one trailing comma (the Wikidata dump
    puts ``,`` after every entity); lines in ``ignore`` (``[`` and ``]``) are skipped silently.
    Bad lines are reported to ``report`` as ``bad_encoding``, ``bad_json`` or ``not_an_object``.
    When ``report_errors`` is false they are still skipped but not reported (used when a file
    is read a second time). A file with bad lines and no good one is not JSON Lines at all,
    which raises ``InputFormatError`` once the file is exhausted.
    """

    def __init__(
        self,
        path: Path,
        report: IngestReport,
        *,
        ignore: frozenset[str] = frozenset(),
        strip_comma: bool = False,
        report_errors: bool = True,
    ) -> None:
        self.path = path
        self.report = report
        self.ignore = ignore
        self.strip_comma = strip_comma
        self.report_errors = report_errors
        self.good = 0
        self.bad = 0
        self._first_bad: int | None = None

    def _bad(self, reason: str, line: int, detail: str) -> None:
        self.bad += 1
        if self._first_bad is None:
            self._first_bad = line
        if self.report_errors:
            self.report.skip(reason, file=self.path, line=line, detail=detail)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line_no, raw in iter_lines(self.path):
            try:
                text = raw.decode("utf-8").lstrip("\ufeff").strip()
            except UnicodeDecodeError as err:
                self._bad("bad_encoding", line_no, str(err))
                continue
            if not text or text in self.ignore:
                continue
            if self.strip_comma and text.endswith(","):
                text = text[:-1]
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                self._bad("bad_json", line_no, str(err))
                continue
            if not isinstance(obj, dict):
                self._bad("not_an_object", line_no, f"a JSON {type(obj).__name__}, not an object")
                continue
            self.good += 1
            yield line_no, obj
        if self.good == 0 and self.bad > 0:
            raise InputFormatError(
                self.path,
                "no line holds a JSON object: not a JSON Lines file",
                line=self._first_bad,
            )
