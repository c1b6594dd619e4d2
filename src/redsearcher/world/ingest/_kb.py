"""Knowledge-base pages: one database-style document per entity, stating all of its facts.

Real text states few of a dump's facts: the lead summaries of the shared real sample state
about 600 of 99,347 (0.6%), so on text alone almost every fact is uncoverable
and synthesis has nothing to build on. The web the paper's agents search does have a source for
such facts — item pages, infoboxes, database entries — and this module writes that source:
for every entity with at least one fact, a page of kind ``database`` like a Wikidata item page
or an infobox::

    Arnold Schwarzenegger
    Austrian-American actor, businessman and politician

    Date of birth: 30 July 1947
    Country of citizenship: Austria
    Spouse: Maria Shriver (start time: 1986; end time: 2021)
    Height: 188 centimetre

The page is an ordinary document: it gets its own obfuscated URL (``env/_urls.py``, kind
``database``), it is indexed and searchable, and its provenance rows are the facts it states
*by the rendered-page rule* (``_mentions.states``): the text is built so that the
rule accepts every rendered fact (labels of entity values, the year of dates, the grouped form
of amounts, strings verbatim), and each row is still checked with the rule rather than assumed,
so a page and its provenance cannot disagree.

What is left off a page, and why:

- ``links_to`` facts: they record a Wikipedia hyperlink, not a statement about the entity;
- coordinates: no text states them in any World (the maps tool serves them);
- relations to an entity without a label of its own (its label is its id): a page would show
  a raw id, and a question built on it could not name the entity.

Everything is a pure function of the scratch store (entities in dump order, facts by id), so
the same inputs give byte-identical pages, and the pass streams one entity at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.world._records import Document, Entity, Fact, Provenance
from redsearcher.world._schema import PRECISION_DAY, PRECISION_MONTH, PRECISION_YEAR
from redsearcher.world._store import WorldWriter
from redsearcher.world.generate import MONTHS
from redsearcher.world.ingest._config import LINKS_TO, IngestConfig
from redsearcher.world.ingest._mentions import TextMatcher, quantity_forms, states, year_forms
from redsearcher.world.ingest._report import IngestReport, ProgressDisplay
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._sink import DocumentSink

#: The document kind of a knowledge-base page (``DOCUMENT_KINDS``).
KB_KIND = "database"
#: Document ids of knowledge-base pages: ``kb:`` + the entity id (never shown to agents: they
#: see the obfuscated URL).
KB_PREFIX = "kb:"

_QID = re.compile(r"^Q[1-9][0-9]*$")
_ISO = re.compile(r"^(-?)(\d+)(?:-(\d{2}))?(?:-(\d{2}))?")
#: Names of coarser date precisions (Wikidata: 8 decade, 7 century, 6 millennium, ...).
_COARSE = {8: "decade", 7: "century", 6: "millennium"}
#: Unit items of the most used quantities; other units are named by their entity's label when
#: the World has it, and left off otherwise (an amount without its unit beats a raw id).
UNITS: dict[str, str] = {
    "Q11573": "metre",
    "Q828224": "kilometre",
    "Q174728": "centimetre",
    "Q174789": "millimetre",
    "Q712226": "square kilometre",
    "Q25343": "square metre",
    "Q35852": "hectare",
    "Q11570": "kilogram",
    "Q41803": "gram",
    "Q191118": "tonne",
    "Q11574": "second",
    "Q7727": "minute",
    "Q25235": "hour",
    "Q573": "day",
    "Q577": "year",
    "Q11229": "percent",
    "Q4917": "United States dollar",
    "Q4916": "euro",
    "Q25224": "pound sterling",
    "Q8146": "Japanese yen",
    "Q3710": "foot",
    "Q218593": "inch",
    "Q253276": "mile",
    "Q25267": "degree Celsius",
    "Q11579": "kelvin",
    "Q11639": "metre above sea level",
}


#: Plurals that are not the unit plus "s"; units outside ``UNITS`` (and ``minute``) stay as given.
_PLURALS = {
    "foot": "feet",
    "inch": "inches",
    "Japanese yen": "yen",
    "pound sterling": "pounds sterling",
    "degree Celsius": "degrees Celsius",
    "kelvin": "kelvin",
    "percent": "percent",
    "metre above sea level": "metres above sea level",
}
_COUNTABLE = frozenset(UNITS.values()) | {"minute"}


def unit_text(amount: float, unit: str) -> str:
    """``109 minute`` reads ``109 minutes``: known units agree in number with the amount."""
    if amount == 1 or unit not in _COUNTABLE:
        return unit
    return _PLURALS.get(unit, unit + "s")


def kb_doc_id(entity_id: str) -> str:
    """The document id of an entity's knowledge-base page."""
    return KB_PREFIX + entity_id


