"""RL query curation (paper §6.3): keep questions the policy sometimes solves, and valid ones.

Two passes, both recorded per task in ``OUT/curation.jsonl`` (a resumable
:class:`~redsearcher.log.JsonlFile`, header pinned in ``curation.jsonl.meta.json``):

1. *Pass-rate band.* ``k`` rollouts per task through the ordinary rollout
   (:func:`redsearcher.rollout.run_rollout`, run log ``OUT/rollout``), scored by the configured
   scorer/judge. A task whose pass rate lies outside ``[low, high]`` gives GRPO no signal
   (all-correct or all-wrong groups have zero advantage) and is removed: ``too_easy`` above the
   band, ``too_hard`` below it. Edges are inclusive and compared exactly (as fractions: 1/8 is
   in a band that starts at 0.125). Unscored samples are left out of the rate; a task with fewer
   than ``min_scored`` scored samples is ``unscored`` and not kept — an outage is not a hard task.
2. *Agent-as-verifier* (``verify``). Each in-band task goes to a verifier agent (the one agent
   loop with the system prompt ``prompts/verifier.<version>.txt``, run log ``OUT/verify``),
   which checks it for multiple valid answers or an inconsistent ground truth. Only ``valid``
   is kept; ``unverified`` (unusable verifier output) is recorded with its reason and not kept.

Resuming: both run logs resume by themselves, and tasks already in ``curation.jsonl`` are not
decided again. A rollout that left episodes without a model endpoint stops before any decision
on an incomplete task (rerun to finish). The kept tasks are (re)written to
``OUT/curated.jsonl`` in input order at the end of every invocation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from redsearcher._util import write_atomic
from redsearcher.agent import AgentConfig
from redsearcher.errors import ConfigError, UserError
from redsearcher.log import JsonlFile, Task, Trajectory, iter_records, read_trajectories
from redsearcher.model import ModelConfig, ModelUnavailable
from redsearcher.rl._verifier import (
    VERIFIER_PROMPT_VERSION,
    VerifierResult,
    verification_task,
    verifier_prompt,
    verifier_result,
)
from redsearcher.rollout import RolloutConfig, RolloutDisplay, load_tasks, run_rollout

if TYPE_CHECKING:
    from redsearcher.tools import ServicesConfig

__all__ = [
    "CURATED_FILE",
    "CURATION_FILE",
    "Bucket",
    "CurationConfig",
    "CurationRecord",
    "CurationSummary",
    "PassRate",
    "curate",
    "parse_band",
    "pass_rate",
    "read_curation",
]

#: The per-task decisions.
CURATION_FILE = "curation.jsonl"
#: The kept tasks.
CURATED_FILE = "curated.jsonl"

Bucket = Literal["in_band", "too_easy", "too_hard", "unscored"]
"""Where a task's pass rate puts it."""

_BAND = re.compile(r"^\s*([0-9.]+)\s*-\s*([0-9.]+)\s*$")


def parse_band(text: str) -> tuple[float, float]:
    """``"0.125-0.875"`` as ``(0.125, 0.875)``.

    Raises:
        UserError: unless it is ``LOW-HIGH`` with ``0 <= LOW <= HIGH <= 1``.
    """
    match = _BAND.match(text)
    try:
        low, high = (Decimal(match.group(i)) for i in (1, 2)) if match else (None, None)
    except InvalidOperation:
        low = high = None
    if low is None or high is None or not Decimal(0) <= low <= high <= Decimal(1):
        raise UserError(f"--band {text!r}: expected LOW-HIGH with 0 <= LOW <= HIGH <= 1")
    return float(low), float(high)


class CurationConfig(BaseModel):
    """What curation keeps (the ``--k``, ``--band``, ``--verify`` flags)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    k: int = Field(default=8, ge=1)
    """Rollouts per task for the pass rate."""
    band_low: float = Field(default=0.125, ge=0.0, le=1.0)
    """Lowest pass rate kept (inclusive); below it a task is too hard."""
    band_high: float = Field(default=0.875, ge=0.0, le=1.0)
    """Highest pass rate kept (inclusive); above it a task is too easy."""
    pass_score: float = 1.0
    """A sample passes when its score is at least this (1.0: the judge said correct)."""
    min_scored: int = Field(default=1, ge=1)
    """Fewer scored samples than this: the task is ``unscored`` (not kept)."""
    verify: bool = False
    """Run the agent-as-verifier on the in-band tasks."""
    verifier_prompt_version: str = VERIFIER_PROMPT_VERSION
    """Version of ``prompts/verifier.<version>.txt``."""

    @model_validator(mode="after")
    def _band(self) -> CurationConfig:
        if self.band_low > self.band_high:
            raise ValueError(f"band_low {self.band_low} is above band_high {self.band_high}")
        if self.verify:
            try:
                verifier_prompt(self.verifier_prompt_version)  # fail now, not after the rollout
            except ConfigError as err:
                raise ValueError(str(err)) from err
        return self


class PassRate(BaseModel):
    """A task's rollouts, scored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: int
    scored: int
    correct: int
    rate: float | None
    """``correct / scored``; ``None`` when nothing was scored."""
    bucket: Bucket


