"""``IngestConfig``: every knob of an ingest, validated once and stored in the manifest.

The config is built by ``redsearcher.config.load_config(IngestConfig, "ingest", ...)`` (YAML
file < ``REDSEARCHER_INGEST__*`` env vars < CLI flags) and passed down; no ingest module reads
settings from anywhere else. Invalid combinations are rejected here, before any file is opened.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from redsearcher.world._vocab import wikidata_properties

_PROPERTY = re.compile(r"^P[1-9][0-9]*$")
_PREDICATE = re.compile(r"^[a-z][a-z0-9_]*$")
_CLASS = re.compile(r"^Q[1-9][0-9]*$")
_TYPE_WORD = re.compile(r"^[a-z][a-z0-9 _-]*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)*$")

#: Settings of how an ingest runs, not of what it makes (kept out of the manifest).
RUN_ONLY = ("workers", "chunk_bytes", "resume")
#: Streaming filters, recorded in the manifest only when set.
FILTER_DEFAULTS: dict[str, Any] = {
    "keep_class": [],
    "class_pass": True,
    "ids_file": None,
    "min_sitelinks": 0,
    "languages": None,
    "stubs": False,
}

#: The predicate of a hyperlink between two Wikipedia pages (page entity -> linked entity).
LINKS_TO = "links_to"


class IngestConfig(BaseModel):
    """Settings of ``ingest_world`` (the section ``ingest`` of a redsearcher config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str = "en"
    """Language of labels, descriptions, aliases and documents; also picks the Wikipedia
    sitelink (``{language}wiki``) that documents are joined by."""

    properties: list[str] | None = None
    """Wikidata properties to extract. ``None`` (the default) means every property that the
    vocabulary maps (``redsearcher.world._vocab.wikidata_properties()``); properties in
    ``property_map`` are always extracted. A listed property that neither maps is named from
    its English label (the dump's property entity, else the bundled table); one without a
    label is skipped and counted (``unlabelled_property``)."""

    all_properties: bool = False
    """Also extract every other property of the dump, named from its English label, except
    ``P31``/``P279`` (they make types), identifiers, URLs and media (``SKIP_DATATYPES`` and
    the ``no`` rows of ``data/properties.tsv``)."""

    type_map: dict[str, str] = Field(default_factory=dict)
    """Extra ``{"Q123": "type word"}`` rows of the type table (``--type Q123=word``); they
    override the bundled rows, and the type of an entity is its most specific mapped class
    through ``P279``."""

    class_file: Path | None = None
    """A CSV of ``class_id,parent_id`` subclass edges for classes the dump lacks (a sample)."""

    property_map: dict[str, str] = Field(default_factory=dict)
    """Extra ``{"P123": "my_predicate"}`` mappings. They add properties the vocabulary does not
    know (the value kind is taken from the data) or override the vocabulary's mapping of a
    property (a vocabulary predicate name keeps its meaning, e.g. ``inverse``)."""

    require_sitelink: bool = False
    """Keep only entities with a ``{language}wiki`` sitelink (relations to the dropped ones
    become dangling)."""

    keep_deprecated: bool = False
    """Also ingest statements of rank ``deprecated`` (by default they are skipped and counted)."""

    complete_symmetric: bool = True
    """For symmetric predicates (``spouse``, ``twinned_with``) add ``o p s`` when the dump only
    states ``s p o``, so the World keeps its invariant that both directions are stored."""

    links: bool = True
    """Turn Wikipedia hyperlinks between joined pages into ``links_to`` relation facts."""

    provenance: bool = True
    """Compute which documents state which facts (the fact-statement detector, ``_statements``)."""

    kb_pages: bool = True
    """Write a knowledge-base page (kind ``database``: label, description, one line per fact)
    for every entity with a fact, with provenance for each fact it states, so every fact has a
    source an agent can find (real text states few of them). Off for text-only Worlds."""

    complete_dump: bool = False
    """The inputs are a complete Wikidata dump (``--complete-dump``), not a sample of one.
    Recorded as the World's ``completeness`` (``complete``/``sample``): tasks from a sample
    World say that their uniqueness holds within the World only, since the real web may hold
    more entities that satisfy the same constraints."""

    keep_class: list[str] = Field(default_factory=list)
    """Keep only instances (``P31``) of these classes or of their ``P279`` subclasses
    (``--keep-class Q5``); the subclass closure comes from ``class_file`` plus, with
    ``class_pass``, a first read of the dumps. Other items are dropped like ``require_sitelink``
    drops them (``class_not_kept``): their labels still serve, their claims do not."""

    class_pass: bool = True
    """With ``keep_class``: read the dumps once before ingesting, only to collect ``P279``
    edges (lines without ``"P279"`` are not even parsed). Off: ``class_file`` alone."""

    ids_file: Path | None = None
    """Keep only the items listed in this file (one Q-id per line, ``#`` comments)."""

    min_sitelinks: int = Field(default=0, ge=0)
    """Keep only items with at least this many sitelinks (any wiki)."""

    languages: list[str] | None = None
    """Label languages in order of preference (``--languages en,de``): label, aliases and
    description come from the first of them (then ``mul``) that has one, and items with a
    label in none of them are dropped (``no_label_in_languages``). ``None``: ``language``,
    then ``mul``, then any label, and no item is dropped for its labels."""

    stubs: bool = False
    """Keep items that a filter dropped but that a kept item's relation points at, as
    label-only entities (no facts, no aliases), instead of dropping the relation as
    dangling."""

    workers: int = Field(default=1, ge=0)
    """Processes that parse the dumps (0: one per CPU). The World is byte-identical for any
    number: one writer takes the parsed chunks in dump order."""

    chunk_bytes: int = Field(default=8 << 20, ge=1)
    """Dump bytes (decompressed) per chunk: the unit of work of a worker and of ``resume``."""

    resume: bool = False
    """Keep the scratch store in ``.<out>.ingest-resume`` next to the output and commit it after
    every chunk, so that a restarted ingest with the same inputs and settings continues from
    the last committed chunk (and ends byte-identical to an uninterrupted run)."""

    max_problems: int = Field(default=100, ge=0)
    """How many problems (bad records) are kept in the report with file and line."""

    batch_rows: int = Field(default=50_000, ge=1)
    """Rows buffered per table before a Parquet row group is written."""

    scratch_dir: Path | None = None
    """Where the temporary SQLite scratch store lives (it grows with the number of entities
    and facts, never with document text). Default: next to the output World."""

    wikipedia_format: Literal[
        "auto", "jsonl", "parquet", "wikiextractor", "cirrus", "enterprise"
    ] = "auto"
    """The format of the Wikipedia inputs (``--wikipedia-format``): ``auto`` detects it per
    file by content; naming one makes every input read as that format (a file that is not
    fails on its first record). See ``docs/ingest.md``."""

    def source_dict(self) -> dict[str, Any]:
        """The settings as recorded in the manifest: what decides the World's content.

        ``workers``, ``chunk_bytes`` and ``resume`` change how it is computed, never what, and
        the streaming filters are left out while unset, so a World's manifest does not depend
        on them (nor on the version that added them).
        """
        dumped = self.model_dump(mode="json", exclude=set(RUN_ONLY))
        for name, default in FILTER_DEFAULTS.items():
            if dumped.get(name) == default:
                del dumped[name]
        return dumped

    def adding_properties(self, pids: list[str]) -> IngestConfig:
        """This config, extracting ``pids`` too (each named from its label unless mapped).

        Raises:
            ValidationError: for an id that is not ``P123``.
        """
        base = sorted(wikidata_properties()) if self.properties is None else self.properties
        extra = [p for p in dict.fromkeys(pids) if p not in base]
        return IngestConfig.model_validate({**self.model_dump(), "properties": [*base, *extra]})

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError(f"not a Wikimedia language code: {value!r}")
        return value

    @field_validator("properties")
    @classmethod
    def _check_properties(cls, value: list[str] | None) -> list[str] | None:
        for pid in value or ():
            if not _PROPERTY.match(pid):
                raise ValueError(f"not a Wikidata property id: {pid!r} (expected P123)")
        return value

    @field_validator("property_map")
    @classmethod
    def _check_property_map(cls, value: dict[str, str]) -> dict[str, str]:
        for pid, name in value.items():
            if not _PROPERTY.match(pid):
                raise ValueError(f"not a Wikidata property id: {pid!r} (expected P123)")
            if not _PREDICATE.match(name):
                raise ValueError(f"predicate {name!r} for {pid} must be snake_case")
            if name == LINKS_TO:
                raise ValueError(f"{LINKS_TO!r} is reserved for Wikipedia hyperlinks")
        return value

    @field_validator("keep_class")
    @classmethod
    def _check_keep_class(cls, value: list[str]) -> list[str]:
        for cid in value:
            if not _CLASS.match(cid):
                raise ValueError(f"not a Wikidata class id: {cid!r} (expected Q123)")
        return value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("languages must name at least one language")
        for lang in value or ():
            if not _LANGUAGE.match(lang):
                raise ValueError(f"not a Wikimedia language code: {lang!r}")
        return value

    @field_validator("type_map")
    @classmethod
    def _check_type_map(cls, value: dict[str, str]) -> dict[str, str]:
        for cid, word in value.items():
            if not _CLASS.match(cid):
                raise ValueError(f"not a Wikidata class id: {cid!r} (expected Q123)")
            if not _TYPE_WORD.match(word):
                raise ValueError(
                    f"type {word!r} for {cid} must be a lower-case English word or phrase"
                )
        return value


def parse_type_flags(flags: list[str]) -> dict[str, str]:
    """Parse ``--type Q123=word`` flags into a ``type_map``.

    Raises:
        ValueError: for a flag without ``=``.
    """
    out: dict[str, str] = {}
    for flag in flags:
        cid, sep, word = flag.partition("=")
        if not sep or not cid.strip() or not word.strip():
            raise ValueError(f"--type expects Q123=type word, got {flag!r}")
        out[cid.strip()] = word.strip()
    return out


def parse_property_flags(flags: list[str]) -> dict[str, str]:
    """Parse ``--property P123=name`` flags into a ``property_map``.

    Raises:
        ValueError: for a flag without ``=``.
    """
    out: dict[str, str] = {}
    for flag in flags:
        pid, sep, name = flag.partition("=")
        if not sep or not pid.strip() or not name.strip():
            raise ValueError(f"--property expects P123=predicate_name, got {flag!r}")
        out[pid.strip()] = name.strip()
    return out
