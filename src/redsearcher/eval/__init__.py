"""Scoring trajectories: answer matching, scorers, benchmark loaders and metrics.

``exact_match`` (after ``normalize_answer``) is the rule that ``ExactScorer`` — registered as
scorer ``exact``, the rollout's default — applies. A scorer never turns "no reference answer"
into "incorrect": it returns ``None`` (unscored). This package sits above ``redsearcher.rollout``:
the rollout is handed a scorer through the registry and never imports evaluation.

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
from redsearcher.eval._process import ProcessRecord, process_record
from redsearcher.eval._scorers import ExactScorer
from redsearcher.eval._summary import RegimeGap, Summary, compare_regimes, summarize
from redsearcher.eval._verdict import Verdict

__all__ = ["ExactScorer", "Verdict", "exact_match", "normalize_answer"]
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
