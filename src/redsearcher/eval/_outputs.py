"""What ``redsearcher eval`` writes: ``summary.json``, ``judges.json`` and ``samples.csv``.

- ``summary.json`` is the metrics' :class:`~redsearcher.eval.Summary` (accuracy with its CI,
  Avg@k / Pass@k, calibration, tool and turn statistics, process metrics from provenance,
  difficulty cells) of the *primary* judge's verdicts with the overrides applied.
- ``judges.json`` is the judging itself: per judge its version, model, correct / incorrect /
  unscored (with reasons) / missing / overridden counts, ``accuracy`` and ``accuracy_all``; the
  overrides file; and the agreement between judges.
- ``samples.csv``: one row per trajectory.

**Overrides** (``--overrides FILE``): a YAML/JSON mapping from a trajectory id
(``task#sample``) or a task id (all its samples) to ``{correct: bool, reason: str}``, for gold
answers found to be wrong or disputed. They are applied on top of every judge's verdicts when
counting, never written into the verdict files (which stay what the judge said), and every
overridden row names its reason in the CSV. A trajectory id wins over its task id. An id that
is not in the run is an error naming the file and the key.

**Agreement**: for each pair of judges, over the trajectories both scored, the raw agreement
and Cohen's kappa ``(p_o - p_e) / (1 - p_e)`` on the judges' own verdicts (before overrides);
kappa is ``None`` when it is undefined (both judges gave one constant label, ``p_e = 1``).

All three files are written atomically (temporary file, rename): a reader never sees half of
one. Accuracy is reported twice in ``judges.json``, because the unscored must never silently
count as wrong *or* be silently dropped: ``accuracy`` = correct / scored, and ``accuracy_all``
= correct / all trajectories (unscored and never-judged ones counted as not correct).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redsearcher._util import write_atomic
from redsearcher.config import read_config_file
from redsearcher.errors import ConfigError
from redsearcher.eval._summary import Summary, summarize
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Task, Trajectory

__all__ = [
    "JUDGES_FILE",
    "SAMPLES_FILE",
    "SUMMARY_FILE",
    "Override",
    "Overrides",
    "apply_overrides",
    "cohen_kappa",
    "load_overrides",
    "write_outputs",
]

SUMMARY_FILE = "summary.json"
JUDGES_FILE = "judges.json"
SAMPLES_FILE = "samples.csv"


class Override(BaseModel):
    """A manual decision on a trajectory or a task, with the reason it was made."""

    model_config = ConfigDict(extra="forbid")

    correct: bool
    reason: str = Field(min_length=1)


class Overrides(BaseModel):
    """The overrides of one file, by trajectory id and by task id."""

    model_config = ConfigDict(extra="forbid")

    file: str
    trajectories: dict[str, Override] = Field(default_factory=dict)
    tasks: dict[str, Override] = Field(default_factory=dict)

    def lookup(self, trajectory_id: str, task_id: str) -> Override | None:
        """The override of a trajectory (its own, else its task's)."""
        return self.trajectories.get(trajectory_id) or self.tasks.get(task_id)


def load_overrides(path: Path, trajectory_ids: set[str], task_ids: set[str]) -> Overrides:
    """Read an overrides file against the run's ids (module docstring).

    Raises:
        ConfigError: unreadable file, not a mapping, a bad entry, or an id not in the run,
            naming the file and the key.
    """
    data = read_config_file(path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: an overrides file maps trajectory or task ids to "
            "{correct: true|false, reason: ...}"
        )
    out = Overrides(file=str(path))
    for key, value in data.items():
        name = str(key)
        try:
            override = Override.model_validate(value)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "value"
            raise ConfigError(f"{path}: override {name!r}: {first['msg']} ({where})") from None
        if name in trajectory_ids:
            out.trajectories[name] = override
        elif name in task_ids:
            out.tasks[name] = override
        else:
            raise ConfigError(
                f"{path}: override {name!r} is neither a trajectory nor a task id of the run"
            )
    return out


def cohen_kappa(first: Sequence[bool], second: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary labelings of the same items; ``None`` when undefined.

    Raises:
        ValueError: for sequences of different lengths.
    """
    if len(first) != len(second):
        raise ValueError("kappa needs two labelings of the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1 = sum(first) / n
    p2 = sum(second) / n
    expected = p1 * p2 + (1 - p1) * (1 - p2)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)


def _agreement(verdicts: Mapping[str, Mapping[str, Verdict]]) -> list[dict[str, Any]]:
    rows = []
    for a, b in combinations(verdicts, 2):
        both = [
            (v.correct, verdicts[b][tid].correct)
            for tid, v in verdicts[a].items()
            if v.correct is not None and tid in verdicts[b] and verdicts[b][tid].correct is not None
        ]
        first = [bool(x) for x, _ in both]
        second = [bool(y) for _, y in both]
        kappa = cohen_kappa(first, second)
        rows.append(
            {
                "judges": [a, b],
                "n": len(both),
                "agreement": None if not both else sum(x == y for x, y in both) / len(both),
                "kappa": None if kappa is None else round(kappa, 6),
            }
        )
    return rows


def _reason_kind(reason: str | None) -> str:
    return (reason or "unknown").split(":", 1)[0]


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def apply_overrides(
    trajectories: Sequence[Trajectory],
    verdicts: Mapping[str, Verdict],
    overrides: Overrides,
    *,
    judge: str,
    judge_version: str,
) -> dict[str, Verdict]:
    """One judge's verdicts with the overrides applied (``override_reason`` set on those).

    A trajectory the judge has no verdict on but that is overridden gets one in the judge's
    name, so the summary counts it as decided.
    """
    out = dict(verdicts)
    for t in trajectories:
        override = overrides.lookup(t.id, t.task_id)
        if override is None:
            continue
        verdict = verdicts.get(t.id)
        if verdict is None:
            verdict = Verdict(
                trajectory_id=t.id,
                task_id=t.task_id,
                sample=t.sample,
                judge=judge,
                judge_version=judge_version,
                correct=None,
            )
        out[t.id] = verdict.model_copy(
            update={
                "correct": override.correct,
                "unscored_reason": None,
                "override_reason": override.reason,
            }
        )
    return out


def _judge_counts(
    rows: Sequence[Trajectory], by_id: Mapping[str, Verdict], fixed: Overrides | None
) -> dict[str, Any]:
    ids = {t.id for t in rows}
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    versions = sorted({v.judge_version for v in by_id.values() if v.trajectory_id in ids})
    models = sorted({v.model for v in by_id.values() if v.trajectory_id in ids and v.model})
    for t in rows:
        verdict = by_id.get(t.id)
        override = fixed.lookup(t.id, t.task_id) if fixed else None
        correct = verdict.correct if verdict is not None else None
        if override is not None:
            counts["overridden"] += 1
            correct = override.correct
        if verdict is None and override is None:
            counts["missing"] += 1
        elif correct is None:
            counts["unscored"] += 1
            reasons[_reason_kind(verdict.unscored_reason if verdict else None)] += 1
        else:
            counts["correct" if correct else "incorrect"] += 1
    scored = counts["correct"] + counts["incorrect"]
    return {
        "judge_version": versions[0] if len(versions) == 1 else versions,
        "model": models[0] if len(models) == 1 else (models or None),
        "trajectories": len(rows),
        "correct": counts["correct"],
        "incorrect": counts["incorrect"],
        "unscored": counts["unscored"],
        "missing": counts["missing"],
        "overridden": counts["overridden"],
        "unscored_reasons": dict(sorted(reasons.items())),
        "accuracy": counts["correct"] / scored if scored else None,
        "accuracy_all": counts["correct"] / len(rows) if rows else None,
    }


def write_outputs(
    run: str | Path,
    trajectories: Sequence[Trajectory],
    verdicts: Mapping[str, Mapping[str, Verdict]],
    *,
    versions: Mapping[str, str] | None = None,
    overrides: Path | None = None,
    tasks: Sequence[Task] = (),
) -> tuple[Summary, dict[str, Any]]:
    """Write ``RUN/summary.json``, ``RUN/judges.json`` and ``RUN/samples.csv``.

    Args:
        run: The run directory.
        trajectories: The run's trajectories.
        verdicts: Per judge (the first is the primary: the summary's and the CSV's
            ``correct``), the verdicts by trajectory id.
        versions: Each judge's ``judge_version`` (for overridden trajectories it never judged).
        overrides: An overrides file (module docstring).
        tasks: The task records the run used (synthesized ones add process metrics); when
            given, every trajectory's task must be among them.

    Returns:
        The summary and the ``judges.json`` content.

    Raises:
        ValueError: when no judge is given.
        ConfigError: for a bad overrides file.
        UserError: see :func:`~redsearcher.eval.summarize`.
    """
    if not verdicts:
        raise ValueError("write_outputs needs at least one judge's verdicts")
    directory = Path(run)
    rows = list(trajectories)
    fixed = (
        load_overrides(overrides, {t.id for t in rows}, {t.task_id for t in rows})
        if overrides is not None
        else None
    )
    primary = next(iter(verdicts))
    final = dict(verdicts[primary])
    if fixed is not None:
        version = (versions or {}).get(primary, "")
        final = apply_overrides(rows, final, fixed, judge=primary, judge_version=version)
    summary = summarize(rows, final.values(), tasks)
    judges: dict[str, Any] = {
        "schema_version": 1,
        "run": str(directory),
        "trajectories": len(rows),
        "judge": primary,
        "judges": {name: _judge_counts(rows, by_id, fixed) for name, by_id in verdicts.items()},
        "overrides": None
        if fixed is None
        else {
            "file": fixed.file,
            "trajectories": len(fixed.trajectories),
            "tasks": len(fixed.tasks),
        },
        "agreement": _agreement(verdicts) if len(verdicts) > 1 else [],
        "accuracy_note": (
            "accuracy = correct / scored; accuracy_all = correct / all trajectories "
            "(unscored and missing count as not correct)"
        ),
    }
    csv_text = _csv(rows, verdicts, fixed, primary)
    write_atomic(directory / SUMMARY_FILE, summary.model_dump_json(indent=2) + "\n")
    write_atomic(directory / JUDGES_FILE, json.dumps(judges, indent=2, ensure_ascii=False) + "\n")
    write_atomic(directory / SAMPLES_FILE, csv_text)
    return summary, judges


def _csv(
    rows: Sequence[Trajectory],
    verdicts: Mapping[str, Mapping[str, Verdict]],
    fixed: Overrides | None,
    primary: str,
) -> str:
    others = [name for name in verdicts if name != primary]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([
        "trajectory_id", "task_id", "sample", "prediction", "answers", "termination", "turns",
        "tool_calls", "correct", f"judge_{primary}", "unscored_reason", "override_reason",
        "extracted_answer", "confidence", *(f"judge_{name}" for name in others),
    ])  # fmt: skip
    for t in rows:
        tid, task_id = t.id, t.task_id
        verdict = verdicts[primary].get(tid)
        override = fixed.lookup(tid, task_id) if fixed else None
        judged = verdict.correct if verdict else None
        correct = override.correct if override else judged
        writer.writerow([
            tid, task_id, t.sample, t.prediction or "", " | ".join(t.answers), t.termination,
            t.turns, len(t.tool_calls), _flag(correct), _flag(judged),
            (verdict.unscored_reason if verdict else "not judged") or "",
            override.reason if override else "",
            (verdict.extracted_answer if verdict else None) or "",
            "" if verdict is None or verdict.confidence is None else verdict.confidence,
            *(_flag(v.correct if (v := verdicts[n].get(tid)) else None) for n in others),
        ])  # fmt: skip
    return buffer.getvalue()
