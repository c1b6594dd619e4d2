"""``manifest.json``: what a World holds and what produced it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from redsearcher.errors import WorldFormatError
from redsearcher.world._schema import SCHEMA_VERSION

MANIFEST = "manifest.json"

Completeness = Literal["sample", "complete"]
"""Whether a World holds everything about its entities (``complete``) or a slice (``sample``).

Uniqueness proven in a sample World holds only within it: on the real web more entities (and
more incoming edges of the bound ones) may satisfy the same constraints."""


class Manifest(BaseModel):
    """The manifest of a World directory."""

    schema_version: int = SCHEMA_VERSION
    """Version of the table layout (``redsearcher.world._schema``)."""
    redsearcher_version: str
    """The package version that wrote the World."""
    source: dict[str, Any] = Field(default_factory=dict)
    """The generator or ingest configuration that produced the World (kind + settings)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """Rows per table."""
    table_hashes: dict[str, str] = Field(default_factory=dict)
    """Content digest per table (row order and values; independent of Parquet encoding)."""
    content_hash: str = ""
    """The World's content hash: equal for equal rows, whatever wrote them."""
    report: dict[str, Any] = Field(default_factory=dict)
    """Build/ingest report: skipped records by reason, timings, generator statistics."""

    @property
    def completeness(self) -> Completeness:
        """``complete`` or ``sample``: what the World's source recorded.

        An ingest records it in ``source["completeness"]`` (``--complete-dump`` for a full
        dump); an ingest written before that record is a ``sample``, since nothing says it is
        whole. A World derived from another (``source["parent"]``: ``world densify``) records
        its parent's. Everything else (the synthetic generator) is complete by construction:
        the World is the whole universe its tasks are asked about.
        """
        if self.source.get("kind") != "ingest" and "parent" not in self.source:
            return "complete"
        return "complete" if self.source.get("completeness") == "complete" else "sample"

    def write(self, directory: Path) -> None:
        """Write ``manifest.json`` into ``directory``."""
        text = json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False)
        (directory / MANIFEST).write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read and validate ``manifest.json`` of ``directory``."""
        path = directory / MANIFEST
        if not path.is_file():
            raise WorldFormatError(f"{directory}: not a World (no {MANIFEST})")
        try:
            manifest = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as err:
            raise WorldFormatError(f"{path}: invalid manifest: {err}") from err
        if manifest.schema_version != SCHEMA_VERSION:
            raise WorldFormatError(
                f"{path}: schema version {manifest.schema_version} is not supported "
                f"(this redsearcher reads version {SCHEMA_VERSION})"
            )
        return manifest
