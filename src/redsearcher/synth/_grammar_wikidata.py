# ruff: noqa: E501  (a data table: one entry per line keeps the phrasings readable)
"""Question phrasings for the most used Wikidata properties, and the fallback for any other.

Real Worlds carry predicates beyond the synthetic vocabulary. Ingest names each one from the
property's English label in snake case (``P1344`` "participant in" -> ``participant_in``;
"has part(s)" -> ``has_part_s``), and the vocabulary's own name where the vocabulary maps the
property (``P27`` -> ``citizen_of``). This table covers the properties most used on Wikidata
and in the shared real sample, keyed by those names (with the label-derived twin of a
vocabulary name where the two differ, so either naming reads well).

A predicate in no table is said from its own words by :func:`generic_relation`: the words'
shape decides the wording (a participle "named after" -> "is named after X" / "has Y named
after it"; a noun with a preposition "member of" -> "is a member of X" / "has Y as a member";
a bare noun "head of government" -> "has X as its head of government" / "is the head of
government of Y"). A name that is, or contains, a raw Wikidata id (``P1344``, ``q5_value``)
never reaches the text: its id words are dropped, and a name with nothing left reads "is
directly related to X". The realizer must never print an id, whatever ingest produced.
"""

from __future__ import annotations

import re
from typing import Final

#: A raw Wikidata id (item, property or lexeme) as a word of a predicate or type name.
ID_WORD: Final = re.compile(r"\b[QPL]\d+\b", re.IGNORECASE)

#: A raw item or property id in text (labels, values): what no question may contain.
RAW_ID: Final = re.compile(r"\b[QP]\d+\b")

