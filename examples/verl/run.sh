#!/usr/bin/env bash
# GRPO on verl 0.9.1 with our agent loop. Data: parquet rows with raw_prompt (messages),
# reward_model.ground_truth (the answer), extra_info (our task fields: id, aliases, ...).
set -euo pipefail
export REDSEARCHER_ENV_URL=${REDSEARCHER_ENV_URL:-http://env-lb:8000}   # one URL, N replicas behind it
export REDSEARCHER_AGENT_CONFIG=${REDSEARCHER_AGENT_CONFIG:-examples/verl/agent.yaml}
# `import verl` imports our module in every process (the trainer's included), registering the
# agent loop and the redsearcher_grpo advantage estimator: unscored episodes (NaN reward) are left
# out of their group's mean/std, abnormal ones stay in it with no loss. On a multi-node Ray
# cluster set this (and the two above) on every node.
export VERL_USE_EXTERNAL_MODULES=redsearcher.rl.adapters.verl
# The paper's recipe as verl overrides (redsearcher.rl.TrainerSettings().verl_overrides()),
# with our estimator instead of verl's grpo. To train every discard-all window, pass
#   actor_rollout_ref.rollout.agent.default_agent_loop=redsearcher_windows algorithm.adv_estimator=grpo
# (verl 0.9.1 counts an episode once only in its v1 trainer's grpo; unscored episodes then
# return no windows and leave their group). The v1 trainer, verl's default, imports
# transfer_queue (pip install transferqueue), which verl 0.9.1 does not declare.
RECIPE=$(python -c "
from redsearcher.rl import TrainerSettings
overrides = {**TrainerSettings().verl_overrides(), 'algorithm.adv_estimator': 'redsearcher_grpo'}
print(' '.join(f'{k}={v}' for k, v in overrides.items()))")
python -m verl.trainer.main_ppo \
  data.train_files=rl/train.parquet data.return_raw_chat=True \
  actor_rollout_ref.model.path="${MODEL:-Qwen/Qwen3-8B}" \
  actor_rollout_ref.rollout.mode=async \
  actor_rollout_ref.rollout.calculate_log_probs=True \
  actor_rollout_ref.rollout.agent.agent_loop_config_path=examples/verl/agent_loop.yaml \
  actor_rollout_ref.rollout.agent.default_agent_loop=redsearcher \
  reward.custom_reward_function.path="$(python -c 'import importlib.util as u; print(u.find_spec("redsearcher.rl.adapters.verl").origin)')" \
  reward.custom_reward_function.name=compute_score \
  $RECIPE "$@"
