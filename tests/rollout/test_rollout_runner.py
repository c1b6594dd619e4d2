from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rollout_support import (
    fake_models,
    make_manifest,
    make_tasks,
    make_trajectory,
    scripted_episode,
)

from redsearcher.errors import ConfigError
from redsearcher.log import RunLog, Task, Trajectory, read_trajectories
from redsearcher.model import ChatModel, ModelUnavailable
from redsearcher.rollout import EndpointPool, RolloutConfig, RolloutStats, rollout, score_trajectory


def run(
    tmp_path: Path, tasks: list[Task], episode: Any, *, n: int = 1, log: RunLog | None = None,
    display: Any = None, scorer_fn: Any = None, **config: Any,
) -> Any:  # fmt: skip
    async def go() -> Any:
        pool = EndpointPool(fake_models(2))
        own = log or RunLog.open(tmp_path / "run", make_manifest(n_samples=n), fsync=False)
        try:
            return await rollout(
                tasks, config=RolloutConfig(n_samples=n, **config), pool=pool, toolbox=None,
                agent_config=None, log=own, episode=episode, world_hash="wh", display=display,
                scorer=scorer_fn,
            )  # fmt: skip
        finally:
            if log is None:
                own.close()

    return asyncio.run(go())


def test_n_samples_per_task_are_written_and_scored(tmp_path: Path) -> None:
    summary = run(tmp_path, make_tasks(5), scripted_episode(turns=2), n=3, concurrency=4)
    assert (summary.planned, summary.completed, summary.skipped) == (15, 15, 0)
    assert summary.finished and summary.correct == 15 and summary.accuracy == 1.0
    assert summary.model_calls == 30 and summary.cpu_ms_per_step > 0
    ids = [t.id for t in read_trajectories(tmp_path / "run")]
    assert sorted(ids) == sorted(f"t{i}#{s}" for i in range(5) for s in range(3))
    assert sum(e["requests"] for e in summary.endpoints) == 30
    assert all(
        t.provenance.world_hash == "wh" and t.score == 1.0
        for t in read_trajectories(tmp_path / "run")
    )


def test_done_ids_are_skipped_on_resume(tmp_path: Path) -> None:
    run(tmp_path, make_tasks(3), scripted_episode(), n=2)
    calls: list[str] = []
    inner = scripted_episode()

    async def counting(task: Task, **kw: Any) -> Trajectory:
        calls.append(f"{task.id}#{kw['sample']}")
        return await inner(task, **kw)

    summary = run(tmp_path, make_tasks(4), counting, n=2)
    assert calls == ["t3#0", "t3#1"] and summary.skipped == 6 and summary.completed == 2
    assert len(list(read_trajectories(tmp_path / "run"))) == 8


def test_concurrency_is_bounded(tmp_path: Path) -> None:
    active = peak = 0

    async def episode(task: Task, *, model: ChatModel, sample: int = 0, **kw: Any) -> Trajectory:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.005)
        active -= 1
        return make_trajectory(task.id, sample, answers=task.answers, prediction=task.answers[0])

    summary = run(tmp_path, make_tasks(40), episode, concurrency=7, queue_size=3)
    assert summary.completed == 40 and peak == 7


