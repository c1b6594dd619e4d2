"""The rollout runner: thousands of concurrent episodes, n samples per task, resumable.

Shape: a producer puts the ``(task, sample)`` pairs not yet in the run log on a bounded queue;
``concurrency`` workers take one at a time, run the episode with a model pinned by the endpoint
pool, score it, and hand it to one writer task that appends finished trajectories to the log in
group commits (one ``write`` + ``fsync`` for whatever finished meanwhile, off the event loop).
The queue bound keeps memory flat however many tasks there are; the single writer keeps appends
ordered and whole.

Failure policy (no ``except Exception: continue``):

- An episode whose model misbehaved or whose tools failed is a trajectory like any other
  (termination ``error``) and is written: it is data about the model.
- An episode abandoned because no endpoint answered (:class:`~redsearcher.model.ModelUnavailable`
  raised, or recorded by the agent as its error) is *not* written, so resuming retries it; after
  ``max_consecutive_unavailable`` such episodes in a row the run stops with that error, because
  the servers are gone and burning the queue helps nobody.
- Anything else an episode raises is a bug or a fatal configuration problem: the run stops,
  after writing what finished, and the exception propagates.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.log import RunLog, Task, Trajectory
from redsearcher.model import ChatModel, ModelUnavailable
from redsearcher.registry import lookup
from redsearcher.rollout._display import NoDisplay, RolloutDisplay, RolloutStats
from redsearcher.rollout._routing import EndpointPool

__all__ = [
    "EpisodeFn",
    "RolloutConfig",
    "RolloutSummary",
    "Scorer",
    "rollout",
    "score_trajectory",
    "trajectory_id",
]


class Scorer(Protocol):
    """What scores a finished episode: a registered scorer or judge (registry kind ``scorer``).

    Returns the score, or ``None`` for *unscored* (nothing to score against, or a judge that
    could not decide), which is never counted as incorrect.
    """

    async def __call__(self, trajectory: Trajectory) -> float | None:
        """Score ``trajectory``."""
        ...


class EpisodeFn(Protocol):
    """The signature of :func:`redsearcher.agent.run_episode` (tests pass fakes)."""

    def __call__(
        self,
        task: Task,
        *,
        model: ChatModel,
        toolbox: Any,
        config: Any,
        sample: int = 0,
        world_hash: str | None = None,
    ) -> Awaitable[Trajectory]:
        """Run one episode of ``task`` and return its trajectory."""
        ...


class RolloutConfig(BaseModel):
    """How a rollout runs (section ``rollout`` of the layered config)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    n_samples: int = Field(default=1, ge=1)
    """Episodes per task (ids ``{task_id}#0`` ... ``#{n-1}``)."""
    concurrency: int = Field(default=64, ge=1)
    """Episodes in flight at once."""
    queue_size: int | None = Field(default=None, ge=1)
    """Pending episodes queued ahead of the workers (default: ``concurrency``)."""
    max_consecutive_unavailable: int = Field(default=32, ge=1)
    """Stop the run after this many episodes in a row found no model endpoint."""
    fsync: bool = True
    """``fsync`` the run log after each group commit (off: a power cut may lose the last
    records; a killed process loses nothing either way)."""
    tool_cache: bool = True
    """Share one tool cache across the run's episodes (a repeated search is answered once)."""
    endpoint_cooldown_s: float = Field(default=30.0, ge=0.0)
    """How long a failing inference server is left out (doubled per consecutive failure)."""
    endpoint_wait_s: float = Field(default=120.0, ge=0.0)
    """How long a request waits for a server when all are out, before the episode is
    abandoned."""
    scorer: str = "exact"
    """The registered scorer (registry kind ``scorer``) applied to each finished episode."""


