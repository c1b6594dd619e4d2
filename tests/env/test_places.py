from __future__ import annotations

import re

import pytest

from redsearcher.env import MODES, LocalEnvironment, build_index, haversine_km
from redsearcher.errors import UserError
from redsearcher.testing import small_world
from redsearcher.world import Entity, Fact, World, WorldWriter


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, LocalEnvironment]:
    root = tmp_path_factory.mktemp("places")
    world = small_world(root / "w", entities=300, seed=1)
    build_index(root / "w", root / "i", progress=False)
    return world, LocalEnvironment.open(root / "i")


def by_predicate(world: World, predicate: str) -> dict[str, Fact]:
    return {f.subject: f for f in world.facts() if f.predicate == predicate}


def test_places_have_exact_coordinates_and_addresses(
    indexed: tuple[World, LocalEnvironment],
) -> None:
    world, env = indexed
    entities = {e.id: e for e in world.entities()}
    coords, address = by_predicate(world, "coordinates"), by_predicate(world, "address")
    located = by_predicate(world, "located_in")
    assert len(coords) >= 20
    seen_ids: set[str] = set()
    for eid, fact in coords.items():
        e = entities[eid]
        hits = env.places(e.label, k=20)
        place = next((p for p in hits if p.entity_id == eid), None)
        assert place is not None, e.label
        assert (place.latitude, place.longitude) == (fact.latitude, fact.longitude)
        if eid in address:
            assert place.address == address[eid].string
        elif e.type == "city":
            country = entities[located[eid].object or ""].label
            assert place.address == f"{e.label}, {country}"
        assert re.fullmatch(r"\d+", place.cid)
        assert re.fullmatch(r"ChIJ[A-Za-z0-9_-]{23}", place.place_id)
        assert eid not in place.cid + place.place_id
        seen_ids.add(place.place_id)
    assert len(seen_ids) == len(coords)


def test_places_search_by_category_and_city(indexed: tuple[World, LocalEnvironment]) -> None:
    world, env = indexed
    category = by_predicate(world, "category")
    museums = {s for s, f in category.items() if f.string == "museum"}
    hits = env.places("museum", k=len(museums))
    assert {p.entity_id for p in hits} == museums
    pick = next(iter(museums))
    place = next(p for p in hits if p.entity_id == pick)
    city = place.address.split(", ")[-1]
    assert pick in {p.entity_id for p in env.places(f"museum {city}", k=3)}
    first, second = env.places("museum", k=1), env.places("museum", k=1, page=2)
    assert [p.entity_id for p in first + second] == [p.entity_id for p in hits[:2]]


def test_place_website_is_its_homepage(indexed: tuple[World, LocalEnvironment]) -> None:
    world, env = indexed
    homepages: dict[str, set[str]] = {}
    for d in world.documents():
        if d.kind == "homepage" and d.about:
            homepages.setdefault(d.about, set()).add(d.id)
    coords = by_predicate(world, "coordinates")
    labels = {e.id: e.label for e in world.entities()}
    checked = 0
    for eid in coords:
        place = next(p for p in env.places(labels[eid], k=20) if p.entity_id == eid)
        if eid in homepages:
            assert place.website is not None
            page = env.visit(place.website)
            assert page is not None and page.doc_id in homepages[eid]
            checked += 1
        else:
            assert place.website is None
    assert checked >= 1


def test_haversine_matches_a_known_distance() -> None:
    london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    assert haversine_km(london, paris) == pytest.approx(343.5, abs=1.0)
    assert haversine_km(london, london) == 0.0


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> LocalEnvironment:
    root = tmp_path_factory.mktemp("atlas")
    with WorldWriter(root / "w", source={"kind": "fixture"}) as w:
        w.add_entities(
            [
                Entity("E1", "Harwick", "city", aliases=("Old Harwick",)),
                Entity("E2", "Caldora", "country"),
                Entity("E3", "Brenmouth", "city"),
                Entity("E4", "Harwick", "place"),  # a same-name restaurant: the city wins
                Entity("E5", "Brenmouth Museum of Glass", "place"),
            ]
        )
        w.add_facts(
            [
                Fact.coordinate(1, "E1", "coordinates", 51.2, 4.4),
                Fact.coordinate(2, "E3", "coordinates", 50.0, 5.0),
                Fact.coordinate(3, "E4", "coordinates", 10.0, 10.0),
                Fact.coordinate(4, "E5", "coordinates", 50.01, 5.02),
                Fact.relation(5, "E1", "located_in", "E2"),
                Fact.relation(6, "E3", "located_in", "E2"),
                Fact.relation(7, "E5", "located_in", "E3"),
                Fact.string_value(8, "E5", "category", "museum"),
            ]
        )
    build_index(root / "w", root / "i", progress=False)
    return LocalEnvironment.open(root / "i")


def test_routes_are_deterministic_symmetric_and_follow_the_model(atlas: LocalEnvironment) -> None:
    there = atlas.route("Harwick", "Brenmouth")
    assert there is not None and there == atlas.route("Harwick", "Brenmouth")
    back = atlas.route("Brenmouth", "Harwick")
    assert back is not None and back.distance_km == there.distance_km
    assert there.origin_coordinates == (51.2, 4.4)  # the city, not the same-name place
    great_circle = haversine_km((51.2, 4.4), (50.0, 5.0))
    assert there.distance_km == pytest.approx(great_circle * MODES["driving"].detour, abs=1e-3)
    assert there.duration_min == pytest.approx(there.distance_km / 80 * 60, abs=0.1)
    walk = atlas.route("Harwick", "Brenmouth", mode="walk")
    assert walk is not None and walk.mode == "walking" and walk.duration_min > there.duration_min
    by_alias = atlas.route("old harwick", "Brenmouth Museum of Glass")
    assert by_alias is not None and by_alias.origin == "Harwick"
    assert by_alias.destination_coordinates == (50.01, 5.02)
    fuzzy = atlas.route("glass museum", "51.2, 4.4")
    assert fuzzy is not None and fuzzy.origin == "Brenmouth Museum of Glass"
    assert fuzzy.destination_coordinates == (51.2, 4.4)


def test_unknown_places_give_none_and_unknown_modes_fail(atlas: LocalEnvironment) -> None:
    assert atlas.route("Atlantis", "Harwick") is None
    assert atlas.route("Harwick", "Xqzzy Plorb") is None
    with pytest.raises(UserError, match="travel mode"):
        atlas.route("Harwick", "Brenmouth", mode="teleport")


def test_places_without_an_address_fact_get_city_country(atlas: LocalEnvironment) -> None:
    museum = atlas.places("glass")[0]
    assert (museum.title, museum.address, museum.category) == (
        "Brenmouth Museum of Glass",
        "Brenmouth, Caldora",
        "museum",
    )
    city = next(p for p in atlas.places("Harwick") if p.entity_id == "E1")
    assert (city.address, city.category) == ("Harwick, Caldora", "city")
