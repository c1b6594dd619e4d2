"""Knobs of the local search index (``redsearcher env index``).

The config is recorded in the index manifest, and the parts that change what a query returns
(analysis, boosts, snippet width) are read back from there when the index is opened, so a
server always searches an index the way it was built.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class IndexConfig(BaseModel):
    """Configuration of ``build_index``; section ``env`` of the layered config."""

    model_config = ConfigDict(extra="forbid")

    writer_heap_mb: int = Field(default=256, ge=16, le=32_768)
    """Memory budget of the tantivy index writer in MiB, shared by its threads (at least
    15 MiB per thread). Bounds the build's memory together with ``batch_rows``."""
    num_threads: int = Field(default=0, ge=0, le=256)
    """Indexing threads of the tantivy writer; 0 = one per core."""
    batch_rows: int = Field(default=8_192, ge=64, le=1_000_000)
    """Documents read from the World and written to the document store per batch."""
    title_boost: float = Field(default=2.0, ge=0.0, le=100.0)
    """Weight of a title match relative to a body-text match in the BM25 sum."""
    phrase_boost: float = Field(default=1.5, ge=0.0, le=100.0)
    """Extra weight of a quoted phrase found verbatim. Quoted phrases only boost, they never
    filter, so a paraphrase in quotes still returns its best term matches."""
    stemmer_language: str = "english"
    """Snowball stemmer of the Latin-script fields (any language tantivy supports)."""
    stop_words: bool = True
    """Drop the stemmer language's stop words when indexing and querying. They carry little
    signal and dominate posting-list lengths: queries are several times faster without them."""
    cjk_languages: list[str] = Field(default_factory=lambda: ["zh", "ja", "ko"])
    """Document languages (or their prefixes, ``zh`` matches ``zh-Hans``) whose text is also
    indexed as overlapping character bigrams, the way CJK search engines segment text."""
    snippet_chars: int = Field(default=160, ge=40, le=2_000)
    """Width of a search result's snippet: the best-matching window of the text."""
    dense: bool = False
    """Also embed every document (all-MiniLM-L6-v2) into a faiss index and fuse its ranking
    with BM25 by reciprocal rank fusion. Needs ``pip install 'redsearcher[dense]'``."""
    dense_batch_size: int = Field(default=256, ge=1, le=65_536)
    """Documents per embedding batch when ``dense`` is on."""
    rrf_k: int = Field(default=60, ge=1, le=10_000)
    """The constant ``k`` of reciprocal rank fusion, ``score = sum 1 / (k + rank)``."""
    dense_candidates: int = Field(default=100, ge=1, le=10_000)
    """Hits taken from each retriever before fusion when ``dense`` is on."""
