"""Ingest real data into a World: Wikidata dumps, Wikipedia text and recorded search sessions.

``ingest_world`` streams the inputs into a ``WorldWriter``; ``export_dump`` writes a World back
as a Wikidata dump plus Wikipedia JSONL (for round-trip tests and ingest benchmarks). The
mapping rules, the fact-statement detection rule (provenance) and the accepted file shapes are
described in the private modules' docstrings and in ``docs/ingest.md``.
"""

from redsearcher.world.ingest._config import (
    LINKS_TO,
    IngestConfig,
    parse_property_flags,
    parse_type_flags,
)
from redsearcher.world.ingest._export import ExportedDump, export_dump
from redsearcher.world.ingest._pipeline import ingest_world
from redsearcher.world.ingest._replay import kind_for_url, url_doc_id
from redsearcher.world.ingest._report import IngestReport, summary_table
from redsearcher.world.ingest._wikipedia import wiki_doc_id

__all__ = [
    "LINKS_TO",
    "ExportedDump",
    "IngestConfig",
    "IngestReport",
    "export_dump",
    "ingest_world",
    "kind_for_url",
    "parse_property_flags",
    "parse_type_flags",
    "summary_table",
    "url_doc_id",
    "wiki_doc_id",
]
