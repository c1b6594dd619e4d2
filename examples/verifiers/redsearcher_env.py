"""A verifiers environment module: ``vf-eval redsearcher_env`` / prime-rl ``env=redsearcher_env``.

    pip install torch==2.13.0 'redsearcher[rl-trainers]'
    REDSEARCHER_ENV_URL=http://127.0.0.1:8000 REDSEARCHER_TASKS=rl/curated/curated.jsonl \
        vf-eval redsearcher_env -m <model> -n 8

The environment is ``redsearcher.rl.adapters.verifiers.load_environment`` (docs/rl.md).
"""

from __future__ import annotations

import os
from typing import Any


def load_environment(**kwargs: Any) -> Any:
    """Our tools and judge as a verifiers ToolEnv with discard-all (see the adapter)."""
    from redsearcher.rl.adapters.verifiers import load_environment as load

    return load(
        kwargs.pop("env_url", os.environ.get("REDSEARCHER_ENV_URL", "http://127.0.0.1:8000")),
        kwargs.pop("tasks", os.environ.get("REDSEARCHER_TASKS", "tasks.jsonl")),
        **kwargs,
    )
