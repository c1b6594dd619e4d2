"""The World: a knowledge graph plus the documents that state its facts, with provenance.

Entities, typed relations and facts; documents; which documents state which facts. Generated
(``redsearcher.world.generate``) or ingested from real dumps (``redsearcher.world.ingest``).
"""

from redsearcher.world._info import HIST_BINS, WorldInfo, world_info
from redsearcher.world._manifest import Completeness, Manifest
from redsearcher.world._records import Document, Entity, Fact, Provenance, RecordedSearch
from redsearcher.world._schema import DOCUMENT_KINDS, SCHEMA_VERSION, TABLES
from redsearcher.world._store import World, WorldWriter
from redsearcher.world._vocab import (
    DISCOVERY_ONLY_PREDICATES,
    PREDICATES,
    SYMMETRIC_PREDICATES,
    TOOL_ONLY_PREDICATES,
)

__all__ = [
    "DISCOVERY_ONLY_PREDICATES",
    "DOCUMENT_KINDS",
    "HIST_BINS",
    "PREDICATES",
    "SCHEMA_VERSION",
    "SYMMETRIC_PREDICATES",
    "TABLES",
    "TOOL_ONLY_PREDICATES",
    "Completeness",
    "Document",
    "Entity",
    "Fact",
    "Manifest",
    "Provenance",
    "RecordedSearch",
    "World",
    "WorldInfo",
    "WorldWriter",
    "world_info",
]
