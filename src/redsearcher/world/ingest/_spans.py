"""Sentences and entity names in one page's text: the spans fact detection reasons over.

Fact detection (``_statements``) asks "does this sentence name that entity?". Two choices here
decide most of its precision:

* **sentences** are split at ``.``/``!``/``?`` followed by a capitalised word, except after
  abbreviations (``St.``, ``Dr.``, ``U.S.``) and initials (``J. R. R. Tolkien``), and at line
  breaks; a fact must be stated inside one sentence;
* **names** are only ever looked for among a small, page-specific set of entities (the page's own
  entity, its hyperlinked entities, and the page entity's knowledge-graph neighbours), never by
  label over the whole corpus. Among those, a name is unusable when it is a common word
  (``The``, ``Will``), has no letter (``1984``), or is too short to be safe (two-letter names
  only as capitalised acronyms, matched case-sensitively: ``US`` but never ``us``). Names with a
  capital letter match case-sensitively (``Reading`` the town is not ``reading``). Overlapping
  occurrences keep the longest (``Governor of California`` over ``California``), an occurrence
  that is part of a longer proper name is dropped (``California`` in ``University of
  California``, ``Germany`` in ``East Germany``, ``Austria`` in ``Austria-Hungary``), and an
  occurrence naming two candidate entities is dropped unless one of them is the page's own
  entity or was linked by that very anchor text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words whose trailing period does not end a sentence.
_ABBREVIATIONS = _words(
    "mr mrs ms dr st jr sr prof rev gen col lt sgt capt cpt maj adm gov sen rep pres inc co ltd "
    "corp bros vs v c ca approx no nos vol fig mt ft ave blvd dept est univ u.s u.k e.g i.e "
    "etc al jan feb mar apr jun jul aug sep sept oct nov dec"
)
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9])|\n+")
_LAST_WORD = re.compile(r"([\w.]+)[.!?]+[\"'”’)\]]*\s*$")

#: Function words: they never start a longer proper name (``In California`` is California;
#: ``Governor of California`` and ``North America`` are not).
FUNCTION_WORDS = _words(
    """a about above after again against all also an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves since today later however although though despite among according including
    within without another every located"""
)
#: Common English words: never a usable name on their own.
STOPWORDS = FUNCTION_WORDS | _words(
    """one two three first second new old great good best man men woman women people city
    town state country world war king queen prince lord saint early late north south east west
    northern southern eastern western upper lower central many much following born died known
    called named became become several each january february march april may june july august
    september october november december monday tuesday wednesday thursday friday saturday
    sunday"""
)
_WORD = re.compile(r"[\w’'.-]+$")
_NEXT_WORD = re.compile(r"^ ([\w’'-]+)")
_OF_BEFORE = re.compile(r"([\w’'.-]+) of (?:the )?$")


@dataclass(frozen=True, slots=True)
class Span:
    """An occurrence ``text[start:end]`` that names ``entity``."""

    start: int
    end: int
    entity: str


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of ``text``, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(0).startswith("\n"):
            cut = match.start()
        else:
            last = _LAST_WORD.search(text, start, match.end())
            word = last.group(1).casefold() if last else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or "." in word:
                # "St. Louis", "J. R. R. Tolkien", "U.S. Army": not a sentence end.
                continue
            cut = match.end()
        if text[start:cut].strip():
            spans.append((start, cut))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def usable_name(name: str) -> bool:
    """Whether ``name`` may name an entity in running text (see the module docstring)."""
    stripped = name.strip()
    if not any(c.isalpha() for c in stripped):
        return False
    if stripped.casefold() in STOPWORDS:
        return False
    if len(stripped) <= 2:
        return stripped.isupper() and stripped.isalpha()
    return len(stripped) >= 4 or stripped.isupper() or stripped[0].isupper()


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _find_all(haystack: str, needle: str) -> Iterable[int]:
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        if (start == 0 or not _is_word(haystack[start - 1])) and (
            end == len(haystack) or not _is_word(haystack[end])
        ):
            yield start
        start = haystack.find(needle, start + 1)


def _capitalised_name_word(word: str) -> bool:
    return bool(word) and word[0].isupper() and word.casefold().strip(".") not in FUNCTION_WORDS


def embedded(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is part of a longer proper name or a hyphenated compound."""
    if start > 0 and text[start - 1] in "-‐" and start > 1 and text[start - 2].isalpha():
        return True
    if end < len(text) - 1 and text[end] in "-‐" and text[end + 1].isalpha():
        return True
    before = text[max(0, start - 60) : start]
    of = _OF_BEFORE.search(before)
    if of and _capitalised_name_word(of.group(1)):
        return True  # "Governor of California", "University of the Arts"
    if before.endswith(" "):
        prev = _WORD.search(before[:-1])
        if prev and _capitalised_name_word(prev.group(0)) and not prev.group(0).endswith("."):
            return True  # "East Germany", "Greater London"
    after = _NEXT_WORD.match(text[end : end + 40])
    return bool(after and _capitalised_name_word(after.group(1)))  # "California State ..."


