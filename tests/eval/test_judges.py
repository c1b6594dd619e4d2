"""The judges end to end: rule judges, and LLM judges through the real client (ScriptedModel).

The LLM judges talk to :class:`~redsearcher.testing.ScriptedModel` — the package's
``OpenAIChatModel`` over a mock transport — so the request, the HTTP failure mapping and the
parsing are the production ones. Every failure must come out as an *unscored* verdict with its
reason, never as "incorrect".
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest

import redsearcher.eval
from records_support import make_trajectory
from redsearcher.errors import ConfigError
from redsearcher.eval import Judge, Verdict, make_judge, prompt_sha256
from redsearcher.log import Message, Segment, Trajectory
from redsearcher.rollout import score_trajectory
from redsearcher.testing import ScriptedModel, Step, StepError

PROMPTS = Path(redsearcher.eval.__file__).parent / "prompts"


def judged(judge: Judge, trajectory: Trajectory) -> Verdict:
    return asyncio.run(judge.judge(trajectory))


def said(trajectory: Trajectory, content: str, prediction: str | None = None) -> Trajectory:
    """``trajectory`` whose last assistant message is ``content``, with ``prediction``."""
    messages = [*trajectory.segments[0].messages[:-1]]
    messages.append(Message(role="assistant", content=content, train=True))
    segment = Segment(index=0, messages=messages, first_turn=0, end="final")
    return trajectory.model_copy(update={"segments": [segment], "prediction": prediction})


# -- rule judges -----------------------------------------------------------------------------


def test_rule_judges_give_verdicts_without_a_model() -> None:
    t = make_trajectory(
        "t1", 0, answers=["The Quiet Harbor", "Quiet Harbour"], prediction="quiet harbor town"
    )
    exact, f1, contains = (make_judge(n) for n in ("exact", "f1", "contains"))
    v = judged(exact, t)
    assert (v.judge, v.judge_version, v.model, v.correct) == (
        "exact",
        "exact-rules-v1",
        None,
        False,
    )
    assert v.trajectory_id == "t1#0" and v.task_id == "t1" and v.sample == 0
    v = judged(f1, t)
    assert v.correct is True and v.score == pytest.approx(0.8)  # 2 of 3 tokens, both gold
    assert v.judge_version == "f1-rules-v1;threshold=0.5"
    strict = make_judge("f1", threshold=0.9)
    assert judged(strict, t).correct is False and strict.version.endswith("threshold=0.9")
    assert judged(contains, t).correct is True


def test_no_answer_is_incorrect_but_error_and_no_gold_are_unscored() -> None:
    exact = make_judge("exact")
    assert judged(exact, make_trajectory(prediction=None)).correct is False
    errored = make_trajectory(termination="error", error="ModelUnavailable: down", prediction=None)
    v = judged(exact, errored)
    assert v.correct is None and v.unscored_reason == "episode error: ModelUnavailable: down"
    v = judged(exact, make_trajectory(answers=()))
    assert v.correct is None and v.unscored_reason == "no reference answer"


def test_a_judge_is_the_rollouts_scorer() -> None:
    t = make_trajectory(answers=["Paris"], prediction="Paris")
    assert asyncio.run(make_judge("f1")(t)) == 1.0
    assert asyncio.run(score_trajectory(t, make_judge("contains"))).score == 1.0
    assert asyncio.run(make_judge("exact")(make_trajectory(answers=()))) is None


def test_unknown_judge_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown scorer 'nope'; known: ab, browsecomp"):
        make_judge("nope")


# -- LLM judges ------------------------------------------------------------------------------

BC_YES = (
    "extracted_final_answer: Marta Velden\nreasoning: Same person.\ncorrect: yes\nconfidence: 80%"
)


@pytest.mark.parametrize("name", ["browsecomp", "ab", "xbench", "gaia"])
def test_judge_version_is_the_sha256_of_the_prompt_file(name: str) -> None:
    digest = hashlib.sha256((PROMPTS / f"{name}.v1.txt").read_bytes()).hexdigest()
    judge = make_judge(name)
    assert digest == prompt_sha256(f"{name}.v1.txt")
    assert judge.version == (f"gaia-rules-v1+{digest}" if name == "gaia" else digest)


def test_browsecomp_judge_asks_the_model_and_records_everything() -> None:
    t = make_trajectory("t7", 1, answers=["Marta Velden", "M. Velden"], prediction="Velden")
    t = said(t, "I am fairly sure. <answer>Marta Velden</answer> Confidence: 80%", "Marta Velden")
    with ScriptedModel([Step(content=BC_YES)], name="judge-llm") as model:
        v = judged(make_judge("browsecomp", model), t)
    assert v.correct is True and v.model == "judge-llm"
    assert v.extracted_answer == "Marta Velden" and v.confidence == pytest.approx(0.8)
    assert v.reasoning == "Same person." and v.raw == BC_YES and v.unscored_reason is None
    prompt = model.calls[0].messages[0].content
    assert "Question t7?" in prompt
    assert "Marta Velden (also accepted: M. Velden)" in prompt
    assert "<answer>Marta Velden</answer> Confidence: 80%" in prompt
    assert "{question}" not in prompt and "{response}" not in prompt
    assert model.calls[0].tools == []


def test_a_response_is_not_expanded_as_a_template() -> None:
    t = said(make_trajectory(), "<answer>{question} {correct_answer}</answer>", "x")
    with ScriptedModel([Step(content="B")]) as model:
        assert judged(make_judge("ab", model), t).correct is False
    assert "{question} {correct_answer}" in model.calls[0].messages[0].content


@pytest.mark.parametrize(
    ("name", "output", "correct"),
    [
        ("ab", "A", True),
        ("ab", "Answer: B", False),
        ("xbench", "最终答案：巴黎\n解释：一致\n结论：正确", True),
        ("xbench", "最终答案：伦敦\n解释：不同城市\n结论：错误", False),
        ("browsecomp", "correct: yes", True),
        ("browsecomp", "**correct:** no", False),
    ],
)
def test_llm_judges_parse_their_format(name: str, output: str, correct: bool) -> None:
    with ScriptedModel([Step(content=output)]) as model:
        v = judged(make_judge(name, model), make_trajectory())
    assert v.correct is correct and v.raw == output


def unscored(v: Verdict, reason: str) -> None:
    assert v.correct is None, v
    assert v.unscored_reason is not None and reason in v.unscored_reason, v.unscored_reason


def test_down_endpoint_is_unscored_never_incorrect() -> None:
    with ScriptedModel([]) as model:
        model.down = True
        v = judged(make_judge("browsecomp", model), make_trajectory())
    unscored(v, "judge call failed: ModelUnavailable")
    assert v.model == "scripted" and v.raw is None


def test_http_500_is_unscored() -> None:
    with ScriptedModel([Step(error=StepError(status=503, message="overloaded"))]) as model:
        unscored(judged(make_judge("ab", model), make_trajectory()), "ModelUnavailable")


def test_timeout_is_unscored() -> None:
    with ScriptedModel([Step(content="A", latency_s=2.0)]) as model:
        v = judged(make_judge("ab", model, timeout_s=0.05), make_trajectory())
    unscored(v, "judge timed out after 0.05 s")


def test_unparsable_output_is_unscored_and_kept() -> None:
    text = "The two answers look about the same to me."
    with ScriptedModel([Step(content=text)]) as model:
        v = judged(make_judge("browsecomp", model), make_trajectory())
    unscored(v, "unparsable judge output: no 'correct:' line")
    assert v.raw == text


def test_no_judge_model_is_unscored() -> None:
    unscored(judged(make_judge("xbench"), make_trajectory()), "needs a judge model")


def test_rejected_key_stops_the_evaluation() -> None:
    step = Step(error=StepError(status=401, message="bad key"))
    with ScriptedModel([step]) as model, pytest.raises(ConfigError):
        judged(make_judge("ab", model), make_trajectory())


def test_no_answer_at_all_is_incorrect_without_a_call() -> None:
    t = said(make_trajectory(prediction=None), "", None)
    with ScriptedModel([]) as model:
        v = judged(make_judge("browsecomp", model), t)
    assert v.correct is False and model.calls == []


# -- GAIA ------------------------------------------------------------------------------------


def gaia(model: Any, t: Trajectory) -> Verdict:
    return judged(make_judge("gaia", model), t)


def test_gaia_scores_a_tagged_answer_by_the_rules_alone() -> None:
    with ScriptedModel([]) as model:
        v = gaia(model, make_trajectory(answers=["1500"], prediction="$1,500"))
        assert v.correct is True and v.model is None and v.extracted_answer == "$1,500"
        t = said(make_trajectory(answers=["a, b"]), "Thinking...\nFINAL ANSWER: A; B", None)
        v = gaia(model, t)
        assert v.correct is True and v.extracted_answer == "A; B"
    assert model.calls == []


def test_gaia_without_an_answer_tag_asks_the_model_to_extract_then_applies_the_rules() -> None:
    t = said(make_trajectory(answers=["17"]), "So the bridge is 17 km long.", None)
    with ScriptedModel([Step(content="extracted_final_answer: 17 km")], name="ext") as model:
        v = gaia(model, t)
    assert v.correct is True and v.extracted_answer == "17 km" and v.model == "ext"
    assert "So the bridge is 17 km long." in model.calls[0].messages[0].content
    assert "17" not in model.calls[0].messages[0].content.split("Response:")[0]  # no gold shown
    with ScriptedModel([Step(content="extracted_final_answer: None")]) as model:
        assert gaia(model, t).correct is False
    unscored(gaia(None, t), "needs a judge model")
    with ScriptedModel([Step(content="It says 17.")]) as model:
        unscored(gaia(model, t), "no 'extracted_final_answer:' line")
