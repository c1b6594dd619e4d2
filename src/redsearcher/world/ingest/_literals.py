"""Literal values as running text writes them: dates at a precision, rounded quantities, years.

A date fact is stated only at its own precision: a day-precision birth date needs the full date
(``30 July 1947``, ``July 30, 1947``, ``30th July 1947``, ``1947-07-30``), a month-precision one
``July 1947``, a year-precision one the year as a word of its own (``in 1947``, ``a 1984
film``; never ``1,947``, ``1940s`` or ``19470``), a decade ``1940s``. Centuries and coarser are
never matched: Wikidata's century dates are too ambiguous to compare with ``20th century``. Years
before 1000 need an era (``900 AD``, ``AD 900``) or ``in 900``; BC years read ``490 BC``/``BCE``.

A quantity is stated when the text writes a number that the fact's amount rounds to *at the
precision the text writes it*: ``145,700`` is exact; ``3.2 million`` means 3,150,000 to
3,250,000; trailing zeros are read as rounding, but never looser than 5% (``40,000`` accepts
38,000 to 42,000); ``over``/``more than`` and ``nearly``/``under`` bound the amount from the
side they say (``over 4 million`` is not 3,864,170). A fact with a known unit needs that unit
right after the number (``120 minutes``, ``40,000 km²``); a unitless count must not be followed
by a unit or ``%``. Bare
numbers that look like years (``1990``) are not amounts unless a count noun follows (``1990
inhabitants``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from redsearcher.world._records import Fact
from redsearcher.world._schema import PRECISION_DAY, PRECISION_MONTH, PRECISION_YEAR
from redsearcher.world.generate import MONTHS

PRECISION_DECADE = 8
_ISO = re.compile(r"^(-?)0*(\d+)(?:-(\d{2}))?(?:-(\d{2}))?$")
_YEAR_IN_TEXT = re.compile(r"(?<![\w,.\-–])(\d{3,4})(?![\w]|,\d|\.\d)")

#: Surface forms following a number for the unit items of common quantities (regex fragments).
UNIT_FORMS: dict[str, str] = {
    "Q7727": r"min(?:ute)?s?\b",
    "Q11574": r"sec(?:ond)?s?\b",
    "Q25235": r"h(?:ou)?rs?\b",
    "Q573": r"days?\b",
    "Q577": r"years?\b",
    "Q11573": r"(?:metres?|meters?|m)\b",
    "Q828224": r"(?:kilometres?|kilometers?|km)\b",
    "Q712226": r"(?:square kilomet(?:re|er)s?|sq\.? ?km|km2|km²)",
    "Q25343": r"(?:square met(?:re|er)s?|m2|m²)",
    "Q35852": r"(?:hectares?|ha)\b",
    "Q11570": r"(?:kilograms?|kg)\b",
    "Q191118": r"(?:tonnes?|t)\b",
    "Q11229": r"(?:%|percent\b|per cent\b)",
    "Q3710": r"(?:feet|foot|ft)\b",
    "Q253276": r"(?:miles?|mi)\b",
}
#: Currency units are written before the amount.
UNIT_PREFIXES: dict[str, str] = {
    "Q4917": r"(?:US\$|\$|USD ?)",
    "Q4916": r"(?:€|EUR ?)",
    "Q25224": r"(?:£|GBP ?)",
}
#: A unit-like word after a number: a unitless count followed by one is not that count.
_ANY_UNIT = re.compile(
    r"\s*(?:%|percent|per cent|km|kilomet|metre|meter|m\b|m²|sq|square|mi\b|miles?|feet|ft\b|"
    r"kg|kilogram|tonnes?|hectares?|acres?|years?|months?|days?|hours?|minutes?|seconds?|"
    r"degrees?|°|dollars?|euros?|pounds?|times)",
    re.IGNORECASE,
)
_COUNT_NOUN = re.compile(
    r"\s+(?:people|persons|inhabitants|residents|citizens|students|employees|staff|workers|"
    r"pages|members)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*(million|billion|trillion|thousand)\b)?"
)
_AT_LEAST = re.compile(
    r"(?:over|more than|above|exceeding|in excess of|at least|upwards of)\s+$", re.IGNORECASE
)
_AT_MOST = re.compile(
    r"(?:nearly|almost|under|less than|fewer than|below|up to|just under)\s+$", re.IGNORECASE
)
_MULTIPLIERS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_TIME_KEYS = ("point_in_time", "P585", "start_time", "P580", "end_time", "P582")


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a literal value occurs in the text."""

    start: int
    end: int