def find_names(
    text: str,
    names: Mapping[str, Iterable[str]],
    anchors: Mapping[str, Iterable[str]],
    about: str | None,
) -> list[Span]:
    """Occurrences of the candidate entities' names in ``text``, resolved, in text order.

    Args:
        text: The page text.
        names: Entity id -> label and aliases (filtered by ``usable_name`` here).
        anchors: Entity id -> anchor texts of links to it (always usable, case-sensitive).
        about: The page's own entity, which wins a tie with a neighbour of the same name.
    """
    folded = text.casefold()
    found: dict[tuple[int, int], set[str]] = {}
    anchored: dict[tuple[int, int], set[str]] = {}
    for entity, anchor_texts in anchors.items():
        for anchor in {a.strip() for a in anchor_texts if a.strip()}:
            for start in _find_all(text, anchor):
                anchored.setdefault((start, start + len(anchor)), set()).add(entity)
    for entity, entity_names in names.items():
        for name in {n.strip() for n in entity_names if usable_name(n)}:
            cased = any(c.isupper() for c in name)
            hits = _find_all(text, name) if cased else _find_all(folded, name.casefold())
            for start in hits:
                found.setdefault((start, start + len(name)), set()).add(entity)
    resolved: dict[tuple[int, int], str | None] = {}
    for key in set(found) | set(anchored):
        candidates = anchored.get(key) or found[key]
        if len(candidates) > 1 and about in candidates:
            candidates = {about}
        # An ambiguous occurrence still occupies its text, so no shorter name inside it counts.
        resolved[key] = next(iter(candidates)) if len(candidates) == 1 else None
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for start, end in sorted(resolved, key=lambda k: (k[0] - k[1], k[0])):
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        owner = resolved[(start, end)]
        if owner is not None and ((start, end) in anchored or not embedded(text, start, end)):
            spans.append(Span(start, end, owner))
    spans.extend(_surnames(text, spans, names, about, taken))
    spans.sort(key=lambda s: s.start)
    return spans


def _surname(label: str) -> str | None:
    """The last word of a person-like label (2-4 capitalised words): ``Welles``."""
    words = label.split()
    if not 2 <= len(words) <= 4 or not all(w[:1].isupper() for w in words):
        return None
    last = words[-1]
    if len(last) < 3 or not last.isalpha() or last.casefold() in STOPWORDS:
        return None
    return last


def _surnames(
    text: str,
    spans: list[Span],
    names: Mapping[str, Iterable[str]],
    about: str | None,
    taken: list[tuple[int, int]],
) -> list[Span]:
    """Later references by surname to entities named in full earlier (``starring Kelly``).

    Only the label's last word, only after the entity's first full mention, never a surname
    two named entities share, nor the page entity's own surname (``Gandhi`` on Indira Gandhi's
    page is her, not Rajiv Gandhi).
    """
    first: dict[str, int] = {}
    for span in spans:
        first.setdefault(span.entity, span.start)
    by_surname: dict[str, list[str]] = {}
    for entity in first:
        label = next(iter(names.get(entity, ())), "")
        surname = _surname(label)
        if surname is not None:
            by_surname.setdefault(surname, []).append(entity)
    own = _surname(next(iter(names.get(about or "", ())), "")) if about else None
    out: list[Span] = []
    for surname, entities in by_surname.items():
        if len(entities) != 1 or surname == own:
            continue
        entity = entities[0]
        for start in _find_all(text, surname):
            end = start + len(surname)
            if start <= first[entity] or any(start < e and s < end for s, e in taken):
                continue
            if not embedded(text, start, end):
                out.append(Span(start, end, entity))
    return out


_CAPITALISED = re.compile(r"[A-Z][\w’'.&-]*")
_CONNECTORS = frozenset({"of", "the", "and", "de", "du", "da", "del", "der", "von", "van", "la"})


def name_phrases(text: str, longest: int = 8) -> set[str]:
    """The strings a label look-up can try for the names a text writes.

    Every run of capitalised words (connectors such as ``of the`` allowed inside) and every
    sub-run that starts and ends with a capitalised word: ``Governor of California``,
    ``Governor``, ``California``. Runs stop at punctuation, so ``Washington, D.C.`` is not
    among them.
    """
    phrases: set[str] = set()
    for line in re.split(r"[,;:()\[\]\"“”!?]|\.\s|\n", text):
        words = line.split()
        for i, first in enumerate(words):
            if not _CAPITALISED.fullmatch(first.rstrip(".")):
                continue
            for j in range(i, min(len(words), i + longest)):
                word = words[j].rstrip(".")
                if _CAPITALISED.fullmatch(word):
                    phrases.add(" ".join([*words[i:j], word]))
                elif word not in _CONNECTORS:
                    break
    return phrases
