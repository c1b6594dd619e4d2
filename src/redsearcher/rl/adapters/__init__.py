"""Trainer adapters: our agent, environment server and judges inside the trainers people run.

Each adapter is a small module that imports its trainer lazily (only when its trainer-facing
entry point runs), so ``import redsearcher.rl.adapters`` needs no trainer installed:

- TRL (``trl_environment``, ``judged_reward``): ``GRPOTrainer(environment_factory=...)``.
- verl (``redsearcher.rl.adapters.verl``): a registered ``AgentLoopBase`` driving our loop
  through ``server_manager.generate``; the ``redsearcher_grpo`` advantage estimator (unscored
  samples out of their group); ``compute_score`` for verl's reward path.
- slime (``redsearcher.rl.adapters.slime``): ``--custom-generate-function-path`` and
  ``--custom-rm-path`` functions.
- verifiers (``redsearcher.rl.adapters.verifiers``): ``load_environment()``.
- ART (``redsearcher.rl.adapters.art``): ``rollout(model, scenario)``.

The shared pieces (``env_toolbox``, ``row_task``, ``GenerateIdsModel``, ``judged_episode``)
are trainer-free. See ``docs/rl.md``, "Adapters".
"""

from redsearcher.rl.adapters._common import (
    GenerateIds,
    GenerateIdsModel,
    JudgedEpisode,
    env_toolbox,
    judged_episode,
    row_task,
)
from redsearcher.rl.adapters._trl import (
    TOOL_METHODS,
    SearchEnvironment,
    judged_reward,
    rollout_trajectory,
    trl_environment,
    trl_rows,
)

__all__ = [
    "TOOL_METHODS",
    "GenerateIds",
    "GenerateIdsModel",
    "JudgedEpisode",
    "SearchEnvironment",
    "env_toolbox",
    "judged_episode",
    "judged_reward",
    "rollout_trajectory",
    "row_task",
    "trl_environment",
    "trl_rows",
]
