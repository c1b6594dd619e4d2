"""BM25 over a page's passages: a hand-computed reference, properties, and bm25s when present."""

from __future__ import annotations

import math

import pytest

from redsearcher.tools._bm25 import BM25, STOPWORDS, stem, tokenize

# Three documents, lengths 3, 2, 4: avgdl = 3, N = 3.
DOCS = [["cat", "sat", "mat"], ["dog", "sat"], ["cat", "cat", "dog", "ran"]]
# df(cat) = df(sat) = df(dog) = 2, so idf = ln(1 + (3 - 2 + 0.5) / (2 + 0.5)) = ln(1.6).
IDF2 = math.log(1.6)
# df(mat) = df(ran) = 1: idf = ln(1 + 2.5 / 1.5) = ln(8 / 3).
IDF1 = math.log(8 / 3)


def test_hand_computed_scores() -> None:
    bm25 = BM25(DOCS, k1=1.5, b=0.75)
    assert bm25.avgdl == 3.0
    assert bm25.idf("cat") == pytest.approx(IDF2)
    assert bm25.idf("mat") == pytest.approx(IDF1)
    # "cat": d0 tf=1, |d|=3: 1 * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 3/3)) = 2.5 / 2.5 = 1
    #        d2 tf=2, |d|=4: 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 4/3)) = 5 / 3.875
    assert bm25.scores(["cat"]) == pytest.approx([IDF2 * 1.0, 0.0, IDF2 * 5 / 3.875])
    # "sat dog": d1 has both, |d|=2: each 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2/3)) = 2.5 / 2.125
    #            d0 has sat (tf 1, |d|=3) -> 1; d2 has dog (tf 1, |d|=4) -> 2.5 / 2.875
    expected = [IDF2 * 1.0, 2 * IDF2 * 2.5 / 2.125, IDF2 * 2.5 / 2.875]
    assert bm25.scores(["sat", "dog"]) == pytest.approx(expected)
    # a rare term outweighs a common one: "mat" (df 1) in d0
    assert bm25.scores(["mat"]) == pytest.approx([IDF1 * 1.0, 0.0, 0.0])


def test_parameters_change_scores_as_documented() -> None:
    # b = 0: no length normalization, so tf=1 scores idf * (k1 + 1) / (1 + k1) = idf everywhere
    flat = BM25(DOCS, k1=1.5, b=0.0)
    assert flat.scores(["sat", "dog"]) == pytest.approx([IDF2, 2 * IDF2, IDF2])
    # k1 = 0: term frequency saturates at once; every matching term contributes exactly idf
    binary = BM25(DOCS, k1=0.0, b=0.75)
    assert binary.scores(["cat"]) == pytest.approx([IDF2, 0.0, IDF2])


def test_query_terms_count_once_and_unknown_terms_score_zero() -> None:
    bm25 = BM25(DOCS)
    assert bm25.scores(["cat", "cat"]) == bm25.scores(["cat"])
    assert bm25.scores(["unicorn"]) == [0.0, 0.0, 0.0]
    assert bm25.scores([]) == [0.0, 0.0, 0.0]


def test_top_orders_by_score_then_position() -> None:
    bm25 = BM25(DOCS)
    assert bm25.top(["cat"], 2) == [2, 0]
    assert bm25.top(["unicorn"], 2) == [0, 1]  # all tie at 0: document order
    assert bm25.top(["cat"], 0) == []


def test_idf_is_never_negative() -> None:
    # a term in every document keeps a small positive weight (Lucene's variant)
    bm25 = BM25([["x", "a"], ["x", "b"], ["x"]])
    assert bm25.idf("x") == pytest.approx(math.log(1 + 0.5 / 3.5))
    assert bm25.idf("x") > 0


def test_empty_collections() -> None:
    assert BM25([]).scores(["a"]) == []
    assert BM25([[], []]).scores(["a"]) == [0.0, 0.0]


def test_invalid_parameters() -> None:
    with pytest.raises(ValueError, match="k1"):
        BM25(DOCS, k1=-1)
    with pytest.raises(ValueError, match="b must be"):
        BM25(DOCS, b=1.5)


def test_tokenize() -> None:
    assert tokenize("Velden's 1990 films, directed by M. Velden!") == [
        "velden",
        "1990",
        "film",
        "direct",
        "m",
        "velden",
    ]
    assert tokenize("Ünïcode Straße", stemming=False) == ["ünïcode", "straße"]
    assert tokenize("the of", stopwords=frozenset(), stemming=False) == ["the", "of"]
    assert "not" not in STOPWORDS and "who" not in STOPWORDS


@pytest.mark.parametrize(
    ("words", "stemmed"),
    [
        ("retire retired retires retiring", "retir"),
        ("study studies studied", "studi"),
        ("film films", "film"),
        ("glass glasses", "glass"),
        ("city cities", "citi"),
        ("cast casts casting", "cast"),
    ],
)
def test_stem_conflates_inflections(words: str, stemmed: str) -> None:
    assert {stem(w) for w in words.split()} == {stemmed}


def test_stem_leaves_short_words() -> None:
    assert [stem(w) for w in ("was", "sees", "born", "1990")] == ["was", "sees", "born", "1990"]


def test_matches_bm25s_when_installed() -> None:
    bm25s = pytest.importorskip("bm25s")
    corpus = [
        "Marta Velden was born in Harwick on April 2, 1951.",
        "The Quiet Harbor is a 1990 film directed by Marta Velden.",
        "Ilse Velden and Oskar Brandt appear in The Quiet Harbor.",
        "Harwick is a city in Caldora with a population of 182,000.",
    ]
    docs = [tokenize(text) for text in corpus]
    query = tokenize("Quiet Harbor film director Velden")
    ours = BM25(docs, k1=1.5, b=0.75).scores(query)
    retriever = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    retriever.index(docs, show_progress=False)
    theirs = retriever.get_scores(query)
    # Lucene >= 8 (and bm25s "lucene") drops the constant (k1 + 1) factor of the numerator.
    assert [s / 2.5 for s in ours] == pytest.approx(list(theirs), rel=1e-5)
    assert max(ours) > 0
