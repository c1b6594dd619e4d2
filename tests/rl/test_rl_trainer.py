"""Trainer pass-through settings: the paper's recipe, translated per trainer."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from redsearcher.rl import TrainerSettings


def test_defaults_are_the_papers_recipe() -> None:
    settings = TrainerSettings()
    assert (settings.queries_per_step, settings.group_size) == (32, 16)
    assert (settings.clip_low, settings.clip_high, settings.learning_rate) == (0.2, 0.28, 1e-6)
    assert settings.entropy_coef == 0.0 and settings.kl_coef == 0.0 and settings.tis
    assert (settings.temperature, settings.top_p) == (0.85, 0.95)


def test_clip_lower_is_refused() -> None:
    with pytest.raises(ValidationError, match="clip-higher"):
        TrainerSettings(clip_low=0.3, clip_high=0.2)


def test_translations() -> None:
    settings = TrainerSettings(tis_cap=3.0)
    trl = settings.trl_kwargs()
    assert trl["epsilon"] == 0.2 and trl["epsilon_high"] == 0.28 and trl["num_generations"] == 16
    assert trl["vllm_importance_sampling_cap"] == 3.0 and trl["beta"] == 0.0
    verl = settings.verl_overrides()
    assert verl["actor_rollout_ref.actor.clip_ratio_high"] == 0.28
    assert verl["actor_rollout_ref.actor.use_kl_loss"] is False
    assert verl["algorithm.rollout_correction.rollout_is"] == "token"
    assert verl["algorithm.rollout_correction.rollout_is_threshold"] == 3.0
    slime = settings.slime_args()
    assert slime[slime.index("--eps-clip-high") + 1] == "0.28"
    assert "--use-tis" in slime and "--use-kl-loss" not in slime
    off = TrainerSettings(tis=False, kl_coef=0.01)
    assert "vllm_importance_sampling_correction" not in off.trl_kwargs()
    assert "--use-tis" not in off.slime_args() and "--use-kl-loss" in off.slime_args()
    assert not any("rollout_correction" in key for key in off.verl_overrides())
