"""Reading a Wikidata JSON dump (``latest-all.json`` format) into entities and raw facts.

The dump is one JSON array with one entity per line, so it streams: every line is parsed on its
own and nothing but the current entity is held. Each entity becomes an ``Entity`` row at once
and its claims become facts in the scratch store, in dump order; whether a relation's object
exists is only known at the end, so dangling relations are dropped afterwards
(``Scratch.finalize_facts``) instead of in a first pass over the dump — one read of a
100 GB file instead of two, and memory stays O(entities) (the id set used to reject duplicates).

Mapping rules:

* label: the configured language, else ``mul``, else the first label, else the id;
* type: resolved when the dump ends, from ``P31`` and the ``P279`` closure (``_types``);
  while the dump streams, the first ``P31`` class that the type table maps itself stands in
  (it only picks among predicates that share a property);
* predicate: ``_vocab.wikidata_properties()`` plus ``IngestConfig.property_map``. When several
  predicates share a property (``P264``), the one whose subject types (object types for an
  inverse predicate) contain the claim holder's type wins; if none does the claim is skipped
  (``no_predicate_for_type``). An inverse predicate swaps subject and object
  (``paper P50 person`` -> ``person author_of paper``). Other properties (``properties`` or
  ``all_properties``) are named from their English label when the dump ends
  (``_properties``);
* a vocabulary predicate only takes values of its kind (else ``value_kind_mismatch``), except
  that a string predicate takes an item's label (``P106`` -> ``occupation``);
* qualifiers: JSON ``{name: value}`` where name is the vocabulary predicate of the qualifier
  property when there is exactly one, else the property id, and values are simplified to
  strings (a list when a qualifier repeats);
* ranks: deprecated statements are skipped (``deprecated_rank``); when a property of an item
  has a preferred-rank statement, its normal-rank statements are skipped too
  (``normal_rank_superseded``) — Wikidata marks the current population or head of government
  preferred, and the older values left beside it would make time-varying facts ambiguous;
* ``novalue``/``somevalue`` snaks are skipped and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redsearcher.world._records import Entity, Fact
from redsearcher.world._vocab import PREDICATES, Predicate, wikidata_properties
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._properties import (
    SKIP_DATATYPES,
    TYPE_PROPERTIES,
    PropertyNames,
)
from redsearcher.world.ingest._types import (
    TypeResolver,
)
from redsearcher.world.ingest._values import BadValue, SkipValue, simple_string, snak_value

_ANY = "any"  # the kind of a user-mapped predicate: whatever the data holds
_FLUSH = 5_000


def title_key(title: str) -> str:
    """A Wikipedia title normalized for joining: ``_`` -> space, first letter upper-cased."""
    text = " ".join(title.replace("_", " ").split())
    return text[:1].upper() + text[1:]


class BadRecord(Exception):
    """An entity record that cannot be read (reported with file and line)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class NotAnItem(Exception):
    """A property or lexeme record: valid, but not an entity of the World."""


class PropertyMap:
    """Which Wikidata property becomes which predicate, under one ``IngestConfig``."""

    def __init__(self, config: IngestConfig, resolver: TypeResolver | None = None) -> None:
        vocab = wikidata_properties()
        wanted = set(vocab) if config.properties is None else set(config.properties)
        self.map: dict[str, list[Predicate]] = {p: list(vocab[p]) for p in wanted if p in vocab}
        for pid, name in config.property_map.items():
            self.map[pid] = [PREDICATES.get(name) or Predicate(name, (), _ANY)]
        requested = frozenset(config.properties or ())
        self.defer = requested - set(self.map)
        """Properties named from their label once the dump is read (claims held under the id)."""
        self.bulk = config.all_properties
        self.names = PropertyNames(requested)
        self.types = resolver or TypeResolver(config.type_map)
        self.qualifier_names: dict[str, str] = {
            pid: preds[0].name for pid, preds in vocab.items() if len(preds) == 1
        }
        for pid, name in config.property_map.items():
            self.qualifier_names[pid] = name

    def resolve(self, pid: str, holder_type: str) -> Predicate | None:
        """The predicate of ``pid`` on an entity of ``holder_type`` (None: ambiguous)."""
        candidates = self.map[pid]
        if len(candidates) == 1:
            return candidates[0]
        for pred in candidates:
            if holder_type in (pred.object_types if pred.inverse else pred.subject_types):
                return pred
        return None

    def deferred(self, pid: str, datatype: Any) -> bool:
        """Whether claims of ``pid`` (not in ``map``) are kept for naming at the end."""
        if pid in self.defer:
            return True
        return self.bulk and pid not in TYPE_PROPERTIES and datatype not in SKIP_DATATYPES


