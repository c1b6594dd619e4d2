"""Reading a benchmark file's rows, whatever table format it ships in, with row numbers.

Benchmarks ship as CSV (BrowseComp, xbench), TSV (Frames), JSONL/JSON (GAIA's metadata,
generic question files), Parquet (GAIA, HLE) and Excel (BrowseComp-ZH). Every loader reads them
through :func:`read_table`, so "which file, which row, which column" has one answer: rows are
numbered from 1 over the data rows (the header is not a row), and errors name file, row and
field. Excel is read with the standard library (an ``.xlsx`` file is zipped XML), so no
spreadsheet package is needed for one benchmark.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from redsearcher.errors import InputFormatError, UserError

__all__ = ["FORMATS", "Table", "read_table", "row_error"]

#: File suffixes :func:`read_table` reads, and the format each stands for.
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
}

_XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")


@dataclass(frozen=True)
class Table:
    """A file's column names and its rows as ``(row number, {column: value})``."""

    path: Path
    format: str
    columns: list[str]
    rows: list[tuple[int, dict[str, Any]]]

    def require(self, *names: str) -> None:
        """Refuse a file that lacks any of the columns ``names``.

        Raises:
            InputFormatError: naming the file, the missing column and the columns it has.
        """
        for name in names:
            if name not in self.columns:
                have = ", ".join(repr(c) for c in self.columns) or "none"
                raise InputFormatError(
                    self.path, f"missing column {name!r} (the file has {have})", field=name
                )


def row_error(path: Path, row: int, field: str | None, message: str) -> InputFormatError:
    """An error naming the file, the data row and the field."""
    return InputFormatError(path, f"row {row}: {message}", field=field)


def read_table(path: str | Path, formats: Sequence[str] | None = None) -> Table:
    """Read every row of a benchmark file.

    Args:
        path: The file; its suffix says the format (see :data:`FORMATS`).
        formats: The formats the caller accepts (default: all).

    Raises:
        UserError: when the file does not exist.
        InputFormatError: for an unknown or unaccepted format, or a file that does not parse.
    """
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{source}: benchmark file not found")
    kind = FORMATS.get(source.suffix.lower())
    accepted = list(formats) if formats is not None else sorted(set(FORMATS.values()))
    if kind is None or kind not in accepted:
        raise InputFormatError(
            source,
            f"unknown benchmark file format {source.suffix or '(no suffix)'!r}; "
            f"expected one of: {', '.join(accepted)}",
        )
    reader = {
        "csv": _delimited,
        "tsv": _delimited,
        "jsonl": _jsonl,
        "json": _json,
        "parquet": _parquet,
        "xlsx": _xlsx,
    }[kind]
    columns, rows = reader(source, kind)
    return Table(source, kind, columns, rows)


def _delimited(path: Path, kind: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputFormatError(path, f"not UTF-8 text (byte {err.start})") from err
    csv.field_size_limit(1 << 30)
    reader = csv.reader(text.splitlines(keepends=True), delimiter="\t" if kind == "tsv" else ",")
    try:
        header = next(reader, None)
        if header is None:
            raise InputFormatError(path, "empty file (no header row)")
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, values in enumerate(reader, start=1):
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise row_error(
                    path, number, None, f"{len(values)} fields, the header has {len(header)}"
                )
            rows.append((number, dict(zip(header, values, strict=True))))
    except csv.Error as err:
        raise InputFormatError(path, f"not {kind.upper()}: {err}") from err
    return header, rows


def _jsonl(path: Path, kind: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as err:
                raise InputFormatError(path, "not UTF-8 text", line=number) from err
            except json.JSONDecodeError as err:
                raise InputFormatError(path, f"not JSON: {err.msg}", line=number) from err
            if not isinstance(value, dict):
                raise InputFormatError(path, "a row must be a JSON object", line=number)
            columns.update(dict.fromkeys(value))
            rows.append((number, value))
    return list(columns), rows


def _json(path: Path, kind: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputFormatError(path, f"not JSON: {err}") from err
    if not isinstance(value, list):
        raise InputFormatError(path, "a JSON benchmark file must hold an array of objects")
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise row_error(path, number, None, "a row must be a JSON object")
        columns.update(dict.fromkeys(item))
        rows.append((number, item))
    return list(columns), rows


def _parquet(path: Path, kind: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        raise InputFormatError(path, f"not a Parquet file: {err}") from err
    rows = [(number, row) for number, row in enumerate(table.to_pylist(), start=1)]
    return list(table.column_names), rows


def _xlsx(path: Path, kind: str) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """The first worksheet of an ``.xlsx`` workbook (shared and inline strings, numbers)."""
    try:
        with zipfile.ZipFile(path) as book:
            strings = _shared_strings(book)
            sheet = ElementTree.fromstring(book.read(_first_sheet(book)))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as err:
        raise InputFormatError(path, f"not an .xlsx workbook: {err}") from err
    grid: list[list[Any]] = []
    for row in sheet.iterfind("m:sheetData/m:row", _XLSX_NS):
        values: dict[int, Any] = {}
        for cell in row.iterfind("m:c", _XLSX_NS):
            match = _CELL_REF.fullmatch(cell.get("r", ""))
            column = _column_index(match.group(1)) if match else len(values)
            values[column] = _cell_value(cell, strings)
        width = max(values, default=-1) + 1
        grid.append([values.get(i) for i in range(width)])
    if not grid:
        raise InputFormatError(path, "empty worksheet (no header row)")
    header = ["" if v is None else str(v) for v in grid[0]]
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(grid[1:], start=1):
        if all(v is None or str(v).strip() == "" for v in cells):
            continue
        padded = cells + [None] * (len(header) - len(cells))
        rows.append((number, dict(zip(header, padded[: len(header)], strict=True))))
    return header, rows


def _first_sheet(book: zipfile.ZipFile) -> str:
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    first = workbook.find("m:sheets/m:sheet", _XLSX_NS)
    rel_id = first.get(_REL_NS) if first is not None else None
    if rel_id is not None and "xl/_rels/workbook.xml.rels" in book.namelist():
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        for rel in rels:
            if rel.get("Id") == rel_id:
                target = rel.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return "xl/worksheets/sheet1.xml"


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
    return [
        "".join(t.text or "" for t in item.iter(f"{{{_XLSX_NS['m']}}}t"))
        for item in root.iterfind("m:si", _XLSX_NS)
    ]


def _cell_value(cell: ElementTree.Element, strings: list[str]) -> Any:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{_XLSX_NS['m']}}}t"))
    raw = cell.findtext("m:v", default=None, namespaces=_XLSX_NS)
    if raw is None:
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw == "1"
    number = float(raw)
    return int(number) if number.is_integer() else number


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - ord("A") + 1)
    return index - 1


def iter_rows(table: Table) -> Iterator[tuple[int, dict[str, Any]]]:
    """The table's rows (a seam for loaders that filter)."""
    yield from table.rows