class RolloutSummary(BaseModel):
    """What one rollout invocation did."""

    model_config = ConfigDict(extra="forbid")

    planned: int
    """Episodes the run covers (tasks x samples)."""
    skipped: int
    """Episodes already in the run log when this invocation started."""
    completed: int
    """Episodes this invocation finished and wrote."""
    unavailable: int
    """Episodes abandoned for want of a model endpoint (a resume retries them)."""
    errors: int
    """Written episodes with termination ``error``."""
    scored: int
    """Written episodes with a score."""
    correct: int
    """Written episodes scored correct."""
    terminations: dict[str, int]
    """How the written episodes ended."""
    tool_calls: int
    """Tool calls of the written episodes."""
    failed_tool_calls: int
    """Of those, tool errors."""
    model_calls: int
    """Model requests of the written episodes."""
    prompt_tokens: int
    """Prompt tokens (server counts, else estimates)."""
    completion_tokens: int
    """Completion tokens."""
    wall_s: float
    """Wall-clock seconds of the invocation."""
    cpu_s: float
    """CPU seconds of this process during the invocation (all threads)."""
    endpoints: list[dict[str, Any]] = Field(default_factory=list)
    """Per-endpoint counters at the end (url, requests, failures, trajectories, ...)."""

    @property
    def accuracy(self) -> float | None:
        """Correct over scored (None when nothing was scored)."""
        return self.correct / self.scored if self.scored else None

    @property
    def episodes_per_s(self) -> float:
        """Written episodes per wall-clock second."""
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def cpu_ms_per_step(self) -> float:
        """CPU milliseconds of this process per model request (a step of an episode)."""
        return 1000.0 * self.cpu_s / self.model_calls if self.model_calls else 0.0

    @property
    def finished(self) -> bool:
        """Whether every planned episode is now in the log."""
        return self.skipped + self.completed == self.planned


def trajectory_id(task_id: str, sample: int) -> str:
    """The run log key of one episode: ``{task_id}#{sample}``."""
    return f"{task_id}#{sample}"


async def score_trajectory(trajectory: Trajectory, scorer: Scorer | None = None) -> Trajectory:
    """Score with ``scorer`` (default: the registered ``exact``) unless a score is already set.

    Left unscored (``None``): episodes that ended in ``error`` (nothing to judge) and whatever
    the scorer leaves unscored (tasks without reference answers, for the rule scorer).
    """
    if trajectory.score is not None or trajectory.termination == "error":
        return trajectory
    scorer = scorer if scorer is not None else lookup("scorer", "exact")()
    score = await scorer(trajectory)
    if score is None:
        return trajectory
    return trajectory.model_copy(update={"score": score})


def _unavailable(trajectory: Trajectory) -> bool:
    """Whether the agent recorded an endpoint outage as the episode's error."""
    return trajectory.termination == "error" and (trajectory.error or "").startswith(
        ModelUnavailable.__name__
    )


_STOP = object()


async def rollout(
    tasks: Sequence[Task],
    *,
    config: RolloutConfig,
    pool: EndpointPool,
    toolbox: Any,
    agent_config: Any,
    log: RunLog,
    episode: EpisodeFn | None = None,
    world_hash: str | None = None,
    display: RolloutDisplay | None = None,
    scorer: Scorer | None = None,
) -> RolloutSummary:
    """Run ``config.n_samples`` episodes of every task not already in ``log``.

    Args:
        tasks: The tasks (ids unique).
        config: Concurrency, samples, failure bounds.
        pool: The model endpoints; each episode gets :meth:`EndpointPool.model_for` its id.
        toolbox: The run's :class:`~redsearcher.tools.Toolbox`, shared by every episode (one
            connection pool, one cache); the caller owns it.
        agent_config: The :class:`~redsearcher.agent.AgentConfig` passed to every episode.
        log: The open run log; finished trajectories are appended, done ids skipped.
        episode: The episode function (default :func:`redsearcher.agent.run_episode`).
        world_hash: The environment's World hash, recorded in each trajectory's provenance.
        display: Progress display (default: none).
        scorer: Scores each finished episode (default: the registered scorer named by
            ``config.scorer``).

    Returns:
        The invocation's summary (see :attr:`RolloutSummary.finished`).

    Raises:
        ModelUnavailable: after ``config.max_consecutive_unavailable`` abandoned episodes in a
            row; what finished is in the log.
        ValueError: for repeated task ids or an episode that returned another id.
        Exception: whatever an episode raised that is not a model outage (a bug, a fatal
            configuration error); what finished is in the log.
    """
    if episode is None:
        from redsearcher.agent import run_episode

        episode = run_episode
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError("task ids must be unique within a rollout")
    pending = [
        (task, sample)
        for task in tasks
        for sample in range(config.n_samples)
        if trajectory_id(task.id, sample) not in log.done
    ]
    stats = RolloutStats(planned=len(tasks) * config.n_samples)
    stats.skipped = stats.planned - len(pending)
    display = display or NoDisplay()
    started, cpu_started = time.perf_counter(), time.process_time()
    scorer = scorer if scorer is not None else lookup("scorer", config.scorer)()
    runner = _Runner(
        config, pool, toolbox, agent_config, log, episode, world_hash, display, stats, scorer
    )
    display.start(stats)
    try:
        await runner.run(pending)
    finally:
        display.stop(stats)
    return RolloutSummary(
        planned=stats.planned,
        skipped=stats.skipped,
        completed=stats.completed,
        unavailable=stats.unavailable,
        errors=stats.errors,
        scored=stats.scored,
        correct=stats.correct,
        terminations=dict(stats.terminations),
        tool_calls=stats.tool_calls,
        failed_tool_calls=stats.failed_tool_calls,
        model_calls=stats.model_calls,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        wall_s=time.perf_counter() - started,
        cpu_s=time.process_time() - cpu_started,
        endpoints=[vars(s) for s in pool.stats()],
    )


