"""Parsers of LLM judges' outputs: tolerant of form, strict about meaning.

Judge models write the requested format with drift: bold markdown (``**correct:** yes``), other
spacing and case, full-width colons, a trailing period, a reasoning paragraph before the label.
A parser that demands the exact bytes turns every such reply into a wrong score — one public
BrowseComp grader compares the whole match ``"correct: yes"`` with ``"yes"`` and so scores every
answer 0. These parsers accept the drift and refuse only what has no single reading: a missing
label, a label that is neither value, two labels that disagree. That refusal is a
:class:`JudgeParseError`, which the judge turns into an *unscored* verdict, never "incorrect".

Each parser takes the judge's raw text and returns a :class:`Parsed`; none of them talks to a
model, so all of them are tested on recorded outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "JudgeParseError",
    "Parsed",
    "parse_ab",
    "parse_browsecomp",
    "parse_confidence",
    "parse_extracted_answer",
    "parse_final_answer",
    "parse_xbench",
]


class JudgeParseError(ValueError):
    """A judge's output has no single reading; the message says why (the unscored reason)."""


@dataclass(frozen=True)
class Parsed:
    """What a judge's output says."""

    correct: bool
    extracted_answer: str | None = None
    reasoning: str | None = None
    confidence: float | None = None
    """The confidence the *agent* stated, as the judge extracted it (0-1)."""


# Markdown emphasis and heading/quote/list marks a model may wrap a label in.
_EMPHASIS = re.compile(r"\*\*|__|`")
_LEAD = r"^[ \t>#*\-]*"


def _fields(text: str, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(name, value)`` for every ``name: value`` field at a line start, in order.

    A value runs to the next field (so a multi-line reasoning stays whole). Names match
    case-insensitively, with any spacing and an ASCII or full-width colon.
    """
    clean = _EMPHASIS.sub("", text)
    alternatives = "|".join(re.escape(n) for n in names)
    header = re.compile(_LEAD + rf"({alternatives})[ \t]*[:：]", re.IGNORECASE | re.MULTILINE)
    found = list(header.finditer(clean))
    fields: list[tuple[str, str]] = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(clean)
        fields.append((match.group(1).lower(), clean[match.end() : end].strip()))
    return fields


def _only(fields: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in fields if key == name]
    return values[-1] if values else None


_QUOTES = "\"'“”‘’「」[]()（）*_ \t\r\n"


def _yes_no(value: str, field: str) -> bool:
    word = re.split(r"[\s.,;:!。，；]", value.strip(_QUOTES), maxsplit=1)[0].strip(_QUOTES)
    lowered = word.casefold()
    if lowered in {"yes", "true", "correct", "y"}:
        return True
    if lowered in {"no", "false", "incorrect", "n"}:
        return False
    shown = value if len(value) <= 40 else value[:37] + "..."
    raise JudgeParseError(f"'{field}:' is {shown!r}, not yes or no")


def parse_confidence(value: str | None) -> float | None:
    """A stated confidence as a fraction: ``85%``, ``85``, ``0.85`` → 0.85; else ``None``.

    A bare number above 1 is a percentage (BrowseComp asks for 0-100%); one at most 1 is a
    fraction. Out of range or unreadable gives ``None``: confidence is auxiliary and never
    makes a verdict unscored.
    """
    if value is None:
        return None
    match = re.search(r"(\d+(?:\.\d+)?)\s*(%|％|percent)?", value)
    if match is None:
        return None
    number = float(match.group(1))
    if match.group(2) or number > 1:
        number /= 100
    return number if 0.0 <= number <= 1.0 else None


def parse_extracted_answer(value: str | None) -> str | None:
    """An ``extracted_final_answer`` value; ``None`` for the grader's "None" (nothing found)."""
    if value is None:
        return None
    text = value.strip().strip("\"'“”")
    return None if not text or text.casefold() in {"none", "n/a", "null", "无", "无。"} else text


def parse_browsecomp(text: str) -> Parsed:
    """The BrowseComp grader's output, one field per line.

    The fields: ``extracted_final_answer``, ``reasoning``, ``correct``, ``confidence``. Only
    ``correct: yes|no`` is required; it may be the whole output. When it appears more than once,
    every occurrence must agree.

    Raises:
        JudgeParseError: no ``correct:`` field, a value other than yes/no, or disagreeing ones.
    """
    names = ("extracted_final_answer", "reasoning", "correct", "confidence")
    fields = _fields(text, names)
    values = [value for key, value in fields if key == "correct"]
    if not values:
        raise JudgeParseError("no 'correct:' line in the judge output")
    decisions = {_yes_no(value, "correct") for value in values}
    if len(decisions) > 1:
        raise JudgeParseError("'correct:' lines disagree")
    return Parsed(
        correct=decisions.pop(),
        extracted_answer=parse_extracted_answer(_only(fields, "extracted_final_answer")),
        reasoning=_only(fields, "reasoning") or None,
        confidence=parse_confidence(_only(fields, "confidence")),
    )


# A choice letter standing alone (not the A of "Answer"), and the bracketed labels.
_LETTER = re.compile(r"(?<![A-Za-z])([AB])(?![A-Za-z])")
_LABEL = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)


