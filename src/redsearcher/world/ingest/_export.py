"""The inverse of ingest: a World written as a Wikidata JSON dump plus Wikipedia JSONL.

Why: ingest must be tested (and benchmarked) on dumps whose correct result is known. Exporting
a World that was built from the vocabulary gives such dumps at any size, in the real formats,
and the round trip ``World -> export -> ingest`` must give back the same entities and the same
relations of every mapped predicate.

What is written:

* ``wikidata.json.gz``: the ``latest-all.json`` layout (``[``, one entity per line followed by
  ``,``, ``]``), entities sorted by id, byte-reproducible (gzip ``mtime`` 0). Each entity has
  its label, description and aliases in ``language``, its type as a ``P31`` claim (the
  vocabulary class, the type itself when it is not a vocabulary type, none for ``item``), the
  facts of every predicate with a Wikidata property as claims with real datatypes (an inverse
  predicate's fact ``person author_of paper`` is written on the paper as ``P50 person``), and
  a ``{language}wiki`` sitelink equal to the label (``label (id)`` when that title is taken).
* ``wikipedia.jsonl``: one page per entity, like Wikipedia: the first document about the
  entity (a generated World writes each entity's main page first); ``title`` = that entity's
  sitelink title, ``text``, ``links`` = the titles of the other mentioned entities
  (``url`` when the document has a source URL). Knowledge-base pages (kind ``database``) are
  not exported: they are the dump's facts as text, and ingest writes them again.

Facts are read as one Arrow table (columnar, sorted by the entity holding the claim) and merged
with the sorted entities, so memory is the size of the facts table, never a Python object per
fact. Qualifier keys that are neither a property id nor a mapped predicate are dropped.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.world._store import World
from redsearcher.world._vocab import ENTITY_TYPES, PREDICATES
from redsearcher.world.ingest._values import (
    coordinate_value,
    entity_value,
    quantity_value,
    string_value,
    time_value,
    value_snak,
)
from redsearcher.world.ingest._wikidata import title_key

_PID = re.compile(r"^P[1-9][0-9]*$")
_QID = re.compile(r"^Q[1-9][0-9]*$")
_DATE = re.compile(r"^-?\d{1,}(-\d{2}(-\d{2})?)?$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class ExportedDump:
    """What ``export_dump`` wrote."""

    wikidata: Path
    """The gzip'ed Wikidata JSON dump."""
    wikipedia: Path
    """The Wikipedia JSON Lines file."""
    entities: int
    """Entities written."""
    claims: int
    """Claims written (``P31`` included)."""
    documents: int
    """Wikipedia pages written."""


def _qualifier_value(key: str, value: str) -> dict[str, Any]:
    pred = PREDICATES.get(key)
    kind = pred.kind if pred else None
    if kind == "entity" or (kind is None and _QID.match(value)):
        return entity_value(value)
    if kind == "date" or (kind is None and _DATE.match(value) and not _NUMBER.match(value)):
        return time_value(value, None)
    if kind == "quantity" or (kind is None and _NUMBER.match(value)):
        return quantity_value(float(value), None)
    return string_value(value)


