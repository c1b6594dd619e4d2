"""wiki-18-style word windows of a page, and the choice of the window that answers a query."""

from __future__ import annotations

import pytest

from redsearcher.server._passages import Passage, best_window, word_windows

TEXT = "Alpha beta gamma.\n\nDelta  epsilon\tzeta eta.\nTheta iota kappa lambda mu."


def test_windows_are_single_lines_of_fixed_word_counts() -> None:
    assert word_windows(TEXT, 4) == [
        "Alpha beta gamma. Delta",
        "epsilon zeta eta. Theta",
        "iota kappa lambda mu.",
    ]
    assert word_windows(TEXT, 100) == [" ".join(TEXT.split())]
    assert word_windows("", 100) == [] and word_windows(" \n\n ", 100) == []
    with pytest.raises(ValueError, match="words must be >= 1"):
        word_windows(TEXT, 0)


def test_windows_cover_the_page_in_order() -> None:
    text = " ".join(f"w{i}" for i in range(250))
    windows = word_windows(text, 100)
    assert [len(w.split()) for w in windows] == [100, 100, 50]
    assert " ".join(windows) == text


def test_best_window_is_the_one_matching_the_query() -> None:
    assert best_window(TEXT, "kappa lambda", 4) == Passage(2, "iota kappa lambda mu.")
    assert best_window(TEXT, "epsilon", 4) == Passage(1, "epsilon zeta eta. Theta")
    # Stemming and case, as the visit's ranking: "Deltas" meets "Delta".
    assert best_window(TEXT, "DELTAS", 4) == Passage(0, "Alpha beta gamma. Delta")


def test_best_window_without_a_match_or_text() -> None:
    assert best_window(TEXT, "nothing here", 4) == Passage(0, "Alpha beta gamma. Delta")
    assert best_window(TEXT, "", 4).index == 0
    assert best_window("", "alpha", 4) == Passage(0, "")
    assert best_window("one two", "two", 100) == Passage(0, "one two")


def test_ties_go_to_the_earliest_window() -> None:
    text = "red fish blue fish red fish blue fish"
    assert best_window(text, "fish", 4) == Passage(0, "red fish blue fish")
