"""Record-and-replay in the index: recorded result lists and recorded pages, served as seen.

A World ingested from recordings (``redsearcher world ingest --replay``) holds what a real
engine once returned: ``recorded_searches`` (result lists by query) and documents read by Jina
Reader (id ``web:`` + a hash of their URL, ``source_url`` the URL read). Replaying means the
environment answers those queries and those URLs the way the engine did, so an agent run
against the recording sees what the recorded run saw:

- **Recorded pages** are stored under their *recorded* URL, which search results show and the
  reader and visit accept, because that URL is what the real engine returned and what a
  recorded trajectory asks for. The obfuscated URL the minter gives every document stays
  readable as a second address (``url_aliases.arrow``). A document counts as recorded exactly
  when its id is the replay ingest's id of its ``source_url``
  (:func:`redsearcher.world.ingest.url_doc_id`): Wikipedia pages and synthetic documents keep
  their obfuscated URLs (the paper's obfuscation exists to hide those).
- **Recorded result lists** answer the *exact* query: the same text after case folding and
  whitespace collapsing (:func:`normalize_query`), of the same search type. The table
  ``recorded_searches.arrow`` holds them keyed by that normalized query, with 1-based positions
  over all recorded pages (how ingest stores them) and each result's store row, recorded title
  and snippet. A request for ``num`` results on ``page`` gets the recorded results at positions
  ``(page - 1) * num + 1 .. page * num`` with their recorded positions: fewer than ``num`` (or
  none) past the end of the recording, never index hits mixed into a recorded list. Any other
  query goes to the index.

Nothing is written for a World without recordings, so the index of a synthetic World is the
same as before this module existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.feather as feather

from redsearcher.env._urls import normalize_url
from redsearcher.world import World
from redsearcher.world.ingest import url_doc_id

RECORDED_SEARCHES_FILE: Final = "recorded_searches.arrow"
URL_ALIASES_FILE: Final = "url_aliases.arrow"
#: The search type the Serper ``/search`` twin replays (``news`` lists are kept, not served).
WEB_SEARCH: Final = "search"

_LISTS_SCHEMA: Final = pa.schema(
    [
        pa.field("query", pa.string(), nullable=False),
        pa.field("search_type", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("snippet", pa.string()),
    ]
)
_ALIASES_SCHEMA: Final = pa.schema(
    [pa.field("url", pa.string(), nullable=False), pa.field("row", pa.int64(), nullable=False)]
)


def normalize_query(query: str) -> str:
    """The key a query is replayed by: case-folded, whitespace collapsed and trimmed."""
    return " ".join(query.split()).casefold()


def recorded_url(doc_id: str, source_url: str | None) -> str | None:
    """The URL a recorded page is served at (its ``source_url``), or None for other documents."""
    if source_url and doc_id.startswith("web:") and doc_id == url_doc_id(source_url):
        return source_url
    return None


class RecordingsBuilder:
    """Collects, during the index's document pass, what replay needs; writes it at the end.

    Args:
        world: The World being indexed (its ``recorded_searches`` are read once, up front, to
            know which documents' rows to remember).
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self.wanted: set[str] = set()
        if world.count("recorded_searches"):
            ids = world.table("recorded_searches", columns=["doc_id"]).column("doc_id")
            self.wanted = set(ids.to_pylist())
        self.rows: dict[str, int] = {}
        self.aliases: list[tuple[str, int]] = []

    def document(self, row: int, doc_id: str, obfuscated: str | None) -> None:
        """Note one indexed document: its row when a list cites it, its obfuscated alias."""
        if doc_id in self.wanted:
            self.rows.setdefault(doc_id, row)
        if obfuscated is not None:
            self.aliases.append((obfuscated, row))

    def write(self, directory: Path) -> dict[str, int]:
        """Write the two tables (only those with rows); the counts for the index manifest."""
        counts: dict[str, int] = {}
        lists = self._lists()
        if lists.num_rows:
            feather.write_feather(lists, directory / RECORDED_SEARCHES_FILE, compression=None)
            counts["recorded_results"] = lists.num_rows
        if self.aliases:
            urls, rows = zip(*self.aliases, strict=True)
            table = pa.table({"url": list(urls), "row": list(rows)}, schema=_ALIASES_SCHEMA)
            feather.write_feather(table, directory / URL_ALIASES_FILE, compression=None)
            counts["recorded_urls"] = len(self.aliases)
        return counts

    def _lists(self) -> pa.Table:
        """One list per (normalized query, type): the first raw spelling recorded wins.

        Two recordings whose queries differ only in case or spacing would otherwise be merged
        position by position into a list no engine returned.
        """
        first: dict[tuple[str, str], str] = {}
        columns: dict[str, list[object]] = {name: [] for name in _LISTS_SCHEMA.names}
        seen: set[tuple[str, str, int]] = set()
        for rec in self.world.iter_records("recorded_searches"):
            key = (normalize_query(rec.query), rec.search_type)
            row = self.rows.get(rec.doc_id)
            if row is None or first.setdefault(key, rec.query) != rec.query:
                continue
            if (*key, rec.position) in seen:
                continue
            seen.add((*key, rec.position))
            for name, value in zip(
                _LISTS_SCHEMA.names,
                (key[0], key[1], rec.position, row, rec.title, rec.snippet),
                strict=True,
            ):
                columns[name].append(value)
        return pa.table(columns, schema=_LISTS_SCHEMA)


#: One replayed result: (position, store row, recorded title, recorded snippet).
RecordedResult = tuple[int, int, str | None, str | None]


def _www_variants(key: str) -> Iterable[str]:
    yield key
    yield key[4:] if key.startswith("www.") else "www." + key


class Recordings:
    """The replay tables of an index directory, read into memory (recordings are small).

    Use :meth:`open`, which gives None for an index without recordings.
    """

    def __init__(
        self, lists: dict[tuple[str, str], list[RecordedResult]], aliases: dict[str, int]
    ) -> None:
        self.lists = lists
        self.aliases = aliases

    @classmethod
    def open(cls, directory: Path) -> Recordings | None:
        """The recordings of the index at ``directory``, or None when it holds none."""
        lists_file, aliases_file = directory / RECORDED_SEARCHES_FILE, directory / URL_ALIASES_FILE
        if not lists_file.exists() and not aliases_file.exists():
            return None
        lists: dict[tuple[str, str], list[RecordedResult]] = {}
        if lists_file.exists():
            table = feather.read_table(lists_file, memory_map=False)
            for q, t, pos, row, title, snippet in zip(
                *(table.column(n).to_pylist() for n in _LISTS_SCHEMA.names), strict=True
            ):
                lists.setdefault((q, t), []).append((pos, row, title, snippet))
            for results in lists.values():
                results.sort()
        aliases: dict[str, int] = {}
        if aliases_file.exists():
            table = feather.read_table(aliases_file, memory_map=False)
            for url, row in zip(
                table.column("url").to_pylist(), table.column("row").to_pylist(), strict=True
            ):
                aliases.setdefault(normalize_url(url), row)
        return cls(lists, aliases)

    def window(
        self, query: str, k: int, offset: int, search_type: str = WEB_SEARCH
    ) -> list[RecordedResult] | None:
        """The recorded results at positions ``offset + 1 .. offset + k``; None if unrecorded."""
        results = self.lists.get((normalize_query(query), search_type))
        if results is None:
            return None
        return [r for r in results if offset < r[0] <= offset + k]

    def row_of_alias(self, url: str) -> int | None:
        """The row of a recorded page by its obfuscated URL (``www.`` optional), or None."""
        key = normalize_url(url)
        if not key:
            return None
        for candidate in _www_variants(key):
            row = self.aliases.get(candidate)
            if row is not None:
                return row
        return None
