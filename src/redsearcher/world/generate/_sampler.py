"""Shared state of the knowledge-graph sampler: entity blocks, labels, seeded streams.

Sampling the knowledge graph of a synthetic World happens one whole entity type at a time.

Why vectorized: a 10M-document World has millions of entities; sampling each relation as one
numpy operation over a type's whole block keeps generation to seconds and the graph to compact
arrays. Every component draws from its own seeded stream, so changing one part of the sampler
does not reshuffle the others. Relations are drawn from small, skewed pools (a few hub cities,
prolific directors) so that shared neighbours, and hence cycles, occur naturally; a few cycles
are also planted on purpose (a director casting their own child or spouse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from redsearcher.world._vocab import ENTITY_TYPES
from redsearcher.world.generate._config import GeneratorConfig
from redsearcher.world.generate._facts import FactBuilder, FactColumns

TYPE_NAMES: list[str] = list(ENTITY_TYPES)
_SHARE = {
    "person": 0.42,
    "country": 0.003,
    "city": 0.04,
    "place": 0.07,
    "university": 0.015,
    "organization": 0.05,
    "record_label": 0.01,
    "venue": 0.01,
    "award": 0.01,
    "event": 0.03,
    "film": 0.08,
    "album": 0.06,
    "book": 0.06,
    "paper": 0.10,
}
_MIN = {"country": 4, "city": 12}
_TWINNED = ("person", "place", "organization", "film", "album", "book", "paper")
OCCUPATIONS = (
    "actor",
    "film director",
    "screenwriter",
    "musician",
    "record producer",
    "writer",
    "researcher",
    "entrepreneur",
    "politician",
    "athlete",
    "architect",
    "chef",
)
_OCC_P = np.array([15, 6, 4, 14, 3, 12, 20, 8, 6, 6, 3, 3], dtype=float)
FILM_GENRES = ("drama", "comedy", "thriller", "documentary", "science fiction", "western")
MUSIC_GENRES = ("jazz", "folk", "synth-pop", "post-rock", "soul", "chamber pop")
BOOK_GENRES = ("novel", "short story collection", "memoir", "poetry collection", "essay")
INDUSTRIES = ("shipping", "software", "textiles", "food processing", "optics", "energy")
EVENTS = (
    "Jazz Festival",
    "Film Festival",
    "Chess Championship",
    "Trade Summit",
    "Design Exhibition",
    "Regatta",
)


@dataclass
class Graph:
    """A sampled knowledge graph: entity columns plus all facts."""

    etype: np.ndarray
    labels: list[str]
    descriptions: list[str]
    aliases: list[tuple[str, ...]]
    twin_of: np.ndarray
    facts: FactColumns
    start: dict[str, int] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)
    year: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __len__(self) -> int:
        return len(self.labels)


def _counts(cfg: GeneratorConfig) -> tuple[dict[str, int], dict[str, int]]:
    total = sum(_SHARE.values())
    twin_share = cfg.distractor_rate * sum(_SHARE[t] for t in _TWINNED) / total
    base_n = cfg.entities / (1 + twin_share)
    base = {t: max(_MIN.get(t, 3), round(base_n * s / total)) for t, s in _SHARE.items()}
    twins = {t: round(base[t] * cfg.distractor_rate) if t in _TWINNED else 0 for t in base}
    return base, twins


def skewed(rng: np.random.Generator, pool: np.ndarray, n: int, skew: float) -> np.ndarray:
    """``n`` picks from ``pool`` with a power-law preference for its (shuffled) first items."""
    if len(pool) == 0:
        return np.full(n, -1, dtype=np.int64)
    shuffled = np.random.default_rng(len(pool)).permutation(pool)
    idx = (len(pool) * rng.random(n) ** skew).astype(np.int64)
    return shuffled[np.minimum(idx, len(pool) - 1)]


class Sampler:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.base, self.twins = _counts(cfg)
        self.start: dict[str, int] = {}
        offset = 0
        for t in TYPE_NAMES:
            self.start[t] = offset
            offset += self.base[t] + self.twins[t]
        self.n = offset
        self.labels = [""] * self.n
        self.desc = [""] * self.n
        self.aliases: list[tuple[str, ...]] = [()] * self.n
        self.twin_of = np.full(self.n, -1, dtype=np.int64)
        self.etype = np.zeros(self.n, dtype=np.int8)
        self.year = np.zeros(self.n, dtype=np.int64)  # birth / founding / release year
        self.f = FactBuilder()
        for code, t in enumerate(TYPE_NAMES):
            self.etype[self.ids(t)] = code

    def rng(self, component: str) -> np.random.Generator:
        return np.random.default_rng([self.cfg.seed, *component.encode()])

    def ids(self, t: str) -> np.ndarray:
        return np.arange(self.start[t], self.start[t] + self.base[t] + self.twins[t])

    def pick_twins(self, t: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(twin ids, their base ids); bases are distinct."""
        k = self.twins[t]
        twins = np.arange(self.start[t] + self.base[t], self.start[t] + self.base[t] + k)
        bases = self.start[t] + rng.choice(self.base[t], size=k, replace=False)
        self.twin_of[twins] = bases
        return twins, bases

    def set_labels(self, ids: np.ndarray, labels: list[str], desc: list[str]) -> None:
        for i, lab, d in zip(ids.tolist(), labels, desc, strict=True):
            self.labels[i] = lab
            self.desc[i] = d

    # filled by the geography step, read by later steps
    city_country: np.ndarray
    city_lat: np.ndarray
    city_lon: np.ndarray
