"""Rule matchers: token F1 (hand-computed), containment, and GAIA's scorer rules."""

from __future__ import annotations

import pytest

from redsearcher.eval import contains_match, gaia_match, token_f1


def test_token_f1_hand_computed() -> None:
    # prediction tokens: quiet harbor town (3); gold: quiet harbor (2); overlap 2.
    # precision 2/3, recall 1 -> F1 = 2 * (2/3) / (5/3) = 0.8
    assert token_f1("The Quiet Harbor town", ["Quiet Harbor"]) == pytest.approx(0.8)
    # best over the aliases
    assert token_f1("Velden", ["Marta Velden", "Velden"]) == 1.0
    # multiset: a repeated token counts once per occurrence in both
    assert token_f1("a b b", ["b c"]) == pytest.approx(2 * 0.5 * 0.5 / 1.0)
    assert token_f1("Paris", ["London"]) == 0.0
    assert token_f1(None, ["x"]) == 0.0
    assert token_f1("x", []) == 0.0


def test_contains() -> None:
    assert contains_match("Paris, France", ["paris"])
    assert contains_match("It was 1,204 people.", ["1204"])
    assert not contains_match("Parisian", ["Paris"])
    assert not contains_match("quiet harbour", ["quiet harbor"])
    assert not contains_match(None, ["x"])
    assert contains_match("answer: —", ["—"])


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        # numbers: by value, currency / percent / thousands commas / a short unit stripped
        ("17", "17.0", True),
        ("17 km", "17", True),
        ("$1,500", "1500", True),
        ("USD 5.0", "5", True),
        ("40%", "40", True),
        ("1,000", "1,000", True),
        ("17.5", "17", False),
        ("about 17 thousand", "17", False),
        ("17 18", "17", False),
        ("seventeen", "17", False),
        # lists: comma/semicolon, same length, element-wise
        ("a, b ;c", "a,b;c", True),
        ("A,B", "a, b", True),
        ("2, 3", "2,3", True),
        ("2,3", "23", False),
        ("a, b", "a, b, c", False),
        ("1.0; banana", "1; Banana", True),
        ("b, a", "a, b", False),
        # strings: whitespace, case and punctuation do not matter
        ("Hello!", "hello", True),
        ("New  York", "new york", True),
        ("St. Louis", "St Louis", True),
        ("Newark", "New York", False),
    ],
)
def test_gaia_rules(prediction: str, gold: str, expected: bool) -> None:
    assert gaia_match(prediction, [gold]) is expected


def test_gaia_any_alias_and_no_prediction() -> None:
    assert gaia_match("NYC", ["New York", "NYC"])
    assert not gaia_match(None, ["x"])
