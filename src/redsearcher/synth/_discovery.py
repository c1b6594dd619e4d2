"""Hyperlink discovery: entity pairs that a page links (or names) but no typed fact relates.

The paper grows graphs from two streams (§3.2.1): relations harvested from Wikidata and
documents found by following hyperlinks. A World ingested from Wikipedia with links keeps the
second stream as ``links_to`` facts (page A links page B), which never become question
constraints (a hyperlink says nothing checkable about the world). They do say where to look:
if A's page links B, and A and B have no typed relation, the page may state one; if it links
both B and C and names both, it may state how B and C relate. :func:`link_pairs` lists those
candidates with the page to read; the graph agent (:mod:`redsearcher.synth._graph_agent`)
reads the page and states the relation, which becomes an ordinary fact that expansion and
densification (:mod:`redsearcher.synth._graph`) walk like any Wikidata relation — that is how
hyperlinks feed graph construction without ever being an edge themselves.

Only *graph entities* pair up: named (printable), not look-alikes, not meta or fictional
(:func:`~redsearcher.synth._seeds.blocked_entities`), and with at least ``min_degree`` typed
relations, so a discovered fact joins two parts of the graph instead of hanging a leaf. Both
names must occur in the page text (:func:`names_in`), since the agent's quote must name both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pyarrow.compute as pc

from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._seeds import blocked_entities
from redsearcher.world import World

__all__ = ["Candidate", "Page", "link_pairs", "name_forms", "names_in", "normalize_text"]

#: The predicate of a hyperlink, as ingest writes it (``redsearcher.world.ingest.LINKS_TO``;
#: named here so that reading a World does not import the ingest machinery).
LINKS_TO = "links_to"
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalize_text(text: str) -> str:
    """Text as quotes are compared: NFC, typographic quotes and dashes plain, spaces collapsed."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    return " ".join(text.split())


def name_forms(kg: KnowledgeGraph, row: int, *, about: bool = False) -> list[str]:
    """The ways a page may name entity ``row``: label, label without "(...)", aliases.

    On the entity's own page (``about``) a person-like multi-word label may also be named by
    its last word ("Adams studied at ..."), as pages do after the first sentence.
    """
    label = kg.label(row)
    forms = [label, _PAREN.sub("", label)]
    forms += [a for a in kg.aliases(row) if len(a) >= 3]
    words = _PAREN.sub("", label).split()
    if about and len(words) >= 2 and len(words[-1]) >= 4 and words[-1][:1].isupper():
        forms.append(words[-1])
    seen: dict[str, str] = {}
    for form in forms:
        clean = normalize_text(form)
        if len(clean) >= 2 and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return sorted(seen.values(), key=len, reverse=True)


def names_in(text: str, forms: list[str]) -> str | None:
    """The first of ``forms`` that occurs in ``text`` as whole words (case-insensitive)."""
    for form in forms:
        if re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text, re.IGNORECASE):
            return form
    return None


@dataclass(frozen=True)
class Page:
    """A text page (not a knowledge-base page) that links graph entities."""

    doc_id: str
    title: str
    text: str
    about: int | None
    """Entity row the page is about, if any."""


@dataclass
class Candidate:
    """Two entities a page links or names, with no typed relation between them yet."""

    page: Page
    a: int
    b: int
    """Entity rows, ``a`` the page's subject where the pair is (about, linked)."""
    a_id: str
    b_id: str
    """Their World ids."""

    @property
    def key(self) -> str:
        """Stable id of the judgment: the page and the pair's entity ids."""
        return f"{self.page.doc_id}|{self.a_id}|{self.b_id}"


