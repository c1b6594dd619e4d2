"""Nationality adjectives: how a biography's lead states citizenship (``a German stateswoman``).

Wikipedia rarely writes "citizen of Germany"; it writes ``Angela Merkel is a German
stateswoman``. A page about a person states ``citizen_of`` a country when the country's
demonym qualifies the person in a defining clause: the page's first sentence, or a sentence
opening ``He was``/``She is``, in the words after ``is a``/``was an`` up to the first comma.
Hyphenated nationalities count part by part (``Austrian-American``) except a part followed by
``-born`` (``German-born American``: born in Germany, American).

The table keys are Wikidata items, so a World with other labels still matches; historical
states share the demonym of their successor (``German`` for the German Empire and Germany), and
a page with both among its subject's citizenships states both. Extend it as needed.
"""

from __future__ import annotations

import re

#: Country item -> demonyms (adjectives of nationality).
DEMONYMS: dict[str, tuple[str, ...]] = {
    "Q30": ("American",),
    "Q145": ("British",),
    "Q174193": ("British",),
    "Q161885": ("British",),
    "Q179876": ("English",),
    "Q230791": ("Scottish",),
    "Q183": ("German",),
    "Q43287": ("German",),
    "Q41304": ("German",),
    "Q7318": ("German",),
    "Q16957": ("East German",),
    "Q713750": ("West German",),
    "Q142": ("French",),
    "Q70972": ("French",),
    "Q38": ("Italian",),
    "Q172579": ("Italian",),
    "Q29": ("Spanish",),
    "Q40": ("Austrian",),
    "Q131964": ("Austrian",),
    "Q28513": ("Austro-Hungarian",),
    "Q39": ("Swiss",),
    "Q15180": ("Soviet",),
    "Q159": ("Russian",),
    "Q34266": ("Russian",),
    "Q148": ("Chinese",),
    "Q17": ("Japanese",),
    "Q668": ("Indian",),
    "Q16": ("Canadian",),
    "Q408": ("Australian",),
    "Q96": ("Mexican",),
    "Q155": ("Brazilian",),
    "Q414": ("Argentine", "Argentinian"),
    "Q34": ("Swedish",),
    "Q20": ("Norwegian",),
    "Q35": ("Danish",),
    "Q33": ("Finnish",),
    "Q55": ("Dutch",),
    "Q31": ("Belgian",),
    "Q36": ("Polish",),
    "Q28": ("Hungarian",),
    "Q213": ("Czech",),
    "Q33946": ("Czechoslovak",),
    "Q218": ("Romanian",),
    "Q41": ("Greek",),
    "Q43": ("Turkish",),
    "Q12560": ("Ottoman",),
    "Q794": ("Iranian",),
    "Q79": ("Egyptian",),
    "Q258": ("South African",),
    "Q27": ("Irish",),
    "Q45": ("Portuguese",),
    "Q212": ("Ukrainian",),
    "Q801": ("Israeli",),
    "Q884": ("South Korean",),
    "Q423": ("North Korean",),
    "Q881": ("Vietnamese",),
    "Q252": ("Indonesian",),
    "Q843": ("Pakistani",),
    "Q1033": ("Nigerian",),
    "Q189": ("Icelandic",),
    "Q219": ("Bulgarian",),
    "Q403": ("Serbian",),
    "Q224": ("Croatian",),
    "Q36704": ("Yugoslav",),
    "Q298": ("Chilean",),
    "Q739": ("Colombian",),
    "Q419": ("Peruvian",),
    "Q717": ("Venezuelan",),
    "Q241": ("Cuban",),
    "Q766": ("Jamaican",),
    "Q115": ("Ethiopian",),
    "Q114": ("Kenyan",),
    "Q1028": ("Moroccan",),
    "Q262": ("Algerian",),
    "Q851": ("Saudi",),
    "Q796": ("Iraqi",),
    "Q858": ("Syrian",),
    "Q822": ("Lebanese",),
    "Q869": ("Thai",),
    "Q928": ("Filipino",),
    "Q865": ("Taiwanese",),
    "Q27306": ("Prussian",),
}

_DEFINING = re.compile(
    r"\b(?:is|was|are|were|became)\s+(?:an?|the)\s+([^,;:()]{1,80})", re.IGNORECASE
)
_PRONOUN_START = re.compile(r"^\s*(?:He|She)\s+(?:is|was|became)\b")


