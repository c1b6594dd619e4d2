"""Natural-sounding, invented names for every entity type.

Why invented: a synthetic World is only leak-free if no model has memorised its entities, so
surnames, places, countries and work titles are built from syllables and uncommon words, and a
blocklist removes the few combinations that would land on famous real names. First names are
real (common, international) because invented first names read badly; combined with invented
surnames they do not point at real people.
"""

from __future__ import annotations

from typing import Final

import numpy as np

FIRST_NAMES: Final = [
    "Ada",
    "Adrian",
    "Agnes",
    "Alba",
    "Alec",
    "Alina",
    "Amara",
    "Anders",
    "Anika",
    "Anton",
    "Aria",
    "Arne",
    "Astrid",
    "Aurelio",
    "Beatrix",
    "Benedikt",
    "Bianca",
    "Bram",
    "Bruno",
    "Calla",
    "Camille",
    "Carmen",
    "Casimir",
    "Celia",
    "Cyrus",
    "Dagny",
    "Dalia",
    "Damian",
    "Dario",
    "Delia",
    "Dmitri",
    "Edda",
    "Edgar",
    "Elif",
    "Elio",
    "Elise",
    "Emil",
    "Enzo",
    "Esme",
    "Ezra",
    "Fabian",
    "Farah",
    "Felix",
    "Freya",
    "Gideon",
    "Greta",
    "Gustav",
    "Hana",
    "Hector",
    "Helga",
    "Henrik",
    "Ida",
    "Ilse",
    "Imre",
    "Ines",
    "Ingrid",
    "Isak",
    "Ivo",
    "Jalen",
    "Jana",
    "Joost",
    "Jorun",
    "Julian",
    "Kai",
    "Kamala",
    "Karin",
    "Kasper",
    "Katya",
    "Kenji",
    "Kira",
    "Lars",
    "Laila",
    "Leander",
    "Lena",
    "Leon",
    "Liesel",
    "Linus",
    "Liv",
    "Lorenzo",
    "Lucia",
    "Luka",
    "Maja",
    "Malik",
    "Marek",
    "Marta",
    "Mateo",
    "Mila",
    "Milan",
    "Mira",
    "Moritz",
    "Nadia",
    "Nico",
    "Nils",
    "Noor",
    "Odile",
    "Olek",
    "Olivia",
    "Oren",
    "Oskar",
    "Paloma",
    "Pavel",
    "Petra",
    "Pia",
    "Quentin",
    "Rafael",
    "Rania",
    "Reza",
    "Rhea",
    "Rolf",
    "Rosa",
    "Rufus",
    "Saga",
    "Selma",
    "Senna",
    "Sigrid",
    "Silas",
    "Sofia",
    "Soren",
    "Stellan",
    "Tamsin",
    "Tarek",
    "Teo",
    "Thea",
    "Theron",
    "Tilde",
    "Timo",
    "Tobias",
    "Ulla",
    "Una",
    "Valentin",
    "Vera",
    "Viggo",
    "Vilma",
    "Wanda",
    "Wren",
    "Xenia",
    "Yara",
    "Yusuf",
    "Zara",
    "Zeno",
    "Zofia",
    "Anouk",
    "Bastian",
    "Cosima",
    "Davor",
    "Elin",
    "Flavio",
    "Gaia",
    "Hugo",
    "Ilona",
    "Jasper",
    "Kalle",
    "Lotta",
    "Magnus",
    "Nell",
    "Otto",
    "Priya",
    "Ragna",
    "Sven",
    "Tove",
    "Ugo",
    "Vesna",
    "Wilma",
    "Yannick",
    "Zita",
]

