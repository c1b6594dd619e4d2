"""Plain text and hyperlinks out of the markup two Wikipedia formats leave in their text.

* **WikiExtractor** (``--links``) writes each wikilink as ``<a href="Target%20Title">anchor</a>``
  (the target percent-encoded by ``urllib.parse.quote``) and, in its HTML-safe mode, escapes the
  rest of the text (``&amp;``, ``&lt;``); some versions escape the link tags themselves
  (``&lt;a href="..."&gt;``). Both spellings are read.
* **Parsoid HTML** (the Enterprise dumps' ``article_body.html``) is a whole page: wikilinks are
  ``<a rel="mw:WikiLink" href="./Target_Title">``, and much of the markup is not prose —
  the infobox and other tables, reference markers and lists, navboxes, hatnotes, the hidden
  short description, figures, maths, styles. Those are dropped, as are the trailing
  *References*/*External links*/*See also*/*Notes*/*Further reading* sections, so the text
  a World stores reads like the article and holds no citation noise. The stdlib
  ``html.parser`` does the tokenizing (no HTML library is a dependency); Parsoid's output is
  well-formed, so a simple element stack is enough.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import unquote

from redsearcher.world.ingest._wiki_page import WikiLink

_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # ASCII only: a no-break space is text
_EXTRACTOR_LINK = re.compile(
    r'(?:<|&lt;)a href="([^"]*)"(?:>|&gt;)(.*?)(?:<|&lt;)/a(?:>|&gt;)', re.DOTALL
)


def _squash(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def link_target(href: str) -> str | None:
    """The page title an internal link points at, or ``None`` for external/self links.

    Percent-escapes and HTML entities are decoded, a ``#section`` fragment and a ``?query``
    (red links carry ``?action=edit&redlink=1``) are dropped, and ``./`` (Parsoid) is removed.
    """
    target = html.unescape(unquote(href)).strip()
    if "://" in target or target.startswith(("//", "mailto:")):
        return None
    target = target.removeprefix("./")
    target = target.split("#", 1)[0].split("?", 1)[0].strip()
    return target or None


def split_extractor_links(text: str) -> tuple[str, tuple[WikiLink, ...]]:
    """WikiExtractor text without its ``<a>`` tags, and the links they made, in order."""
    if "a href=" not in text:
        return html.unescape(text) if "&" in text else text, ()
    parts: list[str] = []
    links: list[WikiLink] = []
    start = 0
    for match in _EXTRACTOR_LINK.finditer(text):
        anchor = html.unescape(match.group(2))
        parts.append(html.unescape(text[start : match.start()]))
        parts.append(anchor)
        start = match.end()
        target = link_target(match.group(1))
        if target is not None:
            links.append(WikiLink(target, anchor.strip() or None))
    parts.append(html.unescape(text[start:]))
    return "".join(parts), tuple(links)


_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_BLOCK = frozenset(
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "blockquote",
        "table",
        "tr",
        "figure",
        "br",
        "pre",
        "body",
    ]
)
_SKIP_TAGS = frozenset(
    ["head", "style", "script", "noscript", "table", "figure", "math", "title", "audio", "video"]
)
_SKIP_CLASSES = frozenset(
    [
        "infobox",
        "navbox",
        "vertical-navbox",
        "navbox-styles",
        "hatnote",
        "shortdescription",
        "reference",
        "mw-ref",
        "mw-references-wrap",
        "references",
        "reflist",
        "refbegin",
        "noprint",
        "metadata",
        "ambox",
        "sistersitebox",
        "side-box",
        "sidebar",
        "toc",
        "catlinks",
        "mw-empty-elt",
        "gallery",
        "thumb",
        "mw-cite-backlink",
    ]
)
_SKIP_SECTIONS = frozenset(
    (
        "references",
        "notes",
        "citations",
        "sources",
        "external links",
        "see also",
        "further reading",
        "bibliography",
        "notes and references",
        "footnotes",
    )
)
_HEADINGS = frozenset(["h2", "h3", "h4", "h5", "h6"])


class _ParsoidText(HTMLParser):
    """Collects the prose and the wikilinks of a Parsoid HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.skip_at: int | None = None  # stack depth of the element being skipped
        self.lines: list[str] = []
        self.line: list[str] = []
        self.links: list[WikiLink] = []
        self.link: tuple[int, str | None, list[str]] | None = None  # (depth, target, anchor)
        self.heading: tuple[int, int] | None = None  # (depth, index in lines)

    # -- structure -----------------------------------------------------------------------------
    def _skips(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if tag in _SKIP_TAGS:
            return True
        classes = (attrs.get("class") or "").split()
        if any(c in _SKIP_CLASSES for c in classes):
            return True
        typeof = attrs.get("typeof") or ""
        if tag == "sup" and "mw:Extension/ref" in typeof:
            return True
        style = (attrs.get("style") or "").replace(" ", "").lower()
        return "display:none" in style or attrs.get("role") == "navigation"

    def _break(self) -> None:
        text = _squash("".join(self.line))
        if text:
            self.lines.append(text)
        self.line = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and self.skip_at is None:
                self._break()
            return
        self.stack.append(tag)
        if self.skip_at is not None:
            return
        attributes = dict(attrs)
        if self._skips(tag, attributes):
            self.skip_at = len(self.stack)
            return
        if tag in _BLOCK:
            self._break()
        if tag in _HEADINGS:
            self.heading = (len(self.stack), len(self.lines))
        if tag == "a" and "mw:WikiLink" in (attributes.get("rel") or "").split():
            href = attributes.get("href") or ""
            target = link_target(href) if href.startswith("./") else None
            self.link = (len(self.stack), target, [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and self.skip_at is None:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or tag not in self.stack:
            return
        while self.stack:
            depth = len(self.stack)
            closed = self.stack.pop()
            if self.skip_at is not None and depth <= self.skip_at:
                self.skip_at = None
            elif self.skip_at is None:
                self._close(closed, depth)
            if closed == tag:
                break

    def _close(self, tag: str, depth: int) -> None:
        if self.link is not None and self.link[0] == depth:
            _, target, anchor = self.link
            if target is not None:
                text = _squash("".join(anchor))
                self.links.append(WikiLink(target, text or None))
            self.link = None
        if tag in _BLOCK:
            self._break()
        if self.heading is not None and self.heading[0] == depth:
            _, index = self.heading
            self.heading = None
            title = " ".join(self.lines[index:]).strip().lower()
            if title in _SKIP_SECTIONS and "section" in self.stack:
                del self.lines[index:]  # the heading goes too
                self.skip_at = len(self.stack) - self.stack[::-1].index("section")

    def handle_data(self, data: str) -> None:
        if self.skip_at is not None or not self.stack:
            return
        self.line.append(data)
        if self.link is not None:
            self.link[2].append(data)


def parsoid_text(page_html: str) -> tuple[str, tuple[WikiLink, ...]]:
    """The prose of a Parsoid HTML page and its wikilinks.

    The text has one line per paragraph, heading or list item; the links come in page order
    with their anchors, except those inside dropped markup.
    """
    parser = _ParsoidText()
    body = page_html.find("<body")  # the head is all metadata: not worth tokenizing
    parser.stack.append("html")
    parser.feed(page_html[body:] if body >= 0 else page_html)
    parser.close()
    parser._break()
    return "\n".join(parser.lines), tuple(parser.links)
