"""Property cue words: the words a sentence uses when it states a relation or a dated event.

A page about Arnold Schwarzenegger that names Austria may say he was born there, holds its
citizenship, or merely visited; the words around the name tell which. Each predicate has a
small regex of cue words (``born``, ``directed by``, ``starring``, ``founded``). A value or an
entity in a sentence is attributed to the predicate(s) whose cue is *nearest* to it (a cue
inside a longer cue of another predicate does not count: ``by`` inside ``directed by``), and a
fact is stated only when its predicate is among them. Nearest-cue attribution is what separates
``born in Vienna ... died in Paris``: Vienna goes to birth, Paris to death.

Predicates without a row are never stated by text (their facts still have knowledge-base pages).
The table is plain data: add a row for a new predicate, with a test sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The pseudo-predicate of cues that tie a name to no relation (``north of Quebec``).
NO_RELATION = "-"

#: "a research university in New Haven": an institution or a place *in* somewhere (lower
#: case only: ``St John's College in the 1970s`` is a name, not a cue).
_INSTITUTION_IN = (
    r"(?-i:university|college|school|library|museum|institute|company|corporation|firm|"
    r"organi[sz]ation|agency|hospital|church|cathedral|palace|stadium|building|monastery|"
    r"abbey|temple|mosque|theatre|theater|observatory|zoo)(?: (?:located|based|situated))? in"
)
_PLACE_IN = (
    r"(?-i:island|province|region|city|town|village|municipality|port|lake|river|mountain|"
    r"territory|prefecture|county|state|country|commune|borough|suburb|capital|metropolis|"
    r"archipelago|peninsula|valley|desert)(?: (?:located|situated))? in"
)

#: Predicate -> regex of its cue words (matched case-insensitively, at word boundaries).
CUES: dict[str, str] = {
    # births and deaths
    "born_in": r"born|birthplace|native of|birth",
    "date_of_birth": r"born|birth|née",
    "died_in": r"died|dies|death|killed|executed|assassinated|murdered",
    "date_of_death": r"died|dies|death|killed|executed|assassinated|murdered",
    # people
    "citizen_of": r"citizens?|citizenship|nationality|naturali[sz]ed",
    "educated_at": (
        r"educated|studied|studying|studies at|graduated|graduate of|graduating|attended|"
        r"alumn\w*|degree|enrolled|student at|doctorate|ph\.?d|master's|bachelor's"
    ),
    "award_received": (
        r"awards?|awarded|won|wins|winning|winner|prizes?|received|receiving|recipient|"
        r"honou?red|medals?|laureate|decorated|inducted"
    ),
    "employer": (
        r"worked|works|working|employed|employee|professor|lecturer|lectured|taught|teaching|"
        r"joined|hired|career at|researcher at|fellow at|served at|faculty"
    ),
    "spouse": r"married|marry|marriage|wife|husband|spouse|wed|widow|widower",
    "child": r"son|sons|daughter|daughters|child|children|father|mother|parent|parents",
    "signed_to": r"signed|label|contract",
    # works
    "cast_member": (
        r"starring|starred|stars|co-starring|co-starred|cast|roles?|played|plays|"
        r"portrayed|portrays|appeared|appears|featuring"
    ),
    "director": r"directed by|directed|director|directing|direction of",
    "screenwriter": (
        r"written by|screenplay|screenwriter|script|scripted|wrote|co-wrote|co-written|writer"
    ),
    "producer": r"produced by|produced|producer|co-produced|producing",
    "production_company": r"produced by|produced|production|studio|studios",
    "performer": (
        r"album by|single by|song by|recorded by|performed by|performed|recorded|sung by|sang|"
        r"singer|band|rapper|group|duo|recording artist"
    ),
    "filming_location": r"filmed|shot in|shot on location|filming|location",
    "author_of": r"wrote|written|author|novel|novels|book|books|poem|play",
    "publisher": r"published by|publisher",
    "record_label": r"label|released by|released on",
    "publication_date": (
        r"released|release|published|publication|premiered|premiere|aired|debuted|issued|"
        r"broadcast|first performed|(?:an?|the)(?=\s+\d{4}\s+[a-z])"
    ),
    # places and organisations
    "located_in": (
        r"located|situated|lies|lying|city in|town in|village in|municipality in|"
        r"capital(?: city)? of|city of|region of|province of|state of|county|district|commune in|"
        r"suburb of|part of|(?:largest|biggest|most populous|capital) city|"
        r"administrative region of|" + _INSTITUTION_IN + "|" + _PLACE_IN
    ),
    "capital": r"capital(?: city)?(?: of)?|seat of government|administrative cent(?:re|er)",
    # the inverse of ``capital`` (P1376, ``--all-properties``): "Lima is the capital of Peru"
    "capital_of": r"capital(?: city)?(?: of)?|seat of government|administrative cent(?:re|er)",
    "headquartered_in": (
        r"headquartered|headquarters|based in|head office|based|" + _INSTITUTION_IN
    ),
    "founded_by": (
        r"founded by|co-founded|founded|founder|co-founder|established by|established|"
        r"created by|formed by"
    ),
    "parent_organization": (
        r"subsidiary|owned by|parent company|division of|part of|unit of|agency of|branch of|"
        r"arm of"
    ),
    "twinned_with": r"twinned|twin towns?|twin cities|sister cit(?:y|ies)|partner cit(?:y|ies)",
    "participant": (
        r"participants?|participated|participating|fought|belligerents?|combatants?|"
        r"between|involving|involved|competed|allies|allied"
    ),
    "conferred_by": r"awarded by|presented by|conferred by|given by|presented|conferred",
    "organizer": r"organi[sz]ed by|organi[sz]er|hosted by",
    "inception": (
        # "founded by X in 1960": the founder's cue also dates the founding (first: the
        # longest alternative must win, or the founder's cue hides it)
        r"founded by|established by|created by|formed by|"
        r"founded|founding|established|establishment|formed|formation|created|creation|"
        r"incorporated|inaugurated|opened|built|constructed|construction|erected|completed|"
        r"launched|began|begun|chartered|settled|since|dates? (?:back|from)|originated|"
        r"independence|independent|consecrated|commissioned|introduced|opening|"
        # a state's or an agreement's span: "existed from 1918 to 1992", "came into force"
        r"came into (?:force|existence|being)|entered into force|existed|existing"
    ),
    "point_in_time": (
        r"took place|held|fought|occurred|happened|signed|struck|erupted|began|ended|"
        r"starting|started"
    ),
    # counts
    "population": (
        r"population|populous|inhabitants|inhabited|residents|people|populated|census|"
        r"metropolitan area|urban area"
    ),
    "students_count": r"students|enrolled|enrollment|enrolment|student body",
    "employees": r"employees|employs|employed|staff|workforce|workers",
    "duration": r"runtime|running time|run time|minutes|long|lasts|lasting",
    "number_of_pages": r"pages",
    "number_of_tracks": r"tracks|songs",
    # words that attribute a nearby name to no relation: it is beside, not in, the subject
    NO_RELATION: (
        r"(?:north|south|east|west|northeast|northwest|southeast|southwest)(?:ern)? of|"
        r"borders?|bordered|bordering|neighbou?ring|neighbou?rs?|near|adjacent to|across from|"
        r"than|outside|via|unlike|instead of|rather than|opposite"
    ),
}


@dataclass(frozen=True, slots=True)
class Cue:
    """A cue word of ``predicate`` at ``text[start:end]``."""

    start: int
    end: int
    predicate: str


_PATTERNS = {
    predicate: re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE)
    for predicate, words in CUES.items()
}


def find_cues(text: str, start: int, end: int) -> list[Cue]:
    """Cue words in ``text[start:end]``; cues lying inside a longer cue are left out."""
    found = [
        Cue(m.start(), m.end(), predicate)
        for predicate, pattern in _PATTERNS.items()
        for m in pattern.finditer(text, start, end)
    ]
    return [
        c
        for c in found
        if not any(
            o.start <= c.start and c.end <= o.end and (o.end - o.start) > (c.end - c.start)
            for o in found
        )
    ]


_CHAIN_GAP = re.compile(r"^[\s,;]*(?:(?:and|or|&|as well as)\b[\s,]*)?(?:\w+\s+){0,2}$")
_CLAUSE_BREAK = re.compile(r"[,;:(—–]")


def attributed(text: str, cues: list[Cue], start: int, end: int) -> set[str]:
    """Predicates whose cue is nearest to the value at ``text[start:end]``.

    The nearest cue before the value wins (``born in Vienna``, ``directed by Cameron``,
    ``starring Arnold``); a cue after it counts only inside the same clause, with no comma
    between (``Vienna, where he died`` and ``Stanley Donen, starring Kelly`` attribute nothing
    and nothing to Donen). Cues coordinated with the winner join it: ``directed, produced
    by, and starring Orson Welles`` attributes Welles to all three, ``the capital and largest
    city in Iraq`` Iraq to both ``capital`` and ``located_in``.
    """
    best: Cue | None = None
    best_distance = 0.0
    for cue in cues:
        if cue.end <= start:
            distance = float(start - cue.end)
        elif cue.start >= end:
            if _CLAUSE_BREAK.search(text, end, cue.start):
                continue
            distance = 1.5 * (cue.start - end) + 2
        else:
            continue  # a cue inside the value is part of its name (``St John's College in``)
        if best is None or distance < best_distance:
            best, best_distance = cue, distance
    if best is None or best.predicate == NO_RELATION:
        return set()
    chosen = {c.predicate for c in cues if (c.start, c.end) == (best.start, best.end)}
    lo, hi = best.start, best.end
    for cue in sorted((c for c in cues if c.end <= lo), key=lambda c: -c.end):
        if cue.end > lo:
            continue  # overlaps a cue already in the chain
        if cue.predicate == NO_RELATION or not _CHAIN_GAP.match(text[cue.end : lo]):
            break
        chosen.add(cue.predicate)
        lo = cue.start
    for cue in sorted((c for c in cues if c.start >= hi and c.end <= start), key=lambda c: c.start):
        if cue.predicate == NO_RELATION or not _CHAIN_GAP.match(text[hi : cue.start]):
            break
        chosen.add(cue.predicate)
        hi = cue.end
    return chosen
