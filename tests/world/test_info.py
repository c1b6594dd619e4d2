from __future__ import annotations

from redsearcher.world import World
from redsearcher.world._info import world_info


def test_info_on_tiny_world(tiny: World) -> None:
    info = world_info(tiny)
    assert info.entity_types == {"person": 4, "film": 1, "city": 1, "country": 1, "organization": 1}
    assert info.distractor_entities == 1
    assert info.document_kinds["encyclopedia"] == 4
    # 13 facts: the coordinate is stated nowhere, every other fact by exactly one document.
    assert info.docs_per_fact == {"0": 1, "1": 12, "2": 0, "3": 0, "4": 0, "5+": 0}
    assert info.docs_per_fact_text["0"] == 0
    assert info.share_stated_2plus == 0.0
    # 8 relations; E4 (the film) has out-degree 4; E5 (Harwick) and E2 have in-degree 2.
    assert info.relations == 8
    assert info.out_degree.max == 4
    assert info.in_degree.max == 2
    assert info.predicates["cast_member"] == 2