def test_the_queue_holds_at_most_queue_size_episodes_ahead_of_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redsearcher.rollout import _runner

    runners: list[Any] = []
    init = _runner._Runner.__init__

    def capture(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        runners.append(self)

    monkeypatch.setattr(_runner._Runner, "__init__", capture)
    release = asyncio.Event()
    started = 0
    queued: list[int] = []

    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        nonlocal started
        started += 1
        if started == 7:  # every worker holds an episode: the producer fills the queue, no more
            for _ in range(20):
                await asyncio.sleep(0)
            queued.append(runners[0].todo.qsize())
            release.set()
        await release.wait()
        return make_trajectory(task.id, sample, answers=task.answers, prediction=task.answers[0])

    summary = run(tmp_path, make_tasks(40), episode, concurrency=7, queue_size=3)
    assert summary.completed == 40
    assert queued == [3]  # 40 tasks, 7 in the workers' hands, 3 queued, 30 not yet produced


def test_scoring_rules() -> None:
    assert (
        asyncio.run(score_trajectory(make_trajectory(prediction="paris", answers=["Paris"]))).score
        == 1.0
    )
    assert (
        asyncio.run(score_trajectory(make_trajectory(prediction="Lyon", answers=["Paris"]))).score
        == 0.0
    )
    none = make_trajectory(prediction=None, termination="max_turns", answers=["Paris"])
    assert asyncio.run(score_trajectory(none)).score == 0.0
    assert (
        asyncio.run(score_trajectory(make_trajectory(answers=[]))).score is None
    )  # unscored, not wrong
    error = make_trajectory(prediction=None, termination="error", error="x")
    assert asyncio.run(score_trajectory(error)).score is None
    assert (
        asyncio.run(score_trajectory(make_trajectory(prediction="Lyon", score=1.0))).score == 1.0
    )  # kept


def test_errored_episodes_are_written_and_counted(tmp_path: Path) -> None:
    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        if task.id == "t1":
            return make_trajectory(
                task.id,
                sample,
                prediction=None,
                termination="error",
                error="ModelRequestError: HTTP 400",
            )
        return make_trajectory(task.id, sample, answers=task.answers, prediction="wrong")

    summary = run(tmp_path, make_tasks(3), episode)
    assert summary.completed == 3 and summary.errors == 1
    assert summary.terminations == {"answer": 2, "error": 1}
    assert (summary.scored, summary.correct) == (2, 0)


def test_unavailable_episodes_are_not_written_so_resume_retries_them(tmp_path: Path) -> None:
    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        if task.id == "t0":
            raise ModelUnavailable("all down")
        if task.id == "t1":  # the agent loop records the outage as the episode's error
            return make_trajectory(
                task.id,
                sample,
                prediction=None,
                termination="error",
                error="ModelUnavailable: down",
            )
        return make_trajectory(task.id, sample, answers=task.answers, prediction=task.answers[0])

    summary = run(tmp_path, make_tasks(4), episode, concurrency=1)
    assert (summary.completed, summary.unavailable, summary.finished) == (2, 2, False)
    assert {t.id for t in read_trajectories(tmp_path / "run")} == {"t2#0", "t3#0"}
    again = run(tmp_path, make_tasks(4), scripted_episode())
    assert again.skipped == 2 and again.completed == 2 and again.finished


def test_the_run_stops_after_consecutive_outages(tmp_path: Path) -> None:
    started: list[str] = []

    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        started.append(task.id)
        if task.id != "t0":
            raise ModelUnavailable("down")
        return make_trajectory(task.id, sample, answers=task.answers, prediction=task.answers[0])

    with pytest.raises(ModelUnavailable, match="in a row"):
        run(tmp_path, make_tasks(50), episode, concurrency=1, max_consecutive_unavailable=3)
    assert len(started) == 4  # t0, then three outages
    assert [t.id for t in read_trajectories(tmp_path / "run")] == ["t0#0"]


def test_a_bug_stops_the_run_and_finished_episodes_are_kept(tmp_path: Path) -> None:
    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        if task.id == "t5":
            await asyncio.sleep(0.05)
            raise KeyError("a bug")
        await asyncio.sleep(0.001 * int(task.id[1:]))
        return make_trajectory(task.id, sample, answers=task.answers, prediction=task.answers[0])

    with pytest.raises(KeyError, match="a bug"):
        run(tmp_path, make_tasks(8), episode, concurrency=8)
    written = {t.id for t in read_trajectories(tmp_path / "run")}
    assert written == {f"t{i}#0" for i in range(8) if i != 5}


def test_an_episode_returning_another_id_is_a_bug(tmp_path: Path) -> None:
    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        return make_trajectory("other", sample)

    with pytest.raises(ValueError, match="returned trajectory"):
        run(tmp_path, make_tasks(1), episode)


def test_repeated_task_ids_are_refused(tmp_path: Path) -> None:
    tasks = make_tasks(2)
    with pytest.raises(ValueError, match="unique"):
        run(tmp_path, [tasks[0], tasks[0]], scripted_episode())


def test_the_display_sees_every_episode(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []

    class Recorder:
        def start(self, stats: RolloutStats) -> None:
            seen.append(("start", stats.planned))

        def update(self, stats: RolloutStats) -> None:
            seen.append(("update", stats.completed))

        def stop(self, stats: RolloutStats) -> None:
            seen.append(("stop", stats.completed))

    run(tmp_path, make_tasks(3), scripted_episode(), display=Recorder())
    assert seen[0] == ("start", 3) and seen[-1] == ("stop", 3)
    assert [c for k, c in seen if k == "update"] == [1, 2, 3]


def test_rich_display_draws_without_errors(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from redsearcher.rollout import RichDisplay

    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        if task.id == "t3":
            return make_trajectory(task.id, sample, prediction=None, termination="error", error="x")
        wrong = "Lyon" if task.id == "t2" else task.answers[0]
        return make_trajectory(task.id, sample, answers=task.answers, prediction=wrong, tools=3)

    buffer = StringIO()
    display = RichDisplay(Console(file=buffer, force_terminal=True, width=160))
    summary = run(tmp_path, make_tasks(4), episode, display=display)
    assert summary.completed == 4
    final = buffer.getvalue()
    # done, accuracy so far (2 of 3 scored; the errored one is unscored), tool calls per
    # episode (3 + 3 + 3 + 2 over 4) and errors, in the last drawing
    assert "4/4" in final and "acc 66.7%" in final
    assert "tools/ep 2.8" in final and "errors 1" in final


def test_nothing_to_do(tmp_path: Path) -> None:
    run(tmp_path, make_tasks(2), scripted_episode())
    summary = run(tmp_path, make_tasks(2), scripted_episode())
    assert (summary.skipped, summary.completed, summary.finished) == (2, 0, True)


def test_a_scorer_is_injected_not_imported(tmp_path: Path) -> None:
    seen: list[str] = []

    class Judge:
        async def __call__(self, trajectory: Trajectory) -> float | None:
            seen.append(trajectory.id)
            return None if trajectory.sample else 0.5

    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        return make_trajectory(task.id, sample, answers=task.answers, prediction="wrong")

    summary = run(tmp_path, make_tasks(2), episode, n=2, scorer_fn=Judge())
    assert sorted(seen) == ["t0#0", "t0#1", "t1#0", "t1#1"]
    scores = {t.id: t.score for t in read_trajectories(tmp_path / "run")}
    assert scores == {"t0#0": 0.5, "t0#1": None, "t1#0": 0.5, "t1#1": None}
    assert summary.scored == 2


def test_the_scorer_is_named_in_the_config(tmp_path: Path) -> None:
    async def episode(task: Task, *, sample: int = 0, **kw: Any) -> Trajectory:
        return make_trajectory(task.id, sample, answers=task.answers, prediction="wrong")

    with pytest.raises(
        ConfigError, match="unknown scorer 'nope'; known: ab, browsecomp, contains, exact"
    ):
        run(tmp_path, make_tasks(1), episode, scorer="nope")
