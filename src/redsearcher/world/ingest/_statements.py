"""Which facts one Wikipedia page states: the seam between page reading and fact detection.

Page reading (``_wikipedia``: formats, joins, redirects, hyperlinks) resolves a page to the
entity it is about and the entities it links, each with the anchor texts that linked it; this
module decides which facts of the World the page's text states. Keeping the seam this narrow
lets the formats grow without touching the detection rule, and the rule be measured on its own
(against the gold set) without any reader.

The rule, precision first (``docs/ingest.md`` has it with examples). A page states fact
``(s, p, o)`` when, inside **one sentence**:

* the page is about ``s`` and the sentence names ``o`` (or the value of a literal fact);
* or the page is about ``o`` and the sentence names ``s`` (``He starred in The Terminator``
  states ``The Terminator cast_member Arnold``);
* or the page links ``s`` and the sentence names both ``s`` and ``o`` (or the value);

and the value is attributed to ``p`` by the nearest cue word of the sentence (``_cues``), and
the sentence's years agree with the fact's time qualifiers (``_literals.qualifiers_agree``).
Entities are named by anchors first, then by label or alias, but only the page's own entity,
its hyperlinked entities and its knowledge-graph neighbours (both directions) are ever looked
for (``_spans``). Literal values match at the fact's precision (``_literals``); coordinates
never do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redsearcher.world._records import Fact
from redsearcher.world.ingest._cues import CUES, Cue, attributed, find_cues
from redsearcher.world.ingest._demonyms import (
    states_citizenship,
    states_demonym,
    states_occupation,
)
from redsearcher.world.ingest._literals import (
    Hit,
    find_date,
    find_quantity,
    find_string,
    qualifiers_agree,
)
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._spans import Span, find_names, name_phrases, sentences


@dataclass(frozen=True, slots=True)
class LinkedEntity:
    """An entity a page hyperlinks, with the anchor texts of those links (may be empty)."""

    id: str
    anchors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Statement:
    """Why a page states a fact: the sentence and the value's span in it (for reading)."""

    fact_id: int
    sentence: tuple[int, int]
    value: tuple[int, int]


class _Sentence:
    """One sentence with the names and (lazily) the cue words in it."""

    def __init__(self, text: str, start: int, end: int, spans: list[Span], first: bool) -> None:
        self.text, self.start, self.end, self.first = text, start, end, first
        self.by_entity: dict[str, list[Span]] = {}
        for span in spans:
            self.by_entity.setdefault(span.entity, []).append(span)
        self._cues: list[Cue] | None = None

    @property
    def cues(self) -> list[Cue]:
        if self._cues is None:
            self._cues = find_cues(self.text, self.start, self.end)
        return self._cues

    def cued(self, predicate: str, start: int, end: int) -> bool:
        return predicate in attributed(self.text, self.cues, start, end)


#: The lead's parenthesised life dates: ``Douglas Adams (11 March 1952 – 11 May 2001) was``.
_LIFESPAN = {"date_of_birth": 0, "date_of_death": 1}
_PARENTHESIS = re.compile(r"\(([^()]*)\)")
_DASH = re.compile(r"\s[–—-]\s|–|—")


def _in_lifespan(text: str, sentence: _Sentence, predicate: str, start: int, end: int) -> bool:
    """Whether the value lies in the birth (or death) half of the first sentence's parenthesis.

    Only a first parenthesis holding two parts joined by a dash counts.
    """
    match = _PARENTHESIS.search(text, sentence.start, sentence.end)
    if match is None or not match.start(1) <= start < end <= match.end(1):
        return False
    halves = _DASH.split(match.group(1))
    if len(halves) != 2:
        return False
    cut = match.start(1) + len(halves[0])
    return (start < cut) if _LIFESPAN[predicate] == 0 else (start > cut)


#: Predicates whose object contains their subject; ``<place word> of|in`` right before a name
#: makes that name the container.
_CONTAINMENT = frozenset({"located_in", "headquartered_in"})
_CONTAINER_BEFORE = re.compile(r"\b(?:of|in)\s+(?:the\s+)?$")


def _specific(value: str | None) -> bool:
    """Whether a string value is specific enough to be its own evidence.

    Several words or a digit are (``Great Russell Street, London``); a single word
    (``Russian`` as an official language) needs a cue word of its predicate.
    """
    text = (value or "").strip()
    return " " in text or any(c.isdigit() for c in text)


