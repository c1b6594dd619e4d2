"""Statement ranks and time-varying values at ingest.

``tests/fixtures/ingest/ranks.json`` is hand-written in the real dump layout (the shared real
sample has every rank ``normal`` and no qualifiers): a city whose current population is
preferred over an older normal one and a deprecated one, a country with three dated
populations and two dated heads of government, a city with three undated populations (the
57 undated populations of Monaco in the real sample) and a city with one population.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ingest_helpers import value

from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig


@pytest.fixture
def ranks(fixtures: Path) -> Path:
    return fixtures / "ranks.json"


def _values(world: World, subject: str, predicate: str) -> list[object]:
    return [value(f) for f in world.facts() if f.subject == subject and f.predicate == predicate]


def test_preferred_rank_wins_and_deprecated_never(
    ingest: Callable[..., World], ranks: Path
) -> None:
    world = ingest(wikidata=ranks, config=IngestConfig(all_properties=True, kb_pages=False))
    assert _values(world, "Q9001", "population") == [(38000.0, None)]
    # a property named from its label at the end of the dump follows the same rule
    assert _values(world, "Q9001", "head_of_government") == ["Q9012"]
    # without a preferred statement every normal one stays, in dump order
    assert _values(world, "Q9003", "population") == [(1200.0, None), (1000.0, None), (1100.0, None)]
    assert _values(world, "Q9002", "head_of_government") == ["Q9011", "Q9012"]
    assert world.manifest.report["skipped"] == {"deprecated_rank": 1, "normal_rank_superseded": 2}


def test_keep_deprecated_still_lets_preferred_win(
    ingest: Callable[..., World], ranks: Path
) -> None:
    world = ingest(wikidata=ranks, config=IngestConfig(keep_deprecated=True, kb_pages=False))
    assert _values(world, "Q9001", "population") == [(38000.0, None), (35000.0, None)]
    assert world.manifest.report["skipped"] == {"normal_rank_superseded": 1}


def test_pages_order_time_varying_values_and_mark_undated_ones(
    ingest: Callable[..., World], ranks: Path
) -> None:
    world = ingest(wikidata=ranks, config=IngestConfig(all_properties=True))
    pages = {d.about: d.text for d in world.documents() if d.kind == "database"}
    assert pages["Q9002"].splitlines()[3:] == [
        "Population: 1,900,000 (point in time: 2000)",
        "Population: 2,000,000 (point in time: 2010)",
        "Population: 2,100,000 (point in time: 2020)",
        "Head of government: Ada Firstleader (start time: 2001; end time: 2010)",
        "Head of government: Bo Secondleader (start time: 2010)",
    ]
    assert pages["Q9003"].splitlines()[3:] == [
        "Population: 1,000 (no date)",
        "Population: 1,100 (no date)",
        "Population: 1,200 (no date)",
        "Head of government: Ada Firstleader",
        "Head of government: Bo Secondleader",
    ]
    assert pages["Q9004"].splitlines()[3:] == ["Population: 500"]
    # the pages still state every value they print (provenance follows the text)
    stated = {(p.doc_id, p.fact_id) for p in world.provenance()}
    q9003 = {f.id for f in world.facts() if f.subject == "Q9003"}
    assert len(q9003) == 5
    assert {fid for doc, fid in stated if doc == pages_id(world, "Q9003")} == q9003


def pages_id(world: World, about: str) -> str:
    return next(d.id for d in world.documents() if d.kind == "database" and d.about == about)
