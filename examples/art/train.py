"""GRPO with ART (OpenPipe) over our agent, environment server and judge.

    pip install 'redsearcher[rl-art]'        # plus ART's GPU backend for training
    REDSEARCHER_ENV_URL=http://127.0.0.1:8000 python examples/art/train.py --tasks tasks.jsonl

Each group is one task rolled out by ``redsearcher.rl.adapters.art.rollout`` (docs/rl.md, ART).
"""

from __future__ import annotations

import argparse
import asyncio


async def main() -> None:
    """Train ``--base-model`` for ``--steps`` steps of rollout groups over ``--tasks``."""
    import art
    from art.local import LocalBackend

    from redsearcher.rl.adapters.art import rollout
    from redsearcher.rl.adapters.verifiers import read_task_rows

    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--base-model", default="Qwen/Qwen3-8B")
    parser.add_argument("--steps", type=int, default=50)
    ns = parser.parse_args()

    model = art.TrainableModel(name="redsearcher", project="redsearcher", base_model=ns.base_model)
    await model.register(LocalBackend())
    scenarios = [t.model_dump() for t in read_task_rows(ns.tasks)]
    for step in range(ns.steps):
        batch = scenarios[(step * 32) % len(scenarios) :][:32]
        groups = await art.gather_trajectory_groups(
            (art.TrajectoryGroup(rollout(model, s) for _ in range(16)) for s in batch),
            max_exceptions=0.25,  # unscored episodes raise and are left out, never rewarded 0
        )
        await model.train(groups, config=art.TrainConfig(learning_rate=1e-6))


if __name__ == "__main__":
    asyncio.run(main())
