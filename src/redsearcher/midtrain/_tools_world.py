"""The World as simulated tools see it: a compact in-memory index and the tools' answers.

Simulated tool use (paper §5.2) asks an LLM to invent tool responses; ours are *computed* from
the World, so the same call always gets the same answer, across turns and across dialogues, and
every final answer is a fact. This module holds the index (built once per World from Arrow
columns, not record objects: a 100k-entity World loads in seconds) and ``WorldTools``, which
answers a call the way a tool server would, including its errors (unknown entity, missing or
unexpected argument, unknown relation). Dialogue generation is in ``_tools``.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from redsearcher.world import PREDICATES, World

__all__ = [
    "ToolError",
    "ToolIndex",
    "WorldTools",
    "fact_value",
    "getter",
    "predicate_noun",
]

#: Nouns for predicates whose snake-case name does not read as "the X of Y".
_NOUNS: Final[dict[str, str]] = {
    "born_in": "place of birth",
    "died_in": "place of death",
    "citizen_of": "country of citizenship",
    "educated_at": "alma mater",
    "signed_to": "record label",
    "author_of": "work",
    "located_in": "location",
    "twinned_with": "twin city",
    "founded_by": "founder",
    "headquartered_in": "headquarters location",
    "award_received": "award",
    "cast_member": "cast member",
    "published_in": "venue",
}


def predicate_noun(predicate: str) -> str:
    """How a question names ``predicate`` ("the place of birth of ...")."""
    return _NOUNS.get(predicate, predicate.replace("_", " "))


_QID: Final = re.compile(r"^Q\d+$")


def getter(predicate: str) -> str:
    """The name of the tool that reads ``predicate``."""
    return f"get_{predicate}"


def _number(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"


def fact_value(kind: str, row: dict[str, Any], labels: dict[str, str]) -> str:
    """A fact's value as a tool returns it and an answer states it (entity: its label)."""
    if kind == "entity":
        return str(labels.get(row["object"], row["object"]))
    if kind == "date":
        # Cut to the stated precision (9 year, 10 month): "1952", never "1952-01-01".
        iso = str(row["date"]).lstrip("+")
        precision = row.get("date_precision") or 11
        return iso[:10] if precision >= 11 else iso[:7] if precision == 10 else iso[:4]
    if kind == "quantity":
        # Ingested units are Wikidata items ("Q7727"): their label when the World has it,
        # else the bare number (an id is no answer).
        unit = row.get("unit")
        unit = labels.get(unit, unit) if unit else None
        if unit and _QID.match(unit):
            unit = None
        return f"{_number(row['amount'])} {unit}" if unit else _number(row["amount"])
    if kind == "coordinate":
        return f"{row['latitude']:.4f}, {row['longitude']:.4f}"
    return str(row["string"])


class ToolError(Exception):
    """A tool call the simulated server refuses; ``str()`` is the error the model reads."""


