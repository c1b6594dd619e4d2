"""Places search and routing (the Serper ``/maps`` twin's backend, plus a route endpoint).

A place is any entity with a ``coordinates`` fact: points of interest, cities, countries,
universities. Its record comes from facts: coordinates exactly as stated, the ``address`` fact
or else "City, Country" from ``located_in``, ``category`` (else the entity type), ``rating`` and
``rating_count``; ``website`` is the URL of the entity's homepage document when it has one.
``cid`` and ``place_id`` look like Google's (a decimal 64-bit number; ``ChIJ`` + 23 base64url
characters) and are keyed hashes of (World content hash, entity id): stable, and they reveal
neither the id nor anything else.

Routing has no road network, so it is a documented model: the great-circle (haversine)
distance times a per-mode detour factor, and a duration from a per-mode average speed plus a
fixed overhead (``MODES``). Everything is a pure function of the two coordinates, so a route is
deterministic and its distance symmetric.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from redsearcher.env._config import IndexConfig
from redsearcher.env._index import FieldIndex
from redsearcher.env._scholar import column_by_id, facts_of
from redsearcher.env._travel import MODES, haversine_km, travel_mode
from redsearcher.env._types import Place, Route
from redsearcher.env._urls import key_hash
from redsearcher.world import World

PLACES_FILE: Final = "places.arrow"
PLACES_INDEX: Final = "places"
BOOSTS: Final = {"name": 3.0, "category": 2.0, "address": 1.0, "area": 1.0}
#: When several places share a name, routing prefers the more general kind of place.
TYPE_PRIORITY: Final = {"city": 0, "country": 1, "place": 2, "university": 3}


PLACE_SCHEMA: Final = pa.schema(
    [
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("aliases", pa.list_(pa.string())),
        pa.field("address", pa.string(), nullable=False),
        pa.field("area", pa.string(), nullable=False),
        pa.field("latitude", pa.float64(), nullable=False),
        pa.field("longitude", pa.float64(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        pa.field("rating", pa.float64()),
        pa.field("rating_count", pa.int64()),
        pa.field("cid", pa.string(), nullable=False),
        pa.field("place_id", pa.string(), nullable=False),
        pa.field("website", pa.string()),
    ]
)
_LATLON = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*,\s*([+-]?\d+(?:\.\d+)?)\s*$")


def place_ids(content_hash: str, entity_id: str) -> tuple[str, str]:
    """A Google-like ``(cid, place_id)`` pair, keyed by the World's content hash."""
    cid = str(key_hash(f"{content_hash}\x00cid\x00{entity_id}"))
    digest = hashlib.blake2b(f"{content_hash}\x00pid\x00{entity_id}".encode(), digest_size=18)
    return cid, "ChIJ" + base64.urlsafe_b64encode(digest.digest()).decode()[:23]


def build_places(
    out: Path,
    world: World,
    entities: pa.Table,
    homepage_urls: dict[str, str],
    config: IndexConfig,
) -> int:
    """Write ``places.arrow`` and the places index into ``out``; returns the place count."""
    facts = facts_of(world, ["coordinates", "address", "category", "rating", "rating_count"])
    located = facts_of(world, ["located_in"])
    where: dict[str, str] = {}
    subjects, objects = located.column("subject"), located.column("object")
    for s, o in zip(subjects.to_pylist(), objects.to_pylist(), strict=True):
        where.setdefault(s, o)
    attrs: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in facts.to_pylist():
        value: Any = {
            "coordinates": (r["latitude"], r["longitude"]),
            "address": r["string"],
            "category": r["string"],
            "rating": r["amount"],
            "rating_count": None if r["amount"] is None else int(r["amount"]),
        }[r["predicate"]]
        attrs[r["subject"]].setdefault(r["predicate"], value)
    ids = [i for i, a in attrs.items() if a.get("coordinates") and None not in a["coordinates"]]
    order = pc.index_in(pa.array(ids, pa.string()), value_set=entities.column("id")).to_pylist()
    ids = [i for _, i in sorted(zip(order, ids, strict=True), key=lambda p: (p[0] is None, p))]
    labels = column_by_id(entities, ids, "label")
    types = column_by_id(entities, ids, "type")
    aliases = column_by_id(entities, ids, "aliases")
    parents = [where.get(i) for i in ids]
    grand = [where.get(p) if p else None for p in parents]
    parent_labels = column_by_id(entities, parents, "label")
    grand_labels = column_by_id(entities, grand, "label")
    rows: list[dict[str, Any]] = []
    for n, i in enumerate(ids):
        a = attrs[i]
        # A city's area is "City, Country"; a place's is its city's (or just its country).
        parts = (labels[n], parent_labels[n]) if types[n] == "city" else (parent_labels[n],)
        area = ", ".join(x for x in (*parts, grand_labels[n] if types[n] != "city" else None) if x)
        cid, pid = place_ids(world.content_hash, i)
        rows.append(
            {
                "entity_id": i,
                "title": labels[n] or i,
                "type": types[n] or "place",
                "aliases": aliases[n] or [],
                "address": a.get("address") or area or (labels[n] or ""),
                "area": area,
                "latitude": a["coordinates"][0],
                "longitude": a["coordinates"][1],
                "category": a.get("category") or (types[n] or "place").replace("_", " "),
                "rating": a.get("rating"),
                "rating_count": a.get("rating_count"),
                "cid": cid,
                "place_id": pid,
                "website": homepage_urls.get(i),
            }
        )
    table = pa.Table.from_pylist(rows, schema=PLACE_SCHEMA)
    with pa.ipc.new_file(str(out / PLACES_FILE), PLACE_SCHEMA) as writer:
        writer.write_table(table)

    def records() -> Iterator[dict[str, str]]:
        for r in rows:
            names = " ; ".join([r["title"], *r["aliases"]])
            yield {"name": names, "category": r["category"], "address": r["address"]} | {
                "area": r["area"]
            }

    FieldIndex.build(out / PLACES_INDEX, records(), BOOSTS, config)
    return int(table.num_rows)