_SUR_A: Final = [
    "Hal",
    "Var",
    "Ost",
    "Bren",
    "Cal",
    "Dor",
    "Fen",
    "Gar",
    "Hol",
    "Kes",
    "Lom",
    "Mar",
    "Nor",
    "Pel",
    "Quen",
    "Ros",
    "Sel",
    "Tor",
    "Vel",
    "Wyn",
    "Ash",
    "Bel",
    "Cor",
    "Dal",
    "Eck",
    "Fal",
    "Gil",
    "Har",
    "Ist",
    "Jar",
    "Kel",
    "Lan",
    "Mer",
    "Nev",
    "Orm",
    "Pry",
    "Rad",
    "Sav",
    "Tel",
    "Ulm",
    "Vos",
    "Wal",
    "Yar",
    "Zel",
    "Brom",
    "Cres",
    "Drav",
    "Elm",
    "Frin",
    "Grav",
    "Hask",
    "Ivar",
    "Jor",
    "Karn",
    "Lisk",
    "Mott",
    "Nash",
    "Orv",
    "Pask",
    "Rend",
    "Stav",
    "Trev",
]
_SUR_B: Final = [
    "vor",
    "den",
    "ric",
    "mont",
    "lan",
    "bert",
    "wick",
    "ford",
    "sen",
    "dahl",
    "quist",
    "ley",
    "ton",
    "mere",
    "gard",
    "holt",
    "stead",
    "ling",
    "worth",
    "by",
    "rick",
    "vik",
    "berg",
    "strom",
    "rup",
    "nell",
    "dane",
    "shaw",
    "ross",
    "mark",
    "well",
    "ridge",
    "brook",
    "more",
    "ham",
    "cott",
    "field",
    "and",
    "ard",
    "ett",
    "ow",
    "an",
    "ius",
    "esco",
    "ova",
    "ek",
]

#: Famous surnames the syllable grammar could produce; never used.
_FAMOUS: Final = frozenset(
    [
        "Marley",
        "Holmes",
        "Newton",
        "Darwin",
        "Lennon",
        "Bowie",
        "Jordan",
        "Kennedy",
        "Lincoln",
        "Marx",
        "Nash",
        "Hendrix",
        "Wellford",
        "Ford",
        "Ashby",
        "Calvert",
        "Bell",
        "Morrison",
        "Holt",
        "Shaw",
        "Ross",
        "Garland",
        "Harley",
        "Hollis",
        "Mercury",
        "Nelson",
        "Palmer",
        "Selby",
        "Torres",
        "Walton",
        "Dalton",
        "Carlton",
        "Ashley",
        "Bentley",
        "Stanley",
        "Wesley",
        "Marlowe",
        "Harrison",
        "Hamilton",
        "Morrow",
        "Callan",
        "Farrow",
        "Barrow",
        "Wallace",
        "Cornell",
        "Lansing",
        "Bellow",
    ]
)


def _surnames() -> tuple[str, ...]:
    out: list[str] = []
    for a in _SUR_A:
        for b in _SUR_B:
            name = a + b
            if name not in _FAMOUS and a[-1] != b[0] and a[-2:].lower() not in b:
                out.append(name)
    return tuple(out)


SURNAMES: Final = _surnames()

_PLACE_A: Final = [
    "Vel",
    "Ost",
    "Har",
    "Cal",
    "Dun",
    "Bram",
    "Kel",
    "Lor",
    "Mar",
    "Nev",
    "Pel",
    "Quar",
    "Ros",
    "Sar",
    "Tam",
    "Ul",
    "Vash",
    "Wen",
    "Yel",
    "Zor",
    "Ald",
    "Bel",
    "Cor",
    "Dor",
    "Esk",
    "Fal",
    "Gar",
    "Hol",
    "Isen",
    "Jor",
    "Kar",
    "Lum",
    "Mor",
    "Nor",
    "Orn",
    "Pra",
    "Rav",
    "Sol",
    "Tor",
    "Vol",
    "Wyr",
    "Ard",
    "Bri",
    "Cas",
]
_PLACE_B: Final = [
    "mora",
    "wick",
    "ford",
    "stad",
    "vale",
    "haven",
    "burg",
    "mouth",
    "ton",
    "dorf",
    "ley",
    "bridge",
    "holm",
    "field",
    "gate",
    "port",
    "minster",
    "by",
    "thorpe",
    "caster",
    "ica",
    "ona",
    "ara",
    "enza",
    "ovo",
    "ino",
    "ath",
    "wyn",
]
_COUNTRY_STEMS: Final = [
    "Cald",
    "Vesk",
    "Orend",
    "Tamar",
    "Lusk",
    "Brev",
    "Marav",
    "Sudor",
    "Pell",
    "Quor",
    "Eskar",
    "Valdr",
    "Ost",
    "Nor",
    "Kesh",
    "Zal",
    "Drav",
    "Ilm",
    "Fen",
    "Auran",
    "Corv",
    "Held",
    "Mirav",
    "Sarn",
    "Tyr",
    "Varn",
    "Wesk",
    "Yl",
    "Belor",
    "Gast",
]
_COUNTRY_SUFFIX: Final = ("ora", "aria", "enia", "ovia", "and", "istan", "ica", "esia", "ar")

