"""Every judge parser on recorded-style outputs: the drift it must accept, the junk it must refuse."""

from __future__ import annotations

import pytest

from redsearcher.eval import (
    JudgeParseError,
    parse_ab,
    parse_browsecomp,
    parse_confidence,
    parse_final_answer,
    parse_xbench,
)

# -- BrowseComp ------------------------------------------------------------------------------

BC_CLEAN = """extracted_final_answer: Marta Velden

reasoning: The response names Marta Velden, which is the same person as the correct answer; \
there is no meaningful difference.

correct: yes

confidence: 85%"""

BC_BOLD = """**extracted_final_answer:** 1,204

**reasoning:** The reference is 1204 people; the response gives 1,204, the same number.

**correct:** Yes

**confidence:** 90 %"""

BC_SPACED_CASE = """Extracted_Final_Answer :  The Quiet Harbor
Reasoning : The response says "The Quiet Harbor" but the answer is "Quiet Bay".
It is a different place.
CORRECT :   NO.
Confidence : 0.4"""

BC_FULLWIDTH = "extracted_final_answer：北京\nreasoning：一致\ncorrect：yes\nconfidence：100%"


@pytest.mark.parametrize(
    ("text", "correct", "answer", "confidence"),
    [
        (BC_CLEAN, True, "Marta Velden", 0.85),
        (BC_BOLD, True, "1,204", 0.9),
        (BC_SPACED_CASE, False, "The Quiet Harbor", 0.4),
        (BC_FULLWIDTH, True, "北京", 1.0),
    ],
)
def test_browsecomp_reads_the_grader_format_and_its_drift(
    text: str, correct: bool, answer: str, confidence: float
) -> None:
    parsed = parse_browsecomp(text)
    assert parsed.correct is correct
    assert parsed.extracted_answer == answer
    assert parsed.confidence == pytest.approx(confidence)


def test_browsecomp_keeps_a_multi_line_reasoning_whole() -> None:
    parsed = parse_browsecomp(BC_SPACED_CASE)
    assert parsed.reasoning is not None and parsed.reasoning.endswith("It is a different place.")


@pytest.mark.parametrize("text", ["correct: yes", "correct: yes\n", "  correct: yes  "])
def test_browsecomp_the_bare_correct_yes_shape_is_correct(text: str) -> None:
    """A public grader compares the match "correct: yes" with "yes" and scores this 0."""
    parsed = parse_browsecomp(text)
    assert parsed.correct is True
    assert parsed.extracted_answer is None and parsed.confidence is None


def test_browsecomp_none_extracted_answer_and_label_inside_reasoning() -> None:
    text = (
        "extracted_final_answer: None\n"
        "reasoning: the response never commits; a line saying correct: yes would be wrong\n"
        "correct: no\nconfidence: 100%"
    )
    parsed = parse_browsecomp(text)
    assert parsed.correct is False and parsed.extracted_answer is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no 'correct:' line"),
        ("The answer looks right to me.", "no 'correct:' line"),
        ("extracted_final_answer: X\nreasoning: fine\nconfidence: 80%", "no 'correct:' line"),
        ("correct: maybe\nconfidence: 50%", "not yes or no"),
        ("correct: \nconfidence: 50%", "not yes or no"),
        ("correct: yes\ncorrect: no", "disagree"),
    ],
)
def test_browsecomp_malformed_outputs_are_refused(text: str, reason: str) -> None:
    with pytest.raises(JudgeParseError, match=reason):
        parse_browsecomp(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("85%", 0.85),
        ("85", 0.85),
        ("0.85", 0.85),
        ("100%", 1.0),
        ("0%", 0.0),
        ("72 percent", 0.72),
        ("high", None),
        ("250%", None),
        (None, None),
    ],
)
def test_confidence(value: str | None, expected: float | None) -> None:
    assert parse_confidence(value) == (pytest.approx(expected) if expected is not None else None)


# -- A/B -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "correct"),
    [
        ("A", True),
        ("B", False),
        ("a", True),
        ("b.", False),
        ("A.", True),
        ("(B)", False),
        ("**A**", True),
        ("A. [CORRECT]", True),
        ("B. [INCORRECT]", False),
        ("[CORRECT]", True),
        ("[INCORRECT]", False),
        ("Answer: B", False),  # the A of "Answer" is not a choice
        ("The prediction names a different city.\nB", False),
        ("Both mention Paris, so it matches.\n\nA", True),
    ],
)
def test_ab_choices(text: str, correct: bool) -> None:
    assert parse_ab(text).correct is correct


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no A/B choice"),
        ("I cannot decide.", "no A/B choice"),
        ("A or B", "both A and B"),
        ("A. [INCORRECT]", "both A and B"),
    ],
)
def test_ab_malformed_outputs_are_refused(text: str, reason: str) -> None:
    with pytest.raises(JudgeParseError, match=reason):
        parse_ab(text)


# -- xbench ----------------------------------------------------------------------------------

XB_CLEAN = "最终答案：马尔塔·维尔登\n解释：回答中的人名与标准答案一致。\n结论：正确"
XB_BOLD_ASCII = "**最终答案**: 1998年\n**解释**: 标准答案是1999年，年份不同。\n**结论**: 错误"
XB_SPACED = "最终答案 ： 无\n解释 ： 回答没有给出明确答案\n结论 ： 错误。"


@pytest.mark.parametrize(
    ("text", "correct", "answer"),
    [(XB_CLEAN, True, "马尔塔·维尔登"), (XB_BOLD_ASCII, False, "1998年"), (XB_SPACED, False, None)],
)
def test_xbench_reads_the_chinese_grader_format(
    text: str, correct: bool, answer: str | None
) -> None:
    parsed = parse_xbench(text)
    assert parsed.correct is correct
    assert parsed.extracted_answer == answer
    assert parsed.reasoning


def test_xbench_not_correct_is_incorrect() -> None:
    assert parse_xbench("结论：不正确").correct is False


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("最终答案：北京\n解释：一致", "no '结论:' line"),
        ("结论：部分正确", "not 正确 or 错误"),
        ("结论：正确\n结论：错误", "disagree"),
        ("conclusion: correct", "no '结论:' line"),
    ],
)
def test_xbench_malformed_outputs_are_refused(text: str, reason: str) -> None:
    with pytest.raises(JudgeParseError, match=reason):
        parse_xbench(text)


# -- GAIA fallback (answer extraction) -------------------------------------------------------


def test_gaia_extraction_output() -> None:
    assert parse_final_answer("extracted_final_answer: 17 km") == "17 km"
    assert parse_final_answer("**Extracted_final_answer**: None") is None
    with pytest.raises(JudgeParseError, match="no 'extracted_final_answer:' line"):
        parse_final_answer("The answer is 17.")


def test_browsecomp_confidence_none_stays_none() -> None:
    parsed = parse_browsecomp("extracted_final_answer: X\ncorrect: no\nconfidence: None")
    assert parsed.confidence is None and parsed.correct is False