def _iso(date: str) -> tuple[bool, int, int | None, int | None] | None:
    match = _ISO.match(date)
    if match is None:
        return None
    month = int(match.group(3)) if match.group(3) else None
    day = int(match.group(4)) if match.group(4) else None
    return bool(match.group(1)), int(match.group(2)), month, day


def date_patterns(date: str, precision: int | None) -> list[re.Pattern[str]]:
    """Regexes for the ways a text writes ``date`` at ``precision`` (empty: never matched)."""
    parsed = _iso(date)
    if parsed is None:
        return []
    bc, year, month, day = parsed
    precision = PRECISION_DAY if precision is None else precision
    if bc:
        if precision < PRECISION_YEAR:
            return []
        return [re.compile(rf"(?<![\w,.]){year}\s?(?:BC|BCE|B\.C\.)(?!\w)")]
    y = rf"(?<![\w,.\-]){year}(?![\w]|,\d|\.\d)"
    if precision >= PRECISION_MONTH and month and 1 <= month <= 12:
        name = MONTHS[month - 1]
        m = rf"(?:{name}|{name[:3]}\.?)"
        if precision >= PRECISION_DAY and day:
            d = rf"0?{day}(?:st|nd|rd|th)?"
            return [
                re.compile(rf"(?<!\d){d}\s+(?:of\s+)?{m},?\s+{year}(?!\d)"),
                re.compile(rf"{m}\s+{d},?\s+{year}(?!\d)"),
                re.compile(rf"(?<![\d-]){year}-{month:02d}-{day:02d}(?!\d)"),
            ]
        return [re.compile(rf"{m},?\s+{year}(?!\d)")]
    if precision >= PRECISION_YEAR:
        if year >= 1000:
            return [re.compile(y)]
        return [re.compile(rf"(?:(?:AD|A\.D\.|in)\s+{year}|{year}\s*(?:AD|CE|A\.D\.))(?![\w])")]
    if precision == PRECISION_DECADE and year >= 1000:
        return [re.compile(rf"(?<![\w,.]){year // 10 * 10}[’']?s(?!\w)")]
    return []


def find_date(text: str, fact: Fact, start: int, end: int) -> list[Hit]:
    """Occurrences of the fact's date in ``text[start:end]``, at the fact's precision."""
    if fact.date is None:
        return []
    hits: list[Hit] = []
    for pattern in date_patterns(fact.date, fact.date_precision):
        hits.extend(Hit(m.start(), m.end()) for m in pattern.finditer(text, start, end))
    return hits


def _tolerance(value: float, digits: str, decimals: str | None, multiplier: float) -> float:
    if decimals:
        step = 10.0 ** -len(decimals) * multiplier
    else:
        zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
        step = 10.0**zeros * multiplier
    if step <= 1:
        return 0.5 * step
    return min(0.5 * step, 0.05 * value)


