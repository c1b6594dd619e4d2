"""Stage II long-horizon interaction (paper §5.2): agent trajectories in the local environment.

Trajectories come from the one agent loop through the one rollout (``redsearcher.rollout.
run_rollout``): with a model endpoint, or offline with the oracle replay the main job uses
(``redsearcher.testing.oracle_scripts`` in a ``ScriptedModel``; this package sits below
``testing``, so the caller hands the replay in as ``pool``). Nothing here runs its own loop.
They are kept exactly as the SFT export keeps them (``redsearcher.export.sft_filter``: correct,
few failed tool calls, one per question) and each context segment with a trained turn becomes one
``MidtrainSample`` whose observations (tool results, in either protocol) have loss weight 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from redsearcher.errors import UserError
from redsearcher.export import SFTFilterConfig, is_observation, sft_filter
from redsearcher.log import Task, Trajectory, read_manifest, read_trajectories
from redsearcher.midtrain._generator import GenContext, Rejection
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool, RolloutConfig, RolloutSummary, run_rollout

__all__ = [
    "GENERATOR_VERSION",
    "TrajectoryGenerator",
    "collect_trajectories",
    "samples_from_runs",
    "trajectory_samples",
]

GENERATOR_VERSION: Final = "trajectories/1"


def _content(reasoning: str | None, content: str) -> str:
    return f"<think>\n{reasoning}\n</think>\n\n{content}" if reasoning else content


def trajectory_samples(
    trajectory: Trajectory,
    task: Task | None,
    *,
    world_hash: str | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> list[MidtrainSample]:
    """One sample per context segment with a trained turn (ids: ``{trajectory id}/{segment}``).

    ``tools`` (the run manifest's OpenAI list) becomes ``source["tools"]`` for native-protocol
    episodes; text-protocol episodes already list them in their system prompt.

    Observations — tool messages, and tool responses the text protocol sends as user messages —
    get loss weight 0, as do assistant turns the agent marked untrained.
    """
    native = trajectory.provenance.protocol != "text"
    samples = []
    for segment in trajectory.segments:
        last = max((i for i, m in enumerate(segment.messages) if m.train), default=None)
        if last is None:
            continue
        messages = []
        seen_user = False
        for message in segment.messages[: last + 1]:
            observation = is_observation(message, first_user=not seen_user)
            seen_user = seen_user or (message.role == "user" and not observation)
            trained = message.role == "assistant" and message.train and not observation
            messages.append(
                MidtrainMessage(
                    role=message.role,
                    content=_content(message.reasoning, message.content),
                    loss_weight=1.0 if trained else 0.0,
                    tool_calls=message.tool_calls,
                    tool_call_id=message.tool_call_id,
                )
            )
        samples.append(
            MidtrainSample(
                id=f"{trajectory.id}/{segment.index}",
                kind="trajectories",
                stage="II",
                messages=messages,
                question=trajectory.question,
                answer_entities=[task.answer_entity] if task and task.answer_entity else [],
                evidence_docs=list(task.evidence_documents) if task else [],
                source={
                    "world_hash": world_hash or trajectory.provenance.world_hash,
                    "generator": GENERATOR_VERSION,
                    "rewrite": "offline",
                    "task_id": trajectory.task_id,
                    "trajectory_id": trajectory.id,
                    "segment": segment.index,
                    "model": trajectory.provenance.model,
                    "protocol": trajectory.provenance.protocol,
                    "tool_calls": len(trajectory.tool_calls),
                    **({"tools": tools} if tools and native else {}),
                },
            )
        )
    return samples


async def collect_trajectories(
    tasks: Sequence[Task],
    *,
    out: str | Path,
    env_url: str,
    model: ModelConfig,
    pool: EndpointPool | None = None,
    config: RolloutConfig | None = None,
) -> RolloutSummary:
    """Roll the agent out on ``tasks`` into the run directory ``out`` (resumable).

    The one rollout (``run_rollout``): ``pool`` carries an in-process model such as the oracle
    replay; without it ``model.base_url`` is the endpoint.
    """
    return await run_rollout(
        tasks, out=out, env_url=env_url, model=model, pool=pool, config=config or RolloutConfig()
    )


class TrajectoryGenerator:
    """Generator ``trajectories`` (stage II): filtered rollout trajectories as samples.

    Options (``options["trajectories"]``): ``runs`` — run directories written by
    :func:`collect_trajectories` or ``redsearcher rollout`` — and ``filter`` — the
    ``SFTFilterConfig`` fields (default: the SFT export's).
    """

    kind: Kind = "trajectories"
    stage: Stage = "II"

    def _runs(self, ctx: GenContext) -> list[Path]:
        options = ctx.kind_options("trajectories")
        unknown = sorted(set(options) - {"runs", "filter"})
        if unknown:
            raise UserError(f"unknown trajectories option(s) {unknown}; known: ['filter', 'runs']")
        runs = options.get("runs", [])
        if isinstance(runs, (str, Path)):
            runs = [runs]
        return [Path(r) for r in runs]

    def check(self, ctx: GenContext) -> None:
        """Runs must exist; the tasks they ran must be in the context (for decontamination)."""
        runs = self._runs(ctx)
        if not runs:
            raise UserError("trajectories needs options.trajectories.runs (rollout run dirs)")
        for run in runs:
            read_manifest(run)

    def generate(self, ctx: GenContext, n: int, seed: int) -> Iterator[MidtrainSample | Rejection]:
        """Yield up to ``n`` samples from the runs, in run order (``seed`` names the ids)."""
        options: Mapping[str, Any] = ctx.kind_options("trajectories")
        config = SFTFilterConfig.model_validate(options.get("filter", {}))
        tasks = {t.id: t for t in ctx.tasks}
        trajectories: list[Trajectory] = []
        offered: dict[str, list[dict[str, Any]]] = {}
        for run in self._runs(ctx):
            tools = read_manifest(run).tools
            for trajectory in read_trajectories(run):
                trajectories.append(trajectory)
                offered[trajectory.id] = tools
        result = sft_filter(trajectories, config)
        for reason, count in sorted(result.dropped.items()):
            for _ in range(count):
                yield Rejection("trajectories", reason)
        accepted = 0
        for trajectory in result.kept:
            for sample in trajectory_samples(
                trajectory,
                tasks.get(trajectory.task_id),
                world_hash=ctx.world_hash,
                tools=offered.get(trajectory.id),
            ):
                if accepted >= n:
                    return
                sample.source["sample_id"] = sample.id
                yield sample.model_copy(update={"id": f"trajectories-{seed}-{accepted}"})
                accepted += 1


def samples_from_runs(
    runs: Iterable[str | Path], tasks: Sequence[Task], config: SFTFilterConfig | None = None
) -> tuple[list[MidtrainSample], dict[str, int]]:
    """All kept samples of ``runs`` and the filter's drop counts (no generator protocol)."""
    by_id = {t.id: t for t in tasks}
    trajectories: list[Trajectory] = []
    offered: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        tools = read_manifest(run).tools
        for trajectory in read_trajectories(run):
            trajectories.append(trajectory)
            offered[trajectory.id] = tools
    result = sft_filter(trajectories, config)
    samples = [
        s
        for t in result.kept
        for s in trajectory_samples(t, by_id.get(t.task_id), tools=offered[t.id])
    ]
    return samples, dict(result.dropped)
