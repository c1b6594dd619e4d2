"""The on-disk schema of a World: table names, Arrow schemas and the closed vocabularies.

A World is a directory of Parquet tables plus ``manifest.json``. Facts are the single store of
knowledge: a *relation* is a fact whose object is an entity; an *attribute* is a fact whose
object is a typed literal (date, quantity, string or globe coordinate). Provenance links
documents to the facts their text states.
"""

from __future__ import annotations

from typing import Final, Literal

import pyarrow as pa

SCHEMA_VERSION: Final = 1

ValueKind = Literal["entity", "date", "quantity", "string", "coordinate"]
VALUE_KINDS: Final[tuple[str, ...]] = ("entity", "date", "quantity", "string", "coordinate")

#: Document kinds the generator writes and ingest maps to. ``web`` is any recorded page whose
#: kind is unknown; ``snippet`` is a search result recorded without its page; ``database`` is a
#: knowledge-base page rendered from an entity's facts (an item page or infobox, see
#: ``world/ingest/_kb.py``).
DOCUMENT_KINDS: Final[tuple[str, ...]] = (
    "encyclopedia",
    "news",
    "listing",
    "homepage",
    "forum",
    "paper_abstract",
    "web",
    "snippet",
    "database",
)

#: Wikidata's time precisions, reused so ingest stays lossless: 9 = year, 10 = month, 11 = day.
PRECISION_YEAR: Final = 9
PRECISION_MONTH: Final = 10
PRECISION_DAY: Final = 11

ENTITIES = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("description", pa.string()),
        pa.field("aliases", pa.list_(pa.string())),
        # Set on confusable look-alikes: the id of the entity this one was made to resemble.
        pa.field("distractor_of", pa.string()),
    ]
)

FACTS = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("predicate", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("object", pa.string()),
        pa.field("string", pa.string()),
        pa.field("date", pa.string()),
        pa.field("date_precision", pa.int8()),
        pa.field("amount", pa.float64()),
        pa.field("unit", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        # JSON object of qualifiers, e.g. {"point_in_time": "1994"}; null when none.
        pa.field("qualifiers", pa.string()),
    ]
)

DOCUMENTS = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("published", pa.string()),
        pa.field("language", pa.string(), nullable=False),
        pa.field("mentions", pa.list_(pa.string())),
        # The entity the document is about (its encyclopedia article, homepage, ...), if any.
        pa.field("about", pa.string()),
        # Where a recorded or ingested document came from; never shown to agents as is.
        pa.field("source_url", pa.string()),
    ]
)

PROVENANCE = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("fact_id", pa.int64(), nullable=False),
    ]
)

#: Search result lists recorded from a real engine (record-and-replay), kept so a replayed
#: environment can return exactly what the agent once saw for the same query.
RECORDED_SEARCHES = pa.schema(
    [
        pa.field("query", pa.string(), nullable=False),
        pa.field("search_type", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("snippet", pa.string()),
    ]
)

TABLES: Final[dict[str, pa.Schema]] = {
    "entities": ENTITIES,
    "facts": FACTS,
    "documents": DOCUMENTS,
    "provenance": PROVENANCE,
    "recorded_searches": RECORDED_SEARCHES,
}
