"""The World as simulated tools see it: the tools' schemas and answers.

Simulated tool use (paper §5.2) asks an LLM to invent tool responses; ours are *computed* from
the World, so the same call always gets the same answer, across turns and across dialogues, and
every final answer is a fact. ``WorldTools`` answers a call the way a tool server would,
including its errors (unknown entity, missing or unexpected argument, unknown relation), from
the run's one ``WorldIndex`` (the lookups by name, by subject and predicate, and by value are
its relation views). Dialogue generation is in ``_tools``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from redsearcher.midtrain._world_index import WorldIndex, fact_value
from redsearcher.world import PREDICATES

__all__ = ["ToolError", "WorldTools", "getter", "predicate_noun"]

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


def getter(predicate: str) -> str:
    """The name of the tool that reads ``predicate``."""
    return f"get_{predicate}"


class ToolError(Exception):
    """A tool call the simulated server refuses; ``str()`` is the error the model reads."""


@dataclass(slots=True)
class WorldTools:
    """The simulated tool server: OpenAI tool schemas and deterministic answers from the World.

    Tools: ``search_entities(name, type?)``, ``find_entities(type, relation, value)`` and one
    ``get_<predicate>(entity)`` per predicate in the World. Answers are compact JSON; errors are
    ``{"error": ...}`` texts, as a tool server would return them.
    """

    index: WorldIndex

    def describe(self, ent: int) -> dict[str, str]:
        """Entity row ``ent`` as a tool lists it."""
        index = self.index
        row = {"id": index.ids[ent], "name": index.labels[ent], "type": index.types[ent]}
        description = index.descriptions[ent]
        if description:
            row["description"] = description
        return row

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
            named = self.index.named(str(arguments["name"]))
            wanted = arguments.get("type")
            rows = [self.describe(e) for e in named if wanted in (None, self.index.types[e])]
            return json.dumps({"results": rows}, ensure_ascii=False)
        if name == "find_entities":
            self._expect(arguments, required=("type", "relation", "value"))
            relation = str(arguments["relation"])
            if relation not in self.index.predicates:
                raise ToolError(f"unknown relation {relation!r}")
            subjects = self.index.subjects_with(relation, str(arguments["value"]))
            found = [self.describe(s) for s in subjects if self.index.types[s] == arguments["type"]]
            return json.dumps({"results": found}, ensure_ascii=False)
        if name.startswith("get_") and name[4:] in self.index.predicates:
            self._expect(arguments, required=("entity",))
            entity = str(arguments["entity"])
            ent = self.index.row_of.get(entity)
            if ent is None:
                raise ToolError(
                    f"unknown entity {entity!r}: pass an entity id (use search_entities)"
                )
            values: list[dict[str, str | None]] = []
            for fact in self.index.facts_for(ent, name[4:]):
                view = self.index.fact(fact)
                value = fact_value(view, self.index.label)
                if view.kind == "entity":
                    values.append({"id": view.object, "name": value})
                else:
                    values.append({"value": value})
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
