"""Scorers: what turns a finished trajectory into a score (registry kind ``"scorer"``).

A scorer is an async callable ``(trajectory) -> float | None``. ``None`` means *unscored*: there
was nothing to score against (no reference answer), and that must never read as "incorrect".
The rollout runner is handed a scorer (by name, through the registry) rather than importing this
package, so evaluation sits above the rollout and the LLM judges of later work plug in the same
way as the rule scorer here.
"""

from __future__ import annotations

from redsearcher.eval._match import exact_match
from redsearcher.log import Trajectory
from redsearcher.registry import register

__all__ = ["ExactScorer"]


@register("scorer", "exact")
class ExactScorer:
    """1.0 when the prediction equals an accepted answer after normalisation, else 0.0.

    Unscored (``None``) when the task has no reference answer. An episode that ended without an
    answer scores 0.0: it had one to give. Deterministic, so it needs no verdict record.
    """

    name = "exact"

    async def __call__(self, trajectory: Trajectory) -> float | None:
        """Score one trajectory (see the class docstring)."""
        if not trajectory.answers:
            return None
        return 1.0 if exact_match(trajectory.prediction, trajectory.answers) else 0.0
