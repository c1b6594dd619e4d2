"""Naming Wikidata properties the vocabulary does not know, from their English labels.

A real dump uses hundreds of properties; the vocabulary maps 45. Every other property is usable
once it has an English label: the predicate is the label in snake case (``P1344`` "participant
in" -> ``participant_in``), so no predicate a downstream realizer reads is ever a raw id. The
label comes from the dump's own property entity (``"type": "property"``) when the dump has
one — it is the authority — else from a bundled table of the most used properties
(``data/properties.tsv``; samples and filtered dumps rarely carry property entities). A property
with neither is skipped and counted, never named by its id.

Property entities may appear anywhere in a dump (after the items that use them), so the name
of such a property is only decided when the dump has been read: its claims wait in the scratch
store under the property id and are renamed (or dropped) by one statement per step
(``finish_properties``). Item values of a property whose name is a string predicate of the
vocabulary (``P106`` -> ``occupation``) become the item's label (``label_from_item``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from redsearcher.world._vocab import PREDICATES
from redsearcher.world.ingest._report import IngestReport
from redsearcher.world.ingest._scratch import Scratch

#: Datatypes that ``all_properties`` never ingests: identifiers and links name no fact of the
#: world that a question could ask about.
SKIP_DATATYPES = frozenset(
    {
        "external-id",
        "url",
        "commonsMedia",
        "geo-shape",
        "tabular-data",
        "math",
        "musical-notation",
        "wikibase-lexeme",
        "wikibase-form",
        "wikibase-sense",
        "wikibase-property",
        "entity-schema",
    }
)
#: Properties that become entity types, not facts (see ``_types``).
TYPE_PROPERTIES = frozenset({"P31", "P279"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PREDICATE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    """What ingest knows of a property: its English label, datatype and bulk eligibility."""

    label: str
    datatype: str
    bulk: bool = True
    """Whether ``all_properties`` ingests it (False for identifiers and Wikimedia metadata)."""


@cache
def bundled_properties() -> dict[str, PropertyInfo]:
    """The bundled table ``data/properties.tsv`` (id -> label, datatype, bulk)."""
    text = files("redsearcher.world.ingest").joinpath("data/properties.tsv").read_text("utf-8")
    out: dict[str, PropertyInfo] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pid, datatype, label, bulk = line.split("\t")
        out[pid] = PropertyInfo(label, datatype, bulk == "yes" and datatype not in SKIP_DATATYPES)
    return out


def predicate_name(label: str) -> str | None:
    """A label in snake case (``"has part(s)"`` -> ``has_parts``); None if nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    name = _NOT_WORD.sub("_", ascii_text.replace("(s)", "s").lower()).strip("_")
    return name if _PREDICATE.match(name) else None


def property_record(obj: dict[str, Any], language: str) -> tuple[str, PropertyInfo] | None:
    """The ``(id, info)`` of a dump's property entity, or None when it has no usable label."""
    pid, datatype, labels = obj.get("id"), obj.get("datatype"), obj.get("labels")
    if not isinstance(pid, str) or not isinstance(datatype, str) or not isinstance(labels, dict):
        return None
    entry = labels.get(language) or labels.get("mul")
    label = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(label, str) or not label.strip():
        return None
    return pid, PropertyInfo(label.strip(), datatype, datatype not in SKIP_DATATYPES)


class PropertyNames:
    """Collects property entities while the dump streams; names deferred properties at the end.

    Args:
        requested: Properties named in ``IngestConfig.properties`` (ingested whatever their
            datatype); the others are ingested in bulk mode only when eligible.
    """

    def __init__(self, requested: frozenset[str]) -> None:
        self.requested = requested
        self.from_dump: dict[str, PropertyInfo] = {}
        self.deferred: set[str] = set()
        """Properties whose claims wait in the scratch store under their id."""

    def info(self, pid: str) -> PropertyInfo | None:
        """The dump's property entity if seen, else the bundled row."""
        return self.from_dump.get(pid) or bundled_properties().get(pid)

    def finish(self, scratch: Scratch, report: IngestReport) -> dict[str, str]:
        """Rename the deferred properties' facts to predicates; drop the unnamable ones.

        Returns:
            ``{property id: predicate}`` of the properties that were named.
        """
        names: dict[str, str] = {}
        drop: dict[str, str] = {}  # pid -> skip reason
        to_string: list[str] = []  # item values become labels (vocabulary string predicate)
        kind_of: dict[str, str] = {}  # pid -> the only value kind its predicate takes
        for pid in sorted(self.deferred):
            info = self.info(pid)
            name = predicate_name(info.label) if info else None
            if info is None or name is None:
                drop[pid] = "unlabelled_property"
                continue
            if pid not in self.requested and not info.bulk:
                drop[pid] = "identifier_property"
                continue
            vocab = PREDICATES.get(name)
            if name == "links_to" or (vocab and vocab.wikidata not in (None, pid)):
                drop[pid] = "predicate_name_conflict"
                continue
            if vocab is not None:
                kind_of[pid] = vocab.kind
                if vocab.kind == "string":
                    to_string.append(pid)
            names[pid] = name
        db = scratch.db
        db.execute("CREATE TEMP TABLE prop_names (pid TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID")
        for reason in sorted(set(drop.values())):
            pids = [p for p, r in drop.items() if r == reason]
            report.count(f"properties_{reason}", len(pids))
            marks = ",".join("?" * len(pids))
            gone = db.execute(f"DELETE FROM raw_facts WHERE predicate IN ({marks})", pids)
            _skip(report, reason, gone.rowcount)
        if to_string:
            marks = ",".join("?" * len(to_string))
            db.execute(  # the object id stays as the marker that label_from_item resolves
                f"UPDATE raw_facts SET kind = 'string' WHERE kind = 'entity' "
                f"AND predicate IN ({marks})",
                to_string,
            )
        for pid, kind in sorted(kind_of.items()):
            gone = db.execute(
                "DELETE FROM raw_facts WHERE predicate = ? AND kind != ?", (pid, kind)
            )
            _skip(report, "value_kind_mismatch", gone.rowcount)
        db.executemany("INSERT INTO prop_names VALUES (?, ?)", sorted(names.items()))
        db.execute(
            "UPDATE raw_facts SET predicate = p.name FROM prop_names p "
            "WHERE raw_facts.predicate = p.pid"
        )
        db.execute("DROP TABLE prop_names")
        if names:
            report.count("properties_named_from_labels", len(names))
        return names


def _skip(report: IngestReport, reason: str, n: int) -> None:
    if n > 0:  # a zero would add the reason to every report
        report.skip(reason, n=n)


def label_from_item(scratch: Scratch, report: IngestReport) -> None:
    """Give string facts that hold an item id (``object``) the item's label as their string.

    Such facts come from an item-valued property mapped to a string predicate (``P106`` ->
    ``occupation``); the label is only known once the whole dump is read. Items without a
    label in the language (or absent from the dump) drop the fact (``item_without_label``).
    """
    db = scratch.db
    db.execute(
        "UPDATE raw_facts SET string = (SELECT i.lang_label FROM items i "
        "WHERE i.id = raw_facts.object), object = NULL "
        "WHERE kind = 'string' AND object IS NOT NULL"
    )
    gone = db.execute("DELETE FROM raw_facts WHERE kind = 'string' AND string IS NULL")
    _skip(report, "item_without_label", gone.rowcount)
