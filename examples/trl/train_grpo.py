"""GRPO with TRL over our environment server and judge.

    pip install torch==2.13.0 'redsearcher[rl-trainers]'   # CPU torch first, then the extra
    redsearcher env serve world.index --port 8000 &
    python examples/trl/train_grpo.py --model Qwen/Qwen3-0.6B --tasks rl/curated/curated.jsonl \
        --env http://127.0.0.1:8000

The paper's recipe (TrainerSettings) maps onto GRPOConfig; tools are offered from the environment
class's methods, the reward is our registered judge (None when unscored: TRL leaves it out).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def main() -> None:
    """Build the GRPOTrainer from the paper's settings, our environment class and judge; train."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import add_response_schema

    from redsearcher.rl import TrainerSettings
    from redsearcher.rl.adapters import judged_reward, trl_environment, trl_rows
    from redsearcher.rl.adapters.verifiers import read_task_rows

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--env", default="http://127.0.0.1:8000")
    parser.add_argument("--scorer", default="exact")
    parser.add_argument("--out", default="runs/trl-grpo")
    parser.add_argument("--steps", type=int, default=100)
    ns = parser.parse_args()

    tokenizer = add_response_schema(AutoTokenizer.from_pretrained(ns.model))
    settings = TrainerSettings().trl_kwargs()
    settings.pop("vllm_importance_sampling_correction", None)  # only with use_vllm=True
    settings.pop("vllm_importance_sampling_cap", None)
    args = GRPOConfig(
        output_dir=ns.out,
        max_steps=ns.steps,
        per_device_train_batch_size=settings["num_generations"],
        max_completion_length=8192,
        max_tool_calling_iterations=30,
        **settings,
    )
    trainer = GRPOTrainer(
        model=ns.model,
        processing_class=tokenizer,
        reward_funcs=[judged_reward],
        args=args,
        train_dataset=Dataset.from_list(trl_rows(read_task_rows(ns.tasks))),
        environment_factory=trl_environment(ns.env, tools=["search", "visit"], scorer=ns.scorer),
    )
    trainer.train()


if __name__ == "__main__":
    main()