class _Runner:
    """One invocation's queues and tasks (kept out of :func:`rollout` for readability)."""

    def __init__(
        self,
        config: RolloutConfig,
        pool: EndpointPool,
        toolbox: Any,
        agent_config: Any,
        log: RunLog,
        episode: EpisodeFn,
        world_hash: str | None,
        display: RolloutDisplay,
        stats: RolloutStats,
        scorer: Scorer,
    ) -> None:
        self.config = config
        self.scorer = scorer
        self.pool = pool
        self.toolbox = toolbox
        self.agent_config = agent_config
        self.log = log
        self.episode = episode
        self.world_hash = world_hash
        self.display = display
        self.stats = stats
        self.consecutive_unavailable = 0
        self.todo: asyncio.Queue[tuple[Task, int] | None] = asyncio.Queue(
            config.queue_size or config.concurrency
        )
        self.finished: asyncio.Queue[Any] = asyncio.Queue()
        self.write_error: BaseException | None = None

    async def run(self, pending: list[tuple[Task, int]]) -> None:
        workers = min(self.config.concurrency, len(pending))
        writer = asyncio.create_task(self._writer(), name="rollout-writer")
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._produce(pending, workers), name="rollout-producer")
                for i in range(workers):
                    group.create_task(self._work(), name=f"rollout-worker-{i}")
        except BaseExceptionGroup as failed:
            # One cause is clearer than a group: the first non-cancellation error.
            first = next(
                (e for e in failed.exceptions if not isinstance(e, asyncio.CancelledError)),
                failed.exceptions[0],
            )
            raise first from None
        finally:
            self.finished.put_nowait(_STOP)
            # Let the writer flush what finished, even when this task is being cancelled.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(writer)
            if writer.done() and not writer.cancelled() and writer.exception() is not None:
                raise writer.exception()  # type: ignore[misc]

    async def _produce(self, pending: list[tuple[Task, int]], workers: int) -> None:
        for item in pending:
            await self.todo.put(item)
        for _ in range(workers):
            await self.todo.put(None)

    async def _work(self) -> None:
        while (item := await self.todo.get()) is not None:
            if self.write_error is not None:
                raise RuntimeError("the run log could not be written") from self.write_error
            task, sample = item
            tid = trajectory_id(task.id, sample)
            model = self.pool.model_for(tid)
            try:
                trajectory = await self.episode(
                    task,
                    model=model,
                    toolbox=self.toolbox,
                    config=self.agent_config,
                    sample=sample,
                    world_hash=self.world_hash,
                )
            except ModelUnavailable:
                self._abandon()
                continue
            finally:
                await model.aclose()
            if trajectory.id != tid:
                raise ValueError(f"episode of {tid!r} returned trajectory {trajectory.id!r}")
            if _unavailable(trajectory):
                self._abandon()
                continue
            self.consecutive_unavailable = 0
            trajectory = await score_trajectory(trajectory, self.scorer)
            self.stats.add(trajectory)
            self._refresh()
            self.finished.put_nowait(trajectory)

    def _abandon(self) -> None:
        self.stats.unavailable += 1
        self.consecutive_unavailable += 1
        self._refresh()
        if self.consecutive_unavailable >= self.config.max_consecutive_unavailable:
            raise ModelUnavailable(
                f"{self.consecutive_unavailable} episodes in a row found no model endpoint; "
                "stopping (finished episodes are in the run log; rerun the command to resume)"
            )

    def _refresh(self) -> None:
        self.stats.endpoints_down = sum(not s.up for s in self.pool.stats())
        self.display.update(self.stats)

    async def _writer(self) -> None:
        stop = False
        while not stop:
            batch = [await self.finished.get()]
            while not self.finished.empty():
                batch.append(self.finished.get_nowait())
            stop = any(item is _STOP for item in batch)
            records = [item for item in batch if item is not _STOP]
            if records:
                try:
                    await asyncio.to_thread(self.log.append_many, records)
                except BaseException as err:  # the workers stop at their next episode
                    self.write_error = err
                    raise
