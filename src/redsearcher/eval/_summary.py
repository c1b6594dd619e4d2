"""``summarize``: one typed record of a scored run (what ``redsearcher eval`` writes as summary).

Everything is computed from the run log's per-trajectory records and one judge's verdicts (plus,
for synthesized tasks, the task records' provenance), never from free text, so a number in a
report can be traced to the trajectories behind it. :func:`compare_regimes` sets a tool-free and
a tool-enabled run of the same tasks side by side (the paper's §7.3.1).

Refusals (each a :class:`~redsearcher.errors.UserError` naming what is wrong): verdicts of
several judges mixed in one summary, a verdict for a trajectory the run does not have, two
verdicts for one trajectory, and a trajectory whose task is not in the given task set (a run
log from another task set).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from redsearcher.errors import UserError
from redsearcher.eval._metrics import (
    Accuracy,
    Calibration,
    Distribution,
    Interval,
    Outcome,
    Repeats,
    accuracy,
    bootstrap_ci,
    calibration_error,
    distribution,
    repeats,
)
from redsearcher.eval._process import ProcessRecord, process_record, search_queries, tool_category
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Task, Trajectory

__all__ = [
    "DifficultyCell",
    "EpisodeStats",
    "ProcessSummary",
    "RegimeGap",
    "Summary",
    "Tokens",
    "compare_regimes",
    "summarize",
]

_RECORD = ConfigDict(extra="forbid")
#: Evidence-recall histogram bins: [0, 0.1), [0.1, 0.2), ..., [0.9, 1.0), and exactly 1.0.
RECALL_BINS = 11


class EpisodeStats(BaseModel):
    """Tool calls and turns per episode for one group of episodes."""

    model_config = _RECORD

    episodes: int
    tool_calls: Distribution
    turns: Distribution


class Tokens(BaseModel):
    """Model tokens of the run."""

    model_config = _RECORD

    prompt: int
    completion: int
    model_calls: int
    per_episode: Distribution
    """Prompt + completion tokens per episode."""
    estimated: bool
    """True when any count came from a tokenizer or estimate rather than the server."""


class ProcessSummary(BaseModel):
    """Process metrics over the trajectories whose task has evidence URLs."""

    model_config = _RECORD

    trajectories: int
    retrieved_recall: float
    """Mean share of evidence documents retrieved (search results or read)."""
    read_recall: float
    """Mean share of evidence documents read."""
    all_read: int
    """Trajectories that read every evidence document."""
    first_read_turn: Distribution
    """First turn each evidence document was read (over documents read)."""
    required_tools_called: float | None
    """Share of (trajectory, required tool) pairs where the tool was called and answered."""
    deciding_values_returned: float | None
    """Share of (trajectory, required tool) pairs where the tool returned the deciding value."""
    searches: int
    redundant_searches: int
    over_search_turns: Distribution
    """Over trajectories that read all evidence."""
    read_recall_histogram: list[int]
    """Trajectories per read-recall bin: [0,.1), ..., [.9,1), and exactly 1."""
    read_recall_correct: float | None
    read_recall_incorrect: float | None


class DifficultyCell(BaseModel):
    """Accuracy and evidence recall in one (treewidth, MSD) cell."""

    model_config = _RECORD

    treewidth: int
    msd: int
    tasks: int
    accuracy: Accuracy
    read_recall: float | None


class Summary(BaseModel):
    """A scored run (``summary.json``)."""

    model_config = _RECORD

    schema_version: int = 1
    judge: str | None
    """The one judge whose verdicts were summarized (``None``: no verdicts)."""
    judge_version: str | None
    judge_model: str | None
    trajectories: int
    tasks: int
    accuracy: Accuracy
    unscored_reasons: dict[str, int]
    repeats: Repeats
    calibration: Calibration
    episodes: dict[str, EpisodeStats]
    """``all``, ``correct``, ``incorrect`` and ``unscored``."""
    tools: dict[str, int]
    """Calls per tool name."""
    tool_categories: dict[str, int]
    failed_tool_calls: int
    search_credits: int
    """Search queries issued (Serper bills each query of a multi-query call)."""
    terminations: dict[str, int]
    tokens: Tokens
    wall_time_s: Distribution
    process: ProcessSummary | None
    process_reason: str | None = None
    difficulty: list[DifficultyCell]
    process_records: list[ProcessRecord]


def _by_trajectory(verdicts: Iterable[Verdict], ids: set[str]) -> dict[str, Verdict]:
    found: dict[str, Verdict] = {}
    judges = set()
    for verdict in verdicts:
        judges.add(verdict.judge)
        if verdict.trajectory_id not in ids:
            raise UserError(
                f"verdict for trajectory {verdict.trajectory_id!r} (judge {verdict.judge}), which "
                "is not in the run: the verdicts belong to another run"
            )
        if verdict.trajectory_id in found:
            raise UserError(f"two verdicts for trajectory {verdict.trajectory_id!r}")
        found[verdict.trajectory_id] = verdict
    if len(judges) > 1:
        raise UserError(f"verdicts of several judges ({', '.join(sorted(judges))}); summarize one")
    return found


def _outcomes(
    trajectories: Sequence[Trajectory], verdicts: Mapping[str, Verdict]
) -> dict[str, list[Outcome]]:
    """Each task's outcomes, indexed by sample (missing samples are unscored)."""
    grouped: dict[str, dict[int, Outcome]] = {}
    for t in trajectories:
        verdict = verdicts.get(t.id)
        grouped.setdefault(t.task_id, {})[t.sample] = None if verdict is None else verdict.correct
    return {
        task: [samples.get(j) for j in range(max(samples) + 1)] for task, samples in grouped.items()
    }