@dataclass(slots=True)
class ToolIndex:
    """Entities, facts and provenance of a World, indexed for tool answers.

    ``facts[(subject, predicate)]`` holds fact ids; ``functional`` lists, per subject, the
    predicates with exactly one value (only those make a chain whose answer is unique).
    """

    labels: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    by_label: dict[str, list[str]] = field(default_factory=dict)
    """Lower-cased label or alias -> entity ids (World order)."""
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Fact id -> its columns (``subject, predicate, kind`` and the value's)."""
    facts: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    reverse: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """``(predicate, value key)`` -> subjects; the value key is an entity id or the value text."""
    functional: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    docs: dict[int, list[str]] = field(default_factory=dict)
    """Fact id -> the documents that state it (provenance)."""
    predicates: list[str] = field(default_factory=list)
    """Predicates present in the World, sorted."""

    @classmethod
    def build(cls, world: World) -> ToolIndex:
        """Index ``world`` (columns read with Arrow, a few seconds for 100k entities)."""
        index = cls()
        entities = world.table("entities", ["id", "label", "type", "description", "aliases"])
        ids = entities.column("id").to_pylist()
        labels = entities.column("label").to_pylist()
        types = entities.column("type").to_pylist()
        descriptions = entities.column("description").to_pylist()
        aliases = entities.column("aliases").to_pylist()
        index.labels = dict(zip(ids, labels, strict=True))
        index.types = dict(zip(ids, types, strict=True))
        index.descriptions = {i: d for i, d in zip(ids, descriptions, strict=True) if d}
        by_label: dict[str, list[str]] = defaultdict(list)
        for entity, label, names in zip(ids, labels, aliases, strict=True):
            for name in {label.lower(), *(a.lower() for a in names or ())}:
                by_label[name].append(entity)
        index.by_label = dict(by_label)
        facts = world.table("facts")
        columns = {name: facts.column(name).to_pylist() for name in facts.column_names}
        by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
        reverse: dict[tuple[str, str], list[str]] = defaultdict(list)
        keys = ("predicate", "kind", "object", "string", "date", "date_precision", "amount", "unit")
        geo = ("latitude", "longitude")
        for i, fact_id in enumerate(columns["id"]):
            row = {k: columns[k][i] for k in keys}
            if row["kind"] == "coordinate":
                row.update({k: columns[k][i] for k in geo})
            subject = row["subject"] = columns["subject"][i]
            index.rows[fact_id] = row
            by_pair[(subject, row["predicate"])].append(fact_id)
            value = row["object"] if row["kind"] == "entity" else fact_value(row["kind"], row, {})
            reverse[(row["predicate"], value.lower())].append(subject)
        index.facts = dict(by_pair)
        index.reverse = dict(reverse)
        functional: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for (subject, predicate), fact_ids in index.facts.items():
            if len(fact_ids) == 1 and subject in index.labels:
                functional[subject].append((predicate, fact_ids[0]))
        index.functional = {s: sorted(p) for s, p in functional.items()}
        index.predicates = sorted({p for _, p in index.facts})
        provenance = world.table("provenance", ["doc_id", "fact_id"])
        docs: dict[int, list[str]] = defaultdict(list)
        for doc, fact in zip(
            provenance.column("doc_id").to_pylist(),
            provenance.column("fact_id").to_pylist(),
            strict=True,
        ):
            docs[fact].append(doc)
        index.docs = dict(docs)
        return index

    def value(self, fact_id: int) -> str:
        """The value of fact ``fact_id`` as text."""
        row = self.rows[fact_id]
        return fact_value(row["kind"], row, self.labels)

    def describe(self, entity: str) -> dict[str, str]:
        """An entity as a tool lists it."""
        row = {"id": entity, "name": self.labels[entity], "type": self.types[entity]}
        if entity in self.descriptions:
            row["description"] = self.descriptions[entity]
        return row


@dataclass(slots=True)
class WorldTools:
    """The simulated tool server: OpenAI tool schemas and deterministic answers from the World.

    Tools: ``search_entities(name, type?)``, ``find_entities(type, relation, value)`` and one
    ``get_<predicate>(entity)`` per predicate in the World. Answers are compact JSON; errors are
    ``{"error": ...}`` texts, as a tool server would return them.
    """

    index: ToolIndex

    def schema(self, name: str, description: str | None = None) -> dict[str, Any]:
        """The OpenAI ``tools[]`` entry of tool ``name`` (``description`` overrides the default)."""
        if name == "search_entities":
            default = "Find entities by name (or alias); returns their ids, types and descriptions."
            params: dict[str, Any] = {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The name to look up."},
                    "type": {"type": "string", "description": "Optional entity type filter."},
                },
                "required": ["name"],
            }
        elif name == "find_entities":
            default = "Find entities of a type whose relation has a given value (an id or text)."
            params = {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "description": "Entity type, e.g. film."},
                    "relation": {"type": "string", "description": "A relation, e.g. director."},
                    "value": {"type": "string", "description": "Entity id or literal value."},
                },
                "required": ["type", "relation", "value"],
            }
        elif name.startswith("get_") and name[4:] in self.index.predicates:
            predicate = name[4:]
            spec = PREDICATES.get(predicate)
            subjects = " or ".join(spec.subject_types) if spec else "an entity"
            default = f"Return the {predicate_noun(predicate)} of {subjects} (by entity id)."
            params = {
                "type": "object",
                "properties": {
                    "entity": {"type": "string", "description": "Entity id from search_entities."}
                },
                "required": ["entity"],
            }
        else:
            raise ToolError(f"unknown tool {name!r}")
        return {
            "type": "function",
            "function": {"name": name, "description": description or default, "parameters": params},
        }

    def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Answer one call; a refused call raises :class:`ToolError` with the error text."""
        if name == "search_entities":
            self._expect(arguments, required=("name",), optional=("type",))
            ids = self.index.by_label.get(str(arguments["name"]).lower(), [])
            wanted = arguments.get("type")
            rows = [self.index.describe(e) for e in ids if wanted in (None, self.index.types[e])]
            return json.dumps({"results": rows}, ensure_ascii=False)
        if name == "find_entities":
            self._expect(arguments, required=("type", "relation", "value"))
            relation = str(arguments["relation"])
            if relation not in self.index.predicates:
                raise ToolError(f"unknown relation {relation!r}")
            key = (relation, str(arguments["value"]).lower())
            found = [
                self.index.describe(s)
                for s in self.index.reverse.get(key, [])
                if self.index.types[s] == arguments["type"]
            ]
            return json.dumps({"results": found}, ensure_ascii=False)
        if name.startswith("get_") and name[4:] in self.index.predicates:
            self._expect(arguments, required=("entity",))
            entity = str(arguments["entity"])
            if entity not in self.index.labels:
                raise ToolError(
                    f"unknown entity {entity!r}: pass an entity id (use search_entities)"
                )
            values = []
            for fact_id in self.index.facts.get((entity, name[4:]), []):
                row = self.index.rows[fact_id]
                if row["kind"] == "entity":
                    values.append({"id": row["object"], "name": self.index.value(fact_id)})
                else:
                    values.append({"value": self.index.value(fact_id)})
            return json.dumps({"entity": entity, "values": values}, ensure_ascii=False)
        raise ToolError(f"unknown tool {name!r}")

    def respond(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """The tool message text for a call and whether it is an error."""
        try:
            return self.call(name, arguments), False
        except ToolError as error:
            return json.dumps({"error": str(error)}, ensure_ascii=False), True

    @staticmethod
    def _expect(
        arguments: dict[str, Any], *, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> None:
        for key in required:
            if key not in arguments:
                raise ToolError(f"missing required argument {key!r}")
        extra = sorted(set(arguments) - set(required) - set(optional))
        if extra:
            raise ToolError(f"unexpected argument {extra[0]!r}")