#: Relations: (forward phrasings with the topic as subject, inverse with it as object). Also
#: used for string-valued predicates (an item value mapped to its label), with ``{o}`` the value.
WIKIDATA_RELATIONS: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    # places and states
    "country": (("is in the country {o}", "belongs to the country {o}"), ("is the country of {s}", "is the country where {s} is")),
    "located_in_the_administrative_territorial_entity": (("is located in {o}", "lies in {o}"), ("contains {s}", "is where {s} is located")),
    "contains_the_administrative_territorial_entity": (("contains {o}", "has {o} as a subdivision"), ("is located in {s}", "is a subdivision of {s}")),
    "shares_border_with": (("shares a border with {o}", "borders {o}"), ("shares a border with {s}", "borders {s}")),
    "twinned_administrative_body": (("is twinned with {o}", "has a sister-city partnership with {o}"), ("is twinned with {s}", "has a sister-city partnership with {s}")),
    "diplomatic_relation": (("has diplomatic relations with {o}", "maintains diplomatic relations with {o}"), ("has diplomatic relations with {s}", "maintains diplomatic relations with {s}")),
    "capital_of": (("is the capital of {o}", "is the capital city of {o}"), ("has {s} as its capital", "has its capital at {s}")),
    "continent": (("lies on the continent of {o}", "is in {o}"), ("is the continent of {s}", "is the continent where {s} lies")),
    "official_language": (("has {o} as an official language", "uses {o} as an official language"), ("is an official language of {s}", "is official in {s}")),
    "currency": (("uses {o} as its currency", "has the currency {o}"), ("is the currency of {s}", "is used as currency in {s}")),
    "head_of_state": (("has {o} as its head of state", "had {o} as head of state"), ("is the head of state of {s}", "served as head of state of {s}")),
    "head_of_government": (("has {o} as its head of government", "had {o} as head of government"), ("is the head of government of {s}", "served as head of government of {s}")),
    "basic_form_of_government": (("has {o} as its form of government", "is governed as {o}"), ("is the form of government of {s}",)),
    "located_in_time_zone": (("is in the time zone {o}",), ("is the time zone of {s}",)),
    "located_in_or_next_to_body_of_water": (("lies on or next to {o}", "is located by {o}"), ("is the body of water next to {s}",)),
    "located_in_on_physical_feature": (("lies on {o}", "is located on {o}"), ("is the physical feature where {s} lies",)),
    "location": (("is located in {o}", "is at {o}"), ("is the location of {s}", "is where {s} is located")),
    "basin_country": (("has a basin in {o}",), ("is a basin country of {s}",)),
    "public_holiday": (("observes {o} as a public holiday",), ("is a public holiday in {s}",)),
    "named_after": (("is named after {o}", "takes its name from {o}"), ("gave its name to {s}", "is the namesake of {s}")),
    "part_of": (("is part of {o}", "forms part of {o}"), ("has {s} as a part", "includes {s}")),
    "has_part_s": (("includes {o}", "has {o} as a part"), ("is part of {s}", "forms part of {s}")),
    "has_part": (("includes {o}", "has {o} as a part"), ("is part of {s}", "forms part of {s}")),
    "applies_to_jurisdiction": (("applies to {o}", "has jurisdiction over {o}"), ("is the jurisdiction of {s}",)),
    "crosses": (("crosses {o}", "spans {o}"), ("is crossed by {s}", "is spanned by {s}")),
    "adjacent_station": (("is adjacent to the station {o}", "is next to {o} on the line"), ("is adjacent to the station {s}", "is next to {s} on the line")),
    "connecting_line": (("is served by {o}", "is on the line {o}"), ("serves {s}", "stops at {s}")),
    # people
    "country_of_citizenship": (("is a citizen of {o}", "holds citizenship of {o}"), ("is the country of citizenship of {s}", "counts {s} among its citizens")),
    "place_of_birth": (("was born in {o}", "is a native of {o}"), ("is the birthplace of {s}", "is where {s} was born")),
    "place_of_death": (("died in {o}",), ("is where {s} died", "is the place of death of {s}")),
    "place_of_burial": (("is buried in {o}", "was buried at {o}"), ("is where {s} is buried", "is the burial place of {s}")),
    "residence": (("has lived in {o}", "has resided in {o}"), ("is where {s} has lived", "is a residence of {s}")),
    "work_location": (("has worked in {o}", "worked in {o}"), ("is where {s} worked",)),
    "father": (("has {o} as {p} father", "is a child of {o}"), ("is the father of {s}",)),
    "mother": (("has {o} as {p} mother", "is a child of {o}"), ("is the mother of {s}",)),
    "sibling": (("is a sibling of {o}", "has {o} as a sibling"), ("is a sibling of {s}", "has {s} as a sibling")),
    "unmarried_partner": (("was the partner of {o}", "was in a relationship with {o}"), ("was the partner of {s}", "was in a relationship with {s}")),
    "relative": (("is a relative of {o}", "is related to {o}"), ("is a relative of {s}", "is related to {s}")),
    "sex_or_gender": (("is {o}",), ("is the gender of {s}",)),
    "given_name": (("has the given name {o}", "bears the first name {o}"), ("is the given name of {s}",)),
    "family_name": (("has the family name {o}", "bears the surname {o}"), ("is the family name of {s}",)),
    "languages_spoken_written_or_signed": (("speaks {o}", "can speak {o}"), ("is spoken by {s}", "is a language {s} speaks")),
    "native_language": (("has {o} as {p} native language", "is a native speaker of {o}"), ("is the native language of {s}",)),
    "writing_language": (("writes in {o}",), ("is the writing language of {s}",)),
    "religion_or_worldview": (("adheres to {o}", "follows {o}"), ("is the religion of {s}", "has {s} among its adherents")),
    "religion": (("adheres to {o}", "follows {o}"), ("is the religion of {s}", "has {s} among its adherents")),
    "ethnic_group": (("belongs to the ethnic group {o}",), ("is the ethnic group of {s}",)),
    "member_of_political_party": (("is a member of the party {o}", "belongs to the party {o}"), ("has {s} as a member", "counts {s} among its members")),
    "position_held": (("held the position of {o}", "served as {o}"), ("was held by {s}", "is a position {s} held")),
    "field_of_work": (("works in the field of {o}", "is active in {o}"), ("is the field of work of {s}",)),
    "cause_of_death": (("died of {o}", "died from {o}"), ("was the cause of death of {s}", "caused the death of {s}")),
    "manner_of_death": (("has {o} as {p} manner of death",), ("is the manner of death of {s}",)),
    "instrument": (("plays the instrument {o}",), ("is played by {s}", "is an instrument {s} plays")),
    "sport": (("practises the sport {o}", "is active in the sport {o}"), ("is the sport of {s}", "is practised by {s}")),
    "member_of_sports_team": (("played for {o}", "was a member of the team {o}"), ("had {s} as a player", "counts {s} among its players")),
    "position_played_on_team_speciality": (("plays as {o}", "plays in the position {o}"), ("is the position of {s}",)),
    "notable_work": (("is known for {o}", "is the creator of the notable work {o}"), ("is a notable work of {s}",)),
    "participant_in": (("participated in {o}", "took part in {o}"), ("had {s} among its participants", "was attended by {s}")),
    "nominated_for": (("was nominated for {o}", "received a nomination for {o}"), ("had {s} among its nominees",)),
    "conflict": (("fought in {o}", "took part in the conflict {o}"), ("had {s} among its combatants", "involved {s}")),
    "military_branch": (("served in {o}",), ("had {s} in its ranks",)),
    "military_rank": (("held the rank of {o}", "reached the rank of {o}"), ("is the rank held by {s}",)),
    "noble_title": (("held the title {o}",), ("was held by {s}",)),
    "family": (("is a member of the family {o}",), ("has {s} among its members",)),
    "influenced_by": (("was influenced by {o}", "names {o} as an influence"), ("influenced {s}", "was an influence on {s}")),
    "student": (("taught {o}", "had {o} as a student"), ("studied under {s}", "was a student of {s}")),
    "student_of": (("studied under {o}", "was a student of {o}"), ("taught {s}", "had {s} as a student")),
    "doctoral_advisor": (("had {o} as doctoral advisor", "did doctoral work under {o}"), ("was the doctoral advisor of {s}", "supervised the doctorate of {s}")),
    "doctoral_student": (("was the doctoral advisor of {o}", "supervised the doctorate of {o}"), ("had {s} as doctoral advisor", "did doctoral work under {s}")),
    "academic_degree": (("holds the academic degree {o}",), ("was earned by {s}",)),
    "movement": (("is associated with the movement {o}", "belongs to the movement {o}"), ("counts {s} among its members", "includes {s}")),
    "member_of": (("is a member of {o}", "belongs to {o}"), ("has {s} as a member", "counts {s} among its members")),
    "occupation": (("has the occupation {o}", "works as {o}"), ("is the occupation of {s}",)),
    "award_received": (("received {o}", "was awarded {o}"), ("was awarded to {s}", "went to {s}")),
    "educated_at": (("studied at {o}", "was educated at {o}"), ("is where {s} studied", "counts {s} among its alumni")),
    "employer": (("works for {o}", "is employed by {o}"), ("employs {s}", "has {s} on its staff")),
    "winner": (("was won by {o}", "had {o} as its winner"), ("won {s}", "was the winner of {s}")),
    # organizations
    "headquarters_location": (("is headquartered in {o}", "has its head office in {o}"), ("hosts the headquarters of {s}", "is where {s} has its head office")),
    "has_subsidiary": (("owns {o}", "has the subsidiary {o}"), ("is a subsidiary of {s}", "is owned by {s}")),
    "subsidiary": (("owns {o}", "has the subsidiary {o}"), ("is a subsidiary of {s}", "is owned by {s}")),
    "owned_by": (("is owned by {o}", "belongs to {o}"), ("owns {s}", "is the owner of {s}")),
    "owner_of": (("owns {o}", "is the owner of {o}"), ("is owned by {s}", "belongs to {s}")),
    "industry": (("is active in the industry {o}", "operates in {o}"), ("is the industry of {s}",)),
    "chairperson": (("is chaired by {o}", "has {o} as chairperson"), ("chairs {s}", "is the chairperson of {s}")),
    "chief_executive_officer": (("has {o} as its chief executive", "is led by chief executive {o}"), ("is the chief executive officer of {s}", "leads {s} as chief executive")),
    "head_coach": (("is coached by {o}", "has {o} as head coach"), ("is the head coach of {s}", "coaches {s}")),
    "league": (("plays in {o}", "competes in {o}"), ("has {s} among its teams", "includes {s}")),
    "home_venue": (("plays its home games at {o}", "has {o} as its home venue"), ("is the home venue of {s}", "hosts the home games of {s}")),
    "location_of_formation": (("was formed in {o}",), ("is where {s} was formed",)),
    "significant_event": (("had {o} as a significant event",), ("is a significant event in the history of {s}",)),
    "participating_team": (("had {o} among its participating teams",), ("took part in {s}",)),
    "developer": (("was developed by {o}",), ("developed {s}", "is the developer of {s}")),
    "manufacturer": (("is manufactured by {o}", "is made by {o}"), ("manufactures {s}", "makes {s}")),
    "creator": (("was created by {o}",), ("created {s}", "is the creator of {s}")),
    "replaces": (("replaced {o}", "succeeded {o}"), ("was replaced by {s}", "was succeeded by {s}")),
    "replaced_by": (("was replaced by {o}", "was succeeded by {o}"), ("replaced {s}", "succeeded {s}")),
    # works
    "author": (("was written by {o}", "has {o} among its authors"), ("wrote {s}", "is an author of {s}")),
    "composer": (("has music by {o}", "was composed by {o}"), ("composed {s}", "wrote the music for {s}")),
    "lyrics_by": (("has lyrics by {o}",), ("wrote the lyrics of {s}",)),
    "genre": (("belongs to the genre {o}", "is in the genre {o}"), ("is the genre of {s}",)),
    "country_of_origin": (("comes from {o}", "originates in {o}"), ("is the country of origin of {s}",)),
    "original_language_of_film_or_tv_show": (("was originally made in {o}",), ("is the original language of {s}",)),
    "language_of_work_or_name": (("is in the language {o}",), ("is the language of {s}",)),
    "language_used": (("uses the language {o}",), ("is a language used in {s}",)),
    "narrative_location": (("is set in {o}", "takes place in {o}"), ("is the setting of {s}", "is where {s} is set")),
    "distributed_by": (("is distributed by {o}",), ("distributes {s}", "is the distributor of {s}")),
    "distribution_format": (("was distributed as {o}", "is available as {o}"), ("is a distribution format of {s}",)),
    "color": (("is in {o}",), ("is the color of {s}",)),
    "characters": (("features the character {o}", "has {o} among its characters"), ("is a character in {s}", "appears as a character in {s}")),
    "present_in_work": (("appears in {o}", "is a character in {o}"), ("features {s}", "has {s} among its characters")),
    "voice_actor": (("is voiced by {o}", "has {o} as its voice actor"), ("voices {s}", "is the voice actor of {s}")),
    "main_subject": (("is about {o}", "has {o} as its main subject"), ("is the main subject of {s}", "is the topic of {s}")),
    "based_on": (("is based on {o}", "is adapted from {o}"), ("is the basis of {s}", "was adapted into {s}")),
    "derivative_work": (("was adapted into {o}", "is the basis of {o}"), ("is based on {s}", "is adapted from {s}")),
    "follows": (("follows {o}", "comes after {o}"), ("is followed by {s}", "comes before {s}")),
    "followed_by": (("is followed by {o}", "comes before {o}"), ("follows {s}", "comes after {s}")),
    "part_of_the_series": (("is part of the series {o}", "belongs to the series {o}"), ("has {s} among its installments", "includes {s}")),
    "original_broadcaster": (("was originally broadcast by {o}", "first aired on {o}"), ("originally broadcast {s}", "first aired {s}")),
    "platform": (("runs on {o}", "was released for {o}"), ("is a platform for {s}",)),
    "place_of_publication": (("was published in {o}",), ("is where {s} was published",)),
    "contributed_to_creative_work": (("contributed to {o}",), ("had contributions from {s}",)),
    "has_characteristic": (("has the characteristic {o}",), ("is a characteristic of {s}",)),
    "instance_of": (("is an instance of {o}", "is a kind of {o}"), ("is the class of {s}",)),
    "subclass_of": (("is a subclass of {o}", "is a kind of {o}"), ("is a broader class than {s}",)),
    "partner_in_business_or_sport": (("partnered with {o}",), ("partnered with {s}",)),
}  # fmt: skip