def _episodes(trajectories: Sequence[Trajectory]) -> EpisodeStats:
    return EpisodeStats(
        episodes=len(trajectories),
        tool_calls=distribution([len(t.tool_calls) for t in trajectories]),
        turns=distribution([t.turns for t in trajectories]),
    )


def _histogram(values: Sequence[float]) -> list[int]:
    counts = [0] * RECALL_BINS
    for value in values:
        counts[RECALL_BINS - 1 if value >= 1.0 else min(int(value * 10), RECALL_BINS - 2)] += 1
    return counts


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _process(
    records: Sequence[ProcessRecord], verdicts: Mapping[str, Verdict]
) -> ProcessSummary | None:
    if not records:
        return None
    required = [ok for r in records for ok in r.required_tools.values()]
    deciding = [ok for r in records for ok in r.deciding_values.values()]

    def recall(correct: bool) -> float | None:
        return _mean(
            [
                r.read_recall
                for r in records
                if (v := verdicts.get(r.trajectory_id)) is not None and v.correct is correct
            ]
        )

    return ProcessSummary(
        trajectories=len(records),
        retrieved_recall=float(np.mean([r.retrieved_recall for r in records])),
        read_recall=float(np.mean([r.read_recall for r in records])),
        all_read=sum(r.read == r.evidence for r in records),
        first_read_turn=distribution(
            [t for r in records for t in r.first_read_turn.values() if t is not None]
        ),
        required_tools_called=sum(required) / len(required) if required else None,
        deciding_values_returned=sum(deciding) / len(deciding) if deciding else None,
        searches=sum(r.searches for r in records),
        redundant_searches=sum(r.redundant_searches for r in records),
        over_search_turns=distribution(
            [r.over_search_turns for r in records if r.over_search_turns is not None]
        ),
        read_recall_histogram=_histogram([r.read_recall for r in records]),
        read_recall_correct=recall(True),
        read_recall_incorrect=recall(False),
    )


def _difficulty(
    trajectories: Sequence[Trajectory],
    verdicts: Mapping[str, Verdict],
    tasks: Mapping[str, Task],
    records: Sequence[ProcessRecord],
    seed: int,
) -> list[DifficultyCell]:
    cells: dict[tuple[int, int], list[Trajectory]] = {}
    for t in trajectories:
        task = tasks.get(t.task_id)
        if task is not None and task.treewidth is not None and task.msd is not None:
            cells.setdefault((task.treewidth, task.msd), []).append(t)
    recall = {r.trajectory_id: r.read_recall for r in records}
    out = []
    for (tw, msd), members in sorted(cells.items()):
        recalls = [recall[t.id] for t in members if t.id in recall]
        out.append(
            DifficultyCell(
                treewidth=tw,
                msd=msd,
                tasks=len({t.task_id for t in members}),
                accuracy=accuracy(_outcomes(members, verdicts), seed=seed),
                read_recall=_mean(recalls),
            )
        )
    return out


