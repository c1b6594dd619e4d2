"""Record-and-replay: cached Serper search results and Jina Reader pages as a World.

A recording is whatever a real agent run saw: search result lists and the pages it opened.
Turning it into a World lets the local environment replay exactly those results for exactly
those queries (``recorded_searches``) and serve the pages (documents), without a network.

Accepted files (plain, ``.gz`` or ``.bz2``): ``.json`` holds one response or a JSON list of
responses and is read whole (one cached response per file is the usual layout); anything else
(``.jsonl``, ``.ndjson``) is JSON Lines, one response per line, streamed. A directory is
searched recursively for such files, in sorted order. A response is one of:

* Serper search JSON: ``{"searchParameters": {"q", "type", ...}, "organic": [...]}`` (the
  ``news`` list of ``/news`` responses is read like ``organic``; ``places``/``images``/...
  responses have no pages and are skipped as ``unsupported_search_type``);
* Jina Reader JSON: ``{"code": 200, "status": 20000, "data": {"title", "description", "url",
  "content", "publishedTime"?}}``;
* a wrapper ``{"request": {...}, "response": <one of the above>}``; the request supplies a
  missing query (``q``) or URL (``url``), and a reader request URL that differs from the
  page's final URL (a redirect) is recorded as a second address of the same page.

Every reader page becomes a document (id ``web:`` + the first 16 hex digits of the SHA-1 of
the normalized URL; duplicate URLs are one document); its kind comes from ``kind_for_url``.
Reader pages are read first, from all files, so that a search result whose link has a page
(or a Wikipedia document with that URL) points to it; any other result becomes a ``snippet``
document. Each result list is stored in ``recorded_searches`` once per (query, type, page);
positions are 1-based over all pages (results of page 2 with ``num`` 10 start at 11).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redsearcher.errors import InputFormatError
from redsearcher.world._records import Document, RecordedSearch
from redsearcher.world._store import WorldWriter
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._io import JsonLines, open_binary, stem
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._sink import DocumentSink

_SUFFIXES = (".json", ".jsonl", ".ndjson")
_OTHER_RESULTS = ("places", "images", "videos", "shopping", "patents")
_PAPER_HOSTS = (
    "arxiv.org",
    "doi.org",
    "aclanthology.org",
    "openreview.net",
    "semanticscholar.org",
    "pubmed.ncbi.nlm.nih.gov",
    "ncbi.nlm.nih.gov",
    "scholar.google.com",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "springer.com",
    "sciencedirect.com",
)
_NEWS_HOSTS = (
    "bbc.co.uk",
    "bbc.com",
    "nytimes.com",
    "reuters.com",
    "theguardian.com",
    "cnn.com",
    "apnews.com",
    "washingtonpost.com",
    "bloomberg.com",
    "aljazeera.com",
)
_FORUM_HOSTS = ("reddit.com", "stackoverflow.com", "stackexchange.com", "quora.com")


def canonical_url(url: str) -> str:
    """A URL as an identity (recorded pages and their doc ids).

    Scheme and host lower-cased, fragment dropped, empty path ``/``, query kept. Not
    :func:`redsearcher.env.normalize_url`, the looser lookup key a visit matches an agent's URL by.
    """
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def url_doc_id(url: str) -> str:
    """The document id of a recorded page: ``web:`` + sha1(normalized URL)[:16]."""
    return "web:" + hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]


def _host_in(host: str, hosts: Sequence[str]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def kind_for_url(url: str) -> str:
    """The document kind a URL suggests (the heuristic, in order).

    ``*.wikipedia.org`` -> ``encyclopedia``; scholarly hosts (arXiv, DOI, ACL Anthology,
    OpenReview, PubMed, ...) or a path ending in ``.pdf`` -> ``paper_abstract``; news hosts
    (BBC, NYT, Reuters, ...), a ``news.`` host or a ``/news/`` path -> ``news``; Reddit,
    Stack Exchange, Quora, a ``forum.`` host or ``/forum`` path -> ``forum``; an empty path
    -> ``homepage``; anything else -> ``web``.
    """
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().split(":")[0].removeprefix("www.")
    path = parts.path.lower()
    if _host_in(host, ("wikipedia.org",)):
        return "encyclopedia"
    if _host_in(host, _PAPER_HOSTS) or path.endswith(".pdf"):
        return "paper_abstract"
    if _host_in(host, _NEWS_HOSTS) or host.startswith("news.") or "/news/" in path:
        return "news"
    if _host_in(host, _FORUM_HOSTS) or host.startswith("forum.") or path.startswith("/forum"):
        return "forum"
    if path in ("", "/") and not parts.query:
        return "homepage"
    return "web"


def expand(paths: Sequence[Path]) -> list[Path]:
    """Files to read: each file as given, each directory's JSON/JSONL files, sorted.

    Raises:
        InputFormatError: for a missing path or a directory without such files.
    """
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and stem(p).lower().endswith(_SUFFIXES)
            )
            if not found:
                raise InputFormatError(path, "directory holds no .json/.jsonl files")
            out.extend(found)
        elif path.is_file():
            out.append(path)
        else:
            raise InputFormatError(path, "no such file or directory")
    return out


def _iter_objects(
    path: Path, report: IngestReport, report_errors: bool
) -> Iterator[tuple[int | None, dict[str, Any]]]:
    if stem(path).lower().endswith(".json"):
        with open_binary(path) as fh:
            try:
                data = json.loads(fh.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                data = None  # maybe JSON Lines under a .json name; tried below
            except (OSError, EOFError, zlib.error) as err:
                raise InputFormatError(path, f"cannot decompress: {err}") from err
        if isinstance(data, dict):
            yield None, data
            return
        if isinstance(data, list):
            for i, item in enumerate(data, 1):
                if isinstance(item, dict):
                    yield None, item
                elif report_errors:
                    report.skip("not_an_object", file=path, detail=f"list item {i}")
            return
    yield from JsonLines(path, report, report_errors=report_errors)


def _unwrap(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    response, request = obj.get("response"), obj.get("request")
    if isinstance(response, dict) and "organic" not in obj and "data" not in obj:
        return response, request if isinstance(request, dict) else {}
    return obj, {}


def _classify(response: dict[str, Any]) -> str:
    if "data" in response and ("code" in response or "status" in response):
        return "reader"
    if "searchParameters" in response or "organic" in response or "news" in response:
        return "search"
    return "unknown"


def _positive(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return default


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class _Replay:
    """The two passes over the recorded files: pages first, then result lists."""

    def __init__(
        self, config: IngestConfig, scratch: Scratch, writer: WorldWriter, report: IngestReport
    ) -> None:
        self.language = config.language
        self.scratch = scratch
        self.writer = writer
        self.report = report
        self.docs = DocumentSink(writer, config.batch_rows)

    def page(self, path: Path, line: int | None, resp: dict[str, Any], req: dict[str, Any]) -> None:
        report = self.report
        data = resp.get("data")
        if resp.get("code", 200) != 200 or not isinstance(data, dict):
            detail = f"code {resp.get('code')!r}, status {resp.get('status')!r}"
            report.skip("reader_error", file=path, line=line, detail=detail)
            return
        url = _str(data.get("url")) or _str(req.get("url"))
        content = data.get("content")
        if url is None or content is None:
            missing = "url" if url is None else "content"
            report.skip("missing_field", file=path, line=line, detail=f"data.{missing}")
            return
        if not isinstance(content, str):
            report.skip("wrong_type", file=path, line=line, detail="data.content is not a string")
            return
        key = canonical_url(url)
        doc_id = self.scratch.doc_for_url(key)
        if doc_id is None:
            doc_id = url_doc_id(url)
            self.scratch.add_doc(doc_id)
            self.scratch.add_url(key, doc_id)
            published = _str(data.get("publishedTime"))
            self.docs.add(
                Document(
                    id=doc_id,
                    title=_str(data.get("title")) or url,
                    text=content,
                    kind=kind_for_url(url),
                    published=published,
                    language=self.language,
                    source_url=url,
                )
            )
            report.count("replay_pages")
        else:
            report.skip("duplicate_document")
        if (requested := _str(req.get("url"))) is not None:
            self.scratch.add_url(canonical_url(requested), doc_id)

    def search(
        self, path: Path, line: int | None, resp: dict[str, Any], req: dict[str, Any]
    ) -> None:
        report = self.report
        params = resp.get("searchParameters")
        params = params if isinstance(params, dict) else {}
        query = _str(params.get("q")) or _str(req.get("q"))
        results = resp.get("organic", resp.get("news"))
        default_type = "search" if "organic" in resp else "news"
        search_type = _str(params.get("type")) or default_type
        if query is None:
            report.skip("missing_field", file=path, line=line, detail="searchParameters.q")
            return
        if not isinstance(results, list):
            if any(key in resp for key in _OTHER_RESULTS):  # maps, images, ...: no pages
                report.skip("unsupported_search_type")
            else:
                report.skip("missing_field", file=path, line=line, detail="organic")
            return
        page, num = _positive(params.get("page"), 1), _positive(params.get("num"), 10)
        if not self.scratch.add_search(query, search_type, page):
            report.skip("duplicate_search")
            return
        offset = (page - 1) * num
        report.count("search_lists")
        rows: list[RecordedSearch] = []
        for i, item in enumerate(results, 1):
            link = _str(item.get("link")) if isinstance(item, dict) else None
            if link is None:
                report.skip("missing_field", file=path, line=line, detail=f"organic[{i}].link")
                continue
            title, snippet = _str(item.get("title")), _str(item.get("snippet"))
            position = _positive(item.get("position"), i)
            if position <= offset:  # numbered within its page: make it global
                position += offset
            key = canonical_url(link)
            doc_id = self.scratch.doc_for_url(key)
            if doc_id is None:
                doc_id = url_doc_id(link)
                self.scratch.add_doc(doc_id)
                self.scratch.add_url(key, doc_id)
                doc = Document(
                    id=doc_id,
                    title=title or link,
                    text=snippet or "",
                    kind="snippet",
                    language=self.language,
                    source_url=link,
                )
                self.docs.add(doc)
                report.count("replay_snippets")
            rows.append(RecordedSearch(query, search_type, position, doc_id, title, snippet))
        self.writer.add_recorded_searches(rows)


def ingest_replay(
    paths: Sequence[Path],
    config: IngestConfig,
    scratch: Scratch,
    writer: WorldWriter,
    report: IngestReport,
    display: ProgressDisplay,
) -> None:
    """Read recorded responses into documents and ``recorded_searches`` (two passes)."""
    replay = _Replay(config, scratch, writer, report)
    for first_pass in (True, False):
        for path in paths:
            label = "pages" if first_pass else "searches"
            tracker = display.task(f"replay {label} {path.name}")
            for line, obj in _iter_objects(path, report, report_errors=first_pass):
                tracker.advance()
                response, request = _unwrap(obj)
                kind = _classify(response)
                if first_pass:
                    report.count("replay_records")
                    if kind == "reader":
                        replay.page(path, line, response, request)
                    elif kind == "unknown":
                        keys = ", ".join(sorted(response)[:5])
                        report.skip("unknown_response", file=path, line=line, detail=keys)
                elif kind == "search":
                    replay.search(path, line, response, request)
            tracker.done()
    replay.docs.flush()
