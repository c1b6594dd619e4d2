"""The rule judges (registry kind ``"scorer"``): ``exact``, ``f1``, ``contains``.

Deterministic functions of the prediction and the accepted answers, so their ``judge_version``
is a rule version string rather than a prompt hash, and they need no model. ``ExactScorer``
(``exact``) is the rollout's default scorer. An episode that ended without an answer is
incorrect: it had one to give. The pre-checks every judge shares (episode error, no reference
answer: unscored) live in :class:`~redsearcher.eval.BaseJudge`.
"""

from __future__ import annotations

from redsearcher.eval._judges import BaseJudge
from redsearcher.eval._match import exact_match
from redsearcher.eval._rules import contains_match, token_f1
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Trajectory
from redsearcher.model import ChatModel
from redsearcher.registry import register

__all__ = ["ContainsJudge", "ExactScorer", "F1Judge"]


@register("scorer", "exact")
class ExactScorer(BaseJudge):
    """Correct when the prediction equals an accepted answer after ``normalize_answer``."""

    name = "exact"
    version = "exact-rules-v1"

    async def decide(self, trajectory: Trajectory) -> Verdict:
        """Exact match after normalisation, against the answer and its aliases."""
        correct = exact_match(trajectory.prediction, trajectory.answers)
        return self.verdict(trajectory, correct, extracted_answer=trajectory.prediction)


@register("scorer", "contains")
class ContainsJudge(BaseJudge):
    """Correct when an accepted answer's tokens occur contiguously in the prediction.

    Lenient on purpose (``"Paris, France"`` passes for ``"Paris"``), for free-form answers;
    a prediction that lists many candidates passes too, which is why it is not the default.
    """

    name = "contains"
    version = "contains-rules-v1"

    async def decide(self, trajectory: Trajectory) -> Verdict:
        """Containment after normalisation."""
        correct = contains_match(trajectory.prediction, trajectory.answers)
        return self.verdict(trajectory, correct, extracted_answer=trajectory.prediction)


@register("scorer", "f1")
class F1Judge(BaseJudge):
    """Correct when the token F1 with an accepted answer reaches ``threshold``; F1 recorded.

    Args:
        model: Ignored (a rule judge).
        timeout_s: Ignored (a rule judge).
        threshold: The F1 at or above which an answer counts as correct (in the version string,
            so two thresholds never share a verdict file).
    """

    name = "f1"

    def __init__(
        self, model: ChatModel | None = None, *, timeout_s: float = 300.0, threshold: float = 0.5
    ) -> None:
        super().__init__(model, timeout_s=timeout_s)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"F1 threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.version = f"f1-rules-v1;threshold={threshold:g}"

    async def decide(self, trajectory: Trajectory) -> Verdict:
        """Best token F1 over the accepted answers, compared with the threshold."""
        f1 = token_f1(trajectory.prediction, trajectory.answers)
        return self.verdict(
            trajectory,
            f1 >= self.threshold,
            score=round(f1, 6),
            extracted_answer=trajectory.prediction,
        )
