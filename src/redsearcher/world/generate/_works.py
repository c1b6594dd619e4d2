"""Organizations, events, creative works and scholarly records.

Dates follow the people behind them (a film comes 25-60 years after its director's birth, an
organization 20-50 years after its founder's), so the World stays temporally coherent and
"time validity" checks downstream have something real to check.
"""

from __future__ import annotations

import numpy as np

from redsearcher.world.generate import _names as nm
from redsearcher.world.generate._facts import iso_dates
from redsearcher.world.generate._people import People
from redsearcher.world.generate._sampler import (
    BOOK_GENRES,
    EVENTS,
    FILM_GENRES,
    INDUSTRIES,
    MUSIC_GENRES,
    Sampler,
    skewed,
)

NOW = 2025


def _years_after(rng: np.random.Generator, base: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.minimum(base + rng.integers(lo, hi, len(base)), NOW)


def _maybe(rng: np.random.Generator, ids: np.ndarray, p: float) -> np.ndarray:
    return ids[rng.random(len(ids)) < p]


def sample_organizations(s: Sampler, people: People) -> None:
    """Universities, companies, record labels, venues, awards and events."""
    rng, f = s.rng("organizations"), s.f
    cities = s.ids("city")
    # Universities
    unis = s.ids("university")
    n = len(unis)
    ucity = skewed(rng, cities, n, 1.3)
    seen: set[str] = set()
    labels = []
    surnames = nm.pick(rng, nm.SURNAMES, n)
    for c, sn, form in zip(ucity.tolist(), surnames, rng.integers(0, 4, n).tolist(), strict=True):
        city = s.labels[c]
        options = [
            f"University of {city}",
            f"{sn} University",
            f"{city} Institute of Technology",
            f"{sn} College",
        ]
        label = next((o for o in options[form:] + options[:form] if o not in seen), options[1])
        seen.add(label)
        labels.append(label)
    s.set_labels(unis, labels, [f"university in {s.labels[c]}" for c in ucity.tolist()])
    f.relation("located_in", unis, ucity)
    f.coordinates(
        "coordinates",
        unis,
        s.city_lat[ucity - cities[0]] + rng.normal(0, 0.02, n),
        s.city_lon[ucity - cities[0]] + rng.normal(0, 0.02, n),
    )
    years = rng.integers(1400, 1995, n)
    s.year[unis] = years
    text, prec = iso_dates(rng, years, 0.2)
    f.dates("inception", unis, text, prec)
    f.quantity("students_count", unis, np.round(rng.lognormal(9.3, 0.7, n)))
    modern = np.flatnonzero((years > 1935) & (rng.random(n) < 0.4))
    founders = _person_born_before(rng, people, years[modern] - 25)
    f.relation("founded_by", unis[modern], founders)
    # Companies
    orgs = s.ids("organization")
    n = len(orgs)
    founder = skewed(rng, people.pool("entrepreneur"), n, 1.3)
    fyear = people.birth[founder - people.ids[0]]
    years = _years_after(rng, fyear, 20, 50)
    s.year[orgs] = years
    hq = np.where(
        rng.random(n) < 0.35, people.born_in[founder - people.ids[0]], skewed(rng, cities, n, 1.4)
    )
    industry = nm.pick(rng, INDUSTRIES, n)
    stems = [
        sn if form else s.labels[c]
        for sn, form, c in zip(
            nm.pick(rng, nm.SURNAMES, n), (rng.random(n) < 0.7).tolist(), hq.tolist(), strict=True
        )
    ]
    suffix = nm.pick(rng, nm.ORG_SUFFIXES, n)
    twins, bases = s.pick_twins("organization", rng)
    o0 = int(orgs[0])
    for t, b in zip((twins - o0).tolist(), (bases - o0).tolist(), strict=True):
        stems[t], industry[t] = stems[b], industry[b]
        others = [x for x in nm.ORG_SUFFIXES if x != suffix[b]]
        suffix[t] = others[int(rng.integers(0, len(others)))]
    s.set_labels(
        orgs,
        [f"{a} {b}" for a, b in zip(stems, suffix, strict=True)],
        [f"{i} company" for i in industry],
    )
    f.relation("founded_by", orgs, founder)
    co = _maybe(rng, orgs, 0.25)
    f.relation("founded_by", co, skewed(rng, people.pool("entrepreneur"), len(co), 1.2))
    text, prec = iso_dates(rng, years, 0.4)
    f.dates("inception", orgs, text, prec)
    f.relation("headquartered_in", orgs, hq)
    f.strings("industry", orgs, industry)
    f.quantity("employees", orgs, np.round(rng.lognormal(5.5, 1.5, n)))
    child = _maybe(rng, orgs, 0.1)
    parent = rng.choice(orgs, len(child))
    ok = (parent != child) & (s.year[parent] <= s.year[child])
    f.relation("parent_organization", child[ok], parent[ok])
    # Record labels
    labs = s.ids("record_label")
    n = len(labs)
    founder = skewed(rng, people.pool("musician", "record producer", "entrepreneur"), n, 1.2)
    years = _years_after(rng, people.birth[founder - people.ids[0]], 20, 45)
    s.year[labs] = years
    words = nm.pick(rng, nm.LABEL_WORDS, n)
    stems = [
        a if form else b
        for a, b, form in zip(
            nm.pick(rng, nm.SURNAMES, n),
            nm.pick(rng, [w.split()[-1] for w in nm._NOUN], n),
            (rng.random(n) < 0.5).tolist(),
            strict=True,
        )
    ]
    s.set_labels(
        labs, [f"{a} {w}" for a, w in zip(stems, words, strict=True)], ["record label"] * n
    )
    f.relation("founded_by", labs, founder)
    text, prec = iso_dates(rng, years, 0.3)
    f.dates("inception", labs, text, prec)
    f.relation("headquartered_in", labs, skewed(rng, cities, n, 1.4))
    owned = _maybe(rng, labs, 0.2)
    f.relation("parent_organization", owned, rng.choice(orgs, len(owned)))
    # Venues
    venues = s.ids("venue")
    n = len(venues)
    field = nm.fields(rng, n)
    conf = rng.random(n) < 0.4
    acronyms = ["".join(chr(ord("A") + int(x)) for x in rng.integers(0, 26, 4)) for _ in range(n)]
    labels = []
    seen = set()
    for fl, c, acr in zip(field, conf.tolist(), acronyms, strict=True):
        lab = _venue_label(fl, acr, c, seen)
        seen.add(lab)
        labels.append(lab)
    s.set_labels(
        venues,
        labels,
        ["academic conference" if c else "scientific journal" for c in conf.tolist()],
    )
    for v, acr, c in zip(venues.tolist(), acronyms, conf.tolist(), strict=True):
        if c:
            s.aliases[v] = (acr,)
    s.venue_field = field  # type: ignore[attr-defined]
    f.strings("venue_type", venues, ["conference" if c else "journal" for c in conf.tolist()])
    pub = _maybe(rng, venues, 0.5)
    f.relation("publisher", pub, rng.choice(orgs, len(pub)))
    years = rng.integers(1900, 2010, n)
    text, prec = iso_dates(rng, years, 0.0)
    f.dates("inception", venues, text, prec)
    # Awards
    awards = s.ids("award")
    n = len(awards)
    by = np.where(rng.random(n) < 0.6, rng.choice(orgs, n), rng.choice(unis, n))
    afield = nm.pick(rng, (*nm._FIELDS[:8], "Literature", "Film", "Music", "Architecture"), n)
    s.set_labels(
        awards,
        [
            f"{sn} Prize for {fl}" if form else f"{s.labels[b]} Medal for {fl}"
            for sn, fl, form, b in zip(
                nm.pick(rng, nm.SURNAMES, n),
                afield,
                (rng.random(n) < 0.7).tolist(),
                by.tolist(),
                strict=True,
            )
        ],
        [f"award for {fl.lower()}" for fl in afield],
    )
    f.relation("conferred_by", awards, by)
    f.strings("award_field", awards, afield)
    text, prec = iso_dates(rng, rng.integers(1900, 2010, n), 0.0)
    f.dates("inception", awards, text, prec)
    # Events
    events = s.ids("event")
    n = len(events)
    city = skewed(rng, cities, n, 1.4)
    years = rng.integers(1950, NOW + 1, n)
    kind = nm.pick(rng, EVENTS, n)
    s.set_labels(
        events,
        [
            f"{y} {s.labels[c]} {k}"
            for y, c, k in zip(years.tolist(), city.tolist(), kind, strict=True)
        ],
        [k.lower() for k in kind],
    )
    s.year[events] = years
    f.relation("located_in", events, city)
    text, prec = iso_dates(rng, years, 1.0)
    f.dates("point_in_time", events, text, prec)
    f.relation(
        "organizer", events, np.where(rng.random(n) < 0.7, rng.choice(orgs, n), rng.choice(unis, n))
    )
    f.strings("event_category", events, [k.lower() for k in kind])
    for _ in range(3):
        who = _maybe(rng, events, 0.5)
        f.relation("participant", who, _person_born_before(rng, people, s.year[who] - 16))


def _person_born_before(rng: np.random.Generator, people: People, years: np.ndarray) -> np.ndarray:
    """One person per entry, born before ``years[i]`` (-1 when nobody is)."""
    order = np.argsort(people.birth, kind="stable")
    hi = np.searchsorted(people.birth[order], years)
    pick = (rng.random(len(years)) * hi).astype(np.int64)
    out = people.ids[order[np.minimum(pick, len(order) - 1)]]
    return np.where(hi > 0, out, -1)


def _twin_titles(s: Sampler, t: str, rng: np.random.Generator, titles: list[str]) -> None:
    ids = s.ids(t)
    twins, bases = s.pick_twins(t, rng)
    for tw, b in zip((twins - ids[0]).tolist(), (bases - ids[0]).tolist(), strict=True):
        titles[tw] = titles[b]


def _new_works(
    s: Sampler,
    rng: np.random.Generator,
    t: str,
    creators: np.ndarray,
    skew: float,
    people: People,
    gap: tuple[int, int],
    city_names: list[str],
) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Ids, titles (look-alikes share their base's), creator and year of every work of ``t``."""
    ids = s.ids(t)
    titles = nm.work_titles(rng, len(ids), city_names)
    _twin_titles(s, t, rng, titles)
    creator = skewed(rng, creators, len(ids), skew)
    years = _years_after(rng, people.birth[creator - people.ids[0]], *gap)
    s.year[ids] = years
    return ids, titles, creator, years


def sample_works(s: Sampler, people: People) -> None:
    """Films, albums and books."""
    rng, f = s.rng("works"), s.f
    cities, orgs, p0 = s.ids("city"), s.ids("organization"), int(people.ids[0])
    city_names = [s.labels[c] for c in cities[: min(len(cities), 400)]]
    # Films
    films, titles, director, years = _new_works(
        s, rng, "film", people.pool("film director"), 1.6, people, (25, 60), city_names
    )
    n = len(films)
    s.set_labels(films, titles, [f"{y} film" for y in years.tolist()])
    f.relation("director", films, director)
    actors = people.pool("actor")
    cast = [skewed(rng, actors, n, 1.5) for _ in range(4)]
    cast[2][rng.random(n) < 0.3] = -1
    cast[3][rng.random(n) < 0.6] = -1
    # Planted cycles: a director casts their own child or spouse.
    kin = np.where(
        people.child[director - p0] >= 0, people.child[director - p0], people.spouse[director - p0]
    )
    plant = (kin >= 0) & (rng.random(n) < 0.15)
    cast[0][plant] = kin[plant]
    for c in cast:
        dup = np.zeros(n, dtype=bool)
        for other in cast:
            if other is not c:
                dup |= other == c
        f.relation("cast_member", films, np.where(dup & (c != cast[0]), -1, c))
    writer = np.where(
        rng.random(n) < 0.7, skewed(rng, people.pool("screenwriter"), n, 1.3), director
    )
    f.relation("screenwriter", films, writer)
    f.relation(
        "production_company", films, np.where(rng.random(n) < 0.8, skewed(rng, orgs, n, 1.4), -1)
    )
    text, prec = iso_dates(rng, years, 0.6)
    f.dates("publication_date", films, text, prec)
    f.strings("genre", films, nm.pick(rng, FILM_GENRES, n))
    f.quantity("duration", films, rng.integers(78, 186, n).astype(float))
    f.relation(
        "filming_location", films, np.where(rng.random(n) < 0.5, skewed(rng, cities, n, 1.3), -1)
    )
    won = np.flatnonzero(rng.random(n) < 0.05)
    f.relation(
        "award_received",
        films[won],
        rng.choice(s.ids("award"), len(won)),
        np.minimum(years[won] + 1, NOW),
    )
    # Albums
    albums, titles, performer, years = _new_works(
        s, rng, "album", people.pool("musician"), 1.5, people, (18, 50), city_names
    )
    n = len(albums)
    s.set_labels(albums, titles, [f"{y} album" for y in years.tolist()])
    f.relation("performer", albums, performer)
    own = people.signed_to[performer - p0]
    label = np.where((own >= 0) & (rng.random(n) < 0.6), own, rng.choice(s.ids("record_label"), n))
    f.relation("record_label", albums, label)
    f.relation(
        "producer",
        albums,
        np.where(rng.random(n) < 0.7, skewed(rng, people.pool("record producer"), n, 1.3), -1),
    )
    text, prec = iso_dates(rng, years, 0.5)
    f.dates("publication_date", albums, text, prec)
    f.strings("genre", albums, nm.pick(rng, MUSIC_GENRES, n))
    f.quantity("number_of_tracks", albums, rng.integers(7, 17, n).astype(float))
    # Books
    books, titles, author, years = _new_works(
        s, rng, "book", people.pool("writer"), 1.5, people, (22, 70), city_names
    )
    n = len(books)
    genre = nm.pick(rng, BOOK_GENRES, n)
    s.set_labels(books, titles, [f"{y} {g}" for y, g in zip(years.tolist(), genre, strict=True)])
    f.relation("author_of", author, books)
    f.relation("publisher", books, np.where(rng.random(n) < 0.8, rng.choice(orgs, n), -1))
    text, prec = iso_dates(rng, years, 0.3)
    f.dates("publication_date", books, text, prec)
    f.strings("genre", books, genre)
    f.quantity("number_of_pages", books, rng.integers(96, 720, n).astype(float))


def sample_scholarly(s: Sampler, people: People) -> None:
    """Papers: authors, venues, years, citation counts and citations of older papers."""
    rng, f = s.rng("scholarly"), s.f
    papers, p0 = s.ids("paper"), int(people.ids[0])
    n = len(papers)
    titles = nm.paper_titles(rng, n)
    _twin_titles(s, "paper", rng, titles)
    researchers = people.pool("researcher")
    first = skewed(rng, researchers, n, 1.4)
    years = np.clip(people.birth[first - p0] + rng.integers(25, 55, n), 1950, NOW)
    s.year[papers] = years
    s.set_labels(papers, titles, [f"scholarly article published in {y}" for y in years.tolist()])
    f.relation("author_of", first, papers)
    for _ in range(3):
        co = np.flatnonzero(rng.random(n) < 0.5)
        who = skewed(rng, researchers, len(co), 1.2)
        ok = who != first[co]
        f.relation("author_of", who[ok], papers[co][ok])
    f.relation("published_in", papers, skewed(rng, s.ids("venue"), n, 1.3))
    text, prec = iso_dates(rng, years, 0.0)
    f.dates("publication_date", papers, text, prec)
    f.quantity("citation_count", papers, np.floor(rng.lognormal(2.8, 1.5, n)))
    f.strings("main_subject", papers, nm.topics(rng, n))
    for _ in range(5):
        cited = rng.choice(papers, n)
        ok = (s.year[cited] < years) & (rng.random(n) < 0.6)
        f.relation("cites", papers[ok], cited[ok])


_JOURNAL_FORMS = (
    "Journal of {}",
    "International Journal of {}",
    "Annals of {}",
    "Review of {}",
    "Advances in {}",
    "Transactions on {}",
    "Letters in {}",
    "Archives of {}",
    "Quarterly Journal of {}",
    "European Journal of {}",
)


def _venue_label(field: str, acronym: str, conference: bool, seen: set[str]) -> str:
    """A venue name not in ``seen``: the usual forms first, then numbered ones.

    Many venues share a field in a large World, so the names run through real journal forms
    ("Annals of ...", "Review of ...") and then series numbers; names stay short (a repeated
    "International" prefix once grew venue names to kilobytes at 10M documents).
    """
    if conference:
        first = f"{acronym} Conference on {field}"
        forms = [first, f"{acronym}{len(seen) % 9} Conference on {field}"]
    else:
        forms = [form.format(field) for form in _JOURNAL_FORMS]
    for label in forms:
        if label not in seen:
            return label
    series = 2
    while (label := f"{forms[0]} (Series {series})") in seen:
        series += 1
    return label
