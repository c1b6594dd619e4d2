"""The LLM judges (registry kind ``"scorer"``): ``browsecomp``, ``ab``, ``xbench`` and ``gaia``.

Each is a prompt file under ``prompts/`` (our own wording; its sha256 is the verdict's
``judge_version``) plus the parser of the output format its peers' graders use, so verdicts
are comparable with published numbers without copying anyone's prompt:

- ``browsecomp``: the BrowseComp grader's four lines ``extracted_final_answer`` /
  ``reasoning`` / ``correct: yes|no`` / ``confidence`` (the agent's stated confidence, kept
  for calibration).
- ``ab``: the A/B equivalence judge of Tongyi DeepResearch and DeepTraceHub for BrowseComp and
  HLE: one letter, ``A`` for [CORRECT], ``B`` for [INCORRECT].
- ``xbench``: xbench-DeepSearch's Chinese grader, ``最终答案`` / ``解释`` / ``结论: 正确|错误``.
- ``gaia``: GAIA's rule scorer on the tagged answer; only when the episode has no answer tag
  does a model extract the final answer from the last message, and the *rules* still decide.
"""

from __future__ import annotations

import re

from redsearcher.eval._judges import LLMJudge, fill_prompt, final_response, prompt_text
from redsearcher.eval._parsers import (
    Parsed,
    parse_ab,
    parse_browsecomp,
    parse_final_answer,
    parse_xbench,
)
from redsearcher.eval._rules import gaia_match
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Trajectory
from redsearcher.model import ChatModel
from redsearcher.registry import register

__all__ = ["ABJudge", "BrowseCompJudge", "GaiaJudge", "XbenchJudge"]


@register("scorer", "browsecomp")
class BrowseCompJudge(LLMJudge):
    """BrowseComp's grader format; correct on ``correct: yes``."""

    name = "browsecomp"
    prompt_file = "browsecomp.v1.txt"

    def parse(self, text: str) -> Parsed:
        """See :func:`~redsearcher.eval.parse_browsecomp`."""
        return parse_browsecomp(text)


@register("scorer", "ab")
class ABJudge(LLMJudge):
    """The A/B equivalence judge; correct on ``A``."""

    name = "ab"
    prompt_file = "ab.v1.txt"

    def parse(self, text: str) -> Parsed:
        """See :func:`~redsearcher.eval.parse_ab`."""
        return parse_ab(text)


@register("scorer", "xbench")
class XbenchJudge(LLMJudge):
    """xbench-DeepSearch's Chinese grader; correct on ``结论: 正确``."""

    name = "xbench"
    prompt_file = "xbench.v1.txt"

    def parse(self, text: str) -> Parsed:
        """See :func:`~redsearcher.eval.parse_xbench`."""
        return parse_xbench(text)


# GAIA's own answer tag, as its system prompt asks for it.
_FINAL_ANSWER = re.compile(r"FINAL ANSWER\s*[:：]\s*(.+)", re.IGNORECASE)


@register("scorer", "gaia")
class GaiaJudge(LLMJudge):
    """GAIA's rule scorer; a model extracts the answer only when no answer tag gave one.

    The answer is the trajectory's ``<answer>`` (its prediction), else a ``FINAL ANSWER:``
    line of the last message (GAIA's own tag); both are scored by the rules alone, with no
    model. Without either, a model reads the last message and copies the final answer it
    commits to, and the rules score that. An episode with no text at all is incorrect.

    ``judge_version`` pins both halves: ``gaia-rules-v1+<sha256 of the prompt file>``.
    """

    name = "gaia"
    prompt_file = "gaia.v1.txt"

    def __init__(self, model: ChatModel | None = None, *, timeout_s: float = 300.0) -> None:
        super().__init__(model, timeout_s=timeout_s)
        self.version = f"gaia-rules-v1+{self.version}"

    async def decide(self, trajectory: Trajectory) -> Verdict:
        """Rules on the tagged answer; the model extracts one only when there is no tag."""
        answer = trajectory.prediction
        response = final_response(trajectory)
        if answer is None:
            tagged = _FINAL_ANSWER.findall(response)
            answer = tagged[-1].strip() if tagged else None
        if answer is not None:
            correct = gaia_match(answer, trajectory.answers)
            return self.verdict(trajectory, correct, extracted_answer=answer, model=None)
        if not response:
            return self.verdict(
                trajectory, False, reasoning="the episode gave no answer", model=None
            )
        prompt = fill_prompt(
            prompt_text(self.prompt_file), question=trajectory.question, response=response
        )

        def parse(text: str) -> Parsed:
            extracted = parse_final_answer(text)
            return Parsed(
                correct=gaia_match(extracted, trajectory.answers),
                extracted_answer=extracted,
                reasoning="answer extracted by the model (no answer tag); scored by the rules",
            )

        return await self.ask(trajectory, prompt, parse)
