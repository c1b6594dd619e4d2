"""Scoring trajectories: judges and their verdicts, benchmark loaders, metrics, ``eval``.

- Judges are the registry kind ``scorer``: each registered class is both the rollout's scorer
  (``(trajectory) -> float | None``) and a judge (``judge(trajectory) -> Verdict``). Rule
  judges ``exact`` (the rollout's default), ``f1``, ``contains``; LLM judges ``browsecomp``,
  ``ab``, ``xbench`` and ``gaia`` (rules, with a model only to extract an untagged answer),
  each a versioned prompt file whose sha256 is the verdict's ``judge_version``. A judge that
  fails or cannot be parsed gives an *unscored* verdict with its reason, never "incorrect".
- ``judge_run`` writes ``RUN/verdicts-<judge>.jsonl`` resumably; ``write_outputs`` writes
  ``summary.json`` (the metrics), ``judges.json`` (per-judge counts, overrides, agreement) and
  ``samples.csv``; ``evaluate`` does both (what ``redsearcher eval`` runs).

This package sits above ``redsearcher.rollout``: the rollout is handed a scorer through the
registry and never imports evaluation.

``load_benchmark`` reads a benchmark file users have locally (BrowseComp, BrowseComp-ZH, GAIA,
HLE, xbench-DeepSearch, Frames, generic JSONL, our synthesized tasks) into task records;
``summarize`` turns a run's trajectories and one judge's verdicts into a ``Summary``
(``summary.json``), with process metrics from provenance for synthesized tasks.
"""

from typing import TYPE_CHECKING, Any

from redsearcher.eval._benchmarks import (
    BENCHMARKS,
    BenchmarkSet,
    BenchmarkSpec,
    DecryptionError,
    LoadOptions,
    load_benchmark,
)
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
from redsearcher.eval._metrics import (
    Accuracy,
    Calibration,
    Distribution,
    Interval,
    Repeats,
    accuracy,
    avg_at_k,
    best_pass_at_1,
    bootstrap_ci,
    calibration_error,
    pass_at_k,
    repeats,
)
from redsearcher.eval._outputs import (
    JUDGES_FILE,
    SAMPLES_FILE,
    SUMMARY_FILE,
    Override,
    Overrides,
    apply_overrides,
    cohen_kappa,
    load_overrides,
    write_outputs,
)
from redsearcher.eval._parsers import (
    JudgeParseError,
    Parsed,
    parse_ab,
    parse_browsecomp,
    parse_confidence,
    parse_final_answer,
    parse_xbench,
)
from redsearcher.eval._process import ProcessRecord, process_record
from redsearcher.eval._rules import contains_match, gaia_match, token_f1
from redsearcher.eval._run import Evaluation, evaluate
from redsearcher.eval._scorers import ContainsJudge, ExactScorer, F1Judge
from redsearcher.eval._summary import RegimeGap, Summary, compare_regimes, summarize
from redsearcher.eval._verdict import Verdict

__all__ = ["ExactScorer", "Verdict", "exact_match", "normalize_answer"]
__all__ += [
    "JUDGES_FILE",
    "SAMPLES_FILE",
    "SUMMARY_FILE",
    "ABJudge",
    "BaseJudge",
    "BrowseCompJudge",
    "ContainsJudge",
    "Evaluation",
    "F1Judge",
    "GaiaJudge",
    "Judge",
    "JudgeParseError",
    "JudgeRun",
    "LLMJudge",
    "Override",
    "Overrides",
    "Parsed",
    "XbenchJudge",
    "apply_overrides",
    "cohen_kappa",
    "contains_match",
    "evaluate",
    "final_response",
    "gaia_match",
    "judge_run",
    "load_overrides",
    "make_judge",
    "parse_ab",
    "parse_browsecomp",
    "parse_confidence",
    "parse_final_answer",
    "parse_xbench",
    "prompt_sha256",
    "read_verdicts",
    "reference_text",
    "token_f1",
    "verdicts_path",
    "write_outputs",
]
__all__ += [
    "BENCHMARKS",
    "Accuracy",
    "BenchIdentity",
    "BenchReport",
    "BenchResult",
    "BenchmarkSet",
    "BenchmarkSpec",
    "Calibration",
    "DecryptionError",
    "Distribution",
    "Interval",
    "LoadOptions",
    "ProcessRecord",
    "RegimeGap",
    "Repeats",
    "Summary",
    "accuracy",
    "avg_at_k",
    "best_pass_at_1",
    "bootstrap_ci",
    "calibration_error",
    "compare_regimes",
    "load_benchmark",
    "pass_at_k",
    "process_record",
    "repeats",
    "run_bench",
    "summarize",
]

if TYPE_CHECKING:
    from redsearcher.eval._bench import BenchIdentity, BenchReport, BenchResult, run_bench

# ``run_bench`` pulls in the rollout, agent and model stack; scoring a run must not pay for that.
_LAZY = frozenset({"BenchIdentity", "BenchReport", "BenchResult", "run_bench"})


def __getattr__(name: str) -> Any:
    """Import the bench runner on first use (see ``_LAZY``)."""
    if name in _LAZY:
        from redsearcher.eval import _bench

        return getattr(_bench, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