def property_label(predicate: str) -> str:
    """``date_of_birth`` -> ``Date of birth`` (the line's label on a page)."""
    words = predicate.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else predicate


def format_date(date: str, precision: int | None) -> str:
    """A date as a page writes it, at its precision: ``30 July 1947``, ``July 1947``, ``1947``.

    Coarser precisions keep the year the dump gives and name the precision
    (``1950s (decade from 1950)``); BC years read ``490 BC``. The year always appears as its own
    word, so the provenance rule's year check accepts the line.
    """
    match = _ISO.match(date)
    if match is None:
        return date
    year = year_forms(date)[0] if year_forms(date) else match.group(2)
    month, day = match.group(3), match.group(4)
    precision = PRECISION_DAY if precision is None else precision
    if precision >= PRECISION_DAY and month and day and 1 <= int(month) <= 12:
        return f"{int(day)} {MONTHS[int(month) - 1]} {year}"
    if precision >= PRECISION_MONTH and month and 1 <= int(month) <= 12:
        return f"{MONTHS[int(month) - 1]} {year}"
    if precision >= PRECISION_YEAR or match.group(1):
        return year
    unit = _COARSE.get(precision)
    if unit == "decade":
        return f"{match.group(2).lstrip('0') or '0'}s (decade from {year})"
    return f"{year} ({unit or 'approximate'})"


def _qualifier_ids(qualifiers: str | None) -> list[str]:
    """Item ids among a fact's qualifier values (to look their labels up)."""
    if not qualifiers:
        return []
    out: list[str] = []
    for value in json.loads(qualifiers).values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and _QID.match(v):
                out.append(v)
    return out


def _iso_precision(date: str) -> int:
    """The precision an ISO date written by ingest has: ``1986`` year, ``1986-05`` month."""
    parts = date.lstrip("-").count("-")
    return (PRECISION_YEAR, PRECISION_MONTH, PRECISION_DAY)[min(parts, 2)]


def _qualifier_text(qualifiers: str | None, names: dict[str, tuple[str, ...]]) -> str:
    """``(start time: 1986; end time: 2021)``; item values by label, unknown items left off."""
    if not qualifiers:
        return ""
    parts: list[str] = []
    data: dict[str, Any] = json.loads(qualifiers)
    for key in sorted(data):
        values = data[key] if isinstance(data[key], list) else [data[key]]
        shown: list[str] = []
        for v in values:
            if isinstance(v, str) and _QID.match(v):
                if v in names and names[v][0] != v:
                    shown.append(names[v][0])
            elif isinstance(v, str) and _ISO.fullmatch(v):
                shown.append(format_date(v, _iso_precision(v)))
            else:
                shown.append(str(v))
        if shown:
            label = property_label(key) if not key.startswith("P") else _PROP_QUALIFIERS.get(key)
            if label:
                parts.append(f"{label[:1].lower() + label[1:]}: {', '.join(shown)}")
    return f" ({'; '.join(parts)})" if parts else ""


