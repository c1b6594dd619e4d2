# ruff: noqa: E501  (a data table: one entry per line keeps the phrasings readable)
"""The offline realizer's question grammar: how each predicate is asked about.

The World generator's phrasings (``world.generate._phrases``) *state* facts about two named
entities; a question instead talks about one entity at a time (the *topic*), names only the
observed ones and describes the rest, and phrases fuzzed values ("in the late 1980s"). So every
phrasing here is a verb phrase whose subject is the topic, left implicit: ``{o}`` (or ``{s}``
for the inverse direction) is the other end's mention. Several variants per entry give the
seed something to vary; each must state the constraint exactly, never hedge it.

Placeholders: ``{o}``/``{s}`` the other entity, ``{w}`` a date phrase ("in the 1980s"), ``{q}``
an amount phrase ("between 1,000 and 1,500"), ``{v}`` a string value, ``{a}`` the value with
its indefinite article, ``{t}`` the topic's type word, ``{p}`` its possessive ("its"/"their"),
``{n}`` the predicate's noun.

The value phrases (last section) are derived from a condition's bounds and never rounded
further: "about 1,200" would hide the inclusive range the uniqueness check tested, so a range
reads "between 1,100 and 1,300". The named thirds of a decade ("the late 1980s") are the one
convention, matching how ``fuzz`` splits a decade at 3 and 6.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from redsearcher.log import Condition
from redsearcher.synth import _grammar_wikidata as wd
from redsearcher.world import PREDICATES
from redsearcher.world.generate import MONTHS  # dates read as the documents write them

#: How an entity type is said; unknown types use their name with spaces.
TYPE_WORDS: Final[dict[str, str]] = {
    "person": "person",
    "paper": "paper",
    "film": "film",
    "place": "place",
    "album": "album",
    "book": "book",
    "organization": "organization",
    "city": "city",
    "event": "event",
    "university": "university",
    "record_label": "record label",
    "venue": "publication venue",
    "award": "award",
    "country": "country",
}

#: Types whose names are titles, quoted so a sentence-like title reads as one name.
QUOTED_TYPES: Final[frozenset[str]] = frozenset({"film", "album", "book", "paper"})

#: Types whose names read with "the" ("the 1994 Harwick Jazz Festival", "the Velden Prize").
DEFINITE_TYPES: Final[frozenset[str]] = frozenset({"award", "event"})

#: Predicate nouns, for ``same`` and for the generic fallback ("has the same {n} as ...").
NOUNS: Final[dict[str, str]] = {
    "born_in": "place of birth",
    "died_in": "place of death",
    "citizen_of": "country of citizenship",
    "educated_at": "alma mater",
    "author_of": "authored work",
    "located_in": "location",
    "headquartered_in": "headquarters location",
    "parent_organization": "parent organization",
    "award_received": "award",
    "signed_to": "record label",
    "record_label": "record label",
    "production_company": "production company",
    "filming_location": "filming location",
    "published_in": "publication venue",
    "cites": "cited paper",
    "twinned_with": "twin town",
    "date_of_birth": "date of birth",
    "date_of_death": "date of death",
    "point_in_time": "date",
    "publication_date": "publication date",
    "inception": "founding date",
    "students_count": "number of students",
    "employees": "number of employees",
    "rating_count": "number of reviews",
    "citation_count": "citation count",
    "duration": "running time",
    "main_subject": "main subject",
    "event_category": "category",
    "venue_type": "type",
    "award_field": "field",
    "official_language": "official language",
}

#: Entity predicates: (forward phrasings with the topic as subject, inverse with it as object).
RELATIONS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "born_in": (("was born in {o}", "is a native of {o}"), ("is the birthplace of {s}", "is where {s} was born")),
    "died_in": (("died in {o}",), ("is where {s} died", "is the place of death of {s}")),
    "citizen_of": (("is a citizen of {o}", "holds citizenship of {o}"), ("is the country of citizenship of {s}", "counts {s} among its citizens")),
    "educated_at": (("studied at {o}", "was educated at {o}"), ("is where {s} studied", "counts {s} among its alumni")),
    "employer": (("works for {o}", "is employed by {o}"), ("employs {s}", "has {s} on its staff")),
    "spouse": (("is married to {o}", "is the spouse of {o}"), ("is married to {s}", "is the spouse of {s}")),
    "child": (("is a parent of {o}", "has {o} as a child"), ("is a child of {s}", "has {s} as a parent")),
    "award_received": (("received {o}", "was awarded {o}"), ("was awarded to {s}", "went to {s}")),
    "signed_to": (("is signed to {o}", "records for {o}"), ("has {s} under contract", "has signed {s}")),
    "author_of": (("wrote {o}", "is an author of {o}"), ("was written by {s}", "has {s} among its authors")),
    "located_in": (("is located in {o}", "lies in {o}"), ("is where {s} is located", "is the location of {s}")),
    "capital": (("has {o} as its capital", "has its capital at {o}"), ("is the capital of {s}", "is the capital city of {s}")),
    "twinned_with": (("is twinned with {o}", "has a sister-city partnership with {o}"), ("is twinned with {s}", "has a sister-city partnership with {s}")),
    "founded_by": (("was founded by {o}", "has {o} as its founder"), ("founded {s}", "is the founder of {s}")),
    "headquartered_in": (("is headquartered in {o}", "has its head office in {o}"), ("hosts the headquarters of {s}", "is where {s} has its head office")),
    "parent_organization": (("is a subsidiary of {o}", "is owned by {o}"), ("is the parent organization of {s}", "owns {s}")),
    "publisher": (("is published by {o}", "has {o} as its publisher"), ("publishes {s}", "is the publisher of {s}")),
    "conferred_by": (("is conferred by {o}", "is presented by {o}"), ("confers {s}", "presents {s}")),
    "organizer": (("was organized by {o}", "had {o} as its organizer"), ("organized {s}", "was the organizer of {s}")),
    "participant": (("had {o} among its participants", "was attended by {o}"), ("took part in {s}", "participated in {s}")),
    "director": (("was directed by {o}", "has {o} as its director"), ("directed {s}", "is the director of {s}")),
    "cast_member": (("stars {o}", "features {o} in its cast"), ("appears in {s}", "is in the cast of {s}")),
    "screenwriter": (("was written by {o}", "has a screenplay by {o}"), ("wrote the screenplay of {s}", "is a screenwriter of {s}")),
    "production_company": (("was produced by {o}", "is a production of {o}"), ("produced {s}", "is the production company of {s}")),
    "filming_location": (("was filmed in {o}", "was shot in {o}"), ("is where {s} was filmed", "served as a filming location of {s}")),
    "performer": (("is performed by {o}", "has {o} as its performer"), ("is the performer of {s}", "is credited as the performer of {s}")),
    "record_label": (("was released on {o}", "came out on the label {o}"), ("released {s}", "is the label of {s}")),
    "producer": (("was produced by {o}", "has {o} as its producer"), ("produced {s}", "is the producer of {s}")),
    "published_in": (("appeared in {o}", "was published in {o}"), ("published {s}", "is where {s} appeared")),
    "cites": (("cites {o}", "builds on {o}"), ("is cited by {s}", "is a reference of {s}")),
}  # fmt: skip

#: Generic relation phrasings for predicates the grammar does not know.
GENERIC_RELATION: Final = (("has {o} as {p} {n}",), ("is the {n} of {s}",))

#: ``same``: the topic shares a value of the predicate with ``{o}`` (symmetric).
SAME: Final[dict[str, tuple[str, ...]]] = {
    "citizen_of": ("holds the same citizenship as {o}", "is a citizen of the same country as {o}"),
    "born_in": ("was born in the same city as {o}", "shares a birthplace with {o}"),
    "died_in": ("died in the same city as {o}",),
    "educated_at": ("studied at the same university as {o}", "shares an alma mater with {o}"),
    "employer": ("works for the same employer as {o}",),
    "occupation": ("has the same occupation as {o}", "works in the same profession as {o}"),
    "genre": ("is of the same genre as {o}", "shares its genre with {o}"),
    "industry": ("is in the same industry as {o}",),
    "located_in": ("is located in the same place as {o}",),
    "headquartered_in": ("is headquartered in the same city as {o}",),
    "record_label": ("was released on the same label as {o}",),
    "signed_to": ("is signed to the same label as {o}",),
    "publisher": ("has the same publisher as {o}",),
    "published_in": ("appeared in the same venue as {o}",),
    "award_received": ("received an award that {o} also received",),
    "main_subject": ("is about the same subject as {o}",),
    "category": ("is the same kind of place as {o}",),
    "event_category": ("is the same kind of event as {o}",),
    "official_language": ("has the same official language as {o}",),
}

#: Generic ``same`` phrasing.
GENERIC_SAME: Final = ("has the same {n} as {o}",)

#: Date predicates: the verb phrase before the date phrase ``{w}``; also used by ``compute``.
DATES: Final[dict[str, tuple[str, ...]]] = {
    "date_of_birth": ("was born",),
    "date_of_death": ("died", "passed away"),
    "inception": ("was founded", "was established"),
    "publication_date": ("was published", "came out"),
    "point_in_time": ("was held", "took place"),
}

#: Date verbs that depend on the topic's type (films and albums are released).
DATES_BY_TYPE: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("publication_date", "film"): ("was released", "came out"),
    ("publication_date", "album"): ("was released", "came out"),
}

#: Generic date verb phrase.
GENERIC_DATE: Final = ("has {p} {n}",)

#: Quantity predicates, with the amount phrase ``{q}``.
QUANTITIES: Final[dict[str, tuple[str, ...]]] = {
    "population": ("has a population of {q}", "has {q} inhabitants"),
    "employees": ("has {q} employees", "employs {q} people"),
    "students_count": ("has {q} students", "enrolls {q} students"),
    "rating": ("has an average rating of {q} out of 5", "is rated {q} out of 5 on average"),
    "rating_count": ("has {q} reviews", "has been reviewed {q} times"),
    "duration": ("runs {q} minutes", "has a running time of {q} minutes"),
    "number_of_tracks": ("has {q} tracks", "contains {q} tracks"),
    "number_of_pages": ("has {q} pages", "runs to {q} pages"),
    "citation_count": ("has been cited {q} times", "has {q} citations"),
}

#: Generic quantity phrasing; ``{u}`` is the condition's unit (" minutes") or empty.
GENERIC_QUANTITY: Final = ("has a {n} of {q}{u}",)

#: String-valued predicates tested for equality.
STRINGS: Final[dict[str, tuple[str, ...]]] = {
    "occupation": ("works as {a}", "is {a} by profession"),
    "genre": ("is {a} {t}", "belongs to the {v} genre"),
    "industry": ("operates in the {v} industry", "is active in the {v} sector"),
    "category": ("is {a}", "is classified as {a}"),
    "official_language": ("has {v} as its official language",),
    "award_field": ("is given for work in {v}", "recognizes achievement in {v}"),
    "venue_type": ("is {a}",),
    "event_category": ("is {a}",),
    "main_subject": ("is about {v}", "has {v} as its main subject"),
    "address": ("is located at {v}", "has the address {v}"),
}

#: Generic string phrasing ("whose {n} is {v}", as a verb phrase).
GENERIC_STRING: Final = ("has {v} as {p} {n}",)

#: Travel modes of route constraints: how the window is said.
MODES: Final[dict[str, str]] = {
    "driving": "by car",
    "walking": "on foot",
    "bicycling": "by bicycle",
    "transit": "by public transport",
    "flying": "by plane",
}

#: Route phrasings: ``{d}`` the direction phrase ("west of Kessel" / "from Kessel"), ``{r}``
#: the window ("between 1.5 and 2 hours"), ``{m}`` the mode ("by car").
ROUTES: Final = ("lies {d}, {r} away {m}", "is {r} {m} {d}")

#: Citation-count (scholar tool) phrasings.
SCHOLAR: Final = ("has been cited {q} times", "has {q} citations")

#: How the question ends: (unique type, person) ... ; ``{h}`` is the handle of the answer.
ENDINGS: Final[dict[tuple[bool, bool], tuple[str, ...]]] = {
    (True, True): ("Who is this person?", "Who is the person?", "Name this person."),
    (True, False): ("Which {t} is it?", "What is the name of the {t}?", "Name the {t}."),
    (False, True): ("Who is {h}?", "Name {h}."),
    (False, False): ("Which {t} is {l}?", "What is the name of {h}?", "Name {h}."),
}

#: How the first sentence introduces the answer; ``{i}`` its indefinite mention, ``{r}`` the
#: relative pronoun, ``{c}`` its clauses.
OPENERS: Final = ("There is {i} {r} {c}.", "I am looking for {i} {r} {c}.", "Consider {i} {r} {c}.")


# -- fuzzed values --------------------------------------------------------------------------

_THIRDS = {(0, 3): "early", (3, 6): "mid-", (6, 9): "late"}


def number(x: float | int | str) -> str:
    """A number with thousands separators and no trailing zeros (``1,500``, ``4.25``)."""
    try:
        value = float(x)
    except ValueError:
        return str(x)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def article(phrase: str) -> str:
    """``phrase`` with its indefinite article (``an album``, ``a university``)."""
    low = phrase.lower()
    vowel = low[:1] in ("a", "e", "i", "o", "u")
    if low.startswith(("uni", "use", "usu", "eu", "one", "once")):
        vowel = False
    elif low.startswith(("hour", "honest", "honor", "honour")):
        vowel = True
    return f"{'an' if vowel else 'a'} {phrase}"


def _year(y: float) -> str:
    n = int(y)
    return f"{-n} BC" if n < 0 else str(n)


def day_text(value: str) -> str | None:
    """An ISO ``YYYY-MM-DD`` date as ``1 March 2024``; None when it is not a full date."""
    try:
        day = date.fromisoformat(value[:10]) if len(value) >= 10 else None
    except ValueError:
        return None
    return None if day is None else f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _float(value: str | float | None) -> float | None:
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def date_phrase(cond: Condition) -> str:
    """A date condition as a prepositional phrase: ``in 1994``, ``in the late 1980s``.

    ``year_range`` bounds that are one named third of a decade (``fuzz`` splits a decade at 3
    and 6) read as ``early``/``mid-``/``late``; any other span reads ``between 1984 and 1989``.
    """
    low, high = cond.low, cond.high
    if cond.op == "eq":
        text = str(cond.value)
        day = day_text(text)
        return f"on {day}" if day else f"in {text}"
    if cond.op == "year":
        year = low if low is not None else _float(cond.value)
        if year is not None:
            return f"in {_year(year)}"
    if cond.op == "decade" and low is not None and low >= 0 and low % 10 == 0:
        return f"in the {int(low)}s"
    if cond.op == "year_range" and low is not None and high is not None and low >= 0:
        decade = int(low) - int(low) % 10
        third = _THIRDS.get((int(low) - decade, int(high) - decade))
        if third:
            return f"in the {third}{'' if third.endswith('-') else ' '}{decade}s"
    if low is not None and high is not None:
        if low == high:
            return f"in {_year(low)}"
        return f"between {_year(low)} and {_year(high)}"
    if low is not None:
        return f"in or after {_year(low)}"
    if high is not None:
        return f"in or before {_year(high)}"
    return "at some date"


def amount_phrase(cond: Condition) -> str:
    """A quantity condition's bounds: ``between 1,000 and 1,500``, ``at least 20``."""
    if cond.op == "eq":
        value = _float(cond.value)
        return f"exactly {number(value)}" if value is not None else str(cond.value)
    low, high = cond.low, cond.high
    if low is not None and high is not None:
        if low == high:
            return f"exactly {number(low)}"
        return f"between {number(low)} and {number(high)}"
    if low is not None:
        return f"at least {number(low)}"
    if high is not None:
        return f"at most {number(high)}"
    return "some number of"


