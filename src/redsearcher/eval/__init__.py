"""Scoring trajectories: judges, their verdicts, and ``redsearcher eval``'s summary.

- Judges are the registry kind ``scorer``: each registered class is both the rollout's scorer
  (``(trajectory) -> float | None``) and a judge (``judge(trajectory) -> Verdict``). Rule
  judges ``exact`` (the rollout's default), ``f1``, ``contains``; LLM judges ``browsecomp``,
  ``ab``, ``xbench`` and ``gaia`` (rules, with a model only to extract an untagged answer),
  each a versioned prompt file whose sha256 is the verdict's ``judge_version``. A judge that
  fails or cannot be parsed gives an *unscored* verdict with its reason, never "incorrect".
- ``judge_run`` writes ``RUN/verdicts-<judge>.jsonl`` resumably; ``summarize`` writes
  ``summary.json`` and ``samples.csv`` with overrides and judge agreement; ``evaluate`` does
  both.

This package sits above ``redsearcher.rollout``: the rollout is handed a scorer through the
registry and never imports evaluation.
"""

from redsearcher.eval._evaluate import JudgeRun, judge_run, read_verdicts, verdicts_path
from redsearcher.eval._judges import (
    BaseJudge,
    Judge,
    LLMJudge,
    final_response,
    make_judge,
    prompt_sha256,
    reference_text,
)
from redsearcher.eval._llm_judges import ABJudge, BrowseCompJudge, GaiaJudge, XbenchJudge
from redsearcher.eval._match import exact_match, normalize_answer
from redsearcher.eval._parsers import (
    JudgeParseError,
    Parsed,
    parse_ab,
    parse_browsecomp,
    parse_confidence,
    parse_final_answer,
    parse_xbench,
)
from redsearcher.eval._rules import contains_match, gaia_match, token_f1
from redsearcher.eval._run import Evaluation, evaluate
from redsearcher.eval._scorers import ContainsJudge, ExactScorer, F1Judge
from redsearcher.eval._summary import (
    SAMPLES_FILE,
    SUMMARY_FILE,
    Override,
    Overrides,
    cohen_kappa,
    load_overrides,
    summarize,
)
from redsearcher.eval._verdict import Verdict

__all__ = [
    "SAMPLES_FILE",
    "SUMMARY_FILE",
    "ABJudge",
    "BaseJudge",
    "BrowseCompJudge",
    "ContainsJudge",
    "Evaluation",
    "ExactScorer",
    "F1Judge",
    "GaiaJudge",
    "Judge",
    "JudgeParseError",
    "JudgeRun",
    "LLMJudge",
    "Override",
    "Overrides",
    "Parsed",
    "Verdict",
    "XbenchJudge",
    "cohen_kappa",
    "contains_match",
    "evaluate",
    "exact_match",
    "final_response",
    "gaia_match",
    "judge_run",
    "load_overrides",
    "make_judge",
    "normalize_answer",
    "parse_ab",
    "parse_browsecomp",
    "parse_confidence",
    "parse_final_answer",
    "parse_xbench",
    "prompt_sha256",
    "read_verdicts",
    "reference_text",
    "summarize",
    "token_f1",
    "verdicts_path",
]