#: Qualifier properties kept as ids by ingest (no single vocabulary predicate), by name.
_PROP_QUALIFIERS = {
    "P580": "start time",
    "P582": "end time",
    "P585": "point in time",
    "P642": "of",
    "P1545": "series ordinal",
    "P768": "electoral district",
    "P1686": "for work",
    "P2868": "subject has role",
    "P3831": "object has role",
}


def _value_text(fact: Fact, names: dict[str, tuple[str, ...]]) -> str | None:
    """The fact's value as the page writes it; None when the page leaves the fact off."""
    if fact.kind == "entity":
        found = names.get(fact.object or "")
        if not found or found[0] == fact.object:
            return None
        return found[0]
    if fact.kind == "date" and fact.date:
        return format_date(fact.date, fact.date_precision)
    if fact.kind == "quantity" and fact.amount is not None:
        forms = quantity_forms(fact.amount)
        if not forms:
            return None
        unit = UNITS.get(fact.unit or "")
        if unit is None and fact.unit:
            known = names.get(fact.unit)
            unit = known[0] if known and known[0] != fact.unit else None
            if unit is None and not _QID.match(fact.unit):
                unit = fact.unit  # a vocabulary unit name such as "minute"
        return f"{forms[-1]} {unit_text(fact.amount, unit)}" if unit else forms[-1]
    if fact.kind == "string" and fact.string:
        return fact.string
    return None


#: Qualifiers that date a statement, as ingest names them (``P585`` has a vocabulary name).
_TIME_KEYS = ("point_in_time", "P585", "start_time", "P580", "end_time", "P582")


def _when(fact: Fact) -> str | None:
    """The time a statement is dated with (point in time, else start, else end), if any."""
    if not fact.qualifiers:
        return None
    data = json.loads(fact.qualifiers)
    for key in _TIME_KEYS:
        value = data.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value:
            return value
    return None


def _time_order(facts: list[Fact]) -> tuple[list[Fact], set[int]]:
    """Facts with several different quantity or date values of one predicate, put in order.

    Wikidata lists a city's populations in whatever order editors added them; a page lists
    them dated ones first by date, then undated ones by value, each group where its first
    fact stood, and returns the ids of the undated ones (the page marks them "no date").
    """
    groups: dict[str, list[Fact]] = {}
    for fact in facts:
        if fact.kind in ("quantity", "date"):
            groups.setdefault(fact.predicate, []).append(fact)
    varying: dict[str, list[Fact]] = {}
    for pred, members in groups.items():
        values = {(f.amount if f.kind == "quantity" else (f.date or "")[:4]) for f in members}
        if len(values) > 1:
            varying[pred] = sorted(
                members,
                key=lambda f: (
                    _when(f) is None,
                    _when(f) or "",
                    f.amount if f.amount is not None else 0.0,
                    f.date or "",
                    f.id,
                ),
            )
    if not varying:
        return facts, set()
    ordered: list[Fact] = []
    for fact in facts:
        group = varying.get(fact.predicate) if fact.kind in ("quantity", "date") else None
        if group is None:
            ordered.append(fact)
        elif fact is groups[fact.predicate][0]:
            ordered.extend(group)
    undated = {f.id for members in varying.values() for f in members if _when(f) is None}
    return ordered, undated


def render_page(
    entity_id: str,
    label: str,
    description: str | None,
    facts: list[Fact],
    names: dict[str, tuple[str, ...]],
) -> tuple[str, list[Fact], list[str]]:
    """The text of one page, the facts it renders and the entities it mentions.

    Args:
        entity_id: The entity.
        label: Its label (the page's title and first line).
        description: Its description (second line), if any.
        facts: Its facts, by id.
        names: Label and aliases of the entities its facts point at (value and unit items,
            qualifier items).

    Returns:
        ``(text, rendered facts, mentions)``: the mentions are the entity followed by the
        entity values shown, in order of first appearance.
    """
    lines = [label]
    if description:
        lines.append(description)
    lines.append("")
    rendered: list[Fact] = []
    mentions = [entity_id]
    ordered, undated = _time_order(facts)
    for fact in ordered:
        value = _value_text(fact, names)
        if value is None:
            continue
        qualifiers = _qualifier_text(fact.qualifiers, names)
        if fact.id in undated:
            qualifiers = f"{qualifiers[:-1]}; no date)" if qualifiers else " (no date)"
        lines.append(f"{property_label(fact.predicate)}: {value}{qualifiers}")
        rendered.append(fact)
        if fact.kind == "entity" and fact.object not in mentions:
            assert fact.object is not None
            mentions.append(fact.object)
    return "\n".join(lines) + "\n", rendered, mentions