def _duration(minutes: float) -> str:
    m = round(minutes, 1)
    if m >= 60 and m % 30 == 0:
        hours = m / 60
        return f"{number(hours)} hour{'' if hours == 1 else 's'}"
    if m >= 60:
        hours, rest = divmod(m, 60)
        return f"{int(hours)} hour{'' if hours == 1 else 's'} {number(rest)} minutes"
    return f"{number(m)} minute{'' if m == 1 else 's'}"


def route_window(low: float | None, high: float | None) -> str:
    """A travel-time window in human terms: ``between 1.5 and 2 hours``, ``within 40 minutes``."""
    if low is not None and high is not None and low != high and low > 0:
        if min(low, high) >= 60 and low % 30 == 0 and high % 30 == 0:
            return f"between {number(low / 60)} and {number(high / 60)} hours"
        return f"between {_duration(low)} and {_duration(high)}"
    if low is not None and high is not None and low == high:
        return _duration(low)
    if high is not None:
        return f"within {_duration(high)}"
    if low is not None:
        return f"at least {_duration(low)}"
    return "some time"


def travel_mode(unit: str | None) -> str:
    """How a travel mode is said (``driving`` -> ``by car``)."""
    mode = unit or "driving"
    return MODES.get(mode, f"by {mode.replace('_', ' ')}")


