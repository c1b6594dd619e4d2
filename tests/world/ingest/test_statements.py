"""Fact-statement detection (``_statements``, ``_spans``, ``_cues``, ``_literals``, ``_demonyms``).

Most sentences are quoted from English Wikipedia lead summaries in the shared real sample
(Wikipedia contributors, CC BY-SA 4.0; the articles named by each test's page title), so each
rule is checked against the text it was written for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.world import Fact
from redsearcher.world.ingest import _statements
from redsearcher.world.ingest._cues import attributed, find_cues
from redsearcher.world.ingest._demonyms import states_citizenship
from redsearcher.world.ingest._literals import (
    date_patterns,
    find_date,
    find_quantity,
    qualifiers_agree,
)
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._spans import (
    embedded,
    find_names,
    name_phrases,
    sentences,
    usable_name,
)
from redsearcher.world.ingest._statements import (
    LinkedEntity,
    candidates,
    detect,
    page_statements,
)

ARNOLD, AUSTRIA, THAL, USA, CALIFORNIA = "Q2685", "Q40", "Q1", "Q30", "Q99"


def rel(subject: str, predicate: str, obj: str, fid: int = 1, **qualifiers: str) -> Fact:
    return Fact.relation(fid, subject, predicate, obj, qualifiers or None)


def date(subject: str, predicate: str, iso: str, precision: int, fid: int = 1) -> Fact:
    return Fact(fid, subject, predicate, "date", date=iso, date_precision=precision)


def amount(
    subject: str, predicate: str, value: float, unit: str | None = None, fid: int = 1, **q: str
) -> Fact:
    qualifiers = Fact._q(dict(q)) if q else None
    return Fact(fid, subject, predicate, "quantity", amount=value, unit=unit, qualifiers=qualifiers)


def stated(
    text: str,
    fact: Fact,
    names: dict[str, tuple[str, ...]],
    about: str | None,
    linked: tuple[LinkedEntity, ...] = (),
) -> bool:
    return bool(detect(text, about, linked, [fact], names))


NAMES = {
    ARNOLD: ("Arnold Schwarzenegger", "Arnie"),
    AUSTRIA: ("Austria", "Republic of Austria"),
    THAL: ("Thal",),
    USA: ("United States of America", "the United States", "US", "USA"),
    CALIFORNIA: ("California",),
}


# -- sentences -------------------------------------------------------------------------------
def test_sentences_skip_abbreviations_and_initials() -> None:
    text = (
        "J. R. R. Tolkien was an English writer. He taught at St. Anne's in the U.S. Army "
        "era. Mr. Smith left.\nA new line starts a sentence"
    )
    parts = [text[s:e].strip() for s, e in sentences(text)]
    assert parts == [
        "J. R. R. Tolkien was an English writer.",
        "He taught at St. Anne's in the U.S. Army era.",
        "Mr. Smith left.",
        "A new line starts a sentence",
    ]


def test_a_fact_is_stated_within_one_sentence_only() -> None:
    fact = rel(ARNOLD, "born_in", THAL)
    assert stated("He was born in Thal.", fact, NAMES, ARNOLD)
    assert not stated("He was born. Thal is a village.", fact, NAMES, ARNOLD)


# -- names -----------------------------------------------------------------------------------
def test_usable_names() -> None:
    assert usable_name("US") and usable_name("Arnie") and usable_name("Thal")
    assert not usable_name("us")  # two letters only as a capitalised acronym
    assert not usable_name("The") and not usable_name("may")  # common words
    assert not usable_name("1984") and not usable_name("🇨🇳")  # no letter
    assert not usable_name("") and not usable_name("ab")


def test_short_aliases_are_case_sensitive() -> None:
    fact = rel(ARNOLD, "citizen_of", USA)
    assert stated("He became a naturalized citizen of the US in 1983.", fact, NAMES, ARNOLD)
    assert not stated("He became a naturalized citizen and told us so.", fact, NAMES, ARNOLD)


def test_part_of_a_longer_name_is_not_a_name() -> None:
    text = "Schwarzenegger served as the 38th Governor of California from 2003 to 2011."
    start = text.index("California")
    assert embedded(text, start, start + len("California"))
    for text, word in [
        ("He studied at the University of California.", "California"),
        ("He was born in East Germany.", "Germany"),
        ("It was part of Austria-Hungary.", "Austria"),
        ("The California State University system.", "California"),
    ]:
        start = text.index(word)
        assert embedded(text, start, start + len(word)), text
    for text, word in [("In California he won.", "California"), ("in Thal, Austria.", "Austria")]:
        start = text.index(word)
        assert not embedded(text, start, start + len(word)), text
    fact = rel(ARNOLD, "located_in", CALIFORNIA)
    assert not stated("He lived in Governor of California.", fact, NAMES, ARNOLD)


def test_longest_name_wins_and_ambiguous_names_are_dropped() -> None:
    names = {"A": ("United States of America", "United States"), "B": ("States",)}
    spans = find_names("Born in the United States of America.", names, {}, None)
    assert [(s.entity, s.end - s.start) for s in spans] == [("A", 24)]
    names = {"GA": ("Georgia",), "GE": ("Georgia",)}
    assert find_names("He lived in Georgia.", names, {}, None) == []  # which Georgia?
    spans = find_names("He lived in Georgia.", names, {}, "GE")  # the page's own entity wins
    assert [s.entity for s in spans] == ["GE"]


def test_anchor_texts_name_their_link_target_first() -> None:
    names = {"GA": ("Georgia",), "GE": ("Georgia",)}
    spans = find_names("He lived in Georgia.", names, {"GA": ("Georgia",)}, None)
    assert [s.entity for s in spans] == ["GA"]
    # An anchor names its target even when it is no label or alias (nor usable as one).
    fact = rel(ARNOLD, "award_received", "Q5")
    linked = (LinkedEntity("Q5", ("the title",)),)
    assert stated("He won the title at age 20.", fact, {ARNOLD: NAMES[ARNOLD]}, ARNOLD, linked)


def test_surnames_refer_back_to_a_full_name() -> None:
    # Singin' in the Rain
    text = (
        "Singin' in the Rain is a 1952 American musical romantic comedy film directed and "
        "choreographed by Gene Kelly and Stanley Donen, starring Kelly, Donald O'Connor and "
        "Debbie Reynolds."
    )
    names = {"F": ("Singin' in the Rain",), "K": ("Gene Kelly",), "D": ("Stanley Donen",)}
    assert stated(text, rel("F", "cast_member", "K"), names, "F")
    assert stated(text, rel("F", "director", "D"), names, "F")
    assert stated(text, rel("F", "director", "K"), names, "F")
    assert not stated(text, rel("F", "cast_member", "D"), names, "F")
    # no surname before the full name, and never the page entity's own surname
    assert not stated("Kelly starred. Gene Kelly left.", rel("F", "cast_member", "K"), names, "F")
    names = {"I": ("Indira Gandhi",), "R": ("Rajiv Gandhi",)}
    text = "She was the mother of Rajiv Gandhi. Gandhi was married to Feroze."
    assert not stated(text, rel("I", "spouse", "R"), names, "I")


# -- cue words -------------------------------------------------------------------------------
def test_the_nearest_cue_decides_between_relations_to_the_same_object() -> None:
    # Born in Thal, Austria: a birth, not (by itself) a citizenship.
    text = "Born in Thal, Austria, Schwarzenegger began lifting weights at age 15."
    assert stated(text, rel(ARNOLD, "born_in", AUSTRIA), NAMES, ARNOLD)
    assert not stated(text, rel(ARNOLD, "citizen_of", AUSTRIA), NAMES, ARNOLD)
    names = {"X": ("Xaver",), "V": ("Vienna",), "P": ("Paris",)}
    text = "Xaver was born in Vienna and died in Paris."
    assert stated(text, rel("X", "died_in", "P"), names, "X")
    assert not stated(text, rel("X", "died_in", "V"), names, "X")


def test_no_cue_no_statement() -> None:
    # Austria names Arnold without saying anything about his citizenship.
    text = "Famous Austrians include Arnold Schwarzenegger and Mozart."
    assert not stated(text, rel(ARNOLD, "citizen_of", AUSTRIA), NAMES, AUSTRIA)
    assert not stated("Thal and Austria.", rel(ARNOLD, "born_in", THAL), NAMES, ARNOLD)


def test_page_about_the_object_needs_the_sentence_to_say_it() -> None:
    text = "It is the birthplace of Arnold Schwarzenegger."  # on Thal's page
    assert stated(text, rel(ARNOLD, "born_in", THAL), NAMES, THAL)
    text = "Arnold Schwarzenegger visited it in 2004."
    assert not stated(text, rel(ARNOLD, "born_in", THAL), NAMES, THAL)


def test_cue_after_the_value_counts_only_in_the_same_clause() -> None:
    text = "He married Maria Shriver, whom he divorced."
    cues = find_cues(text, 0, len(text))
    start = text.index("Maria")
    assert attributed(text, cues, start, start + len("Maria Shriver")) == {"spouse"}
    text = "Vienna, where he died"
    cues = find_cues(text, 0, len(text))
    assert attributed(text, cues, 0, 6) == set()


def test_coordinated_cues_share_the_value() -> None:
    # Citizen Kane
    text = (
        "Citizen Kane is a 1941 American drama film directed, produced by, and starring "
        "Orson Welles and co-written by Welles and Herman J. Mankiewicz."
    )
    names = {"C": ("Citizen Kane",), "W": ("Orson Welles",)}
    for predicate in ("director", "producer", "cast_member", "screenwriter"):
        assert stated(text, rel("C", predicate, "W"), names, "C"), predicate
    # Baghdad: the capital of Iraq, and in Iraq
    text = "Baghdad is the capital and largest city in Iraq."
    names = {"B": ("Baghdad",), "I": ("Iraq",)}
    assert stated(text, rel("I", "capital", "B"), names, "B")
    assert stated(text, rel("B", "located_in", "I"), names, "B")


def test_a_cue_inside_a_longer_cue_does_not_count() -> None:
    text = "The film was directed by James Cameron."
    assert {c.predicate for c in find_cues(text, 0, len(text))} == {"director"}


def test_no_relation_cues_block_a_nearby_name() -> None:
    # Hudson Bay
    text = "It is located north of Ontario, west of Quebec."
    names = {"H": ("Hudson Bay",), "Q": ("Quebec",), "O": ("Ontario",)}
    assert not stated(text, rel("H", "located_in", "Q"), names, "H")
    assert not stated(text, rel("H", "located_in", "O"), names, "H")


def test_a_linked_subject_must_be_named_in_the_sentence() -> None:
    names = {"A": ("Adams",), "C": ("Cambridge",), "U": ("United Kingdom",)}
    linked = (LinkedEntity("C"), LinkedEntity("U"))
    fact = rel("C", "located_in", "U")
    assert stated("Cambridge is a city in the United Kingdom.", fact, names, "A", linked)
    assert not stated("He lived in the United Kingdom.", fact, names, "A", linked)
    fact = amount("C", "population", 145700)
    assert stated("Cambridge has a population of 145,700.", fact, names, "A", linked)
    assert not stated("It has a population of 145,700.", fact, names, "A", linked)
    # an entity neither the page's nor linked states nothing
    assert not stated("Cambridge is a city in the United Kingdom.", fact, names, "A")


# -- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "iso", "precision", "expected"),
    [
        ("born on 30 July 1947", "1947-07-30", 11, True),
        ("born on July 30, 1947", "1947-07-30", 11, True),
        ("born on 30th July 1947", "1947-07-30", 11, True),
        ("born 1947-07-30", "1947-07-30", 11, True),
        ("born in July 1947", "1947-07-30", 11, False),  # day precision needs the day
        ("born in 1947", "1947-07-30", 11, False),
        ("born on 3 July 1947", "1947-07-30", 11, False),
        ("born in July 1947", "1947-07", 10, True),
        ("born on 30 July 1947", "1947-07", 10, True),
        ("born in 1947", "1947-07", 10, False),
        ("born in 1947", "1947", 9, True),
        ("born on 30 July 1947", "1947", 9, True),
        ("born in the 1940s", "1947", 9, False),
        ("born with 1,947 others", "1947", 9, False),
        ("born in the 1940s", "1940", 8, True),
        ("born in 490 BC", "-0490", 9, True),
        ("born in 490", "-0490", 9, False),
        ("born in 900 AD", "0900", 9, True),
        ("born in the 20th century", "1901", 7, False),  # centuries are never matched
    ],
)
def test_dates_at_their_precision(text: str, iso: str, precision: int, expected: bool) -> None:
    fact = date("P", "date_of_birth", iso, precision)
    assert bool(find_date(text, fact, 0, len(text))) is expected
    assert stated(text + ".", fact, {"P": ("Person",)}, "P") is expected


def test_date_patterns_for_coarse_precisions_are_empty() -> None:
    assert date_patterns("1901", 7) == [] and date_patterns("not a date", 9) == []


def test_date_cues() -> None:
    # The Beatles; The Terminator (attributive year); Austria-Hungary (year only on the page)
    beatles = date("B", "inception", "1960", 9)
    text = "The Beatles were an English rock band formed in Liverpool in 1960."
    assert stated(text, beatles, {"B": ("The Beatles",)}, "B")
    film = date("T", "publication_date", "1984", 9)
    text = "The Terminator is a 1984 American science fiction film directed by James Cameron."
    assert stated(text, film, {"T": ("The Terminator",)}, "T")
    text = "He won the title in 1984."
    assert not stated(text, film, {"T": ("The Terminator",)}, "T")
    day = date("AH", "inception", "1867-03-01", 11)
    text = "It was formed by the Compromise of 1867."
    assert not stated(text, day, {"AH": ("Austria-Hungary",)}, "AH")


def test_lifespan_parenthesis_of_the_first_sentence() -> None:
    text = "Douglas Noël Adams (11 March 1952 – 11 May 2001) was an English author."
    names = {"D": ("Douglas Adams",)}
    assert stated(text, date("D", "date_of_birth", "1952-03-11", 11), names, "D")
    assert stated(text, date("D", "date_of_death", "2001-05-11", 11), names, "D")
    assert not stated(text, date("D", "date_of_death", "1952-03-11", 11), names, "D")
    later = "He wrote. Adams (11 March 1952 – 11 May 2001) was English."
    assert not stated(later, date("D", "date_of_birth", "1952-03-11", 11), names, "D")


# -- quantities ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "unit", "expected"),
    [
        ("a population of 145,700", 145700, None, True),
        ("a population of 145700", 145700, None, True),
        ("a population of 145,701", 145700, None, False),
        ("a population of 3.2 million", 3_200_000, None, True),
        ("a population of 3.2 million", 3_240_000, None, True),
        ("a population of 3.2 million", 3_260_000, None, False),
        ("nearly 1.1 million inhabitants", 1_081_701, None, True),  # Cologne
        ("over 1.1 million inhabitants", 1_014_825, None, False),  # Islamabad
        ("over 4 million inhabitants", 3_864_170, None, False),  # Panama
        ("about 160,000 people", 159_914, None, True),
        ("about 100,000 people", 137_000, None, False),  # rounding is never looser than 5%
        ("a population of 13,245,000", 3245, None, False),
        ("in 1990 the population", 1990, None, False),  # a year, not an amount
        ("1990 inhabitants", 1990, None, True),
        ("about 40,000 km²", 40_000, "Q712226", True),
        ("about 40,000 square kilometres", 40_120, "Q712226", True),
        ("about 40,000 people", 40_000, "Q712226", False),  # the unit is missing
        ("about 40 % of people", 40, None, False),  # a unitless count is not a share
        ("runs 109 minutes", 109, "Q7727", True),
        ("costs $25 million", 25_000_000, "Q4917", True),
        ("weighs 5 kg", 5, "Q11570", True),
        ("is 5 long", 5, "Q999999", False),  # a unit no table names
    ],
)
def test_quantities_rounded_as_written(
    text: str, value: float, unit: str | None, expected: bool
) -> None:
    fact = amount("C", "population", value, unit)
    assert bool(find_quantity(text, fact, 0, len(text))) is expected


def test_quantity_needs_its_cue() -> None:
    names = {"C": ("Cologne",)}
    fact = amount("C", "population", 1_081_701)
    text = "Cologne is the largest city with nearly 1.1 million inhabitants."
    assert stated(text, fact, names, "C")
    assert not stated("Cologne has nearly 1.1 million books.", fact, names, "C")
    students = amount("C", "students_count", 1_081_701)
    assert not stated(text, students, names, "C")


# -- qualifiers ------------------------------------------------------------------------------
def test_qualifiers_are_respected() -> None:
    pop = amount("C", "population", 38_000, point_in_time="2020")
    text = "It had a population of 38,000 in 2019."
    assert not qualifiers_agree(pop, text, 0, len(text))
    assert not stated(text, pop, {"C": ("Monaco",)}, "C")
    text = "It had a population of 38,000 in 2020."
    assert stated(text, pop, {"C": ("Monaco",)}, "C")
    assert stated("It had a population of 38,000.", pop, {"C": ("Monaco",)}, "C")
    marriage = rel("A", "spouse", "M", start_time="1986", end_time="2011")
    names = {"A": ("Arnold",), "M": ("Maria Shriver",)}
    assert stated("He married Maria Shriver in 1986.", marriage, names, "A")
    assert stated("In 1990 he was married to Maria Shriver.", marriage, names, "A")
    assert not stated("In 1980 he married Maria Shriver.", marriage, names, "A")


# -- citizenship by nationality adjective ------------------------------------------------------
def test_nationality_adjectives_state_citizenship() -> None:
    merkel = "Angela Dorothea Merkel is a German stateswoman and retired politician."
    assert states_citizenship("Q183", merkel, first=True)
    assert not states_citizenship("Q183", merkel, first=False)  # not a defining sentence
    wyler = "William Wyler was a German-born American film director."
    assert states_citizenship("Q30", wyler, first=True)
    assert not states_citizenship("Q183", wyler, first=True)  # born there, not a national
    assert states_citizenship("Q40", "He is an Austrian-American actor.", first=False)
    assert not states_citizenship("Q183", "She was an East German athlete.", first=True)
    assert states_citizenship("Q16957", "She was an East German athlete.", first=True)
    assert not states_citizenship("Q183", "His father was a German engineer.", first=False)
    names = {"M": ("Angela Merkel",), "Q183": ("Germany",)}
    assert stated(merkel, rel("M", "citizen_of", "Q183"), names, "M")


def test_a_national_office_in_the_defining_clause_states_citizenship() -> None:
    names = {"O": ("Barack Obama",), USA: ("United States",), "Q142": ("France",)}
    obama = (
        "Barack Obama is an American former politician who served as the 44th president "
        "of the United States from 2009 to 2017."
    )
    assert stated(obama, rel("O", "citizen_of", USA), names, "O")
    later = "Obama was born in Honolulu. He was the 44th president of the United States."
    assert stated(later, rel("O", "citizen_of", USA), names, "O")  # his own clause
    # (a capitalised "President of the United States" is one name: the country is not named)
    # someone else's office, or one outside the subject's defining clause, says nothing
    met = "Barack Obama is a lawyer who met the president of France in 2009."
    assert not stated(met, rel("O", "citizen_of", "Q142"), names, "O")
    met_as = "Barack Obama was the host of the president of France in 2009."
    assert not stated(met_as, rel("O", "citizen_of", "Q142"), names, "O")
    visit = "Obama was born in Honolulu. The king of France visited him."
    assert not stated(visit, rel("O", "citizen_of", "Q142"), names, "O")
    # the office's country is the page subject's, not the object's page about it
    assert not stated(obama, rel("O", "citizen_of", USA), names, USA)


# -- the seam with the scratch store ---------------------------------------------------------
def test_page_statements_use_neighbours_both_ways_and_veto_borrowed_aliases(
    tmp_path: Path,
) -> None:
    with Scratch(tmp_path, "t") as scratch:
        scratch.add_entities(
            [
                ("Q145", "United Kingdom", ("Great Britain", "UK"), None),
                ("Q23666", "Great Britain", (), None),
                ("Q22", "Scotland", (), None),
                ("Q1", "Edinburgh", (), None),
                ("Q9", "Lonely", (), None),
            ]
        )
        scratch.add_raw_facts(
            [
                rel("Q22", "located_in", "Q145"),
                rel("Q1", "located_in", "Q22"),
                rel("Q9", "located_in", "Q145"),
            ]
        )
        scratch.finalize_facts([])
        facts, names = candidates(scratch, "", "Q22", [])
        assert sorted(f.id for f in facts) == [1, 2]  # Scotland's own fact and Edinburgh's
        assert names["Q145"] == ("United Kingdom", "UK")  # "Great Britain" is the island's
        assert "Q9" not in names  # not a neighbour of the page's entity
        text = "Scotland is part of the United Kingdom. Edinburgh is a city in Scotland."
        assert page_statements(scratch, text, "Q22", []) == [1, 2]
        text = "Scotland covers the north of the island of Great Britain."
        assert page_statements(scratch, text, "Q22", []) == []
        assert page_statements(scratch, text, None, []) == []
        assert scratch.facts_to(["Q145"]) == [f for f in facts if f.object == "Q145"] + [
            rel("Q9", "located_in", "Q145", 3)
        ]
        assert scratch.label_owners(["Great Britain", "Nowhere"]) == {"Great Britain": {"Q23666"}}


def test_strings_verbatim_and_single_words_need_a_cue() -> None:
    names = {"M": ("British Museum",), "K": ("Kharkiv",)}
    address = Fact(1, "M", "address", "string", string="Great Russell Street, London")
    assert stated("The museum is on Great Russell Street, London, since 1759.", address, names, "M")
    assert not stated("The museum is on Great Russell Street.", address, names, "M")
    # Kharkiv: "Kharkov" is only the Russian form of the name, no official language
    language = Fact(2, "K", "official_language", "string", string="Russian")
    assert not stated("Kharkov is the Russian form of the name.", language, names, "K")


def test_a_container_phrase_before_a_name_is_not_the_reverse_relation() -> None:
    # Ancient Rome's page: "the city of Rome" does not say Rome lies in Ancient Rome
    names = {"AR": ("Ancient Rome",), "R": ("Rome",)}
    text = "Ancient Rome is the civilisation from the founding of the city of Rome onwards."
    assert not stated(text, rel("R", "located_in", "AR"), names, "AR")
    # Russia's page: "Saint Petersburg is its second-largest city" does
    names = {"RU": ("Russia",), "SP": ("Saint Petersburg",)}
    text = "Moscow is the capital and largest city of Russia, while Saint Petersburg is its second-largest city."
    assert stated(text, rel("SP", "located_in", "RU"), names, "RU")


def test_name_phrases() -> None:
    phrases = name_phrases("He was Governor of California, and met the Dalai Lama. Then Paris.")
    assert {"Governor of California", "Governor", "California", "Dalai Lama", "Then Paris"} <= (
        phrases
    )
    assert "California and" not in phrases and "of California" not in phrases


def test_a_hubs_incoming_facts_come_only_from_entities_the_page_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_statements, "HUB_INCOMING", 1)
    with Scratch(tmp_path, "t") as scratch:
        scratch.add_entities(
            [
                ("Q40", "Austria", (), None),
                ("Q1", "Arnold Schwarzenegger", ("Arnie",), None),
                ("Q2", "Wolfgang Amadeus Mozart", (), None),
                ("Q3", "Nobody Here", (), None),
            ]
        )
        scratch.add_raw_facts([rel(f"Q{i}", "born_in", "Q40") for i in (1, 2, 3)])
        scratch.finalize_facts([])
        assert scratch.count_to("Q40") == 3
        text = "Austria is the birthplace of Arnold Schwarzenegger and of Wolfgang Amadeus Mozart."
        facts, names = candidates(scratch, text, "Q40", [])
        assert [f.subject for f in facts] == ["Q1", "Q2"]  # not Q3: the page never names it
        assert "Q3" not in names
        assert page_statements(scratch, text, "Q40", []) == [1, 2]


# -- occupations, demonyms, capitals and founding cues (issue 12, text-only recall) ----------
def string(subject: str, predicate: str, value: str, fid: int = 1) -> Fact:
    return Fact(fid, subject, predicate, "string", string=value)


def test_occupations_as_nouns_of_the_defining_clause() -> None:
    # James Watt; Greta Garbo; Ingmar Bergman; Isaac Asimov (sample lead summaries)
    watt = "James Watt was a Scottish inventor, engineer and chemist who improved on the engine."
    names = {"W": ("James Watt",)}
    for job in ("inventor", "engineer", "chemist"):
        assert stated(watt, string("W", "occupation", job), names, "W")
    garbo = "Greta Garbo was a Swedish and American film actress. She was a leading star."
    assert stated(garbo, string("G", "occupation", "actor"), {"G": ("Greta Garbo",)}, "G")
    bergman = "Ernst Ingmar Bergman was a Swedish film and theatre director and screenwriter."
    names = {"B": ("Ingmar Bergman",)}
    assert stated(bergman, string("B", "occupation", "screenwriter"), names, "B")
    assert not stated(bergman, string("B", "occupation", "writer"), names, "B")  # a part
    # after the defining clause ("professor of biochemistry at") and outside it: no
    asimov = "Isaac Asimov was an American writer and professor of biochemistry at Boston."
    names = {"A": ("Isaac Asimov",)}
    assert stated(asimov, string("A", "occupation", "writer"), names, "A")
    assert not stated(asimov, string("A", "occupation", "biochemist"), names, "A")
    later = "Isaac Asimov was an American writer. Many called him a great teacher."
    assert not stated(later, string("A", "occupation", "teacher"), names, "A")
    who = "Isaac Asimov was an American writer who worked as a teacher."
    assert not stated(who, string("A", "occupation", "teacher"), names, "A")
    # another page's subject is not defined by this page
    assert not stated(watt, string("W", "occupation", "inventor"), {"W": ("James Watt",)}, "X")


def test_demonyms_in_the_plural_or_before_people() -> None:
    # Gujarat; Botswana; Monaco; Netherlands; Stuttgart; Philippines (sample lead summaries)
    gujarat = "The Gujaratis are indigenous to the state, and their language, Gujarati, is spoken."
    assert stated(gujarat, string("G", "demonym", "Gujarati"), {"G": ("Gujarat",)}, "G")
    botswana = "Botswana is de facto the nation state of the Batswana people."
    assert stated(botswana, string("B", "demonym", "Batswana"), {"B": ("Botswana",)}, "B")
    monaco = "Fewer than 10,000 of its residents are Monégasque nationals."
    assert stated(monaco, string("M", "demonym", "Monégasque"), {"M": ("Monaco",)}, "M")
    # the bare singular is an adjective, a language or part of a name
    dutch = "The official language is Dutch, with West Frisian as a secondary language."
    assert not stated(dutch, string("N", "demonym", "Dutch"), {"N": ("Netherlands",)}, "N")
    kessel = "It is located in a fertile valley known as the Stuttgarter Kessel."
    names = {"S": ("Stuttgart",)}
    assert not stated(kessel, string("S", "demonym", "Stuttgarter"), names, "S")
    lao = "Laos, officially the Lao People's Democratic Republic, is a country."
    assert not stated(lao, string("L", "demonym", "Lao"), {"L": ("Laos",)}, "L")
    philippines = "The Philippines is an archipelagic country in Southeast Asia."
    names = {"P": ("Philippines",)}
    assert not stated(philippines, string("P", "demonym", "Philippine"), names, "P")


def test_capital_of_is_stated_like_capital() -> None:
    # Ankara; Afghanistan (the page about the object)
    names = {"A": ("Ankara",), "T": ("Turkey",), "K": ("Kabul",), "F": ("Afghanistan",)}
    text = "Ankara is the capital city of Turkey. Located in the central part of Anatolia."
    assert stated(text, rel("A", "capital_of", "T"), names, "A")
    text = "Kabul is the country's capital and largest city. Afghanistan is landlocked."
    assert stated(text, rel("K", "capital_of", "F"), names, "F")
    text = "Ankara is the second-largest city of Turkey."
    assert not stated(text, rel("A", "capital_of", "T"), names, "A")


def test_founding_dates_after_a_founder_or_a_span() -> None:
    # Brasília; Yugoslavia; North American Free Trade Agreement; Musée d'Orsay
    text = "It was founded by President Juscelino Kubitschek on 21 April 1960, to replace Rio."
    assert stated(text, date("B", "inception", "1960-04-21", 11), {"B": ("Brasília",)}, "B")
    text = "Yugoslavia was a country in Central Europe that existed from 1918 to 1992."
    names = {"Y": ("Yugoslavia",)}
    assert stated(text, date("Y", "inception", "1918", 9), names, "Y")
    assert not stated(text, date("Y", "date_of_birth", "1918", 9), names, "Y")
    text = "The agreement came into force on January 1, 1994, and superseded the 1988 one."
    names = {"N": ("NAFTA",)}
    assert stated(text, date("N", "inception", "1994-01-01", 11), names, "N")
    text = "Works were held at the Jeu de Paume prior to the museum's opening in 1986."
    assert stated(text, date("O", "inception", "1986", 9), {"O": ("Musée d'Orsay",)}, "O")
    # the founder's cue does not date anything else
    text = "It was founded by Juscelino Kubitschek, who was born in 1902."
    assert not stated(text, date("B", "inception", "1902", 9), {"B": ("Brasília",)}, "B")
