"""The closed vocabulary of the synthetic World: entity types and predicates.

One table serves the generator (what to sample), the text realizer (what a fact means), ingest
(which Wikidata property maps to which predicate) and the dump exporter (the reverse). Ingested
Worlds may carry other predicates too; these are the ones redsearcher knows the meaning of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class EntityType:
    """An entity type and the Wikidata class (``P31`` value) it corresponds to."""

    name: str
    wikidata_class: str
    description: str


@dataclass(frozen=True, slots=True)
class Predicate:
    """A fact predicate.

    Attributes:
        name: Snake-case name used in the ``facts.predicate`` column.
        subject_types: Entity types the subject may have.
        kind: Value kind: ``entity``, ``date``, ``quantity``, ``string`` or ``coordinate``.
        object_types: For ``entity`` predicates, the types the object may have.
        wikidata: The Wikidata property this predicate corresponds to, if any.
        inverse: True when the Wikidata property points the other way (Wikidata states
            ``paper P50 person``; we state ``person author_of paper``).
        unit: Unit of a quantity, if fixed.
        symmetric: True when ``s p o`` implies ``o p s`` (both facts are stored).
    """

    name: str
    subject_types: tuple[str, ...]
    kind: str
    object_types: tuple[str, ...] = ()
    wikidata: str | None = None
    inverse: bool = False
    unit: str | None = None
    symmetric: bool = False


ENTITY_TYPES: Final[dict[str, EntityType]] = {
    t.name: t
    for t in (
        EntityType("person", "Q5", "a human"),
        EntityType("country", "Q6256", "a sovereign state"),
        EntityType("city", "Q515", "a city"),
        EntityType("place", "Q2221906", "a point of interest: museum, restaurant, bridge, ..."),
        EntityType("university", "Q3918", "a university"),
        EntityType("organization", "Q43229", "a company or other organization"),
        EntityType("record_label", "Q18127", "a record label"),
        EntityType("venue", "Q5633421", "a scholarly journal or conference"),
        EntityType("award", "Q618779", "an award"),
        EntityType("event", "Q1656682", "an event: festival, summit, championship"),
        EntityType("film", "Q11424", "a film"),
        EntityType("album", "Q482994", "a music album"),
        EntityType("book", "Q571", "a book"),
        EntityType("paper", "Q13442814", "a scholarly paper"),
    )
}

_ORGS = ("organization", "university", "record_label")
_WORKS = ("film", "album", "book", "paper")

PREDICATES: Final[dict[str, Predicate]] = {
    p.name: p
    for p in (
        # people
        Predicate("occupation", ("person",), "string"),
        Predicate("date_of_birth", ("person",), "date", wikidata="P569"),
        Predicate("date_of_death", ("person",), "date", wikidata="P570"),
        Predicate("born_in", ("person",), "entity", ("city",), wikidata="P19"),
        Predicate("died_in", ("person",), "entity", ("city",), wikidata="P20"),
        Predicate("citizen_of", ("person",), "entity", ("country",), wikidata="P27"),
        Predicate("educated_at", ("person",), "entity", ("university",), wikidata="P69"),
        Predicate("employer", ("person",), "entity", ("organization", "university"), "P108"),
        Predicate("spouse", ("person",), "entity", ("person",), wikidata="P26", symmetric=True),
        Predicate("child", ("person",), "entity", ("person",), wikidata="P40"),
        Predicate("award_received", ("person", "film"), "entity", ("award",), wikidata="P166"),
        Predicate("signed_to", ("person",), "entity", ("record_label",), wikidata="P264"),
        Predicate("author_of", ("person",), "entity", ("book", "paper"), "P50", inverse=True),
        # places
        Predicate(
            "located_in",
            ("city", "place", "university", "event"),
            "entity",
            ("country", "city"),
            wikidata="P131",
        ),
        Predicate("capital", ("country",), "entity", ("city",), wikidata="P36"),
        Predicate("twinned_with", ("city",), "entity", ("city",), wikidata="P190", symmetric=True),
        Predicate("population", ("city", "country"), "quantity", wikidata="P1082"),
        Predicate(
            "coordinates", ("city", "country", "place", "university"), "coordinate", wikidata="P625"
        ),
        Predicate("address", ("place",), "string", wikidata="P6375"),
        Predicate("category", ("place",), "string"),
        Predicate("rating", ("place",), "quantity"),
        Predicate("rating_count", ("place",), "quantity"),
        Predicate("official_language", ("country",), "string"),
        # organizations
        Predicate(
            "inception", ("city", "place", "venue", "award", *_ORGS), "date", wikidata="P571"
        ),
        Predicate(
            "founded_by",
            ("university", "organization", "record_label"),
            "entity",
            ("person",),
            wikidata="P112",
        ),
        Predicate(
            "headquartered_in",
            ("organization", "record_label"),
            "entity",
            ("city",),
            wikidata="P159",
        ),
        Predicate(
            "parent_organization",
            ("organization", "record_label"),
            "entity",
            ("organization",),
            wikidata="P749",
        ),
        Predicate("industry", ("organization",), "string"),
        Predicate("employees", ("organization",), "quantity", wikidata="P1128"),
        Predicate("students_count", ("university",), "quantity", wikidata="P2196"),
        Predicate("publisher", ("book", "venue"), "entity", ("organization",), wikidata="P123"),
        Predicate(
            "conferred_by", ("award",), "entity", ("organization", "university"), wikidata="P1027"
        ),
        Predicate("award_field", ("award",), "string"),
        Predicate("venue_type", ("venue",), "string"),
        # events
        Predicate("point_in_time", ("event",), "date", wikidata="P585"),
        Predicate(
            "organizer", ("event",), "entity", ("organization", "university"), wikidata="P664"
        ),
        Predicate("participant", ("event",), "entity", ("person",), wikidata="P710"),
        Predicate("event_category", ("event",), "string"),
        # creative works
        Predicate("director", ("film",), "entity", ("person",), wikidata="P57"),
        Predicate("cast_member", ("film",), "entity", ("person",), wikidata="P161"),
        Predicate("screenwriter", ("film",), "entity", ("person",), wikidata="P58"),
        Predicate("production_company", ("film",), "entity", ("organization",), wikidata="P272"),
        Predicate("filming_location", ("film",), "entity", ("city",), wikidata="P915"),
        Predicate("duration", ("film",), "quantity", wikidata="P2047", unit="minute"),
        Predicate("performer", ("album",), "entity", ("person",), wikidata="P175"),
        Predicate("record_label", ("album",), "entity", ("record_label",), wikidata="P264"),
        Predicate("producer", ("album",), "entity", ("person",), wikidata="P162"),
        Predicate("number_of_tracks", ("album",), "quantity", wikidata="P2635"),
        Predicate("number_of_pages", ("book",), "quantity", wikidata="P1104"),
        Predicate("genre", ("film", "album", "book"), "string"),
        Predicate("publication_date", _WORKS, "date", wikidata="P577"),
        # scholarly records
        Predicate("published_in", ("paper",), "entity", ("venue",), wikidata="P1433"),
        Predicate("cites", ("paper",), "entity", ("paper",), wikidata="P2860"),
        Predicate("citation_count", ("paper",), "quantity"),
        Predicate("main_subject", ("paper",), "string"),
    )
}


#: Facts that no generated document states: only a tool serves them (coordinates: maps;
#: citation counts: scholar). Task synthesis relies on this to make a tool *necessary*.
TOOL_ONLY_PREDICATES: Final[frozenset[str]] = frozenset({"coordinates", "citation_count"})


#: Wikidata property -> predicate, for ingest. Several predicates may share a property when the
#: subject type disambiguates (P264 is ``signed_to`` on people and ``record_label`` on albums);
#: ingest resolves those by the subject's type.
def wikidata_properties() -> dict[str, list[Predicate]]:
    """Map each Wikidata property id to the predicates that use it."""
    out: dict[str, list[Predicate]] = {}
    for p in PREDICATES.values():
        if p.wikidata:
            out.setdefault(p.wikidata, []).append(p)
    return out


#: Predicates where ``s p o`` means ``o p s``: the vocabulary's own (``Predicate.symmetric``)
#: and the symmetric Wikidata properties under their label-derived names. Ingest stores both
#: directions of such a fact, so synthesis must treat the pair as *one* edge: two constraints
#: "A is married to B" and "B is married to A" are one clause said twice.
SYMMETRIC_PREDICATES: Final[frozenset[str]] = frozenset(
    {p.name for p in PREDICATES.values() if p.symmetric}
    | {
        "sibling",  # P3373
        "shares_border_with",  # P47
        "twinned_administrative_body",  # P190 under its label
        "diplomatic_relation",  # P530
        "unmarried_partner",  # P451
        "partner",
        "relative",  # P1038
        "adjacent_station",  # P197
        "connects_with",  # P2789
        "partner_town",
        "sister_city",
        "teammate",
        "opponent",
    }
)

#: Predicates that may lead graph discovery to an entity but never become a question
#: constraint: ``links_to`` (a page hyperlinks another) says nothing checkable about the world,
#: and Wikidata's disambiguation helpers (P1889, P460) are editorial notes, not facts.
DISCOVERY_ONLY_PREDICATES: Final[frozenset[str]] = frozenset(
    {"links_to", "different_from", "said_to_be_the_same_as"}
)