#: The subject's defining clause names it the holder of a national office of ``o``: "is an
#: American politician who was the 44th president of the United States", "was King of
#: England". A head of state or government is a national of the state (Wikidata records the
#: state as the citizenship); a clause about someone else ("defeated the King of France")
#: does not match, since the office must follow the subject's own "is/was/became/served as".
_OFFICE_OF = re.compile(
    r"\b(?:is|was|became|served as|serving as)\s+"
    r"(?:(?!(?:who|whom|which|that|met|with|of|to|for)\b)[\w'-]+\s+){0,4}?"
    r"(?:president|prime minister|chancellor|king|queen|emperor|empress|tsar|premier|"
    r"sultan|shah|monarch)\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_OWN_CLAUSE = re.compile(r"\s*(?:He|She)\s+(?:is|was|became|served)\b")


def _holds_office(text: str, sentence: _Sentence, country: str) -> tuple[int, int] | None:
    """The span of ``country`` where the subject's defining clause names an office of it."""
    if not sentence.first and not _OWN_CLAUSE.match(text, sentence.start, sentence.end):
        return None
    for span in sentence.by_entity.get(country, []):
        before = text[sentence.start : span.start]
        if ";" not in before and _OFFICE_OF.search(before):
            return span.start, span.end
    return None


def _own_string(
    text: str, predicate: str, value: str, sentence: _Sentence
) -> tuple[int, int] | None:
    """A string fact of the page's subject stated by the shape of its lead, not by a cue.

    An occupation in the defining clause ("was an English physicist", ``occupation``) and a
    demonym in the plural ("the Gujaratis", ``demonym``).
    """
    if predicate == "occupation":
        span = states_occupation(value, text[sentence.start : sentence.end], sentence.first)
        return None if span is None else (sentence.start + span[0], sentence.start + span[1])
    if predicate == "demonym":
        span = states_demonym(value, text, sentence.start, sentence.end)
        names = [n for spans in sentence.by_entity.values() for n in spans]
        if span is None or any(n.start < span[1] and span[0] < n.end for n in names):
            return None  # inside a name: "The Philippines" is no plural of "Philippine"
        return span
    return None


#: String predicates ``_own_string`` reads without a cue row.
_OWN_STRINGS = frozenset({"occupation", "demonym"})


def _value_hits(text: str, fact: Fact, sentence: _Sentence) -> list[Hit]:
    if fact.kind == "date":
        return find_date(text, fact, sentence.start, sentence.end)
    if fact.kind == "quantity":
        return find_quantity(text, fact, sentence.start, sentence.end)
    if fact.kind == "string":
        return find_string(text, fact, sentence.start, sentence.end)
    return []


def _stated_in(
    text: str, fact: Fact, sentence: _Sentence, about: str | None, linked: set[str]
) -> tuple[int, int] | None:
    """The value span by which ``sentence`` states ``fact``, or None."""
    if fact.kind == "entity":
        s, o = fact.subject, fact.object or ""
        if s == o:
            return None
        if s == about:
            if fact.predicate == "citizen_of" and states_citizenship(
                o, text[sentence.start : sentence.end], sentence.first
            ):
                return sentence.start, sentence.end
            if fact.predicate == "citizen_of" and (office := _holds_office(text, sentence, o)):
                return office
            targets = sentence.by_entity.get(o, [])
        elif o == about or (s in linked and s in sentence.by_entity):
            targets = sentence.by_entity.get(s if o == about else o, [])
        else:
            return None
        values = [(t.start, t.end) for t in targets]
        if o == about and fact.predicate in _CONTAINMENT:
            # "the city of Rome" on Ancient Rome's page names Rome as a container, the
            # reverse of "Rome is in Ancient Rome"
            values = [(a, b) for a, b in values if not _CONTAINER_BEFORE.search(text, 0, a)]
    else:
        if fact.subject != about and fact.subject not in sentence.by_entity:
            return None
        if fact.subject == about and fact.kind == "string" and fact.string:
            own = _own_string(text, fact.predicate, fact.string, sentence)
            if own is not None:
                return own
        values = [(h.start, h.end) for h in _value_hits(text, fact, sentence)]
        if values and fact.kind == "string" and _specific(fact.string or ""):
            return values[0]  # an address-like string is its own evidence
        if sentence.first and fact.subject == about and fact.predicate in _LIFESPAN:
            for start, end in values:
                if _in_lifespan(text, sentence, fact.predicate, start, end):
                    return start, end
    for start, end in values:
        if sentence.cued(fact.predicate, start, end) and qualifiers_agree(
            fact, text, sentence.start, sentence.end
        ):
            return start, end
    return None


def detect(
    text: str,
    about: str | None,
    linked: Sequence[LinkedEntity],
    facts: Iterable[Fact],
    names: Mapping[str, tuple[str, ...]],
) -> list[Statement]:
    """The statements of a page among candidate ``facts`` (one per fact, by fact id).

    Args:
        text: The page's plain text.
        about: The entity the page is about, if any.
        linked: The entities the page hyperlinks, with their anchors.
        facts: Candidate facts (those about ``about`` or a linked entity, and those whose
            object is ``about``); others are ignored.
        names: Label and aliases of the entities that may be named: ``about``, the linked
            entities and ``about``'s knowledge-graph neighbours.
    """
    anchors = {e.id: e.anchors for e in linked if e.anchors}
    spans = find_names(text, names, anchors, about)
    parts: list[_Sentence] = []
    for start, end in sentences(text):
        inside = [s for s in spans if start <= s.start and s.end <= end]
        parts.append(_Sentence(text, start, end, inside, not parts))
    linked_ids = {e.id for e in linked} - {about}
    out: dict[int, Statement] = {}
    for fact in facts:
        if fact.id in out or (
            fact.predicate not in CUES
            and fact.predicate not in _OWN_STRINGS
            and not (fact.kind == "string" and _specific(fact.string))
        ):
            continue
        for sentence in parts:
            value = _stated_in(text, fact, sentence, about, linked_ids)
            if value is not None:
                out[fact.id] = Statement(fact.id, (sentence.start, sentence.end), value)
                break
    return [out[k] for k in sorted(out)]


#: Above this many incoming facts, a page's entity is a hub and its incoming facts are looked
#: up only from the entities the page names by label.
HUB_INCOMING = 2000


def candidates(
    scratch: Scratch, text: str, about: str | None, linked: Sequence[LinkedEntity]
) -> tuple[list[Fact], dict[str, tuple[str, ...]]]:
    """The facts a page could state and the names of the entities it may name."""
    subjects = ([about] if about else []) + [e.id for e in linked if e.id != about]
    if not subjects:
        return [], {}
    facts = scratch.facts_about(subjects)
    incoming: list[Fact] = []
    if about and scratch.count_to(about) <= HUB_INCOMING:
        incoming = scratch.facts_to([about])
    elif about:
        # A hub (a country with millions of citizens in a full dump): look only at the
        # entities whose label the page writes, found through the label index.
        named = scratch.label_owners(sorted(name_phrases(text)))
        ids = sorted({i for owners in named.values() for i in owners})
        incoming = scratch.facts_to([about], subjects=ids) if ids else []
    nameable = set(subjects)
    nameable.update(f.object for f in facts if f.subject == about and f.object)
    nameable.update(f.subject for f in incoming)
    seen = {f.id for f in facts}
    facts.extend(f for f in incoming if f.id not in seen)
    names = scratch.names(sorted(nameable))
    aliases = {a for entity_names in names.values() for a in entity_names[1:]}
    owners = scratch.label_owners(sorted(aliases | {_bare(a) for a in aliases}))
    return facts, {
        entity: (entity_names[0], *(a for a in entity_names[1:] if _own(a, entity, owners)))
        for entity, entity_names in names.items()
    }


def _bare(alias: str) -> str:
    return alias[4:] if alias.casefold().startswith("the ") else alias


def _own(alias: str, entity: str, owners: Mapping[str, set[str]]) -> bool:
    """Whether ``alias`` (or it without ``the``) is no other entity's label.

    ``Great Britain`` names the island, not the United Kingdom; ``the United Kingdom`` is not
    the historical United Kingdom of Great Britain and Ireland.
    """
    return all(owners.get(form, {entity}) <= {entity} for form in (alias, _bare(alias)))


def page_statements(
    scratch: Scratch, text: str, about: str | None, linked: Sequence[LinkedEntity]
) -> list[int]:
    """Ids of the facts the page ``text`` states, in increasing order.

    Args:
        scratch: The ingest store (entities, names, numbered facts).
        text: The page's plain text.
        about: The entity the page is about, when it joined to one.
        linked: The entities the page hyperlinks (``about`` excluded), in link order.
    """
    facts, names = candidates(scratch, text, about, linked)
    if not facts:
        return []
    return [s.fact_id for s in detect(text, about, linked, facts, names)]