def days_phrase(cond: Condition, verb: str) -> str:
    """A day count from a date to the reference date ``cond.value``.

    Positive counts mean the fact's date is earlier: ``born exactly 9,000 days before 1 March
    2024``; negative ones read ``after``; a window spanning zero names both sides.
    """
    ref = str(cond.value)
    ref = day_text(ref) or ref
    low = cond.low if cond.low is not None else cond.high
    high = cond.high if cond.high is not None else cond.low
    if low is None or high is None:
        return f"{verb} some days before or after {ref}"
    low, high = min(low, high), max(low, high)
    if low == high:
        if low == 0:
            return f"{verb} on {ref}"
        days = abs(low)
        side = "before" if low > 0 else "after"
        return f"{verb} exactly {number(days)} day{'' if days == 1 else 's'} {side} {ref}"
    if low >= 0:
        return f"{verb} between {number(low)} and {number(high)} days before {ref}"
    if high <= 0:
        return f"{verb} between {number(-high)} and {number(-low)} days after {ref}"
    return f"{verb} between {number(high)} days before and {number(-low)} days after {ref}"


# -- lookups: the synthetic vocabulary first, then the Wikidata table, then the words ----------
#
# A vocabulary predicate without an entry keeps the grammar's original generic phrasing (so
# synthetic Worlds read exactly as before); any other predicate is phrased from the Wikidata
# table or, failing that, from its own words, never from an id.