def find_quantity(text: str, fact: Fact, start: int, end: int) -> list[Hit]:
    """Occurrences of the fact's amount (rounded as written, with its unit) in the span."""
    if fact.amount is None:
        return []
    amount = fact.amount
    unit_after = UNIT_FORMS.get(fact.unit or "")
    unit_before = UNIT_PREFIXES.get(fact.unit or "")
    if fact.unit and unit_after is None and unit_before is None:
        return []  # a unit no table names: the text's number could be in any unit
    hits: list[Hit] = []
    for match in _NUMBER.finditer(text, start, end):
        digits = match.group(1).replace(",", "")
        decimals = match.group(2)
        word = match.group(3)
        multiplier = _MULTIPLIERS[word.lower()] if word else 1.0
        value = float(f"{digits}.{decimals}" if decimals else digits) * multiplier
        rest = text[match.end() : end]
        if unit_after is not None:
            if not re.match(r"\s*-?\s*" + unit_after, rest, re.IGNORECASE):
                continue
        elif unit_before is not None:
            if not re.search(
                unit_before + r"\s*$", text[max(start, match.start() - 5) : match.start()]
            ):
                continue
        else:
            currency = match.start() > 0 and text[match.start() - 1] in "$€£"
            if _ANY_UNIT.match(rest) or currency:
                continue
            looks_like_year = (
                not word and not decimals and "," not in match.group(1) and len(digits) == 4
            )
            if looks_like_year and not _COUNT_NOUN.match(rest):
                continue
        before = text[max(start, match.start() - 20) : match.start()]
        if (_AT_LEAST.search(before) and amount < value) or (
            _AT_MOST.search(before) and amount > value
        ):
            continue  # "over 4 million" is not 3,864,170
        if abs(amount - value) <= _tolerance(value, digits, decimals, multiplier):
            hits.append(Hit(match.start(), match.end()))
    return hits


def find_string(text: str, fact: Fact, start: int, end: int) -> list[Hit]:
    """Occurrences of the fact's string value (verbatim, word-bounded) in the span."""
    value = (fact.string or "").strip()
    if len(value) < 3:
        return []
    pattern = re.compile(r"(?<!\w)" + re.escape(value) + r"(?!\w)")
    return [Hit(m.start(), m.end()) for m in pattern.finditer(text, start, end)]


def qualifier_years(fact: Fact) -> set[int]:
    """Years of the fact's time qualifiers (point in time, start time, end time)."""
    if not fact.qualifiers:
        return set()
    try:
        data = json.loads(fact.qualifiers)
    except ValueError:
        return set()
    years: set[int] = set()
    for key in _TIME_KEYS:
        value = data.get(key) if isinstance(data, dict) else None
        for v in value if isinstance(value, list) else [value]:
            parsed = _iso(v) if isinstance(v, str) else None
            if parsed is not None and not parsed[0]:
                years.add(parsed[1])
    return years


def years_in(text: str, start: int, end: int) -> set[int]:
    """Four-digit years (1000-2099) written in ``text[start:end]``."""
    out: set[int] = set()
    for match in _YEAR_IN_TEXT.finditer(text, start, end):
        year = int(match.group(1))
        if 1000 <= year <= 2099 and text[match.end() : match.end() + 1] != "s":
            out.add(year)
    return out


def qualifiers_agree(fact: Fact, text: str, start: int, end: int) -> bool:
    """Whether the span's years agree with the fact's time qualifiers.

    False when the span dates the statement with years none of which the qualifiers carry
    (``married in 1990`` against a marriage that started in 1986) and none of which lies
    between a start and an end time; True when it writes no year or the fact has no dates.
    """
    wanted = qualifier_years(fact)
    if not wanted:
        return True
    written = years_in(text, start, end)
    if fact.kind == "date" and fact.date is not None:
        parsed = _iso(fact.date)
        if parsed is not None:
            written.discard(parsed[1])
    if not written or written & wanted:
        return True
    span = _time_span(fact)
    return span is not None and any(span[0] <= y <= span[1] for y in written)


def _time_span(fact: Fact) -> tuple[int, int] | None:
    """``(start year, end year)`` when the fact has both a start and an end time."""
    data = json.loads(fact.qualifiers or "{}")
    bounds: list[int] = []
    for keys in (("start_time", "P580"), ("end_time", "P582")):
        value = next((data[k] for k in keys if k in data), None)
        value = value[0] if isinstance(value, list) and value else value
        parsed = _iso(value) if isinstance(value, str) else None
        if parsed is None or parsed[0]:
            return None
        bounds.append(parsed[1])
    return bounds[0], bounds[1]