_ADJ: Final = [
    "Quiet",
    "Amber",
    "Hollow",
    "Lantern",
    "Crooked",
    "Distant",
    "Gilded",
    "Restless",
    "Salt",
    "Copper",
    "Paper",
    "Winter",
    "Northern",
    "Borrowed",
    "Midnight",
    "Velvet",
    "Lonely",
    "Broken",
    "Silver",
    "Hidden",
    "Slow",
    "Ninth",
    "Painted",
    "Narrow",
    "Wandering",
    "Patient",
    "Last",
    "Glass",
    "Iron",
    "Pale",
    "Second",
    "Burning",
    "Tidal",
    "Orchard",
    "Hushed",
    "Forgotten",
]
_NOUN: Final = [
    "Cartographer",
    "Lamplighter",
    "Orchard",
    "Harbor",
    "Ferryman",
    "Archive",
    "Lighthouse",
    "Meridian",
    "Tideglass",
    "Almanac",
    "Cellist",
    "Vineyard",
    "Observatory",
    "Ledger",
    "Threshold",
    "Aviary",
    "Quarry",
    "Foundry",
    "Garden",
    "Signal",
    "Compass",
    "Atlas",
    "Citadel",
    "Canal",
    "Pilgrim",
    "Weaver",
    "Bellfounder",
    "Beekeeper",
    "Station",
    "Lantern",
    "Mapmaker",
    "Estuary",
    "Belfry",
    "Glasshouse",
    "Winterhouse",
    "Saltmarsh",
    "Clocktower",
    "Mill",
    "Vigil",
]
_FIELDS: Final = [
    "Computational Linguistics",
    "Graph Algorithms",
    "Marine Ecology",
    "Condensed Matter Physics",
    "Information Retrieval",
    "Medieval History",
    "Soil Chemistry",
    "Robotics",
    "Cognitive Science",
    "Structural Biology",
    "Urban Planning",
    "Econometrics",
    "Materials Science",
    "Glaciology",
    "Machine Learning",
    "Epidemiology",
    "Number Theory",
    "Acoustics",
    "Volcanology",
    "Ethnomusicology",
]
_PAPER_TOPICS: Final = [
    "sparse retrieval",
    "graph neural networks",
    "coral reef resilience",
    "spin liquids",
    "query expansion",
    "monastic trade networks",
    "nitrogen cycling",
    "legged locomotion",
    "working memory",
    "protein folding",
    "transit-oriented development",
    "panel data estimators",
    "high-entropy alloys",
    "ice sheet dynamics",
    "contrastive pretraining",
    "vaccine uptake",
    "elliptic curves",
    "room acoustics",
    "magma ascent",
    "folk fiddle traditions",
    "entity linking",
    "tree decompositions",
    "soil microbiomes",
    "wave energy",
]
_PAPER_PATTERNS: Final = (
    "Towards {a} {t}",
    "On the {n} of {t}",
    "{A} {t}: A Longitudinal Study",
    "Revisiting {t} with {t2}",
    "{art} {a} Approach to {t}",
    "{T} Under Uncertainty",
    "Scaling {t} for {t2}",
    "What Drives {t}?",
)
_PAPER_ADJ: Final = [
    "robust",
    "scalable",
    "unified",
    "principled",
    "lightweight",
    "adaptive",
    "causal",
    "hierarchical",
]
_PAPER_NOUN: Final = ["limits", "stability", "geometry", "dynamics", "economics", "structure"]

ORG_SUFFIXES: Final = [
    "Systems",
    "Holdings",
    "Dynamics",
    "Works",
    "Labs",
    "Partners",
    "Group",
    "Industries",
    "Logistics",
    "Analytics",
    "Foods",
    "Textiles",
    "Instruments",
    "Maritime",
    "Energy",
    "Media",
]
LABEL_WORDS: Final = ["Records", "Sound", "Music", "Recordings", "Audio"]
PLACE_KINDS: Final = (
    "museum",
    "restaurant",
    "bridge",
    "park",
    "library",
    "theatre",
    "hotel",
    "castle",
    "cathedral",
    "market hall",
    "botanical garden",
    "stadium",
)
STREET_SUFFIX: Final = ("Street", "Lane", "Avenue", "Road", "Quay", "Square", "Way")