def summarize(
    trajectories: Iterable[Trajectory],
    verdicts: Iterable[Verdict],
    tasks: Iterable[Task] = (),
    *,
    seed: int = 0,
    calibration_bin_size: int = 100,
) -> Summary:
    """Summarize a run's trajectories under one judge's verdicts.

    Args:
        trajectories: The run log's trajectories.
        verdicts: One judge's verdicts on them (a trajectory without one is unscored).
        tasks: The task records the run used; synthesized ones add process metrics and the
            difficulty cells. When given, every trajectory's task must be among them.
        seed: Seed of the bootstrap CIs.
        calibration_bin_size: Answers per calibration bin (and the fewest it is computed on).

    Raises:
        UserError: see the module docstring.
    """
    runs = list(trajectories)
    ids = {t.id for t in runs}
    judged = _by_trajectory(verdicts, ids)
    by_task = {task.id: task for task in tasks}
    if by_task:
        foreign = sorted({t.task_id for t in runs} - by_task.keys())
        if foreign:
            raise UserError(
                f"{len(foreign)} trajectories' tasks are not in the task set (first: "
                f"{foreign[0]!r}): the run log comes from another task set"
            )
    outcomes = _outcomes(runs, judged)
    reasons = Counter(
        "no verdict" if (v := judged.get(t.id)) is None else (v.unscored_reason or "unscored")
        for t in runs
        if (v := judged.get(t.id)) is None or v.correct is None
    )
    groups = {
        "all": runs,
        "correct": [t for t in runs if (v := judged.get(t.id)) and v.correct is True],
        "incorrect": [t for t in runs if (v := judged.get(t.id)) and v.correct is False],
        "unscored": [t for t in runs if (v := judged.get(t.id)) is None or v.correct is None],
    }
    records = [
        record
        for t in runs
        if (task := by_task.get(t.task_id)) is not None
        and (record := process_record(t, task)) is not None
    ]
    process = _process(records, judged)
    first = next(iter(judged.values()), None)
    calls = [c for t in runs for c in t.tool_calls]
    return Summary(
        judge=None if first is None else first.judge,
        judge_version=None if first is None else first.judge_version,
        judge_model=None if first is None else first.model,
        trajectories=len(runs),
        tasks=len(outcomes),
        accuracy=accuracy(outcomes, seed=seed),
        unscored_reasons=dict(reasons.most_common()),
        repeats=repeats(outcomes),
        calibration=calibration_error(
            [judged[t.id].confidence if t.id in judged else None for t in runs],
            [judged[t.id].correct if t.id in judged else None for t in runs],
            bin_size=calibration_bin_size,
        ),
        episodes={name: _episodes(group) for name, group in groups.items()},
        tools=dict(Counter(c.name for c in calls).most_common()),
        tool_categories=dict(Counter(tool_category(c.name) for c in calls).most_common()),
        failed_tool_calls=sum(c.error for c in calls),
        search_credits=sum(len(search_queries(c)) for c in calls),
        terminations=dict(Counter(t.termination for t in runs).most_common()),
        tokens=Tokens(
            prompt=sum(t.usage.prompt_tokens for t in runs),
            completion=sum(t.usage.completion_tokens for t in runs),
            model_calls=sum(t.usage.model_calls for t in runs),
            per_episode=distribution(
                [t.usage.prompt_tokens + t.usage.completion_tokens for t in runs]
            ),
            estimated=any(t.usage.estimated for t in runs),
        ),
        wall_time_s=distribution([t.duration_s for t in runs]),
        process=process,
        process_reason=None
        if process is not None
        else "no task with evidence URLs (process metrics need synthesized tasks)",
        difficulty=_difficulty(runs, judged, by_task, records, seed),
        process_records=records,
    )


class RegimeGap(BaseModel):
    """A tool-free and a tool-enabled run of the same tasks, and the gap between them."""

    model_config = _RECORD

    tasks: int
    """Tasks scored in both runs (the comparison is over these only)."""
    tool_free: float | None
    tool_enabled: float | None
    gap: float | None
    """``tool_enabled - tool_free``."""
    ci95: Interval | None
    """Paired bootstrap CI of the gap, resampling shared tasks."""


def compare_regimes(
    tool_free: Iterable[Verdict],
    tool_enabled: Iterable[Verdict],
    *,
    seed: int = 0,
    resamples: int = 2_000,
) -> RegimeGap:
    """Accuracy without and with tools on the tasks both runs scored, and the gap.

    Each task's accuracy is the mean over its scored samples in that run; the CI resamples the
    shared tasks (paired), so the task mix cancels out of the gap.
    """

    def per_task(verdicts: Iterable[Verdict]) -> dict[str, float]:
        scored: dict[str, list[float]] = {}
        for v in verdicts:
            if v.correct is not None:
                scored.setdefault(v.task_id, []).append(1.0 if v.correct else 0.0)
        return {task: sum(s) / len(s) for task, s in scored.items()}

    free, enabled = per_task(tool_free), per_task(tool_enabled)
    shared = sorted(free.keys() & enabled.keys())
    if not shared:
        return RegimeGap(tasks=0, tool_free=None, tool_enabled=None, gap=None, ci95=None)
    a = float(np.mean([free[t] for t in shared]))
    b = float(np.mean([enabled[t] for t in shared]))
    diffs = [[enabled[t] - free[t]] for t in shared]
    return RegimeGap(
        tasks=len(shared),
        tool_free=a,
        tool_enabled=b,
        gap=b - a,
        ci95=bootstrap_ci(diffs, seed=seed, resamples=resamples),
    )