def nationality_words(sentence: str, first: bool) -> set[str]:
    """Demonyms that qualify the page's subject in ``sentence`` (see the module docstring)."""
    if not first and not _PRONOUN_START.match(sentence):
        return set()
    match = _DEFINING.search(sentence)
    if match is None:
        return set()
    words: set[str] = set()
    tokens = match.group(1).split()[:5]
    for i, token in enumerate(tokens):
        parts = token.strip(".").split("-")
        for j, part in enumerate(parts):
            if j + 1 < len(parts) and parts[j + 1].lower() == "born":
                continue
            if part[:1].isupper():
                words.add(part)
                if i + 1 < len(tokens) and j == len(parts) - 1:
                    words.add(f"{part} {tokens[i + 1].split('-')[0]}")  # "South African"
    return words


def states_citizenship(country: str, sentence: str, first: bool) -> bool:
    """Whether ``sentence`` calls the page's subject a national of ``country`` (an item id)."""
    demonyms = DEMONYMS.get(country)
    if not demonyms:
        return False
    words = nationality_words(sentence, first)
    for compound in _COMPOUNDS & words:
        words.discard(compound.split()[-1])  # "East German" is not "German"
    return bool(set(demonyms) & words)


_COMPOUNDS = frozenset(d for ds in DEMONYMS.values() for d in ds if " " in d)


# -- occupations: the nouns of the same defining clause ------------------------------------

#: Where the defining clause's description of the subject ends: a relative clause, a
#: preposition that starts saying what they did ("physicist *who* developed", "actor *known*
#: for", "president *of* the United States"), or a clause break. Commas stay inside: the
#: clause lists occupations ("an actor, film producer, businessman and politician").
_CLAUSE_END = re.compile(
    r"[;:()]|\.\s|\.$|\s(?:who|whom|whose|which|that|known|best|famous|widely|considered|"
    r"regarded|of|from|in|at|for|with|during|since|until|between|under|by|on|to)\b",
    re.IGNORECASE,
)

#: Gendered forms that state the occupation item of the other name (Wikidata's "actor" is the
#: item for actresses too).
_FORMS: dict[str, tuple[str, ...]] = {
    "actor": ("actor", "actress"),
    "film actor": ("film actor", "film actress"),
    "television actor": ("television actor", "television actress"),
    "stage actor": ("stage actor", "stage actress"),
    "businessperson": ("businessperson", "businessman", "businesswoman"),
}


def defining_clause(sentence: str, first: bool) -> tuple[int, int] | None:
    """The span of the subject's description in ``sentence``: "X is *an English physicist*".

    Only the page's first sentence, or one opening ``He was``/``She is``, defines its subject;
    the span runs from after ``is a``/``was an``/``became the`` to the first relative clause,
    preposition or clause break (``_CLAUSE_END``).
    """
    if not first and not _PRONOUN_START.match(sentence):
        return None
    match = _DEFINING.search(sentence)
    if match is None:
        return None
    start = match.start(1)
    stop = _CLAUSE_END.search(sentence, start)
    return start, stop.start() if stop else len(sentence)


def states_occupation(occupation: str, sentence: str, first: bool) -> tuple[int, int] | None:
    """Where ``sentence`` calls the page's subject a ``occupation`` (a span), or None.

    "Isaac Newton was an English polymath, mathematician, physicist and astronomer" states
    the occupations mathematician, physicist and astronomer; "Mary Pickford was a Canadian-
    American stage and screen actress" states actor. The occupation must be a whole word (or
    words) of the defining clause: "screenwriter" does not state "writer", and an occupation
    named after the clause ("who worked as a teacher") is not read.
    """
    clause = defining_clause(sentence, first)
    value = occupation.strip().lower()
    if clause is None or len(value) < 3:
        return None
    forms = _FORMS.get(value, (value,))
    words = "|".join(re.escape(f) for f in forms)
    pattern = re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE)
    match = pattern.search(sentence, *clause)
    return (match.start(), match.end()) if match else None


def states_demonym(demonym: str, text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span in ``text[start:end]`` that names the people by ``demonym``, or None.

    The plural names only the people ("the Gujaratis are indigenous to the state"), and so
    does the singular before a lower-case ``people``/``nationals`` ("the Batswana people").
    The bare singular is also the adjective and often a language or a name ("the official
    language is Dutch", "the Stuttgarter Kessel", "Lao People's Democratic Republic"), so it
    states nothing.
    """
    value = demonym.strip()
    if len(value) < 3 or not value[:1].isupper():
        return None
    plural = value + ("es" if value.endswith(("s", "sh", "ch", "x")) else "s")
    pattern = re.compile(
        rf"(?<![\w-])(?:{re.escape(plural)}|{re.escape(value)}(?-i:\s+(?:people|nationals)))"
        r"(?![\w'’-])"
    )
    match = pattern.search(text, start, end)
    return (match.start(), match.end()) if match else None
