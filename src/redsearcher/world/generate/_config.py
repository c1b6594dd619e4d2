"""Knobs of the synthetic World generator."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GeneratorConfig(BaseModel):
    """Configuration of ``generate_world``; the same seed and config give the same World."""

    model_config = ConfigDict(extra="forbid")

    entities: int = Field(default=5_000, ge=50, le=20_000_000)
    """Approximate number of entities (look-alike distractors included)."""
    seed: int = 1
    """Seed of every random choice; the content hash is a function of (seed, config)."""
    docs_per_entity: float = Field(default=1.0, ge=0.0, le=10.0)
    """Scale of the extra documents per entity beyond its main page (news, forum, ...)."""
    dispersion: float = Field(default=0.35, ge=0.0, le=1.0)
    """Chance that a secondary document of a fact's subject also states it. Higher values
    spread facts over more documents (more redundancy, lower minimum source dispersion)."""
    article_coverage: float = Field(default=0.6, ge=0.0, le=1.0)
    """Chance that an entity's main page states a given fact of the entity. Below 1, some
    facts are only found on secondary pages, which is what makes evidence dispersed."""
    object_side: float = Field(default=0.25, ge=0.0, le=1.0)
    """Chance that a page of a fact's object (the city someone was born in) states it."""
    distractor_rate: float = Field(default=0.05, ge=0.0, le=0.5)
    """Share of people, works, organizations, places and papers that get a confusable
    look-alike (similar name, shared attributes, own documents)."""
    noise_rate: float = Field(default=0.15, ge=0.0, le=2.0)
    """Noise documents per entity document: chatter that names entities but states no fact."""
    workers: int = Field(default=0, ge=0, le=64)
    """Processes that write document text; 0 = one per core (at most 4)."""
    batch_rows: int = Field(default=20_000, ge=100)
    """Documents per written batch (bounds memory together with ``workers``)."""
