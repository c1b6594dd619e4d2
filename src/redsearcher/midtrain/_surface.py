"""How a fact's value reads in text, and where a document states it.

Verification rests on two questions this module answers without a model: *what is the answer*
(:func:`canonical_value`, the one form a target's answer must equal) and *which sentence of a
document states the fact* (:func:`find_span`: a sentence of a document that provenance says
states the fact, containing one of the value's surface forms and naming the subject or being on
its page). Documents render dates three ways and numbers with or without thousands separators,
so :func:`surface_forms` lists each form a page may use.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from redsearcher.midtrain._world_index import DocView, FactView, WorldIndex
from redsearcher.world.generate import MONTHS

__all__ = [
    "Span",
    "canonical_value",
    "find_span",
    "intent_for",
    "normalize",
    "question_for",
    "sentences",
    "states",
    "surface_forms",
]


_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n+")


@dataclass(frozen=True, slots=True)
class Span:
    """A verbatim sentence of document ``doc_id`` that states fact ``fact_id``."""

    doc_id: str
    fact_id: int
    start: int
    end: int
    text: str


def sentences(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text``'s sentences (and list lines), trimmed of whitespace."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SPLIT.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    trimmed = []
    for a, b in out:
        while a < b and text[a] in " \t-":
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


def _number(x: float) -> list[str]:
    if math.isfinite(x) and x == int(x):
        return [f"{int(x):,}", str(int(x))]
    return [f"{x:g}", str(x)]


def surface_forms(index: WorldIndex, fact: FactView) -> list[str]:
    """The strings a document may use for ``fact``'s value (empty: none is textual)."""
    if fact.kind == "entity" and fact.object is not None:
        return [index.label(fact.object)]
    if fact.kind == "string" and fact.string:
        return [fact.string]
    if fact.kind == "quantity" and fact.amount is not None:
        return _number(fact.amount)
    if fact.kind == "date" and fact.date:
        iso = fact.date.lstrip("+")
        precision = fact.precision or 11
        parts = iso.split("-")
        if precision >= 11 and len(parts) >= 3:
            y, m, d = parts[0], int(parts[1]), int(parts[2])
            month = MONTHS[m - 1] if 1 <= m <= 12 else ""
            forms = [iso[:10]]
            if month:
                forms += [f"{month} {d}, {y}", f"{d} {month} {y}"]
            return forms
        if precision == 10 and len(parts) >= 2:
            m = int(parts[1])
            month = MONTHS[m - 1] if 1 <= m <= 12 else ""
            return [f"{month} {parts[0]}", iso[:7]] if month else [iso[:7]]
        return [parts[0]]
    return []


def canonical_value(index: WorldIndex, fact: FactView) -> str | None:
    """The answer a target must give for ``fact`` (``None``: the value is not textual)."""
    if fact.kind == "entity" and fact.object is not None:
        return index.label(fact.object)
    if fact.kind == "string":
        return fact.string
    if fact.kind == "quantity" and fact.amount is not None:
        number = _number(fact.amount)[0]
        return f"{number} {fact.unit}" if fact.unit else number
    if fact.kind == "date" and fact.date:
        iso = fact.date.lstrip("+")
        precision = fact.precision or 11
        return iso[:10] if precision >= 11 else iso[:7] if precision == 10 else iso[:4]
    return None


def normalize(text: str) -> str:
    """Case-, space- and punctuation-folded text, for comparing answers."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _contains(sentence: str, form: str) -> bool:
    """``form`` occurs in ``sentence`` on word boundaries (1951 is not in 19510 or 1,951)."""
    start = sentence.find(form)
    while start >= 0:
        end = start + len(form)
        before = sentence[max(0, start - 2) : start].rjust(2)
        after = sentence[end : end + 2]
        glued = (
            before[1].isalnum()
            or after[:1].isalnum()
            or (before[1] in ",." and before[0].isdigit() and form[:1].isdigit())
            or (after[:1] in ",." and after[1:2].isdigit() and form[-1:].isdigit())
        )
        if not glued:
            return True
        start = sentence.find(form, start + 1)
    return False


def states(index: WorldIndex, fact: FactView, doc: DocView, sentence: str) -> bool:
    """Whether ``sentence`` of ``doc`` carries ``fact``: a value form, and the subject named.

    The subject counts as named when the page is about it (real pages say "He"); that the
    document states the fact at all is provenance's word, which the caller checks.
    """
    forms = surface_forms(index, fact)
    if not any(_contains(sentence, form) for form in forms):
        return False
    return doc.about == fact.subject or index.label(fact.subject) in sentence


def find_span(index: WorldIndex, fact: FactView, doc: DocView) -> Span | None:
    """The first sentence of ``doc`` that states ``fact`` (``None`` when none does)."""
    for a, b in sentences(doc.text):
        if states(index, fact, doc, doc.text[a:b]):
            return Span(doc.id, fact.id, a, b, doc.text[a:b])
    return None


_QUESTIONS = {
    "occupation": "What is the occupation of {s}?",
    "date_of_birth": "When was {s} born?",
    "date_of_death": "When did {s} die?",
    "born_in": "Where was {s} born?",
    "died_in": "Where did {s} die?",
    "citizen_of": "Of which country is {s} a citizen?",
    "educated_at": "Where was {s} educated?",
    "employer": "Who employed {s}?",
    "spouse": "Who is the spouse of {s}?",
    "child": "Who is a child of {s}?",
    "award_received": "Which award did {s} receive?",
    "signed_to": "Which record label is {s} signed to?",
    "author_of": "Which work did {s} write?",
    "located_in": "Where is {s} located?",
    "capital": "What is the capital of {s}?",
    "twinned_with": "Which city is {s} twinned with?",
    "population": "What is the population of {s}?",
    "address": "What is the address of {s}?",
    "category": "What kind of place is {s}?",
    "official_language": "What is the official language of {s}?",
    "inception": "When was {s} founded?",
    "founded_by": "Who founded {s}?",
    "headquartered_in": "Where is {s} headquartered?",
    "director": "Who directed {s}?",
    "cast_member": "Who appears in {s}?",
    "publication_date": "When was {s} published or released?",
    "production_company": "Which company produced {s}?",
    "genre": "What is the genre of {s}?",
}


def question_for(index: WorldIndex, fact: FactView) -> str:
    """A question asking for ``fact``'s value about its subject (a template per predicate)."""
    template = _QUESTIONS.get(fact.predicate)
    subject = index.label(fact.subject)
    if template is None:
        return f"What is the {fact.predicate.replace('_', ' ')} of {subject}?"
    return template.format(s=subject)


_INTENTS = {
    "born_in": "birthplace",
    "died_in": "place of death",
    "citizen_of": "citizenship",
    "educated_at": "education",
    "employer": "employer",
    "child": "children",
    "award_received": "awards",
    "signed_to": "record label",
    "author_of": "works",
    "located_in": "location",
    "twinned_with": "twin city",
    "inception": "founding date",
    "founded_by": "founder",
    "headquartered_in": "headquarters",
    "cast_member": "cast",
    "publication_date": "release date",
}


def intent_for(index: WorldIndex, fact: FactView) -> str:
    """The query intent in a few words: the subject's attribute that is sought."""
    what = _INTENTS.get(fact.predicate, fact.predicate.replace("_", " "))
    return f"find the {what} of {index.label(fact.subject)}"
