"""Scoring trajectories: answer matching and the registered scorers; judges and reports next.

``exact_match`` (after ``normalize_answer``) is the rule that ``ExactScorer`` — registered as
scorer ``exact``, the rollout's default — applies. A scorer never turns "no reference answer"
into "incorrect": it returns ``None`` (unscored). This package sits above ``redsearcher.rollout``:
the rollout is handed a scorer through the registry and never imports evaluation.
"""

from redsearcher.eval._match import exact_match, normalize_answer
from redsearcher.eval._scorers import ExactScorer
from redsearcher.eval._verdict import Verdict

__all__ = ["ExactScorer", "Verdict", "exact_match", "normalize_answer"]