def _ab_decisions(text: str) -> set[bool]:
    decisions = {letter == "A" for letter in _LETTER.findall(text)}
    decisions |= {label.upper() == "CORRECT" for label in _LABEL.findall(text)}
    return decisions


def parse_ab(text: str) -> Parsed:
    """The A/B equivalence judge's output: ``A`` (= [CORRECT]) or ``B`` (= [INCORRECT]).

    Accepted: the letter alone or decorated (``A``, ``(B)``, ``A.``, ``**B**``, ``Answer: B``),
    the label alone (``[CORRECT]``), or both (``A. [CORRECT]``). The last non-empty line is read
    first (reasoning may precede it), then the whole text; each must give one decision.
    A letter inside a word (the A of "Answer") is not a choice — a grader that searches for
    ``[AB]`` anywhere reads "Answer: B" as A.

    Raises:
        JudgeParseError: no choice, or both.
    """
    clean = _EMPHASIS.sub("", text).strip()
    if clean.casefold() in {"a", "a.", "b", "b."}:
        return Parsed(correct=clean[0].casefold() == "a")
    lines = [line for line in clean.splitlines() if line.strip()]
    for part in ([lines[-1]] if lines else []) + [clean]:
        decisions = _ab_decisions(part)
        if len(decisions) == 1:
            return Parsed(correct=decisions.pop(), reasoning=None)
    if not _ab_decisions(clean):
        raise JudgeParseError("no A/B choice in the judge output")
    raise JudgeParseError("the judge output chooses both A and B")


def parse_xbench(text: str) -> Parsed:
    """The xbench (Chinese) grader's output: ``最终答案:``, ``解释:``, ``结论: 正确|错误``.

    Colons may be ASCII or full-width; the labels may be bold.

    Raises:
        JudgeParseError: no ``结论`` field, a value other than 正确/错误, or disagreeing ones.
    """
    fields = _fields(text, ("最终答案", "解释", "结论"))
    values = [value for key, value in fields if key == "结论"]
    if not values:
        raise JudgeParseError("no '结论:' line in the judge output")
    decisions: set[bool] = set()
    for value in values:
        word = value.strip(_QUOTES)
        if word.startswith(("错误", "不正确")):
            decisions.add(False)
        elif word.startswith("正确"):
            decisions.add(True)
        else:
            shown = value if len(value) <= 40 else value[:37] + "..."
            raise JudgeParseError(f"'结论:' is {shown!r}, not 正确 or 错误")
    if len(decisions) > 1:
        raise JudgeParseError("'结论:' lines disagree")
    return Parsed(
        correct=decisions.pop(),
        extracted_answer=parse_extracted_answer(_only(fields, "最终答案")),
        reasoning=_only(fields, "解释") or None,
    )


def parse_final_answer(text: str) -> str | None:
    """The GAIA fallback's output: ``extracted_final_answer: X`` (``None`` for "None").

    Raises:
        JudgeParseError: no ``extracted_final_answer:`` line.
    """
    fields = _fields(text, ("extracted_final_answer",))
    if not fields:
        raise JudgeParseError("no 'extracted_final_answer:' line in the judge output")
    return parse_extracted_answer(fields[-1][1])
