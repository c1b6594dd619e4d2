"""Rollouts: many concurrent episodes over several inference servers, into one resumable log.

- ``EndpointPool`` routes each trajectory's requests to one server (prefix-cache affinity) and
  new trajectories to the least loaded one; failing servers are taken out and retried later.
- ``rollout`` runs n samples per task with bounded concurrency, scores them
  (``redsearcher.eval.exact_match`` until a judge is configured) and appends them to a
  ``RunLog``; ``run_rollout`` builds its resources from configuration (tasks file, environment
  URL, model servers) and is what ``redsearcher rollout`` calls.
- ``RunLog`` is the run directory (``run.json`` + append-only ``trajectories.jsonl``) that
  evaluation, export and RL read; it survives ``kill -9`` and resumes without loss or duplicates.
- ``load_tasks`` reads task files (ours, DeepTraceHub's, plain ``{id, question, answers}``);
  ``sft_filter`` is the §6.1 post-filter of trajectories for SFT.
"""

from redsearcher.rollout._display import NoDisplay, RichDisplay, RolloutDisplay, RolloutStats
from redsearcher.rollout._filter import SFTFilterConfig, SFTFilterResult, sft_filter
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
    "SFTFilterConfig",
    "SFTFilterResult",
    "environment_world_hash",
    "load_tasks",
    "parse_task_row",
    "rollout",
    "run_rollout",
    "score_trajectory",
    "sft_filter",
    "tasks_digest",
    "trajectory_id",
]