def _fraction(value: float) -> Fraction:
    return Fraction(Decimal(repr(value)))  # 0.1 is exactly 1/10, not its binary neighbour


def pass_rate(scores: Sequence[float | None], config: CurationConfig | None = None) -> PassRate:
    """The pass rate of one task's rollout scores and its bucket (see the module docstring)."""
    config = config or CurationConfig()
    scored = [s for s in scores if s is not None]
    correct = sum(s >= config.pass_score for s in scored)
    if len(scored) < config.min_scored or not scored:
        return PassRate(samples=len(scores), scored=len(scored), correct=correct, rate=None,
                        bucket="unscored")  # fmt: skip
    rate = Fraction(correct, len(scored))
    bucket: Bucket = "in_band"
    if rate < _fraction(config.band_low):
        bucket = "too_hard"
    elif rate > _fraction(config.band_high):
        bucket = "too_easy"
    return PassRate(
        samples=len(scores),
        scored=len(scored),
        correct=correct,
        rate=float(rate),
        bucket=bucket,
    )


class CurationRecord(BaseModel):
    """One task's curation (one line of ``curation.jsonl``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    """The task id."""
    rollouts: PassRate
    verifier: VerifierResult | None = None
    """The verifier's decision (``None``: not run — out of band, or ``verify`` off)."""
    kept: bool
    reason: str
    """Why it was kept or removed, for people reading the file."""


class CurationSummary(BaseModel):
    """Counts over every task of the curation (this invocation's and earlier ones)."""

    model_config = ConfigDict(extra="forbid")

    tasks: int
    buckets: dict[str, int]
    verifier: dict[str, int]
    """Verifier statuses of the verified tasks."""
    kept: int
    decided_now: int
    """Tasks decided by this invocation."""
    rollout_episodes: int
    """Episodes the pass-rate rollout ran in this invocation."""
    verifier_episodes: int


def _decide(rate: PassRate, verdict: VerifierResult | None, verify: bool) -> tuple[bool, str]:
    counts = f"{rate.correct}/{rate.scored} scored samples correct"
    if rate.bucket == "unscored":
        return False, f"unscored: {rate.scored} of {rate.samples} samples scored"
    if rate.bucket != "in_band":
        return False, f"{rate.bucket.replace('_', ' ')}: {counts}"
    if not verify:
        return True, f"in band: {counts}"
    assert verdict is not None
    if verdict.status == "valid":
        return True, f"in band ({counts}) and verified valid"
    return False, f"verifier: {verdict.status}: {verdict.reason}"


def read_curation(out: str | Path) -> list[CurationRecord]:
    """The records of ``OUT/curation.jsonl`` (file/line errors for a malformed one)."""
    path = Path(out) / CURATION_FILE
    if not path.is_file():
        return []
    return list(iter_records(path, CurationRecord))


def _write_curated(out: Path, tasks: Sequence[Task], kept: set[str]) -> None:
    write_atomic(out / CURATED_FILE, (t.model_dump_json() for t in tasks if t.id in kept))


def _verifier_agent(agent: AgentConfig, out: Path, version: str) -> AgentConfig:
    """The agent config with the verifier prompt, copied into the run (stable path, audit)."""
    prompt = out / f"verifier.{version}.txt"
    text = verifier_prompt(version) + "\n"
    if not prompt.is_file() or prompt.read_text(encoding="utf-8") != text:
        prompt.write_text(text, encoding="utf-8")
    return agent.model_copy(update={"system_prompt_file": prompt})


def _by_task(run: Path) -> dict[str, list[Trajectory]]:
    grouped: dict[str, list[Trajectory]] = defaultdict(list)
    for trajectory in read_trajectories(run):
        grouped[trajectory.task_id].append(trajectory)
    return grouped


