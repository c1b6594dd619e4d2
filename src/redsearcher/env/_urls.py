"""Stable, realistic URLs for World documents (the paper's URL obfuscation pipeline).

An agent trained against ``en.wikipedia.org/wiki/...`` links learns to trust a URL pattern
instead of reading pages. The paper therefore serves every document under a synthetic URL drawn
from a template library per entity domain; this module is that library. A URL is chosen from the
document's *kind* (encyclopedia, news, forum, ...) and the *type* of the entity it is about
(person, film, place, ...), e.g. ``https://www.northgate-herald.com/2014/03/lars-fenby-a-closer-look``.

Rules that keep URLs honest:

- The slug is made of the title's own words (lowercased, accents folded), never of anything
  else: no document id, no entity id, no fact the title does not already show. Numbers that are
  not from the title are either the page's publication date (shown in results anyway) or a
  thread/page number drawn from a hash.
- Every choice is a function of ``(World content hash, document id)`` through a keyed hash, so
  rebuilding an index of the same World gives the same URLs, and a different World reshuffles
  them.
- URLs are unique: when two documents would get the same URL, the later one (in World order)
  moves to the next template of its list and then takes a numeric suffix. Uniqueness is checked
  on the *normalized* form (``normalize_url``) that lookups use, so the mapping is a bijection.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

MAX_SLUG_WORDS: Final = 8
MAX_SLUG_CHARS: Final = 72
MAX_HOST_SLUG_CHARS: Final = 40
#: Title words a personal or company host name leaves out ("Lars Fenby | Home" -> lars-fenby).
HOST_BOILERPLATE: Final = frozenset(
    {"home", "homepage", "official", "site", "website", "welcome", "page", "the"}
)


def key_hash(key: str) -> int:
    r"""A 64-bit hash of ``key``, stable across processes and machines (blake2b).

    ``surrogatepass``: a looked-up URL may hold a lone surrogate (a JSON ``"\ud800"`` from a
    model or a client); it hashes to a key no minted URL has (a miss), instead of raising.
    Valid text hashes exactly as with plain UTF-8.
    """
    data = key.encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def normalize_url(url: str) -> str:
    """The lookup key of a URL: no scheme, fragment, query or trailing slash; lowercased.

    ``https://www.x.com/a/``, ``http://WWW.X.COM/a`` and ``www.x.com/a`` share one key, so a
    visit accepts a URL the way an agent happens to write it. Percent-escapes are decoded.
    """
    u = _SCHEME.sub("", unquote(url.strip()))
    u = u.split("#", 1)[0].split("?", 1)[0]
    return u.rstrip("/").lower()


def fold(text: str) -> str:
    """Lowercase, compatibility-normalize and strip accents (``Ångström`` -> ``angstrom``)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text).lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug_words(title: str) -> list[str]:
    """The words of a title as a slug uses them: folded, letters and digits only."""
    return _WORD.findall(fold(title))


def slugify(title: str, words_of_title: list[str] | None = None) -> str:
    """``Lars Fenby: a closer look`` -> ``lars-fenby-a-closer-look`` (bounded length)."""
    if words_of_title is None:
        words_of_title = slug_words(title)
    words: list[str] = []
    size = 0
    for word in words_of_title[:MAX_SLUG_WORDS]:
        if words and size + len(word) + 1 > MAX_SLUG_CHARS:
            break
        words.append(word[:MAX_SLUG_CHARS])
        size += len(word) + 1
    return "-".join(words)


def host_slug(title: str, words_of_title: list[str] | None = None) -> str:
    """A DNS label from a title (``lars-fenby``), or ``""`` when the title has no ASCII name."""
    if words_of_title is None:
        words_of_title = slug_words(title)
    words = [w for w in words_of_title if w not in HOST_BOILERPLATE and w.isascii()]
    label = "-".join(words)
    return label if 0 < len(label) <= MAX_HOST_SLUG_CHARS else ""


@dataclass(frozen=True, slots=True)
class Template:
    """``host`` and ``path`` with placeholders ``{slug} {host} {yyyy} {mm} {dd} {n}``."""

    host: str
    path: str
    needs: frozenset[str] = frozenset()  # the placeholders it fills (set by ``_t``)

    def render(self, values: dict[str, str]) -> str:
        """The full ``https://`` URL with placeholders filled from ``values``."""
        host = self.host.format(**values)
        path = self.path.format(**values)
        return f"https://{host}/{path}" if path else f"https://{host}"


def _t(*specs: str) -> tuple[Template, ...]:
    out = []
    for spec in specs:
        host, _, path = spec.partition("/")
        out.append(Template(host, path, frozenset(_PLACEHOLDER.findall(spec))))
    return tuple(out)


