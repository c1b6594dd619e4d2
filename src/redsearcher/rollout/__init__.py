"""Rollouts: many concurrent episodes over several inference servers, into one resumable log.

- ``EndpointPool`` routes each trajectory's requests to one server (prefix-cache affinity) and
  new trajectories to the least loaded one; failing servers are taken out and retried later.
- ``rollout`` runs n samples per task with bounded concurrency, scores them with the ``Scorer``
  it is handed (by default the registered scorer named by ``RolloutConfig.scorer``, ``exact``;
  this package never imports ``redsearcher.eval``, which sits above it) and appends them to the
  run log (``redsearcher.log.RunLog``); ``run_rollout`` builds its resources from configuration
  (tasks file, environment URL, model servers) and is what ``redsearcher rollout`` calls.
- ``load_tasks`` reads task files (ours, DeepTraceHub's, plain ``{id, question, answers}``).
"""

from redsearcher.rollout._display import NoDisplay, RichDisplay, RolloutDisplay, RolloutStats
from redsearcher.rollout._routing import EndpointPool, EndpointStats, PinnedModel
from redsearcher.rollout._run import environment_world_hash, run_rollout
from redsearcher.rollout._runner import (
    EpisodeFn,
    RolloutConfig,
    RolloutSummary,
    rollout,
    score_trajectory,
    trajectory_id,
)
from redsearcher.rollout._tasks import load_tasks, parse_task_row, tasks_digest

__all__ = [
    "EndpointPool",
    "EndpointStats",
    "EpisodeFn",
    "NoDisplay",
    "PinnedModel",
    "RichDisplay",
    "RolloutConfig",
    "RolloutDisplay",
    "RolloutStats",
    "RolloutSummary",
    "environment_world_hash",
    "load_tasks",
    "parse_task_row",
    "rollout",
    "run_rollout",
    "score_trajectory",
    "tasks_digest",
    "trajectory_id",
]
