from __future__ import annotations

import pytest

from redsearcher.eval import exact_match, normalize_answer


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Quiet Harbor!", "quiet harbor"),
        ("  A   tale  of Two Cities ", "tale of two cities"),
        ("U.S.A.", "usa"),
        ("It's", "its"),
        ("Paris, France", "paris france"),
        ("Saint-Étienne", "saint étienne"),
        ("ＡＢＣ　１２３", "abc 123"),  # full-width forms (NFKC)
        ("ﬁnal", "final"),  # ligature (NFKC)
        ("1,000 km", "1000 km"),
        ("1,234,567", "1234567"),
        ("3.50", "3.5"),
        ("+2.0", "2"),
        ("-0.0", "0"),
        ("$1,500.00", "1500"),
        ("2,3", "2 3"),  # not a thousands group: a list
        ("v2.0", "v20"),  # a version string, not a number
        ("北京，中国", "北京 中国"),
        ("the", ""),
    ],
)
def test_normalize_answer(text: str, normal: str) -> None:
    assert normalize_answer(text) == normal


def test_exact_match_uses_any_alias_and_normalization() -> None:
    assert exact_match("the quiet harbor", ["The Quiet Harbor"])
    assert exact_match("Marta Velden", ["M. Velden", "Marta Velden"])
    assert exact_match("1000", ["1,000"])
    assert exact_match("1999.0", ["1999"])
    assert not exact_match("Paris, France", ["Paris"])
    assert not exact_match("19999", ["1999"])
    assert not exact_match("", ["x"])


def test_no_prediction_or_no_answers_never_match() -> None:
    assert not exact_match(None, ["x"])
    assert not exact_match("x", [])


def test_answers_that_normalize_to_nothing_still_match_themselves() -> None:
    assert exact_match(" — ", ["—"])
    assert not exact_match("-", ["—"])