_DATED_NEWS = _t(
    "www.northgate-herald.com/{yyyy}/{mm}/{slug}",
    "www.dailymeridian.com/news/{yyyy}/{mm}/{dd}/{slug}",
    "www.thecivicpost.com/{yyyy}/{slug}",
    "www.riverside-chronicle.net/stories/{yyyy}/{mm}/{slug}",
)
_UNDATED_NEWS = _t(
    "www.coastalgazette.net/story/{slug}-{n}",
    "www.eveninglantern.com/news/{slug}",
)
_FORUMS = _t(
    "forum.talkingpoints.net/t/{slug}/{n}",
    "www.thecommonroom.org/threads/{slug}.{n}",
    "boards.openbench.com/topic/{n}-{slug}",
)
_GENERIC_REF = _t(
    "www.openreference.org/article/{slug}",
    "www.knowledgecompass.net/entry/{slug}",
    "www.factbook-online.com/topic/{slug}",
)

#: (document kind, entity group) -> candidate templates. Group ``None`` is the kind's fallback,
#: kind ``web`` the fallback of unknown kinds.
TEMPLATES: Final[dict[tuple[str, str | None], tuple[Template, ...]]] = {
    ("encyclopedia", "person"): _t(
        "www.lifeandtimes.org/people/{slug}",
        "www.biographyhub.net/bio/{slug}",
        "www.notable-lives.com/profile/{slug}",
    ),
    ("encyclopedia", "place"): _t(
        "www.atlasreference.org/place/{slug}",
        "www.terranotes.org/article/{slug}",
        "www.mapsandplaces.net/guide/{slug}",
    ),
    ("encyclopedia", "screen"): _t(
        "www.reelarchive.com/title/{slug}", "www.filmregister.net/film/{slug}"
    ),
    ("encyclopedia", "music"): _t(
        "www.soundledger.com/release/{slug}", "www.discography-central.net/album/{slug}"
    ),
    ("encyclopedia", "book"): _t(
        "www.shelfnotes.org/book/{slug}", "www.bookcatalogue.net/title/{slug}"
    ),
    ("encyclopedia", "science"): _t("www.researchregistry.org/entry/{slug}") + _GENERIC_REF[:1],
    ("encyclopedia", "org"): _t(
        "www.institutions-index.org/entry/{slug}", "www.referencedesk.net/topic/{slug}"
    ),
    ("encyclopedia", None): _GENERIC_REF,
    ("news", "screen"): _t(
        "www.stageandscreen-weekly.com/{yyyy}/{mm}/{slug}", "www.culturebeat.net/reviews/{slug}"
    ),
    ("news", "music"): _t(
        "www.culturebeat.net/music/{yyyy}/{slug}", "www.thesoundpress.com/{slug}"
    ),
    ("news", "org"): _t(
        "www.marketledger.com/business/{yyyy}/{mm}/{slug}", "www.tradewire-daily.com/{slug}"
    ),
    ("news", "science"): _t(
        "www.sciencedispatch.org/news/{yyyy}/{slug}", "www.labnotes-weekly.com/{slug}"
    ),
    ("news", None): _DATED_NEWS + _UNDATED_NEWS,
    ("listing", "screen"): _t("www.reelarchive.com/lists/{slug}", "www.moviedb-lists.net/{slug}"),
    ("listing", "music"): _t("www.soundledger.com/charts/{slug}", "www.tracklisting.net/{slug}"),
    ("listing", "book"): _t("www.shelfnotes.org/lists/{slug}", "www.readinglists.net/{slug}"),
    ("listing", "place"): _t("www.cityguides-online.com/list/{slug}", "www.placefinder.net/{slug}"),
    ("listing", None): _t(
        "www.listopia-index.com/lists/{slug}",
        "www.rankandfile.net/list/{slug}",
        "www.directoryplus.com/{slug}",
    ),
    ("homepage", "person"): _t(
        "www.{host}.com", "{host}.homestead-pages.net", "www.{host}.net/about"
    ),
    ("homepage", "org"): _t("www.{host}.com", "www.{host}.org", "www.{host}-group.com/about"),
    ("homepage", "place"): _t("www.{host}.com", "www.visit-{host}.org"),
    ("homepage", None): _t("www.{host}.com", "www.{host}.org", "www.{host}.net"),
    ("forum", "screen"): _t("www.cinephile-lounge.com/threads/{slug}.{n}") + _FORUMS[:1],
    ("forum", "music"): _t("www.vinylcircle.net/t/{slug}/{n}") + _FORUMS[1:2],
    ("forum", "book"): _t("www.readerscorner.org/topic/{n}-{slug}") + _FORUMS[2:],
    ("forum", None): _FORUMS,
    ("paper_abstract", None): _t(
        "www.openscholar-archive.org/abs/{slug}",
        "papers.scholarlynexus.org/paper/{n}/{slug}",
        "www.journalindex.net/article/{slug}",
    ),
    ("database", None): _t(
        "www.factregistry.org/item/{slug}",
        "www.opendatabank.net/entity/{slug}",
        "www.knowledgeledger.org/record/{slug}",
    ),
    ("web", None): _t(
        "www.pagesandnotes.com/{slug}",
        "www.thewebatlas.net/page/{slug}",
        "www.everydayreader.com/read/{slug}",
    ),
    ("zh", "encyclopedia"): _t("www.zhishi-baike.cn/item/{slug}", "baike.wenku-online.cn/{slug}"),
    ("zh", "news"): _t("news.huaxia-ribao.cn/{yyyy}/{mm}/{slug}", "www.xinwen-kuaibao.cn/{n}"),
    ("zh", "forum"): _t("bbs.taolun-qu.cn/thread/{n}"),
    ("zh", None): _t("www.zhongwen-wangye.cn/p/{slug}", "www.zhongwen-wangye.cn/doc/{n}"),
}