#: Nouns for ``same`` and the generic phrasings of the predicates above that need one.
WIKIDATA_NOUNS: Final[dict[str, str]] = {
    "country": "country",
    "country_of_citizenship": "country of citizenship",
    "place_of_birth": "place of birth",
    "place_of_death": "place of death",
    "member_of": "membership",
    "member_of_political_party": "political party",
    "member_of_sports_team": "sports team",
    "languages_spoken_written_or_signed": "language",
    "religion_or_worldview": "religion",
    "original_language_of_film_or_tv_show": "original language",
    "language_of_work_or_name": "language",
    "located_in_the_administrative_territorial_entity": "location",
    "headquarters_location": "headquarters location",
    "dissolved_abolished_or_demolished_date": "dissolution date",
    "work_period_start": "start of career",
    "work_period_end": "end of career",
    "elevation_above_sea_level": "elevation",
}

#: ``same`` phrasings: the topic shares a value of the predicate with ``{o}``.
WIKIDATA_SAME: Final[dict[str, tuple[str, ...]]] = {
    "country": ("is in the same country as {o}",),
    "country_of_citizenship": ("holds the same citizenship as {o}", "is a citizen of the same country as {o}"),
    "place_of_birth": ("was born in the same place as {o}", "shares a birthplace with {o}"),
    "member_of": ("is a member of an organization that {o} also belongs to",),
    "member_of_political_party": ("belongs to the same political party as {o}",),
    "member_of_sports_team": ("played for a team that {o} also played for",),
    "located_in_the_administrative_territorial_entity": ("is located in the same place as {o}",),
    "continent": ("is on the same continent as {o}",),
    "participant_in": ("took part in an event that {o} also took part in",),
    "nominated_for": ("was nominated for an award that {o} was also nominated for",),
    "headquarters_location": ("is headquartered in the same city as {o}",),
}  # fmt: skip