def _qualifiers(raw: str | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for key, value in (json.loads(raw) if raw else {}).items():
        pred = PREDICATES.get(key)
        pid = key if _PID.match(key) else pred.wikidata if pred else None
        if pid is None:
            continue
        values = value if isinstance(value, list) else [value]
        try:
            out.setdefault(pid, []).extend(
                value_snak(pid, _qualifier_value(key, str(v))) for v in values
            )
        except ValueError:
            continue
    return out


def _datavalue(row: dict[str, Any], inverse: bool) -> dict[str, Any]:
    kind = row["kind"]
    if kind == "entity":
        return entity_value(row["subject"] if inverse else row["object"])
    if kind == "date":
        return time_value(row["date"], row["date_precision"])
    if kind == "quantity":
        return quantity_value(row["amount"], row["unit"])
    if kind == "coordinate":
        return coordinate_value(row["latitude"], row["longitude"])
    return string_value(row["string"])


def _statement(holder: str, pid: str, ident: int, datavalue: dict[str, Any]) -> dict[str, Any]:
    return {
        "mainsnak": value_snak(pid, datavalue),
        "type": "statement",
        "id": f"{holder}${ident}",
        "rank": "normal",
    }


def _sorted_claim_rows(world: World) -> Iterator[dict[str, Any]]:
    """Facts of mapped predicates with a ``holder`` column, sorted by (holder, id)."""
    mapped = {name: p for name, p in PREDICATES.items() if p.wikidata}
    facts = world.table("facts")
    facts = facts.filter(pc.is_in(facts["predicate"], value_set=pa.array(sorted(mapped))))
    inverse = sorted(name for name, p in mapped.items() if p.inverse)
    is_inverse = pc.is_in(facts["predicate"], value_set=pa.array(inverse, type=pa.string()))
    holder = pc.if_else(is_inverse, facts["object"], facts["subject"])
    facts = facts.append_column("holder", holder).sort_by(
        [("holder", "ascending"), ("id", "ascending")]
    )
    for batch in facts.to_batches(max_chunksize=8192):
        yield from batch.to_pylist()


def _sitelinks(world: World) -> dict[str, str]:
    titles: dict[str, str] = {}
    taken: set[str] = set()
    for batch in world.iter_batches("entities", columns=["id", "label"]):
        for eid, label in zip(batch["id"].to_pylist(), batch["label"].to_pylist(), strict=True):
            title = label if title_key(label) not in taken else f"{label} ({eid})"
            taken.add(title_key(title))
            titles[eid] = title
    return titles


def _write_entities(world: World, fh: BinaryIO, titles: dict[str, str], language: str) -> int:
    claims_written = 0
    rows = _sorted_claim_rows(world)
    pending = next(rows, None)
    entities = world.table("entities").sort_by("id")
    fh.write(b"[\n")
    first = True
    for batch in entities.to_batches(max_chunksize=8192):
        for ent in batch.to_pylist():
            eid = ent["id"]
            claims: dict[str, list[dict[str, Any]]] = {}
            etype = ent["type"]
            if etype != "item":
                cls = ENTITY_TYPES[etype].wikidata_class if etype in ENTITY_TYPES else etype
                claims["P31"] = [_statement(eid, "P31", 0, entity_value(cls))]
            while pending is not None and pending["holder"] < eid:
                pending = next(rows, None)  # a fact whose holder is not an entity
            while pending is not None and pending["holder"] == eid:
                pred = PREDICATES[pending["predicate"]]
                pid = str(pred.wikidata)
                statement = _statement(eid, pid, pending["id"], _datavalue(pending, pred.inverse))
                qualifiers = _qualifiers(pending["qualifiers"])
                if qualifiers:
                    statement["qualifiers"] = qualifiers
                    statement["qualifiers-order"] = list(qualifiers)
                claims.setdefault(pid, []).append(statement)
                pending = next(rows, None)
            claims_written += sum(len(v) for v in claims.values())
            record = {
                "type": "item",
                "id": eid,
                "labels": {language: {"language": language, "value": ent["label"]}},
                "descriptions": (
                    {language: {"language": language, "value": ent["description"]}}
                    if ent["description"]
                    else {}
                ),
                "aliases": (
                    {language: [{"language": language, "value": a} for a in ent["aliases"]]}
                    if ent["aliases"]
                    else {}
                ),
                "claims": claims,
                "sitelinks": {
                    f"{language}wiki": {
                        "site": f"{language}wiki",
                        "title": titles[eid],
                        "badges": [],
                    }
                },
            }
            fh.write(b"" if first else b",\n")
            fh.write(json.dumps(record, ensure_ascii=False).encode("utf-8"))
            first = False
    fh.write(b"\n]\n")
    return claims_written


def export_dump(
    world: World | str | Path, out_dir: str | Path, *, language: str = "en"
) -> ExportedDump:
    """Write ``world`` as ``wikidata.json.gz`` and ``wikipedia.jsonl`` into ``out_dir``.

    Args:
        world: An open World or the path of one.
        out_dir: The directory to write into (created if missing; files are replaced).
        language: Language code of labels and of the Wikipedia sitelinks.

    Returns:
        The paths written and their record counts.
    """
    if not isinstance(world, World):
        world = World.open(world)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    titles = _sitelinks(world)
    wikidata = out / "wikidata.json.gz"
    with (
        wikidata.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh,
    ):
        claims = _write_entities(world, cast(BinaryIO, fh), titles, language)
    wikipedia = out / "wikipedia.jsonl"
    documents = 0
    paged: set[str] = set()
    with wikipedia.open("w", encoding="utf-8") as fh_text:
        for doc in world.iter_records("documents"):
            if doc.about is None or doc.about not in titles or doc.about in paged:
                continue
            if doc.kind == "database":  # derived from the dump; ingest writes them again
                continue
            paged.add(doc.about)
            links = [
                titles[m] for m in dict.fromkeys(doc.mentions) if m != doc.about and m in titles
            ]
            page: dict[str, Any] = {"title": titles[doc.about], "text": doc.text, "links": links}
            if doc.source_url:
                page["url"] = doc.source_url
            fh_text.write(json.dumps(page, ensure_ascii=False) + "\n")
            documents += 1
    return ExportedDump(wikidata, wikipedia, len(titles), claims, documents)
