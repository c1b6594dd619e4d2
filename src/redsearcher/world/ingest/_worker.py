"""The per-chunk work of a Wikidata ingest: JSON parsing, claim extraction and filtering.

This is the expensive, stateless part (over 90% of the time of a single-process ingest), so
it runs in worker processes. A worker turns a chunk into a list of *events*, one per bad line
or record, carrying everything the writer needs (rows to insert, skips to report, relative line
numbers) as plain tuples that pickle cheaply. The writer (``_dump``) applies them in order,
exactly as a single process would, so the report (whose first problems are kept in order) and
the fact ids do not depend on the number of workers.

Events:

* ``("bad", line, reason, detail)``: a line that is not JSON (``bad_encoding``, ``bad_json``,
  ``not_an_object``) — reported like ``JsonLines`` reports it;
* ``("bad_record", line, (reason, detail))``: a record that cannot be read;
* ``("property", line, (pid, PropertyInfo) | None)``: a property or lexeme entity;
* ``("item", line, ItemOut)``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from redsearcher.world.ingest._chunks import Chunk, split_lines
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._filters import ItemFilter
from redsearcher.world.ingest._properties import property_record
from redsearcher.world.ingest._scratch import fact_row
from redsearcher.world.ingest._types import ItemRow
from redsearcher.world.ingest._values import BadValue, SkipValue, snak_value
from redsearcher.world.ingest._wikidata import (
    BadRecord,
    NotAnItem,
    PropertyMap,
    parse_entity,
    title_key,
)

#: One parsed item: id, why a filter dropped it (None: kept), its pending ``items`` row, its
#: ``entities`` row (label, aliases, title key), raw fact rows, skips, its ``P279`` parents.
ItemOut = tuple[
    str,
    str | None,
    ItemRow,
    tuple[str, tuple[str, ...], str | None],
    list[tuple[Any, ...]],
    list[tuple[str, str | None]],
    list[str],
]
Event = tuple[str, int, Any]
_IGNORE = ("[", "]")


@dataclass(slots=True)
class ChunkResult:
    """What a worker made of one chunk."""

    lines: int
    """Lines in the chunk (the writer numbers them from the lines before it)."""
    events: list[Event]
    deferred: set[str]
    """Properties whose claims were held for naming at the end (``PropertyNames.deferred``)."""
    good: int
    bad: int

    def first_bad(self) -> int | None:
        """The relative line of the first non-JSON line, if any."""
        return next((rel for kind, rel, _ in self.events if kind == "bad"), None)


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker needs: the settings and the streaming filters."""

    config: IngestConfig
    item_filter: ItemFilter


class _State:
    def __init__(self, setup: WorkerSetup) -> None:
        config = setup.config
        self.config = config
        self.filter = setup.item_filter
        self.props = PropertyMap(config)
        self.chain = tuple(config.languages or (config.language,))
        self.sitelink = f"{config.language}wiki"


_STATE: _State | None = None


def init_worker(setup: WorkerSetup, parent: int | None = None) -> None:
    """Prepare this process for ``parse_chunk`` (a pool initializer).

    ``parent`` is the pid of the ingest when this runs in a worker process: the worker then
    exits as soon as that process is gone, since a killed ingest (the case ``resume`` is
    for) cannot shut its pool down and would leave idle workers behind.
    """
    global _STATE
    _STATE = _State(setup)
    if parent is not None:
        watch_parent(parent)


def watch_parent(parent: int) -> None:
    """Exit this process when ``parent`` is no longer its parent (checked every second)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _line_text(raw: bytes) -> str | None:
    """The JSON text of a dump line; None for a blank line or the array's brackets."""
    text = raw.decode("utf-8").lstrip("\ufeff").strip()
    if not text or text in _IGNORE:
        return None
    return text[:-1] if text.endswith(",") else text