#: Date predicates: the verb phrase before the date phrase.
WIKIDATA_DATES: Final[dict[str, tuple[str, ...]]] = {
    "dissolved_abolished_or_demolished_date": ("was dissolved", "ceased to exist"),
    "start_time": ("began", "started"),
    "end_time": ("ended", "came to an end"),
    "date_of_official_opening": ("was officially opened",),
    "date_of_official_closure": ("was officially closed",),
    "work_period_start": ("began working", "started working"),
    "work_period_end": ("stopped working",),
    "date_of_first_performance": ("was first performed",),
    "service_entry": ("entered service",),
    "service_retirement": ("was retired from service",),
    "first_flight": ("first flew",),
    "date_of_disappearance": ("disappeared",),
    "time_of_earliest_written_record": ("was first recorded in writing",),
    "date_of_baptism_in_early_childhood": ("was baptised",),
    "date_of_burial_or_cremation": ("was buried or cremated",),
    "discovery_date": ("was discovered",),
}

#: Quantity predicates, with the amount phrase ``{q}`` and the unit ``{u}`` (maybe empty).
WIKIDATA_QUANTITIES: Final[dict[str, tuple[str, ...]]] = {
    "area": ("has an area of {q}{u}", "covers {q}{u}"),
    "elevation_above_sea_level": (
        "lies at an elevation of {q}{u}",
        "stands {q}{u} above sea level",
    ),
    "human_development_index": ("has a Human Development Index of {q}",),
    "life_expectancy": ("has a life expectancy of {q}{u}",),
    "total_fertility_rate": ("has a total fertility rate of {q}",),
    "water_as_percent_of_area": ("has water covering {q}{u} of its area",),
    "length": ("is {q}{u} long", "has a length of {q}{u}"),
    "width": ("is {q}{u} wide",),
    "height": ("is {q}{u} tall", "has a height of {q}{u}"),
    "mass": ("has a mass of {q}{u}", "weighs {q}{u}"),
    "number_of_children": ("has {q} children",),
    "watershed_area": ("has a watershed area of {q}{u}",),
    "visitors_per_year": ("receives {q} visitors a year",),
    "total_revenue": ("has a total revenue of {q}{u}",),
    "number_of_households": ("has {q} households",),
    "box_office": ("grossed {q}{u} at the box office",),
    "cost": ("cost {q}{u}",),
    "female_population": ("has a female population of {q}",),
    "male_population": ("has a male population of {q}",),
    "number_of_deaths": ("had {q} deaths",),
    "electorate": ("has an electorate of {q}",),
    "number_of_cases": ("had {q} cases",),
    "number_of_seats": ("has {q} seats",),
    "number_of_episodes": ("has {q} episodes",),
    "number_of_seasons": ("has {q} seasons",),
    "number_of_speakers": ("has {q} speakers",),
    "nominal_gdp": ("has a nominal GDP of {q}{u}",),
    "nominal_gdp_per_capita": ("has a nominal GDP per capita of {q}{u}",),
    "inflation_rate": ("has an inflation rate of {q}{u}",),
    "unemployment_rate": ("has an unemployment rate of {q}{u}",),
    "gini_coefficient": ("has a Gini coefficient of {q}",),
    "number_of_employees": ("has {q} employees", "employs {q} people"),
    "students_count": ("has {q} students", "enrolls {q} students"),
}

