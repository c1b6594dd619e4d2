#!/usr/bin/env bash
# GRPO on verl with our agent loop. Data: parquet rows with raw_prompt (messages),
# reward_model.ground_truth (the answer), extra_info (our task fields: id, aliases, ...).
set -euo pipefail
export REDSEARCHER_ENV_URL=${REDSEARCHER_ENV_URL:-http://env-lb:8000}   # one URL, N replicas behind it
export REDSEARCHER_AGENT_CONFIG=${REDSEARCHER_AGENT_CONFIG:-examples/verl/agent.yaml}
# The paper's recipe as verl overrides (redsearcher.rl.TrainerSettings().verl_overrides()).
RECIPE=$(python -c "from redsearcher.rl import TrainerSettings as T; print(' '.join(f'{k}={v}' for k, v in T().verl_overrides().items()))")
python -m verl.trainer.main_ppo \
  data.train_files=rl/train.parquet data.return_raw_chat=True \
  actor_rollout_ref.model.path="${MODEL:-Qwen/Qwen3-8B}" \
  actor_rollout_ref.rollout.mode=async \
  actor_rollout_ref.rollout.calculate_log_probs=True \
  actor_rollout_ref.rollout.agent.agent_loop_config_path=examples/verl/agent_loop.yaml \
  actor_rollout_ref.rollout.agent.default_agent_loop=redsearcher \
  custom_reward_function.path="$(python -c 'import redsearcher.rl.adapters.verl as m; print(m.__file__)')" \
  custom_reward_function.name=compute_score \
  $RECIPE "$@"