def _vocabulary(pred: str) -> bool:
    return pred in PREDICATES or pred in NOUNS


def noun(pred: str) -> str:
    """The predicate as a noun phrase (``{n}``)."""
    found = NOUNS.get(pred) or wd.WIKIDATA_NOUNS.get(pred)
    if found:
        return found
    return pred.replace("_", " ") if _vocabulary(pred) else wd.noun_of(pred)


def relation_phrases(pred: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(forward, inverse) phrasings of a relation predicate."""
    found = RELATIONS.get(pred) or wd.WIKIDATA_RELATIONS.get(pred)
    if found:
        return found
    return GENERIC_RELATION if _vocabulary(pred) else wd.generic_relation(pred)


def same_phrases(pred: str) -> tuple[str, ...]:
    """Phrasings of "shares a ``pred`` value with ``{o}``"."""
    found = SAME.get(pred) or wd.WIKIDATA_SAME.get(pred)
    if found:
        return found
    return GENERIC_SAME if _vocabulary(pred) else wd.generic_same(pred)


def date_verbs(pred: str, subject_type: str) -> tuple[str, ...] | None:
    """The verb phrases before a date phrase, or None when the grammar has none."""
    return DATES_BY_TYPE.get((pred, subject_type)) or DATES.get(pred) or wd.WIKIDATA_DATES.get(pred)


def quantity_phrases(pred: str) -> tuple[str, ...] | None:
    """Phrasings of an amount (``{q}``, unit ``{u}``), or None for an unknown predicate."""
    return QUANTITIES.get(pred) or wd.WIKIDATA_QUANTITIES.get(pred)


def string_phrases(pred: str) -> tuple[str, ...]:
    """Phrasings of a string value (``{v}``, ``{a}``)."""
    found = STRINGS.get(pred)
    if found:
        return found
    relation = wd.WIKIDATA_RELATIONS.get(pred)
    if relation:
        return tuple(t.replace("{o}", "{v}") for t in relation[0])
    return GENERIC_STRING if _vocabulary(pred) else wd.generic_string(pred)


def readable_type(type_name: str) -> str | None:
    """How a type is said, or None when it cannot be (an id, ``item``, no letters)."""
    if type_name in TYPE_WORDS:
        return TYPE_WORDS[type_name]
    word = type_name.replace("_", " ").strip()
    if not word or word.casefold() == "item" or wd.ID_WORD.search(word):
        return None
    words = word.split()
    if len(words) > 1 and words[0].islower() and words[1][:1].isupper():
        return None  # a proper name with its first letter lowered: "academy Awards"
    if len(words) > 1 and words[0][:1].isupper() and all(w.islower() for w in words[1:]):
        word = word[0].lower() + word[1:]  # a sentence-case class label: "Motion picture award"
    return word if any(ch.isalpha() for ch in word) else None


def description_handle(description: str | None) -> str | None:
    """A Wikidata description cut down to its head noun phrase, or None when it is unusable.

    Only the head is kept, without numbers ("American actor and politician (born 1947)" ->
    "American actor and politician"; "university located in Syracuse, New York" ->
    "university"; "1996 film" -> "film"): the tail names places and people and the numbers
    are dates, which would add clauses the uniqueness check never tested and often give the
    entity away (the shortcut check rejects "a 1990 film" in a World of one 1990 film).
    """
    if not description:
        return None
    text = re.split(r"\s*[(,;:]", description.strip(), maxsplit=1)[0].strip()
    # numbers ("1996 film", "born 1947") would be a date clause nobody tested for uniqueness
    words = [w for w in text.split() if not any(ch.isdigit() for ch in w)]
    for k, w in enumerate(words[1:], 1):
        after = words[k + 1].lower() if k + 1 < len(words) else ""
        if w.lower() in _CUT_WORDS or (w.endswith("ed") and after in _CUT_WORDS):
            words = words[:k]  # "award presented by ..." -> "award"
            break
    text = " ".join(words)
    if not text or len(words) > 5 or wd.ID_WORD.search(text):
        return None
    return text if any(ch.isalpha() for ch in text) else None


_CUT_WORDS = frozenset(
    [
        *("in", "of", "from", "by", "at", "for", "on", "with", "near", "between"),
        *("who", "which", "that", "directed", "written", "located", "based", "situated"),
        *("born", "founded", "established", "created", "produced", "published", "released"),
    ]
)