#: Entity type -> template group.
ENTITY_GROUPS: Final[dict[str, str]] = {
    "person": "person",
    "city": "place",
    "country": "place",
    "place": "place",
    "film": "screen",
    "album": "music",
    "record_label": "music",
    "book": "book",
    "paper": "science",
    "venue": "science",
    "organization": "org",
    "university": "org",
    "award": "org",
    "event": "org",
}

#: Words that templates (not titles) put into URLs; a URL's other words come from its title.
TEMPLATE_WORDS: Final = frozenset(
    {"https", "http"}
    | {
        w
        for templates in TEMPLATES.values()
        for t in templates
        for w in re.findall(r"[a-z]+", _PLACEHOLDER.sub(" ", t.host + "/" + t.path))
    }
)


def _date_parts(published: str | None) -> dict[str, str]:
    parts = (published or "").split("-")
    names = ("yyyy", "mm", "dd")
    return {name: part for name, part in zip(names, parts, strict=False) if part.isdigit() and part}


class UrlMinter:
    """Gives each document a unique URL; call ``mint`` once per document, in World order.

    Args:
        content_hash: The World's content hash (keys every hash-based choice).
        cjk_languages: Language prefixes served from the CJK template family.
    """

    def __init__(self, content_hash: str, cjk_languages: Sequence[str] = ("zh",)) -> None:
        self._salt = content_hash
        self._cjk = tuple(cjk_languages)
        self._taken: set[int] = set()
        self._next: dict[int, int] = {}
        self._cache: dict[tuple[str, str | None, str, frozenset[str]], tuple[Template, ...]] = {}

    def _candidates(
        self, kind: str, entity_type: str | None, language: str, have: frozenset[str]
    ) -> tuple[Template, ...]:
        key = (kind, entity_type, language, have)
        found = self._cache.get(key)
        if found is None:
            if language.lower().startswith(self._cjk):
                family = TEMPLATES.get(("zh", kind)) or TEMPLATES[("zh", None)]
            else:
                group = ENTITY_GROUPS.get(entity_type or "")
                family = TEMPLATES.get((kind, group)) or TEMPLATES.get((kind, None)) or ()
            found = tuple(t for t in family if t.needs <= have)
            if not found:  # unknown kind, or e.g. a homepage whose title has no ASCII name
                found = tuple(t for t in TEMPLATES[("web", None)] if t.needs <= have)
            self._cache[key] = found
        return found

    def mint(
        self,
        doc_id: str,
        title: str,
        kind: str,
        entity_type: str | None = None,
        published: str | None = None,
        language: str = "en",
    ) -> str:
        """The URL of one document (unique among all URLs minted by this instance)."""
        return self.mint_keyed(doc_id, title, kind, entity_type, published, language)[0]

    def mint_keyed(
        self,
        doc_id: str,
        title: str,
        kind: str,
        entity_type: str | None = None,
        published: str | None = None,
        language: str = "en",
    ) -> tuple[str, int]:
        """Like ``mint``, plus the URL's lookup key: ``key_hash(normalize_url(url))``."""
        h = key_hash(f"{self._salt}\x00{doc_id}")
        title_words = slug_words(title)
        values = {
            "slug": slugify(title, title_words),
            "host": host_slug(title, title_words),
            "n": str(100_000 + h % 900_000),
        }
        values.update(_date_parts(published))
        if not values["slug"]:
            values["slug"] = values["n"]
        have = frozenset(k for k, v in values.items() if v)
        usable = self._candidates(kind, entity_type, language, have)
        start = h % len(usable)
        for attempt in range(len(usable)):
            url = usable[(start + attempt) % len(usable)].render(values)
            key = self._claim(url)
            if key is not None:
                return url, key
        # Every template is taken (a common title such as "See also"): number the slug on the
        # home template, continuing from the last number given to this base.
        template = usable[start]
        base = key_hash(f"{template.host}/{template.path}\x00{values['slug']}\x00{values['host']}")
        number = self._next.get(base, 2)
        while True:
            suffixed = dict(values)
            suffixed["slug"] = f"{values['slug']}-{number}"
            suffixed["host"] = f"{values['host']}-{number}"
            url = template.render(suffixed)
            number += 1
            key = self._claim(url)
            if key is not None:
                self._next[base] = number
                return url, key

    def _claim(self, url: str) -> int | None:
        key = key_hash(normalize_url(url))
        if key in self._taken:
            return None
        self._taken.add(key)
        return key
