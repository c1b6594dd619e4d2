"""Streaming filters: which items of a (full) dump become entities of the World.

A full dump holds ~110M items; a World usually wants a slice of them (people and cities, the
items of a list, items notable enough to have sitelinks). Filters are decided per record while
the dump streams, in the worker that parses it, so a dropped item costs one parse and one
small row (its label still names classes and item-valued string facts, see ``_types``).

``keep_class`` needs the ``P279`` closure *before* the items stream, but class items come
anywhere in the dump. Two sources are combined: the ``class_file`` edges and, with
``class_pass`` (the default), a first read of the dumps that parses only the lines holding
``"P279"`` (about 4M of 110M in the full dump) and keeps their subclass edges. The first read
costs one more decompression of the dump but no JSON parse of ordinary items; the class file
alone is the choice when that read is too expensive (a file written from an earlier run or a
SPARQL export).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from redsearcher.errors import InputFormatError
from redsearcher.world.ingest._config import IngestConfig
from redsearcher.world.ingest._io import detect_compression

_QID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """The streaming filters of one ingest, ready for a worker (picklable, immutable).

    ``classes`` is the closure of ``keep_class`` (the classes and all their subclasses),
    ``None`` when classes are not filtered; ``ids`` likewise for the id list.
    """

    classes: frozenset[str] | None = None
    ids: frozenset[str] | None = None
    min_sitelinks: int = 0
    languages: bool = False

    def reason(
        self, eid: str, classes: Iterable[str], sitelinks: int, lang_label: str | None
    ) -> str | None:
        """Why the item ``eid`` is dropped (a skip reason), or None when it is kept."""
        if self.ids is not None and eid not in self.ids:
            return "not_in_id_list"
        if sitelinks < self.min_sitelinks:
            return "too_few_sitelinks"
        if self.classes is not None and not any(c in self.classes for c in classes):
            return "class_not_kept"
        if self.languages and lang_label is None:
            return "no_label_in_languages"
        return None


def read_ids_file(path: Path) -> frozenset[str]:
    """The Q-ids of an id list (one per line; blank lines and ``#`` comments allowed).

    Raises:
        InputFormatError: a missing file or a line that is not a Q-id (with its line).
    """
    detect_compression(path)
    ids: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            if not _QID.match(text):
                raise InputFormatError(
                    path, f"expected one Q-id per line, got {text!r}", line=line_no
                )
            ids.add(text)
    return frozenset(ids)


def subclass_closure(roots: Iterable[str], edges: Iterable[tuple[str, str]]) -> frozenset[str]:
    """``roots`` and every class that reaches one of them through ``P279`` edges."""
    children: dict[str, list[str]] = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)
    seen = set(roots)
    queue = deque(seen)
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return frozenset(seen)


def build_filter(config: IngestConfig, edges: Iterable[tuple[str, str]]) -> ItemFilter:
    """The filter of ``config``; ``edges`` are the subclass edges known before streaming."""
    return ItemFilter(
        classes=subclass_closure(config.keep_class, edges) if config.keep_class else None,
        ids=read_ids_file(config.ids_file) if config.ids_file else None,
        min_sitelinks=config.min_sitelinks,
        languages=config.languages is not None,
    )
