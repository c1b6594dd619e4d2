"""Sampling the knowledge graph of a synthetic World, one whole entity type at a time.

Why vectorized: a 10M-document World has millions of entities; sampling each relation as one
numpy operation over a type's whole block keeps generation to seconds and the graph to compact
arrays. Every component draws from its own seeded stream, so changing one part of the sampler
does not reshuffle the others. Relations are drawn from small, skewed pools (a few hub cities,
prolific directors) so that shared neighbours, and hence cycles, occur naturally; a few cycles
are also planted on purpose (a director casting their own child or spouse).
"""

from __future__ import annotations

from redsearcher.world.generate._config import GeneratorConfig
from redsearcher.world.generate._geo import sample_geo
from redsearcher.world.generate._people import sample_people
from redsearcher.world.generate._sampler import TYPE_NAMES, Graph, Sampler
from redsearcher.world.generate._works import sample_organizations, sample_scholarly, sample_works


def sample_graph(cfg: GeneratorConfig) -> Graph:
    """Sample the whole knowledge graph for ``cfg``."""
    s = Sampler(cfg)
    sample_geo(s)
    people = sample_people(s)
    sample_organizations(s, people)
    sample_works(s, people)
    sample_scholarly(s, people)
    return Graph(
        etype=s.etype,
        labels=s.labels,
        descriptions=s.desc,
        aliases=s.aliases,
        twin_of=s.twin_of,
        facts=s.f.build(),
        start=s.start,
        count={t: s.base[t] + s.twins[t] for t in TYPE_NAMES},
        year=s.year,
    )