@dataclass(slots=True)
class ParsedEntity:
    """One entity record: the entity row, its sitelink title, its facts and its skips.

    ``classes`` are its ``P31`` values and ``subclass_of`` its ``P279`` values (both in claim
    order); ``lang_label`` is its label in the configured language (or ``mul``), if any.
    """

    entity: Entity
    title: str | None
    facts: list[Fact] = field(default_factory=list)
    skipped: list[tuple[str, str | None]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    subclass_of: list[str] = field(default_factory=list)
    lang_label: str | None = None


def _texts(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key, {})
    if isinstance(value, list) and not value:  # the dump writes empty maps as []
        return {}
    if not isinstance(value, dict):
        raise BadRecord("wrong_type", f"{key!r} is not an object")
    return value


def _text(entry: Any) -> str | None:
    value = entry.get("value") if isinstance(entry, dict) else None
    return value if isinstance(value, str) and value else None


def _pick(texts: dict[str, Any], languages: Sequence[str]) -> str | None:
    for lang in (*languages, "mul"):
        if (value := _text(texts.get(lang))) is not None:
            return value
    return None


def _statements(claims: dict[str, Any], pid: str) -> list[Any]:
    statements = claims.get(pid, [])
    if not isinstance(statements, list):
        raise BadRecord("wrong_type", f"claims of {pid} are not a list")
    return statements


def _rank_skip(statement: dict[str, Any], preferred: bool, keep_deprecated: bool) -> str | None:
    """Why a statement is left out for its rank (None: kept).

    ``preferred`` says whether its property has a preferred-rank statement on this item:
    Wikidata's "best rank" rule, under which only those are the property's truthy values.
    """
    rank = statement.get("rank")
    if rank == "deprecated":
        return None if keep_deprecated else "deprecated_rank"
    if preferred and rank != "preferred":
        return "normal_rank_superseded"
    return None


def _has_preferred(statements: list[Any]) -> bool:
    return any(isinstance(s, dict) and s.get("rank") == "preferred" for s in statements)


def _item_values(claims: dict[str, Any], pid: str) -> list[str]:
    """The item values of ``pid`` (``P31``, ``P279``) in claim order, deprecated ones left out."""
    out: list[str] = []
    for statement in _statements(claims, pid):
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        try:
            kind, value = snak_value(statement.get("mainsnak"))
        except (SkipValue, BadValue):
            continue
        if kind == "entity" and value not in out:
            out.append(value)
    return out


def _qualifiers(
    statement: dict[str, Any], props: PropertyMap, skipped: list[tuple[str, str | None]]
) -> dict[str, Any] | None:
    raw = statement.get("qualifiers")
    if not raw:
        return None
    if not isinstance(raw, dict):
        skipped.append(("bad_value", "qualifiers are not an object"))
        return None
    out: dict[str, Any] = {}
    for pid, snaks in raw.items():
        values: list[str] = []
        for snak in snaks if isinstance(snaks, list) else ():
            try:
                values.append(simple_string(*snak_value(snak)))
            except SkipValue:
                continue
            except BadValue as err:
                skipped.append(("bad_value", f"qualifier {pid}: {err}"))
        if values:
            name = props.qualifier_names.get(str(pid), str(pid))
            out[name] = values[0] if len(values) == 1 else values
    return out or None


def _fact(subject: str, pred: Predicate, kind: str, value: Any, q: dict[str, Any] | None) -> Fact:
    if kind == "entity" and pred.kind == "string":  # the label replaces the id at the end
        return Fact(0, subject, pred.name, "string", object=value, qualifiers=Fact._q(q))
    if kind == "entity":
        if pred.inverse:
            return Fact.relation(0, value, pred.name, subject, q)
        return Fact.relation(0, subject, pred.name, value, q)
    if kind == "date":
        return Fact.date_value(0, subject, pred.name, value[0], value[1], q)
    if kind == "quantity":
        return Fact.quantity(0, subject, pred.name, value[0], value[1], q)
    if kind == "coordinate":
        return Fact.coordinate(0, subject, pred.name, value[0], value[1])
    return Fact.string_value(0, subject, pred.name, value, q)


def parse_entity(
    obj: dict[str, Any],
    language: str,
    props: PropertyMap,
    *,
    keep_deprecated: bool = False,
    languages: Sequence[str] | None = None,
) -> ParsedEntity:
    """Read one entity record of the dump.

    ``languages`` (default: ``language`` alone) are the label languages in order of
    preference; ``language`` picks the sitelink.

    Raises:
        NotAnItem: for properties and lexemes.
        BadRecord: when the record lacks an id or has a field of the wrong type.
    """
    if obj.get("type", "item") != "item":
        raise NotAnItem
    eid = obj.get("id")
    if eid is None:
        raise BadRecord("missing_field", "no 'id'")
    if not isinstance(eid, str) or not eid:
        raise BadRecord("wrong_type", f"'id' is {eid!r}")
    chain = tuple(languages or (language,))
    labels, descriptions = _texts(obj, "labels"), _texts(obj, "descriptions")
    label = _pick(labels, chain)
    if label is None:
        label = next((t for t in map(_text, labels.values()) if t is not None), eid)
    all_aliases = _texts(obj, "aliases")
    aliases_raw: Any = next((all_aliases[lang] for lang in chain if all_aliases.get(lang)), [])
    aliases = [t for t in map(_text, aliases_raw if isinstance(aliases_raw, list) else ()) if t]
    sitelink = _texts(obj, "sitelinks").get(f"{language}wiki")
    title = sitelink.get("title") if isinstance(sitelink, dict) else None
    claims = _texts(obj, "claims")
    classes = _item_values(claims, "P31")
    etype = props.types.direct(classes) or "item"  # provisional: the closure comes at the end
    entity = Entity(
        id=eid,
        label=label,
        type=etype,
        description=_pick(descriptions, chain),
        aliases=tuple(dict.fromkeys(a for a in aliases if a != label)),
    )
    parsed = ParsedEntity(entity, title if isinstance(title, str) and title else None)
    parsed.classes = classes
    parsed.subclass_of = _item_values(claims, "P279")
    parsed.lang_label = _pick(labels, chain)
    for pid in claims:
        if pid not in props.map:
            _deferred_claims(eid, pid, _statements(claims, pid), props, parsed, keep_deprecated)
            continue
        statements = _statements(claims, pid)
        preferred = _has_preferred(statements)
        for statement in statements:
            if not isinstance(statement, dict):
                parsed.skipped.append(("bad_value", f"{pid}: statement is not an object"))
                continue
            if reason := _rank_skip(statement, preferred, keep_deprecated):
                parsed.skipped.append((reason, None))
                continue
            try:
                kind, value = snak_value(statement.get("mainsnak"))
            except SkipValue as skip:
                parsed.skipped.append((skip.reason, None))
                continue
            except BadValue as err:
                parsed.skipped.append(("bad_value", f"{pid}: {err}"))
                continue
            pred = props.resolve(pid, etype)
            if pred is None:
                parsed.skipped.append(("no_predicate_for_type", None))
                continue
            label_of_item = pred.kind == "string" and kind == "entity" and not pred.inverse
            if (pred.kind not in (_ANY, kind) and not label_of_item) or (
                pred.inverse and kind != "entity"
            ):
                parsed.skipped.append(("value_kind_mismatch", None))
                continue
            qualifiers = _qualifiers(statement, props, parsed.skipped)
            parsed.facts.append(_fact(eid, pred, kind, value, qualifiers))
    return parsed


def _deferred_claims(
    eid: str,
    pid: str,
    statements: list[Any],
    props: PropertyMap,
    parsed: ParsedEntity,
    keep_deprecated: bool,
) -> None:
    """Claims of a property named at the end: held as facts whose predicate is the id."""
    preferred = _has_preferred(statements)
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        snak = statement.get("mainsnak")
        datatype = snak.get("datatype") if isinstance(snak, dict) else None
        if not props.deferred(pid, datatype):
            return
        if reason := _rank_skip(statement, preferred, keep_deprecated):
            parsed.skipped.append((reason, None))
            continue
        try:
            kind, value = snak_value(snak)
        except SkipValue as skip:
            parsed.skipped.append((skip.reason, None))
            continue
        except BadValue as err:
            parsed.skipped.append(("bad_value", f"{pid}: {err}"))
            continue
        props.names.deferred.add(pid)
        qualifiers = _qualifiers(statement, props, parsed.skipped)
        parsed.facts.append(_fact(eid, Predicate(pid, (), _ANY), kind, value, qualifiers))
