"""Rule matchers beyond exact match: token F1, containment, and GAIA's scorer.

All three are deterministic functions of (prediction, accepted answers), so the rule judges
that apply them need no model and score thousands of trajectories a second.

- :func:`token_f1` is SQuAD's token-level F1 over :func:`~redsearcher.eval.normalize_answer`
  tokens (multiset overlap), the best over the accepted answers.
- :func:`contains_match`: an accepted answer's tokens appear contiguously in the prediction's
  (``"Paris, France"`` contains ``"Paris"``; ``"Parisian"`` does not).
- :func:`gaia_match` follows the rules of GAIA's official scorer (written anew here): a numeric
  gold answer compares by value after currency signs, percent signs, thousands commas and a
  short unit are stripped; a gold answer with ``,`` or ``;`` is a list compared element by
  element (same length; numbers by value, strings without whitespace, case-insensitively);
  any other string compares without whitespace, case or punctuation.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

from redsearcher.eval._match import normalize_answer

__all__ = ["contains_match", "gaia_match", "token_f1"]


def _f1(predicted: list[str], expected: list[str]) -> float:
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision = common / len(predicted)
    recall = common / len(expected)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str | None, answers: Iterable[str]) -> float:
    """The best token F1 of ``prediction`` against any accepted answer (0.0 without one).

    Tokens are those of :func:`~redsearcher.eval.normalize_answer`, counted as a multiset.
    """
    if prediction is None:
        return 0.0
    predicted = normalize_answer(prediction).split()
    return max((_f1(predicted, normalize_answer(a).split()) for a in answers), default=0.0)


def contains_match(prediction: str | None, answers: Iterable[str]) -> bool:
    """Whether an accepted answer's normalized tokens occur contiguously in the prediction's.

    An answer that normalizes to nothing (``"—"``) is looked for as raw, case-folded text.
    """
    if prediction is None:
        return False
    predicted = f" {normalize_answer(prediction)} "
    for answer in answers:
        expected = normalize_answer(answer)
        if expected:
            if f" {expected} " in predicted:
                return True
        elif answer.strip() and answer.strip().casefold() in prediction.casefold():
            return True
    return False


# -- GAIA ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# What may surround a predicted number: a currency sign or code before it, a short unit after.
_AROUND_NUMBER = re.compile(
    r"\s*(?:[$€£¥]|usd|eur|gbp)?\s*(?P<num>" + _NUMBER.pattern + r")\s*"
    r"(?:%|[^\W\d]{1,12}(?:[/\s][^\W\d]{1,12})?|°[cf]?|[²³])?\.?\s*",
    re.IGNORECASE,
)


def _gold_number(text: str) -> float | None:
    """The value of a gold answer that is a number (``1,000``, ``$5``, ``12%`` included)."""
    cleaned = text.strip().strip("$%").strip()
    if _THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        return None
    return float(cleaned)


def _predicted_number(text: str) -> float | None:
    """The one number of a prediction, after currency signs, commas and a short unit go."""
    match = _AROUND_NUMBER.fullmatch(re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text))
    return float(match.group("num")) if match else None


def _squash(text: str, *, punctuation: bool) -> str:
    text = re.sub(r"\s", "", text).lower()
    if punctuation:
        text = text.translate(str.maketrans("", "", string.punctuation))
    return text


def _gaia_one(prediction: str, gold: str) -> bool:
    number = _gold_number(gold)
    if number is not None:
        value = _predicted_number(prediction)
        return value is not None and value == number
    if any(sep in gold for sep in ",;"):
        golds = re.split(r"[,;]", gold)
        predicted = re.split(r"[,;]", prediction)
        if len(golds) != len(predicted):
            return False
        for p, g in zip(predicted, golds, strict=True):
            if _gold_number(g) is not None:
                if _predicted_number(p) != _gold_number(g):
                    return False
            elif _squash(p, punctuation=False) != _squash(g, punctuation=False):
                return False
        return True
    return _squash(prediction, punctuation=True) == _squash(gold, punctuation=True)


def gaia_match(prediction: str | None, answers: Iterable[str]) -> bool:
    """Whether ``prediction`` matches an accepted answer under GAIA's rules (module docstring)."""
    if prediction is None:
        return False
    return any(_gaia_one(prediction, gold) for gold in answers)