@dataclass
class Discovery:
    """Candidates by page, and what was left out."""

    pages: list[tuple[Page, list[Candidate]]] = field(default_factory=list)
    links: int = 0
    """``links_to`` facts in the World."""
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        """Candidate pairs over all pages."""
        return sum(len(c) for _, c in self.pages)

    def skip(self, reason: str) -> None:
        """Count one left-out pair or page."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _typed_neighbours(kg: KnowledgeGraph, row: int) -> set[int]:
    """Entities related to ``row`` by a typed (not discovery-only) relation, either direction."""
    out = kg.facts_of(row)
    out = out[kg.f.obj[out] >= 0]
    into = kg.facts_into(row)
    keep_out = out[~kg.discovery_only[kg.f.pred[out]]]
    keep_in = into[~kg.discovery_only[kg.f.pred[into]]]
    return {int(x) for x in kg.f.obj[keep_out]} | {int(x) for x in kg.f.subj[keep_in]}


def _typed_degree(kg: KnowledgeGraph) -> np.ndarray:
    rel = (kg.f.obj >= 0) & (kg.f.subj >= 0) & ~kg.discovery_only[kg.f.pred]
    n = len(kg)
    return np.bincount(kg.f.subj[rel], minlength=n) + np.bincount(kg.f.obj[rel], minlength=n)


def link_pairs(
    world: World,
    kg: KnowledgeGraph,
    *,
    min_degree: int = 1,
    co_links: bool = True,
    max_pairs_per_page: int = 12,
) -> Discovery:
    """Candidate pairs from the World's ``links_to`` facts, grouped by the page to read.

    For each link A -> B the page is the text page stating the link (its provenance), else A's
    text page. Pairs are (A, B) for every link, then, with ``co_links``, (B, C) for two
    entities the same page links. A pair is kept when both are graph entities, both are named
    in the page text, and no typed fact relates them; at most ``max_pairs_per_page`` per page
    (links first). Pages come most candidates first, then by document id (deterministic).
    """
    found = Discovery()
    link_code = kg.pred_code(LINKS_TO)
    if link_code < 0:
        return found
    rows = np.flatnonzero((kg.f.pred == link_code) & (kg.f.subj >= 0) & (kg.f.obj >= 0))
    found.links = len(rows)
    if not len(rows):
        return found
    docs = world.table("documents", ["id", "title", "text", "kind", "about"])
    text_docs = docs.filter(pc.invert(pc.equal(docs.column("kind"), "database")))
    by_id = {d: i for i, d in enumerate(text_docs.column("id").to_pylist())}
    page_of_about: dict[str, str] = {}
    for doc, about in zip(
        text_docs.column("id").to_pylist(), text_docs.column("about").to_pylist(), strict=True
    ):
        if about and about not in page_of_about:
            page_of_about[about] = doc
    links: dict[str, list[tuple[int, int]]] = {}
    for r in rows.tolist():
        a, b = int(kg.f.subj[r]), int(kg.f.obj[r])
        pages = [d for d in kg.stated_by(r) if d in by_id]
        doc = pages[0] if pages else page_of_about.get(kg.ids[a])
        if doc is None:
            found.skip("link_without_page")
            continue
        links.setdefault(doc, []).append((a, b))
    blocked = blocked_entities(kg) | kg.is_distractor | ~kg.is_named
    degree = _typed_degree(kg)
    titles, texts = text_docs.column("title"), text_docs.column("text")
    abouts = text_docs.column("about")
    for doc in sorted(links):
        i = by_id[doc]
        about_id = abouts[i].as_py()
        about = kg.row_of.get(about_id) if about_id else None
        page = Page(doc, str(titles[i].as_py()), str(texts[i].as_py()), about)
        candidates = _page_pairs(kg, page, links[doc], blocked, degree, min_degree, co_links, found)
        kept = candidates[:max_pairs_per_page]
        for _ in candidates[max_pairs_per_page:]:
            found.skip("over_page_cap")
        if kept:
            found.pages.append((page, kept))
    found.pages.sort(key=lambda item: (-len(item[1]), item[0].doc_id))
    return found


def _page_pairs(
    kg: KnowledgeGraph,
    page: Page,
    links: list[tuple[int, int]],
    blocked: np.ndarray,
    degree: np.ndarray,
    min_degree: int,
    co_links: bool,
    found: Discovery,
) -> list[Candidate]:
    text = normalize_text(page.text)
    why: dict[int, str] = {}

    def problem(row: int) -> str:
        if row not in why:
            if blocked[row]:
                why[row] = "not_a_graph_entity"
            elif degree[row] < min_degree:
                why[row] = "no_typed_relation"
            elif not names_in(text, name_forms(kg, row, about=row == page.about)):
                why[row] = "not_named_in_page"
            else:
                why[row] = ""
        return why[row]

    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    targets: list[int] = []
    for a, b in links:
        if b not in targets:
            targets.append(b)
        if (min(a, b), max(a, b)) not in seen:
            seen.add((min(a, b), max(a, b)))
            pairs.append((a, b))
    if co_links:
        for x in range(len(targets)):
            for y in range(x + 1, len(targets)):
                b, c = targets[x], targets[y]
                if (min(b, c), max(b, c)) not in seen:
                    seen.add((min(b, c), max(b, c)))
                    pairs.append((b, c))
    out: list[Candidate] = []
    neighbours: dict[int, set[int]] = {}
    for a, b in pairs:
        reason = "self_link" if a == b else (problem(a) or problem(b))
        if not reason:
            if a not in neighbours:
                neighbours[a] = _typed_neighbours(kg, a)
            reason = "already_related" if b in neighbours[a] else ""
        if reason:
            found.skip(reason)
            continue
        out.append(Candidate(page, a, b, kg.ids[a], kg.ids[b]))
    return out
