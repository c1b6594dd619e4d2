"""Rule-based answer matching: the scorer until an LLM judge is configured.

Short factual answers (a name, a year, a count) are compared after normalisation, in the spirit
of SQuAD's ``normalize_answer`` and GAIA's rule scorer: Unicode NFKC (full-width forms, ligatures),
case, punctuation, English articles and whitespace do not matter, and numbers compare by value
(``1,000`` = ``1000``, ``3.50`` = ``3.5``). It is deliberately strict otherwise: ``Paris, France``
does not match ``Paris``. Aliases are how a task states the other accepted forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

__all__ = ["exact_match", "normalize_answer"]

_ARTICLES = frozenset({"a", "an", "the"})

# Numbers (optional leading sign, thousands groups of exactly three digits, optional decimals)
# standing alone, and separators: whitespace, dashes, list punctuation (ASCII and CJK). What lies
# between them is text, whose remaining punctuation and symbols are deleted (U.S.A. -> usa).
_PIECE = re.compile(
    r"(?P<num>(?:(?<![^\s])[-+])?(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?![\w]|[.,]\d))"
    r"|(?P<sep>[\s,;:/\-\u2010-\u2015\u2212\u3001\uff0c\uff1b\uff1a]+)"
)


def _canonical_number(text: str) -> str:
    value = Decimal(text.replace(",", ""))
    if value == 0:
        return "0"
    # Drop trailing zeros (3.50 -> 3.5, 2.0 -> 2) without switching to exponent notation.
    return format(value.normalize(), "f").lstrip("+")


def _text_tokens(text: str) -> list[str]:
    kept = "".join(c for c in text if not unicodedata.category(c).startswith(("P", "S")))
    return kept.split()


def normalize_answer(text: str) -> str:
    """Normalise an answer for comparison.

    Steps: Unicode NFKC; case folding; numbers rewritten canonically (thousands separators and
    trailing decimal zeros dropped); whitespace, dashes and list punctuation (``,;:/``) separate
    tokens; other punctuation and symbols are deleted (``U.S.A.`` becomes ``usa``); the articles
    *a*, *an*, *the* are removed; tokens are joined by single spaces.

    Args:
        text: An answer as written by a model or a task.

    Returns:
        The normalised form (empty when nothing but punctuation/articles was given).
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: list[str] = []
    position = 0
    for match in _PIECE.finditer(text):
        tokens.extend(_text_tokens(text[position : match.start()]))
        position = match.end()
        if match.lastgroup == "num":
            tokens.append(_canonical_number(match.group()))
    tokens.extend(_text_tokens(text[position:]))
    return " ".join(t for t in tokens if t not in _ARTICLES)


def exact_match(prediction: str | None, answers: Iterable[str]) -> bool:
    """Whether ``prediction`` equals any accepted answer after :func:`normalize_answer`.

    An answer that normalises to nothing (say ``"—"``) is compared case-insensitively after
    NFKC and whitespace stripping instead, so it can still match itself.

    Args:
        prediction: The model's final answer; ``None`` (no answer) never matches.
        answers: The reference answer and its aliases.
    """
    if prediction is None:
        return False
    predicted = normalize_answer(prediction)
    raw = unicodedata.normalize("NFKC", prediction).casefold().strip()
    for answer in answers:
        expected = normalize_answer(answer)
        if expected:
            if predicted == expected:
                return True
        elif raw and raw == unicodedata.normalize("NFKC", answer).casefold().strip():
            return True
    return False
