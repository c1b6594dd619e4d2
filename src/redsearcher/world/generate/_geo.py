"""Countries, cities and points of interest: coordinates, populations, addresses."""

from __future__ import annotations

import numpy as np

from redsearcher.world.generate import _names as nm
from redsearcher.world.generate._facts import iso_dates
from redsearcher.world.generate._sampler import Sampler, skewed


def sample_geo(s: Sampler) -> None:
    rng = s.rng("geo")
    countries, cities, places = s.ids("country"), s.ids("city"), s.ids("place")
    k = len(countries)
    c_lab = nm.country_names(rng, k)
    s.set_labels(countries, c_lab, ["country"] * k)
    for i, lab in zip(countries.tolist(), c_lab, strict=True):
        s.aliases[i] = (f"Republic of {lab}",)
    c_lat, c_lon = rng.uniform(-45, 62, k), rng.uniform(-160, 170, k)
    # Cities: the first k cover every country once, the rest are skewed towards a few.
    city_country = np.concatenate([countries, skewed(rng, countries, len(cities) - k, 1.3)])
    ci = city_country - s.start["country"]
    lat = np.clip(c_lat[ci] + rng.normal(0, 2.0, len(cities)), -70, 75)
    lon = ((c_lon[ci] + rng.normal(0, 2.5, len(cities)) + 180) % 360) - 180
    pop = np.round(10 ** rng.uniform(3.7, 6.9, len(cities)))
    names = nm.place_names(rng, len(cities))
    s.set_labels(cities, names, [f"city in {s.labels[c]}" for c in city_country.tolist()])
    s.city_country = city_country
    s.city_lat, s.city_lon = lat, lon
    s.f.relation("located_in", cities, city_country)
    s.f.quantity("population", cities, pop)
    s.f.coordinates("coordinates", cities, lat, lon)
    founded = rng.random(len(cities)) < 0.5
    years = rng.integers(700, 1900, len(cities))
    text, prec = iso_dates(rng, years[founded], 0.0)
    s.f.dates("inception", cities[founded], text, prec)
    twin_a = cities[rng.random(len(cities)) < 0.08]
    twin_b = rng.permutation(cities)[: len(twin_a)]
    ok = (twin_a != twin_b) & (city_country[twin_a - cities[0]] != city_country[twin_b - cities[0]])
    s.f.relation(
        "twinned_with",
        np.concatenate([twin_a[ok], twin_b[ok]]),
        np.concatenate([twin_b[ok], twin_a[ok]]),
    )
    # Countries: capital = most populous city; population exceeds the sum of its cities.
    order = np.lexsort((-pop, ci))
    first = np.unique(ci[order], return_index=True)[1]
    s.f.relation("capital", countries, cities[order[first]])
    c_pop = np.bincount(ci, weights=pop, minlength=k) * rng.uniform(1.5, 4.0, k)
    s.f.quantity("population", countries, np.round(c_pop))
    s.f.coordinates("coordinates", countries, c_lat, c_lon)
    s.f.strings(
        "official_language", countries, [lab[: max(3, len(lab) - 3)] + "ic" for lab in c_lab]
    )
    # Places (points of interest): near their city.
    n = len(places)
    pc = skewed(rng, cities, n, 1.5)
    cat = rng.integers(0, len(nm.PLACE_KINDS), n)
    first_names, surnames = nm.person_names(rng, n)
    labels = [
        _place_label(nm.PLACE_KINDS[c], f, sn, s.labels[city])
        for c, f, sn, city in zip(cat.tolist(), first_names, surnames, pc.tolist(), strict=True)
    ]
    twins, bases = s.pick_twins("place", rng)  # same name, another city
    for t, b in zip(twins.tolist(), bases.tolist(), strict=True):
        labels[t - places[0]] = labels[b - places[0]]
        cat[t - places[0]] = cat[b - places[0]]
    s.set_labels(
        places,
        labels,
        [
            f"{nm.PLACE_KINDS[c]} in {s.labels[city]}"
            for c, city in zip(cat.tolist(), pc.tolist(), strict=True)
        ],
    )
    s.f.relation("located_in", places, pc)
    p_lat = s.city_lat[pc - cities[0]] + rng.normal(0, 0.03, n)
    p_lon = s.city_lon[pc - cities[0]] + rng.normal(0, 0.03, n)
    s.f.coordinates("coordinates", places, p_lat, p_lon)
    street = nm.pick(rng, nm.SURNAMES, n)
    suffix = nm.pick(rng, nm.STREET_SUFFIX, n)
    num = rng.integers(1, 240, n)
    s.f.strings(
        "address",
        places,
        [
            f"{a} {b} {c}, {s.labels[city]}"
            for a, b, c, city in zip(num.tolist(), street, suffix, pc.tolist(), strict=True)
        ],
    )
    s.f.strings("category", places, [nm.PLACE_KINDS[c] for c in cat.tolist()])
    s.f.quantity("rating", places, np.round(rng.uniform(2.5, 5.0, n), 1))
    s.f.quantity("rating_count", places, np.floor(rng.lognormal(4.5, 1.2, n)) + 3)
    old = rng.random(n) < 0.5
    text, prec = iso_dates(rng, rng.integers(1200, 2015, int(old.sum())), 0.0)
    s.f.dates("inception", places[old], text, prec)


def _place_label(kind: str, first: str, surname: str, city: str) -> str:
    return {
        "museum": f"{city} Museum of Art",
        "restaurant": f"{surname}'s Kitchen",
        "bridge": f"{surname} Bridge",
        "park": f"{surname} Park",
        "library": f"{surname} Memorial Library",
        "theatre": f"{surname} Theatre",
        "hotel": f"Hotel {surname}",
        "castle": f"{surname} Castle",
        "cathedral": f"St. {first} Cathedral",
        "market hall": f"{city} Market Hall",
        "botanical garden": f"{city} Botanical Garden",
        "stadium": f"{surname} Stadium",
    }[kind]