#: Units as Wikidata stores them (the unit item) and how they are said, plural.
UNIT_WORDS: Final[dict[str, str]] = {
    "Q11573": "metres",
    "Q828224": "kilometres",
    "Q712226": "square kilometres",
    "Q25343": "square metres",
    "Q35852": "hectares",
    "Q174728": "centimetres",
    "Q3710": "feet",
    "Q253276": "miles",
    "Q232291": "square miles",
    "Q11570": "kilograms",
    "Q7727": "minutes",
    "Q11574": "seconds",
    "Q25235": "hours",
    "Q577": "years",
    "Q11229": "percent",
    "Q25250": "volts",
    "Q4917": "US dollars",
    "Q4916": "euros",
    "Q25224": "pounds sterling",
}

_PARTICIPLES: Final = frozenset(
    [
        "born",
        "known",
        "held",
        "made",
        "written",
        "given",
        "shown",
        "built",
        "won",
        "drawn",
        "taken",
        "found",
        "led",
        "run",
        "set",
        "sung",
        "begun",
        "done",
        "seen",
        "worn",
        "bound",
        "paid",
        "sold",
        "told",
    ]
)
_VERBS: Final = frozenset(
    [
        "has",
        "have",
        "contains",
        "shares",
        "follows",
        "uses",
        "depicts",
        "replaces",
        "operates",
        "owns",
        "connects",
        "influences",
        "affects",
        "includes",
        "represents",
        "produces",
        "publishes",
        "broadcasts",
        "manufactures",
        "practices",
        "crosses",
        "serves",
        "supports",
        "hosts",
        "plays",
        "speaks",
        "covers",
    ]
)
_PREPOSITIONS: Final = frozenset(
    [
        "in",
        "of",
        "at",
        "with",
        "by",
        "for",
        "to",
        "on",
        "from",
        "after",
        "into",
        "under",
        "over",
        "as",
        "about",
        "against",
    ]
)


