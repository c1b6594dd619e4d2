"""The per-chunk work of a Wikidata ingest: JSON parsing, claim extraction and filtering.

This is the expensive, stateless part (over 90% of the time of a single-process ingest), so
it runs in worker processes. A worker writes the chunk's scratch rows (items, entity names, raw
facts, ``P279`` parents; every record, duplicates included) to the chunk's run file (``_runs``)
and hands the writer (``_dump``) only what depends on dump order or goes to the report: counts
by skip reason and a few *events*, in line order, so the report's problems come in the same
order whatever the number of workers:

* ``("bad", line, (reason, detail))``: a line that is not JSON (``bad_encoding``,
  ``bad_json``, ``not_an_object``), reported like ``JsonLines`` reports it;
* ``("bad_record", line, (reason, detail))``: a record that cannot be read;
* ``("skip", line, (reason, detail))``: a value of a kept item skipped with a problem to report;
* ``("property", line, (pid, PropertyInfo))``: a property entity (the last one of an id wins).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redsearcher.world.ingest._chunks import Chunk, split_lines
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._filters import ItemFilter
from redsearcher.world.ingest._properties import property_record
from redsearcher.world.ingest._runs import RunRows, write_run
from redsearcher.world.ingest._scratch import ALIAS_SEP, fact_row
from redsearcher.world.ingest._values import BadValue, SkipValue, snak_value
from redsearcher.world.ingest._wikidata import (
    BadRecord,
    NotAnItem,
    PropertyMap,
    parse_entity,
    title_key,
)

Event = tuple[str, int, Any]
_IGNORE = ("[", "]")


@dataclass(slots=True)
class ChunkResult:
    """What a worker made of one chunk (its rows are in the run file ``run``)."""

    lines: int
    """Lines in the chunk (the writer numbers them from the lines before it)."""
    events: list[Event]
    deferred: set[str]
    """Properties whose claims were held for naming at the end (``PropertyNames.deferred``)."""
    good: int
    bad: int
    records: int = 0
    """Wikidata records read (every JSON line's entities, readable or not)."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Skips to count without a problem: filter drops, value skips, non-items."""
    items: int = 0
    """Item records in the run file (``n`` 1 to ``items``)."""
    facts: int = 0
    """Raw facts in the run file (``seq`` 1 to ``facts``)."""
    run: str | None = None
    """The run file (None: the chunk holds no item)."""

    def first_bad(self) -> int | None:
        """The relative line of the first non-JSON line, if any."""
        return next((rel for kind, rel, _ in self.events if kind == "bad"), None)


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker needs: the settings, the streaming filters and where runs go."""

    config: IngestConfig
    item_filter: ItemFilter
    runs: Path


class _State:
    def __init__(self, setup: WorkerSetup) -> None:
        config = setup.config
        self.config = config
        self.filter = setup.item_filter
        self.props = PropertyMap(config)
        self.chain = tuple(config.languages or (config.language,))
        self.sitelink = f"{config.language}wiki"
        self.runs = setup.runs


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


def parse_chunk(chunk: Chunk, name: str) -> ChunkResult:
    """Parse the lines of ``chunk``, its rows to the run file ``name`` (after ``init_worker``)."""
    state = _STATE
    if state is None:
        raise RuntimeError("init_worker was not called")
    state.props.names.deferred = set()
    result = ChunkResult(0, [], set(), 0, 0)
    rows = RunRows()
    lines = split_lines(chunk.read())
    for rel, raw in enumerate(lines, start=1):
        try:
            text = _line_text(raw)
        except UnicodeDecodeError as err:
            result.bad += 1
            result.events.append(("bad", rel, ("bad_encoding", str(err))))
            continue
        if text is None:
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            result.bad += 1
            result.events.append(("bad", rel, ("bad_json", str(err))))
            continue
        if not isinstance(obj, dict):
            result.bad += 1
            detail = f"a JSON {type(obj).__name__}, not an object"
            result.events.append(("bad", rel, ("not_an_object", detail)))
            continue
        result.good += 1
        wrapped = obj.get("entities")
        records = list(wrapped.values()) if "id" not in obj and isinstance(wrapped, dict) else [obj]
        for record in records:
            result.records += 1
            _record(state, rel, record, result, rows)
    result.lines = len(lines)
    result.deferred = state.props.names.deferred
    result.items, result.facts = len(rows.items), len(rows.facts)
    if rows.items:
        path = state.runs / name
        write_run(path, rows)
        result.run = str(path)
    return result


def _record(state: _State, rel: int, record: Any, result: ChunkResult, rows: RunRows) -> None:
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
        result.skipped["not_an_item"] += 1
        if record.get("type") == "property":
            found = property_record(record, config.language)
            if found is not None:
                result.events.append(("property", rel, found))
        return
    except BadRecord as bad:
        result.events.append(("bad_record", rel, (bad.reason, bad.detail)))
        return
    entity = parsed.entity
    drop: str | None = None
    if config.require_sitelink and parsed.title is None:
        drop = "no_sitelink"
    else:
        sitelinks = record.get("sitelinks")
        count = len(sitelinks) if isinstance(sitelinks, dict) else 0
        drop = state.filter.reason(entity.id, parsed.classes, count, parsed.lang_label)
    n = len(rows.items) + 1
    if parsed.subclass_of:
        rows.parents.append((n, entity.id, ALIAS_SEP.join(parsed.subclass_of)))
    if drop is not None:  # what a dropped item is still needed for: its label (and a stub's)
        result.skipped[drop] += 1
        description = entity.description if config.stubs else None
        classes = ALIAS_SEP.join(parsed.classes) if config.stubs else ""
        row = (n, entity.id, 0, entity.label, parsed.lang_label, description, "", classes)
        rows.items.append((*row, rel, drop, None, None, 0))  # no value skips, no facts
        return
    for reason, detail in parsed.skipped:
        if detail:
            result.events.append(("skip", rel, (reason, detail)))
        else:
            result.skipped[reason] += 1
    facts_at = len(rows.facts) + 1
    rows.facts.extend((facts_at + i, *fact_row(f)) for i, f in enumerate(parsed.facts))
    aliases = ALIAS_SEP.join(entity.aliases)
    skips = json.dumps(parsed.skipped) if parsed.skipped else None
    classes = ALIAS_SEP.join(parsed.classes)
    at = facts_at if parsed.facts else None
    row = (n, entity.id, 1, entity.label, parsed.lang_label, entity.description, aliases, classes)
    rows.items.append((*row, rel, None, skips, at, len(parsed.facts)))
    key = title_key(parsed.title) if parsed.title else None
    rows.entities.append((n, entity.id, entity.label, aliases, key))


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
