"""The rendered-page rule: which facts a knowledge-base page states.

Knowledge-base pages (``_kb``) are text this project writes, one ``Property: value`` line per
fact, so their provenance needs no reading of prose: it only has to confirm that the rendered
value is on the page. Wikipedia pages are prose and use the precision-first detector of
``_statements`` instead. The rule below is linear in the page (only facts about entities the
page mentions are looked at):

    A page D states fact (s, p, o) iff s is in mentions(D) and the object's surface form
    occurs in D's text (case-insensitive, word-bounded):

    * entity object: o is in mentions(D) too, and its label or an alias occurs, or D links to o;
    * date: the year occurs (negative years as ``490 BC``/``BCE``); a page writes dates in full
      at their precision, and the full date contains the year;
    * quantity: the value occurs as an integer or decimal, with or without thousands
      separators (``145700``, ``145,700``), not as part of a longer number;
    * string: the string occurs;
    * coordinates: never (a text rarely states them; the maps tool serves them).

On prose this rule is far too loose (a page about A that links B would state every relation
between them, and ``1.28 billion`` would state a founding in year 1); it is kept for rendered
pages only, where each line says exactly one fact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping

from redsearcher.world._records import Fact
from redsearcher.world.ingest._values import format_amount

_YEAR = re.compile(r"^(-?)0*(\d+)")


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _find_bounded(
    text: str, needle: str, before: Callable[[str, int], bool], after: Callable[[str, int], bool]
) -> bool:
    """Whether ``needle`` occurs in ``text`` with acceptable characters around it."""
    start = text.find(needle)
    while start != -1:
        end = start + len(needle)
        if before(text, start) and after(text, end):
            return True
        start = text.find(needle, start + 1)
    return False


def _word_before(text: str, start: int) -> bool:
    return start == 0 or not _is_word(text[start - 1])


def _word_after(text: str, end: int) -> bool:
    return end == len(text) or not _is_word(text[end])


def _number_before(text: str, start: int) -> bool:
    # "3,245" must not match inside "13,245" or "1.3,245"; a sign or currency symbol is fine.
    return start == 0 or not (_is_word(text[start - 1]) or text[start - 1] in ".,")


def _number_after(text: str, end: int) -> bool:
    # "3,245" must not match the start of "3,245,000" or "3,245.5".
    if end == len(text):
        return True
    if _is_word(text[end]):
        return False
    return not (text[end] in ".," and end + 1 < len(text) and text[end + 1].isdigit())


def quantity_forms(amount: float) -> tuple[str, ...]:
    """Ways a text writes ``amount``: ``1234567``, ``1,234,567`` (and ``12.5``, ``1,234.5``)."""
    plain = format_amount(amount)
    if "e" in plain or "inf" in plain or "nan" in plain:
        return ()
    whole, dot, frac = plain.lstrip("-").partition(".")
    sign = "-" if plain.startswith("-") else ""
    grouped = f"{sign}{int(whole):,}{dot}{frac}"
    return tuple(dict.fromkeys((plain, grouped)))


def year_forms(date: str) -> tuple[str, ...]:
    """Ways a text writes the year of an ISO date (``-0490`` -> ``490 BC``, ``490 BCE``)."""
    match = _YEAR.match(date)
    if match is None:
        return ()
    year = match.group(2)
    if match.group(1):
        return (f"{year} BC", f"{year} BCE", f"{year} B.C.")
    return (year,)


class TextMatcher:
    """Case-insensitive, word-bounded look-ups in one document's text.

    Args:
        text: The document text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._folded = text.casefold()

    def has_phrase(self, phrase: str) -> bool:
        """Whether ``phrase`` occurs as whole words (case-insensitive)."""
        needle = phrase.strip().casefold()
        return bool(needle) and _find_bounded(self._folded, needle, _word_before, _word_after)

    def has_number(self, form: str) -> bool:
        """Whether the number ``form`` occurs, not as part of a longer number."""
        return bool(form) and _find_bounded(self.text, form, _number_before, _number_after)


def states(
    fact: Fact,
    text: TextMatcher,
    mentions: Collection[str],
    linked: Collection[str],
    names: Mapping[str, tuple[str, ...]],
) -> bool:
    """Whether the document (``text``, ``mentions``, ``linked``) states ``fact``.

    Args:
        fact: The candidate fact.
        text: A matcher over the document's text.
        mentions: Entities the document mentions.
        linked: Entities the document hyperlinks to.
        names: Label and aliases of (at least) the mentioned entities.
    """
    if fact.subject not in mentions:
        return False
    if fact.kind == "entity":
        obj = fact.object
        if obj is None or obj not in mentions:
            return False
        return obj in linked or any(text.has_phrase(n) for n in names.get(obj, ()))
    if fact.kind == "date" and fact.date is not None:
        return any(text.has_phrase(f) for f in year_forms(fact.date))
    if fact.kind == "quantity" and fact.amount is not None:
        return any(text.has_number(f) for f in quantity_forms(fact.amount))
    if fact.kind == "string" and fact.string is not None:
        return text.has_phrase(fact.string)
    return False