class PlacesIndex:
    """Search places and resolve names for routing.

    Args:
        directory: The index directory.
        config: The index's config.
    """

    def __init__(self, directory: Path, config: IndexConfig) -> None:
        self._mmap = pa.memory_map(str(directory / PLACES_FILE), "r")
        self._table = pa.ipc.open_file(self._mmap).read_all()
        self._index = FieldIndex(directory / PLACES_INDEX, BOOSTS, config)
        types = self._table.column("type").to_pylist()
        counts = self._table.column("rating_count").to_pylist()
        labels: dict[str, list[int]] = defaultdict(list)
        aliases: dict[str, list[int]] = defaultdict(list)
        for row, (label, alias_list) in enumerate(
            zip(
                self._table.column("title").to_pylist(),
                self._table.column("aliases").to_pylist(),
                strict=True,
            )
        ):
            labels[label.casefold()].append(row)
            for alias in alias_list or ():
                aliases[alias.casefold()].append(row)

        def best(rows: list[int]) -> int:
            return min(rows, key=lambda r: (TYPE_PRIORITY.get(types[r], 9), -(counts[r] or 0), r))

        self._by_label = {k: best(v) for k, v in labels.items()}
        self._by_alias = {k: best(v) for k, v in aliases.items()}

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def place(self, row: int) -> Place:
        """The record at ``row``."""
        r = self._table.slice(row, 1).to_pylist()[0]
        return Place(
            entity_id=r["entity_id"],
            title=r["title"],
            address=r["address"],
            latitude=r["latitude"],
            longitude=r["longitude"],
            category=r["category"],
            cid=r["cid"],
            place_id=r["place_id"],
            rating=r["rating"],
            rating_count=r["rating_count"],
            website=r["website"],
        )

    def search(self, query: str, k: int, offset: int) -> list[Place]:
        """Ranked places for ``query`` (name, category, address, city or country)."""
        return [self.place(row) for row, _ in self._index.search(query, k, offset)]

    def resolve(self, name: str) -> tuple[str, tuple[float, float]] | None:
        """A name's ``(title, (lat, lon))``: "lat, lon", exact label, alias, or best hit."""
        m = _LATLON.match(name)
        if m:
            lat, lon = float(m.group(1)), float(m.group(2))
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return name.strip(), (lat, lon)
        key = name.strip().casefold()
        row = self._by_label.get(key, self._by_alias.get(key))
        if row is None:
            hits = self._index.search(name, 1)
            if not hits:
                return None
            row = hits[0][0]
        p = self.place(row)
        return p.title, (p.latitude, p.longitude)

    def route(self, origin: str, destination: str, mode: str = "driving") -> Route | None:
        """Distance and duration between two names; None when either is unresolved."""
        name = travel_mode(mode)
        a, b = self.resolve(origin), self.resolve(destination)
        if a is None or b is None:
            return None
        spec = MODES[name]
        km = haversine_km(a[1], b[1]) * spec.detour
        minutes = km / spec.speed_kmh * 60 + (spec.overhead_min if km > 0 else 0.0)
        return Route(
            origin=a[0],
            destination=b[0],
            mode=name,
            distance_km=round(km, 3),
            duration_min=round(minutes, 1),
            origin_coordinates=a[1],
            destination_coordinates=b[1],
        )

    def close(self) -> None:
        """Release the memory map."""
        self._table = pa.table({})
        self._mmap.close()
