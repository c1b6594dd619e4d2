"""Scoring trajectories: answer matching now; judges, benchmarks and metrics as they land.

``exact_match`` (after ``normalize_answer``) is the rule scorer the rollout runner applies until
an LLM judge is configured; it never turns "no reference answer" into "incorrect" (the runner
leaves such trajectories unscored).
"""

from redsearcher.eval._match import exact_match, normalize_answer

__all__ = ["exact_match", "normalize_answer"]
