"""Seeds and expansion lean on facts a text page states, in Worlds with knowledge-base pages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from redsearcher.synth._graph import TEXT_FIRST, pick_seed, text_seeds, text_stated


@dataclass
class _KG:
    """The two provenance look-ups ``text_stated`` reads, over fact rows."""

    stated: dict[int, list[str]]
    database_docs: frozenset[str] = field(default_factory=frozenset)
    sparse_provenance: bool = False

    def stated_by(self, fact_row: int) -> list[str]:
        return self.stated.get(fact_row, [])


def test_text_stated_ignores_knowledge_base_pages() -> None:
    kg = _KG({0: ["kb:Q1"], 1: ["kb:Q1", "wiki:abc"], 2: []}, frozenset({"kb:Q1"}))
    assert [text_stated(kg, r) for r in range(3)] == [False, True, False]  # type: ignore[arg-type]


def test_no_preference_without_knowledge_base_pages() -> None:
    kg = _KG({0: ["wiki:abc"]})
    assert len(text_seeds(kg, np.array([0, 1], np.int64))) == 0  # type: ignore[arg-type]


def test_pick_seed_prefers_the_preferred_about_text_first_of_the_time() -> None:
    pool = np.arange(1000, dtype=np.int64)
    preferred = np.array([7], np.int64)
    rng = np.random.default_rng(0)
    picks = [pick_seed(pool, rng, preferred) for _ in range(2000)]
    share = sum(p == 7 for p in picks) / len(picks)
    assert abs(share - TEXT_FIRST) < 0.05
    # an empty preference draws uniformly and consumes the generator exactly as before
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert [pick_seed(pool, a, np.array([], np.int64)) for _ in range(5)] == [
        pick_seed(pool, b) for _ in range(5)
    ]
