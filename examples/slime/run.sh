#!/usr/bin/env bash
# GRPO on slime with our agent: one Sample per context window (discard_all), judged reward.
# Data: JSONL rows {"prompt": messages, "label": answer, "id": ..., "aliases": [...]}
#   python -c "from redsearcher.log import read_tasks; from redsearcher.rl.adapters.slime import slime_rows; import json, sys; [print(json.dumps(r)) for r in slime_rows(read_tasks(sys.argv[1]))]" tasks.jsonl > rl/slime.jsonl
set -euo pipefail
export REDSEARCHER_ENV_URL=${REDSEARCHER_ENV_URL:-http://env-lb:8000}
RECIPE=$(python -c "from redsearcher.rl import TrainerSettings as T; print(' '.join(T().slime_args()))")
python train.py \
  --hf-checkpoint "${MODEL:-/models/Qwen3-8B}" \
  --prompt-data rl/slime.jsonl --input-key prompt --label-key label --apply-chat-template \
  --metadata-key metadata \
  --custom-generate-function-path redsearcher.rl.adapters.slime.generate \
  --custom-rm-path redsearcher.rl.adapters.slime.reward \
  --rollout-batch-size 32 \
  $RECIPE "$@"
