"""Agentic RL plumbing: rewards, GRPO utilities, query curation and trainer adapters.

This package sits above ``export`` and ``eval`` (judges are the reward) and below ``testing``.
We never write a trainer: everything here is plain functions and small adapters that let the
trainers people already run (verl, slime, TRL, verifiers, ART) drive our agent loop, environment
and judges.
"""

__all__: list[str] = []
