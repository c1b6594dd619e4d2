"""``Verdict``: one judge's decision on one trajectory, with everything needed to trust it.

Scores in this field drift because the judge, its prompt and its parser are rarely pinned
together. A verdict therefore carries the judge's name, the model that judged (``None`` for rule
judges), the sha256 of the exact prompt (or the rule's version string) and the raw output, so any
number in a report can be traced back and re-parsed. ``correct is None`` means *unscored* (the
judge failed, its output could not be parsed, or there is no reference answer): it is counted
and reported, never read as "incorrect", and ``--retry-unscored`` re-judges exactly those.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Verdict"]


class Verdict(BaseModel):
    """A judge's decision on one trajectory (one line of a run's ``verdicts-<judge>.jsonl``)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    trajectory_id: str
    """The run log key ``{task_id}#{sample}``."""
    task_id: str
    sample: int = Field(ge=0)
    judge: str
    """The registered judge name (``exact``, ``browsecomp``, ...)."""
    judge_version: str
    """sha256 of the judge's prompt file, or the rule judge's version string."""
    model: str | None = None
    """The judging model, for LLM judges; ``None`` for rule judges."""
    correct: bool | None
    """``None``: unscored (see ``unscored_reason``)."""
    unscored_reason: str | None = None
    extracted_answer: str | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """The agent's stated confidence when elicited and parsed (0-1), for calibration."""
    score: float | None = None
    """A graded value behind the decision, where the judge has one (token F1 for ``f1``)."""
    reasoning: str | None = None
    raw: str | None = None
    """The judge's raw output (LLM judges), kept for re-parsing and audit."""
    override_reason: str | None = None
    """Set only on a verdict a manual override replaced (``--overrides``): why. Verdict files
    never hold overrides; the summary's input does."""
