"""The World: a knowledge graph (entities, typed relations, facts) plus the documents that
state its facts, with provenance. Generated (``generate_world``) or ingested from real dumps.
"""

from redsearcher.world._manifest import Manifest
from redsearcher.world._records import Document, Entity, Fact, Provenance, RecordedSearch
from redsearcher.world._schema import DOCUMENT_KINDS, SCHEMA_VERSION, TABLES
from redsearcher.world._store import World, WorldWriter

__all__ = [
    "DOCUMENT_KINDS",
    "SCHEMA_VERSION",
    "TABLES",
    "Document",
    "Entity",
    "Fact",
    "Manifest",
    "Provenance",
    "RecordedSearch",
    "World",
    "WorldWriter",
]