class DescriptionTap(WorldWriter):
    """A ``WorldWriter`` that also keeps entity descriptions in the scratch store.

    Knowledge-base pages are written after the dump has been read, and the scratch store keeps
    only names; this writer copies each entity's description on its way to the World, so the
    dump is still read once.
    """

    scratch: Scratch | None = None

    def add_entities(self, rows: Iterable[Entity]) -> None:
        """Append entities, keeping their descriptions for the pages."""
        rows = list(rows)
        if self.scratch is not None:
            self.scratch.add_descriptions((e.id, e.description) for e in rows if e.description)
        super().add_entities(rows)

    def append_batch(self, name: str, batch: pa.RecordBatch | pa.Table) -> None:
        """Append Arrow rows; entities' descriptions are kept as ``add_entities`` keeps them."""
        if name == "entities" and self.scratch is not None:
            described = batch.filter(pc.fill_null(pc.not_equal(batch["description"], ""), False))
            ids, descriptions = described["id"].to_pylist(), described["description"].to_pylist()
            self.scratch.add_descriptions(zip(ids, descriptions, strict=True))
        super().append_batch(name, batch)


def write_kb_pages(
    config: IngestConfig,
    scratch: Scratch,
    writer: WorldWriter,
    report: IngestReport,
    display: ProgressDisplay,
) -> None:
    """Write one ``database`` page per entity with a renderable fact, with its provenance.

    Facts must be numbered (``Scratch.finalize_facts``); Wikipedia pages may come before (their
    ``links_to`` facts are skipped here). With ``config.provenance`` off the pages are written
    without provenance rows, as Wikipedia pages are. Counts ``kb_pages`` and ``kb_provenance``;
    ``kb_unstated`` counts rendered facts the provenance rule rejects (zero unless a value
    renders in a form the rule does not read, which the tests forbid).
    """
    docs = DocumentSink(writer, config.batch_rows)
    tracker = display.task("knowledge-base pages")
    for entity_id, label, description, facts in scratch.iter_entity_facts(skip=(LINKS_TO,)):
        tracker.advance()
        wanted = [f.object for f in facts if f.kind == "entity" and f.object]
        wanted += [f.unit for f in facts if f.kind == "quantity" and f.unit]
        wanted += [q for f in facts for q in _qualifier_ids(f.qualifiers)]
        names = scratch.names(sorted(set(wanted)))
        text, rendered, mentions = render_page(entity_id, label, description, facts, names)
        if not rendered:
            continue
        doc_id = kb_doc_id(entity_id)
        if not scratch.add_doc(doc_id):
            report.skip("duplicate_document")
            continue
        docs.add(
            Document(
                id=doc_id,
                title=label,
                text=text,
                kind=KB_KIND,
                language=config.language,
                mentions=tuple(mentions),
                about=entity_id,
            )
        )
        report.count("kb_pages")
        if not config.provenance:  # the pages are still written, like Wikipedia pages are
            continue
        matcher, mention_set = TextMatcher(text), set(mentions)
        names[entity_id] = (label,)
        stated = [f.id for f in rendered if states(f, matcher, mention_set, (), names)]
        report.count("kb_provenance", len(stated))
        if len(stated) < len(rendered):
            report.count("kb_unstated", len(rendered) - len(stated))
        writer.add_provenance(Provenance(doc_id, f) for f in stated)
    tracker.done()
    docs.flush()