def parse_chunk(chunk: Chunk) -> ChunkResult:
    """Parse every line of ``chunk`` into events (after ``init_worker``)."""
    state = _STATE
    if state is None:
        raise RuntimeError("init_worker was not called")
    state.props.names.deferred = set()
    events: list[Event] = []
    good = bad = 0
    lines = split_lines(chunk.read())
    for rel, raw in enumerate(lines, start=1):
        try:
            text = _line_text(raw)
        except UnicodeDecodeError as err:
            bad += 1
            events.append(("bad", rel, ("bad_encoding", str(err))))
            continue
        if text is None:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            bad += 1
            events.append(("bad", rel, ("bad_json", str(err))))
            continue
        if not isinstance(obj, dict):
            bad += 1
            detail = f"a JSON {type(obj).__name__}, not an object"
            events.append(("bad", rel, ("not_an_object", detail)))
            continue
        good += 1
        wrapped = obj.get("entities")
        records = list(wrapped.values()) if "id" not in obj and isinstance(wrapped, dict) else [obj]
        for record in records:
            events.append(_record_event(state, rel, record))
    return ChunkResult(len(lines), events, state.props.names.deferred, good, bad)


def _record_event(state: _State, rel: int, record: Any) -> Event:
    config = state.config
    try:
        if not isinstance(record, dict):
            raise BadRecord("not_an_object", "entity is not an object")
        parsed = parse_entity(
            record,
            config.language,
            state.props,
            keep_deprecated=config.keep_deprecated,
            languages=state.chain,
        )
    except NotAnItem:
        found = None
        if record.get("type") == "property":
            found = property_record(record, config.language)
        return ("property", rel, found)
    except BadRecord as bad:
        return ("bad_record", rel, (bad.reason, bad.detail))
    entity = parsed.entity
    drop: str | None = None
    if config.require_sitelink and parsed.title is None:
        drop = "no_sitelink"
    else:
        sitelinks = record.get("sitelinks")
        count = len(sitelinks) if isinstance(sitelinks, dict) else 0
        drop = state.filter.reason(entity.id, parsed.classes, count, parsed.lang_label)
    if drop is None:
        item: ItemRow = (
            entity.id,
            True,
            entity.label,
            parsed.lang_label,
            entity.description,
            entity.aliases,
            tuple(parsed.classes),
        )
        key = title_key(parsed.title) if parsed.title else None
        name = (entity.label, entity.aliases, key)
        facts = [fact_row(f) for f in parsed.facts]
        skipped = parsed.skipped
    else:  # what a dropped item is still needed for: its label (and a stub's description)
        description = entity.description if config.stubs else None
        classes = tuple(parsed.classes) if config.stubs else ()
        item = (entity.id, False, entity.label, parsed.lang_label, description, (), classes)
        name, facts, skipped = (entity.label, (), None), [], []
    return ("item", rel, (entity.id, drop, item, name, facts, skipped, parsed.subclass_of))


def subclass_edges(chunk: Chunk) -> list[tuple[str, list[str]]]:
    """``(class, P279 parents)`` of the records in ``chunk`` that have any.

    Only lines that contain ``"P279"`` are parsed; bad lines are left to the main pass.
    """
    out: list[tuple[str, list[str]]] = []
    for raw in split_lines(chunk.read()):
        if b'"P279"' not in raw:
            continue
        try:
            text = _line_text(raw)
            obj = json.loads(text) if text is not None else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(obj, dict):
            continue
        wrapped = obj.get("entities")
        records = list(wrapped.values()) if "id" not in obj and isinstance(wrapped, dict) else [obj]
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                continue
            claims = record.get("claims")
            statements = claims.get("P279") if isinstance(claims, dict) else None
            parents = _item_parents(statements)
            if parents:
                out.append((record["id"], parents))
    return out


def _item_parents(statements: Any) -> list[str]:
    out: list[str] = []
    for statement in statements if isinstance(statements, list) else ():
        if not isinstance(statement, dict) or statement.get("rank") == "deprecated":
            continue
        try:
            kind, value = snak_value(statement.get("mainsnak"))
        except (SkipValue, BadValue):
            continue
        if kind == "entity" and value not in out:
            out.append(value)
    return out