async def curate(
    tasks: str | Path | Sequence[Task],
    *,
    out: str | Path,
    model: ModelConfig,
    env_url: str | None = None,
    base_urls: Sequence[str] | None = None,
    agent: AgentConfig | None = None,
    config: CurationConfig | None = None,
    rollout_config: RolloutConfig | None = None,
    verifier_model: ModelConfig | None = None,
    verifier_base_urls: Sequence[str] | None = None,
    verifier_agent: AgentConfig | None = None,
    display: RolloutDisplay | None = None,
    verifier_display: RolloutDisplay | None = None,
    services: ServicesConfig | None = None,
    **rollout_options: Any,
) -> CurationSummary:
    """Curate an RL query set into ``out`` (see the module docstring); resumable.

    Args:
        tasks: A tasks file (any format :func:`~redsearcher.rollout.load_tasks` reads) or tasks.
        out: The curation directory.
        model: The policy model the pass rate is measured with.
        env_url: The environment server (see :func:`~redsearcher.rollout.run_rollout`).
        base_urls: The policy's inference servers (default ``model.base_url``).
        agent: The policy's agent config.
        config: k, band, verification.
        rollout_config: Concurrency, scorer and so on; ``n_samples`` is set to ``config.k``.
        verifier_model: The verifier's model (default: the policy model).
        verifier_base_urls: The verifier's servers (default: the policy's).
        verifier_agent: The verifier's agent config (default: ``agent``); its system prompt is
            replaced by the verifier prompt.
        display: Progress of the pass-rate rollout.
        verifier_display: Progress of the verifier rollout.
        services: The tools' services (default: all at ``env_url``).
        **rollout_options: Further keyword arguments of ``run_rollout`` (both runs; tests pass
            ``pool``/``episode`` here).

    Raises:
        UserError: for unreadable tasks, an unreachable environment, or a curation directory
            written with other settings.
        ModelUnavailable: when episodes were abandoned for want of a model endpoint; nothing
            is decided for their tasks, and a rerun resumes.
    """
    config = config or CurationConfig()
    agent = agent or AgentConfig()
    root = Path(out)
    loaded = list(tasks) if not isinstance(tasks, str | Path) else load_tasks(tasks)
    if not loaded:
        where = tasks if isinstance(tasks, str | Path) else "the task list"
        raise UserError(f"{where}: no tasks to curate")
    hint = "use another --out, or the settings it was written with"
    episodes = verifier_episodes = decided_now = 0
    runs = (rollout_config or RolloutConfig()).model_copy(update={"n_samples": config.k})
    # The scorer decides every pass rate: a rerun judging with another one must not mix in.
    header = {**config.model_dump(mode="json"), "scorer": runs.scorer}
    with JsonlFile.open(
        root / CURATION_FILE,
        header=header,
        key="id",
        model=CurationRecord,
        hint=hint,
    ) as file:
        if any(t.id not in file.done for t in loaded):
            summary = await run_rollout(
                loaded, out=root / "rollout", env_url=env_url, model=model, base_urls=base_urls,
                agent=agent, config=runs, display=display, services=services, **rollout_options,
            )  # fmt: skip
            episodes = summary.completed
            if summary.unavailable:
                raise ModelUnavailable(
                    f"{summary.unavailable} episode(s) found no model endpoint; rerun to resume"
                )
            rollouts = _by_task(root / "rollout")
            rates = {t.id: pass_rate([r.score for r in rollouts[t.id]], config) for t in loaded}
            # Out-of-band decisions are final now: an interrupted verification loses none.
            final = [
                _record(t, rates[t.id], None, config.verify)
                for t in loaded
                if t.id not in file.done and (rates[t.id].bucket != "in_band" or not config.verify)
            ]
            file.append_many(final)
            decided_now += len(final)
            in_band = [t for t in loaded if t.id not in file.done]
            if in_band:
                checks = [verification_task(t, rollouts[t.id]) for t in in_band]
                vsummary = await run_rollout(
                    checks, out=root / "verify", env_url=env_url,
                    model=verifier_model or model,
                    base_urls=verifier_base_urls or (None if verifier_model else base_urls),
                    agent=_verifier_agent(
                        verifier_agent or agent, root, config.verifier_prompt_version
                    ),
                    config=runs.model_copy(update={"n_samples": 1, "scorer": "exact"}),
                    display=verifier_display, services=services, **rollout_options,
                )  # fmt: skip
                verifier_episodes = vsummary.completed
                if vsummary.unavailable:
                    raise ModelUnavailable(
                        f"{vsummary.unavailable} verifier episode(s) found no model endpoint; "
                        "rerun to resume"
                    )
                verdicts = {
                    t.task_id: verifier_result(t) for t in read_trajectories(root / "verify")
                }
                checked = [_record(t, rates[t.id], verdicts[t.id], True) for t in in_band]
                file.append_many(checked)
                decided_now += len(checked)
    records = read_curation(root)
    ids = {t.id for t in loaded}
    _write_curated(root, loaded, {r.id for r in records if r.kept})
    return CurationSummary(
        tasks=len(loaded),
        buckets=_count(r.rollouts.bucket for r in records if r.id in ids),
        verifier=_count(r.verifier.status for r in records if r.id in ids and r.verifier),
        kept=sum(r.kept for r in records if r.id in ids),
        decided_now=decided_now,
        rollout_episodes=episodes,
        verifier_episodes=verifier_episodes,
    )


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def _record(task: Task, rate: PassRate, verdict: VerifierResult | None, verify: bool) -> (
    CurationRecord
):  # fmt: skip
    kept, reason = _decide(rate, verdict, verify)
    return CurationRecord(id=task.id, rollouts=rate, verifier=verdict, kept=kept, reason=reason)