def pick(rng: np.random.Generator, pool: tuple[str, ...] | list[str], n: int) -> list[str]:
    """``n`` uniform picks from ``pool``."""
    idx = rng.integers(0, len(pool), size=n)
    return [pool[i] for i in idx]


def person_names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """First names and surnames for ``n`` people."""
    return pick(rng, FIRST_NAMES, n), pick(rng, SURNAMES, n)


def place_names(rng: np.random.Generator, n: int) -> list[str]:
    """City names (unique when the grammar has room for ``n``)."""
    names = [a + b for a in _PLACE_A for b in _PLACE_B]
    order = rng.permutation(len(names))
    out = [names[i] for i in order[: min(n, len(names))]]
    while len(out) < n:  # beyond the grammar's size: prefix with a compass word
        k = len(out)
        out.append(
            f"{('North', 'South', 'East', 'West', 'Upper', 'Lower')[k % 6]} {out[k % len(names)]}"
        )
    return out


def country_names(rng: np.random.Generator, n: int) -> list[str]:
    """Country names, unique."""
    combos = [s + x for s in _COUNTRY_STEMS for x in _COUNTRY_SUFFIX]
    order = rng.permutation(len(combos))
    out = [combos[i] for i in order[: min(n, len(combos))]]
    while len(out) < n:
        out.append(f"New {out[len(out) % len(combos)]}")
    return out


def work_titles(rng: np.random.Generator, n: int, cities: list[str]) -> list[str]:
    """Titles for films, albums and books."""
    out = []
    a, b = rng.integers(0, len(_ADJ), n), rng.integers(0, len(_NOUN), n)
    c, form = rng.integers(0, len(_NOUN), n), rng.integers(0, 6, n)
    city = rng.integers(0, max(1, len(cities)), n)
    for i in range(n):
        adj, noun, noun2 = _ADJ[a[i]], _NOUN[b[i]], _NOUN[c[i]]
        f = form[i]
        if f == 0:
            out.append(f"The {adj} {noun}")
        elif f == 1:
            out.append(f"The {noun} of {cities[city[i]] if cities else noun2}")
        elif f == 2:
            out.append(f"{adj} {noun}s")
        elif f == 3:
            out.append(f"A {noun} in {cities[city[i]] if cities else 'Winter'}")
        elif f == 4:
            out.append(f"{noun} and {noun2}" if noun != noun2 else f"The {noun}")
        else:
            out.append(f"Beyond the {adj} {noun}")
    return out


def paper_titles(rng: np.random.Generator, n: int) -> list[str]:
    """Titles of scholarly papers."""
    out = []
    pat = rng.integers(0, len(_PAPER_PATTERNS), n)
    t1, t2 = rng.integers(0, len(_PAPER_TOPICS), n), rng.integers(0, len(_PAPER_TOPICS), n)
    adj, noun = rng.integers(0, len(_PAPER_ADJ), n), rng.integers(0, len(_PAPER_NOUN), n)
    for i in range(n):
        t = _PAPER_TOPICS[t1[i]]
        out.append(
            _PAPER_PATTERNS[pat[i]].format(
                a=_PAPER_ADJ[adj[i]],
                art="An" if _PAPER_ADJ[adj[i]][0] in "aeiou" else "A",
                A=_PAPER_ADJ[adj[i]].capitalize(),
                n=_PAPER_NOUN[noun[i]],
                t=t,
                T=t.capitalize(),
                t2=_PAPER_TOPICS[t2[i]],
            )
        )
    return out


def fields(rng: np.random.Generator, n: int) -> list[str]:
    """Research fields."""
    return pick(rng, _FIELDS, n)


def topics(rng: np.random.Generator, n: int) -> list[str]:
    """Paper subjects."""
    return pick(rng, _PAPER_TOPICS, n)


def variant_first_name(rng: np.random.Generator, name: str) -> str:
    """A different first name with the same initial (a confusable look-alike)."""
    same = [f for f in FIRST_NAMES if f[0] == name[0] and f != name]
    return same[int(rng.integers(0, len(same)))] if same else name