def words_of(name: str) -> list[str]:
    """The words of a predicate name, id words dropped (``p1344_participant_in`` -> 2 words)."""
    cleaned = ID_WORD.sub(" ", name.replace("_", " "))
    return [w for w in re.split(r"[^\w'-]+", cleaned) if w]


def noun_of(name: str) -> str:
    """The predicate as a noun phrase ("place of burial"), never an id ("relation" if none)."""
    return " ".join(words_of(name)) or "relation"


def _shape(words: list[str]) -> str:
    head = words[0].lower()
    if head in _VERBS or (len(words) > 1 and head.endswith("s") and words[1] in ("a", "the")):
        return "verb"
    if head.endswith("ed") or head in _PARTICIPLES:
        return "participle"
    if words[-1].lower() in _PREPOSITIONS and len(words) > 1:
        return "noun_prep"
    return "noun"


def generic_relation(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Forward and inverse phrasings of a predicate no table knows, from its own words."""
    words = words_of(name)
    if not words:
        return ("is directly related to {o}",), ("is directly related to {s}",)
    phrase, shape = " ".join(words), _shape(words)
    if shape == "verb":
        return (f"{phrase} {{o}}",), (f"is what {{s}} {phrase}",)
    if shape == "participle":
        return (f"is {phrase} {{o}}",), (f"has {{s}} {phrase} it",)
    if shape == "noun_prep":
        head = " ".join(words[:-1])
        return (f"is {_a(phrase)} {{o}}",), (f"has {{s}} as {_a(head)}",)
    return (f"has {{o}} as {{p}} {phrase}",), (f"is the {phrase} of {{s}}",)


def generic_same(name: str) -> tuple[str, ...]:
    """``same`` phrasing of a predicate no table knows."""
    words = words_of(name)
    if not words:
        return ("is directly related to the same entity as {o}",)
    phrase, shape = " ".join(words), _shape(words)
    if shape == "verb":
        return (f"{phrase} the same entity as {{o}}",)
    if shape == "participle":
        return (f"is {phrase} the same entity as {{o}}",)
    if shape == "noun_prep":
        return (f"is {_a(phrase)} the same entity as {{o}}",)
    return (f"has the same {phrase} as {{o}}",)


def generic_string(name: str) -> tuple[str, ...]:
    """String-value phrasing (``{v}`` the value) of a predicate no table knows."""
    forward, _ = generic_relation(name)
    return tuple(t.replace("{o}", "{v}") for t in forward)


def unit_words(unit: str | None) -> str:
    """A quantity's unit as a leading-space phrase (" minutes"), never an id ("" if unknown).

    Plain names keep the grammar's old rule (``minute`` -> `` minutes``; a name already
    ending in ``s`` is dropped, as before); Wikidata unit items are looked up in
    :data:`UNIT_WORDS` and dropped when unknown.
    """
    if not unit:
        return ""
    if ID_WORD.fullmatch(unit.strip()):
        word = UNIT_WORDS.get(unit.strip().upper(), "")
        return f" {word}" if word else ""
    if ID_WORD.search(unit):
        return ""
    return f" {unit}s" if not unit.endswith("s") else ""


def _a(phrase: str) -> str:
    low = phrase.lower()
    return f"{'an' if low[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {phrase}"
