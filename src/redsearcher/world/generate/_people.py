"""People: names, lives, families and careers, plus their confusable look-alikes.

Look-alikes are sampled like anyone else (so they have works and documents of their own) and
then made to resemble a base person: same surname, a first name with the same initial or an
added middle initial, the same birth year and occupation, often the same birthplace.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from redsearcher.world.generate import _names as nm
from redsearcher.world.generate._facts import iso_dates
from redsearcher.world.generate._sampler import _OCC_P, OCCUPATIONS, Sampler, skewed


@dataclass
class People:
    """What later steps need to know about people."""

    ids: np.ndarray
    occ: np.ndarray
    birth: np.ndarray
    born_in: np.ndarray
    spouse: np.ndarray  # spouse id per person (index = id - ids[0]), -1 if none
    child: np.ndarray  # one child id per person, -1 if none
    signed_to: np.ndarray

    def pool(self, *occupations: str) -> np.ndarray:
        """Ids of people with any of the given occupations."""
        codes = [OCCUPATIONS.index(o) for o in occupations]
        return self.ids[np.isin(self.occ, codes)]

    def born_before(self, year: int) -> np.ndarray:
        """Ids of people born before ``year``."""
        return self.ids[self.birth < year]


def sample_people(s: Sampler) -> People:
    """Sample all people and their person-to-person and person-to-place facts."""
    rng = s.rng("people")
    ids = s.ids("person")
    n, p0 = len(ids), int(ids[0])
    occ = rng.choice(len(OCCUPATIONS), size=n, p=_OCC_P / _OCC_P.sum())
    birth = rng.integers(1900, 2001, n)
    cities = s.ids("city")
    born_in = skewed(rng, cities, n, 1.8)
    first, last = nm.person_names(rng, n)
    middle = [""] * n
    twins, bases = s.pick_twins("person", rng)
    tw, bs = (twins - p0).tolist(), (bases - p0).tolist()
    for t, b in zip(tw, bs, strict=True):
        occ[t], birth[t] = occ[b], birth[b]
        if rng.random() < 0.5:
            born_in[t] = born_in[b]
    # Families: couples of similar age; children born 20-40 years later take the surname.
    spouse = np.full(n, -1, dtype=np.int64)
    married = np.flatnonzero(rng.random(n) < 0.4)
    married = married[np.argsort(birth[married], kind="stable")]
    a, b = married[0 : len(married) - 1 : 2], married[1 : len(married) : 2]
    spouse[a], spouse[b] = b + p0, a + p0
    by_birth = np.argsort(birth, kind="stable")
    sorted_birth = birth[by_birth]
    parents, kids = [], []
    for slot in range(2):
        has = rng.random(len(a)) < (0.7 if slot == 0 else 0.4)
        lo = np.searchsorted(sorted_birth, birth[a] + 20)
        hi = np.searchsorted(sorted_birth, birth[a] + 41)
        pick = lo + (rng.random(len(a)) * np.maximum(hi - lo, 0)).astype(np.int64)
        ok = has & (hi > lo)
        parents.append(a[ok])
        kids.append(by_birth[np.minimum(pick[ok], n - 1)])
    par, kid = np.concatenate(parents), np.concatenate(kids)
    _, first_idx = np.unique(kid, return_index=True)  # each child has one set of parents
    first_idx.sort()
    par, kid = par[first_idx], kid[first_idx]
    ok = (kid != par) & (kid != spouse[par] - p0) & (spouse[kid] != par + p0)
    ok &= s.twin_of[kid + p0] < 0  # a look-alike keeps its base's surname
    par, kid = par[ok], kid[ok]
    child = np.full(n, -1, dtype=np.int64)
    child[par] = kid + p0
    child[spouse[par] - p0] = kid + p0
    for p, k in zip(par.tolist(), kid.tolist(), strict=True):
        last[k] = last[p]
    # Names of look-alikes last, once every base surname is final.
    for t, b in zip(tw, bs, strict=True):
        last[t] = last[b]
        if rng.random() < 0.5:
            first[t] = first[b]
            middle[t] = chr(ord("A") + int(rng.integers(0, 26))) + ". "
        else:
            first[t] = nm.variant_first_name(rng, first[b])
    labels = [f"{f} {m}{sn}" for f, m, sn in zip(first, middle, last, strict=True)]
    s.set_labels(ids, labels, [OCCUPATIONS[o] for o in occ.tolist()])
    for i, f, sn in zip(ids.tolist(), first, last, strict=True):
        s.aliases[i] = (f"{f[0]}. {sn}",)
    s.year[ids] = birth

    fb = s.f
    fb.strings("occupation", ids, [OCCUPATIONS[o] for o in occ.tolist()])
    text, prec = iso_dates(rng, birth, 0.75)
    fb.dates("date_of_birth", ids, text, prec)
    death = birth + rng.integers(45, 96, n)
    dead = (rng.random(n) < np.where(birth < 1950, 0.7, 0.08)) & (death <= 2025)
    text, prec = iso_dates(rng, death[dead], 0.75)
    fb.dates("date_of_death", ids[dead], text, prec)
    fb.relation("born_in", ids, born_in)
    died_in = np.where(rng.random(n) < 0.6, born_in, skewed(rng, cities, n, 1.5))
    fb.relation("died_in", ids[dead], died_in[dead])
    fb.relation("citizen_of", ids, s.city_country[born_in - cities[0]])
    fb.relation("spouse", ids, spouse)
    fb.relation(
        "child", np.concatenate([par, spouse[par] - p0]) + p0, np.concatenate([kid, kid]) + p0
    )
    # Education and employment.
    unis, orgs = s.ids("university"), s.ids("organization")
    researcher = occ == OCCUPATIONS.index("researcher")
    studied = researcher | (rng.random(n) < 0.45)
    uni1 = skewed(rng, unis, n, 1.4)
    fb.relation("educated_at", ids[studied], uni1[studied])
    second = studied & (rng.random(n) < 0.25)
    uni2 = skewed(rng, unis, n, 1.4)
    second &= uni2 != uni1
    fb.relation("educated_at", ids[second], uni2[second])
    employer = np.full(n, -1, dtype=np.int64)
    stay = researcher & (rng.random(n) < 0.3) & studied
    employer[researcher] = skewed(rng, unis, int(researcher.sum()), 1.3)
    employer[stay] = uni1[stay]
    others = ~researcher & (rng.random(n) < 0.4)
    employer[others] = skewed(rng, orgs, int(others.sum()), 1.4)
    fb.relation("employer", ids, employer)
    musician = occ == OCCUPATIONS.index("musician")
    signed_to = np.full(n, -1, dtype=np.int64)
    signed_to[musician] = skewed(rng, s.ids("record_label"), int(musician.sum()), 1.4)
    fb.relation("signed_to", ids, signed_to)
    won = np.flatnonzero(rng.random(n) < 0.08)
    years = np.minimum(birth[won] + rng.integers(28, 70, len(won)), 2025)
    fb.relation("award_received", ids[won], skewed(rng, s.ids("award"), len(won), 1.3), years)
    return People(ids, occ, birth, born_in, spouse, child, signed_to)
