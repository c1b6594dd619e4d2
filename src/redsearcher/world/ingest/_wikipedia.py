"""Wikipedia pages, in any supported format, as encyclopedia documents joined to items.

The readers (``_wiki_formats``) turn every format into ``WikiPage`` records; this module joins
them to entities and resolves their hyperlinks:

* **Join.** A page is about the entity its input names (Cirrus ``wikibase_item``, Enterprise
  ``main_entity.identifier``, a JSONL ``wikibase_item``) when that entity was ingested, else
  the entity whose ``{language}wiki`` sitelink title equals the page title after
  normalization (``_`` -> space, first letter case-insensitive). Pages that join to nothing
  stay documents about nothing, counted as ``unjoined``.
* **Redirects.** Formats that list the redirects to a page (Cirrus ``redirect``, Enterprise
  ``redirects``) are read twice: a first pass records, in the scratch store, every page title
  and redirect title with the item of its page, so a link may come before the page that
  carries its redirect. Memory stays independent of the dump size.
* **Entity linking by hyperlinks.** A link's target title resolves through that table (title
  or redirect -> item), else by sitelink; the linked entities go to fact detection with the
  anchor texts that linked them (``LinkedEntity``), and a link between joined pages is a
  ``links_to`` fact.

Each page becomes one ``encyclopedia`` document whose mentions are the joined entity followed
by the linked entities; the facts it states are decided by ``_statements.page_statements``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from redsearcher.world._records import Document, Fact, Provenance
from redsearcher.world._store import WorldWriter
from redsearcher.world.ingest._config import LINKS_TO, IngestConfig
from redsearcher.world.ingest._io import stem
from redsearcher.world.ingest._replay import canonical_url
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._sink import DocumentSink
from redsearcher.world.ingest._statements import LinkedEntity, page_statements
from redsearcher.world.ingest._wiki_formats import (
    INDEXED_FORMATS,
    WikiFormat,
    detect_format,
    iter_pages,
)
from redsearcher.world.ingest._wiki_page import WikiPage
from redsearcher.world.ingest._wikidata import title_key

__all__ = ["ingest_wikipedia", "wiki_doc_id"]


#: English Wikipedia namespace prefixes (and aliases) of pages that are not articles: a
#: link to ``File:…`` or ``Category:…`` (Cirrus ``outgoing_link`` lists them all) is no entity.
OTHER_NAMESPACES = frozenset(
    (
        "talk",
        "user",
        "user talk",
        "wikipedia",
        "wikipedia talk",
        "wp",
        "project",
        "file",
        "image",
        "file talk",
        "mediawiki",
        "template",
        "template talk",
        "help",
        "help talk",
        "category",
        "category talk",
        "portal",
        "portal talk",
        "draft",
        "draft talk",
        "timedtext",
        "module",
        "module talk",
        "special",
        "media",
    )
)


def wiki_doc_id(title: str) -> str:
    """The document id of a page: ``wiki:`` + sha1(normalized title)[:16]."""
    return "wiki:" + hashlib.sha1(title_key(title).encode("utf-8")).hexdigest()[:16]


class _Resolver:
    """Page titles and link targets -> entity ids (the scratch store does the remembering)."""

    def __init__(self, scratch: Scratch, report: IngestReport, indexed: bool) -> None:
        self.scratch = scratch
        self.report = report
        self.indexed = indexed

    def about(self, page: WikiPage) -> str | None:
        """The entity a page is about: its named item when ingested, else by sitelink."""
        if page.item is not None and self.scratch.has_entity(page.item):
            self.report.count("joined_by_item")
            return page.item
        found = self.scratch.entity_by_title(title_key(page.title))
        if found is not None:
            self.report.count("joined_by_sitelink")
        return found

    def target(self, title: str) -> str | None:
        """The entity a link to ``title`` reaches: by the title/redirect table, else by sitelink."""
        key = title_key(title)
        if self.indexed:
            hit = self.scratch.wiki_title_item(key)
            if hit is not None:
                item, via_redirect = hit
                if via_redirect:
                    self.report.count("links_via_redirect")
                return item
        return self.scratch.entity_by_title(key)

    def index(self, page: WikiPage) -> None:
        """First pass: remember the page's title and its redirects with the page's item."""
        item = self.about(page)
        if item is None:
            return
        self.scratch.add_wiki_titles(
            [(title_key(page.title), item, False)]
            + [(title_key(r), item, True) for r in page.redirects if r.strip()]
        )
        self.report.count("wikipedia_redirects", len(page.redirects))


class _PageWriter:
    """Turns pages into documents, ``links_to`` facts and provenance."""

    def __init__(
        self,
        config: IngestConfig,
        scratch: Scratch,
        writer: WorldWriter,
        report: IngestReport,
        resolver: _Resolver,
    ) -> None:
        self.config = config
        self.scratch = scratch
        self.writer = writer
        self.report = report
        self.resolver = resolver
        self.docs = DocumentSink(writer, config.batch_rows)

    def _linked(self, page: WikiPage, about: str | None) -> list[LinkedEntity]:
        anchors: dict[str, list[str]] = {}  # entity -> anchors, in first-link order
        for link in page.links:
            prefix, colon, _ = link.target.partition(":")
            if colon and prefix.strip().replace("_", " ").lower() in OTHER_NAMESPACES:
                self.report.count("links_other_namespace")
                continue
            target = self.resolver.target(link.target)
            if target is None:
                self.report.count("links_unresolved")
                continue
            if target == about:
                continue
            seen = anchors.setdefault(target, [])
            if link.anchor and link.anchor not in seen:
                seen.append(link.anchor)
        return [LinkedEntity(eid, tuple(texts)) for eid, texts in anchors.items()]

    def add(self, page: WikiPage) -> None:
        scratch, report = self.scratch, self.report
        doc_id = wiki_doc_id(page.title)
        if not scratch.add_doc(doc_id):
            report.skip("duplicate_title")
            return
        about = self.resolver.about(page)
        linked = self._linked(page, about)
        mentions = ([about] if about else []) + [e.id for e in linked]
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
            for entity in linked:
                fact_id, new = scratch.add_link(about, entity.id)
                if new:
                    self.writer.add_facts([Fact.relation(fact_id, about, LINKS_TO, entity.id)])
                    report.count("links_to")
                stated.add(fact_id)
        if self.config.provenance and mentions:
            stated.update(page_statements(scratch, page.text, about, linked))
        self.writer.add_provenance(Provenance(doc_id, f) for f in sorted(stated))


def input_formats(paths: Sequence[Path], fmt: str) -> list[tuple[Path, WikiFormat]]:
    """Each input with its format: ``fmt`` for all of them, or detected per file (``auto``)."""
    if fmt == "auto":
        return [(path, detect_format(path)) for path in paths]
    return [(path, cast(WikiFormat, fmt)) for path in paths]  # IngestConfig validated it


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
    inputs = input_formats(paths, config.wikipedia_format)
    indexed = [(path, fmt) for path, fmt in inputs if fmt in INDEXED_FORMATS]
    resolver = _Resolver(scratch, report, indexed=bool(indexed))
    if indexed:  # first pass: titles and redirects -> items (problems are reported once, below)
        quiet = IngestReport(0)
        resolver_quiet = _Resolver(scratch, quiet, indexed=True)
        for path, fmt in indexed:
            tracker = display.task(f"wikipedia index {stem(path)}")
            for _, page in iter_pages(path, fmt, quiet, config.language, text=False):
                tracker.advance()
                resolver_quiet.index(page)
            tracker.done()
        report.count("wikipedia_redirects", quiet.counts["wikipedia_redirects"])
    pages = _PageWriter(config, scratch, writer, report, resolver)
    for path, fmt in inputs:
        report.count(f"wikipedia_format_{fmt}")
        tracker = display.task(f"wikipedia {stem(path)}")
        for _, page in iter_pages(path, fmt, report, config.language):
            tracker.advance()
            pages.add(page)
        tracker.done()
    pages.docs.flush()
