"""Trainer settings we do not implement but pass through: clip-higher, TIS, the paper's recipe.

Clip-higher (DAPO) and truncated importance sampling (TIS) live inside the trainer's loss, so
they are the trainer's to implement; this record states the paper's values once (Appendix A:
GRPO, 32 queries x 16 rollouts, lr 1e-6, clip high 0.28, no entropy or KL loss, TIS, routing
replay, temperature 0.85, top-p 0.95) and the adapters translate it into each trainer's option
names, so a recipe is written once and not re-typed per trainer.

- *Clip-higher*: the PPO ratio is clipped to ``[1 - clip_low, 1 + clip_high]`` with
  ``clip_high > clip_low``, which lets low-probability tokens grow (DAPO's fix for entropy
  collapse). The paper sets the high side to 0.28; the low side is the usual 0.2.
- *TIS*: the rollout engine (vLLM/SGLang) and the trainer compute slightly different
  probabilities for the same tokens; TIS weights each token's loss by the ratio
  ``p_train / p_rollout``, truncated at ``tis_cap``, which needs the rollout log-probs our
  token-exact episodes record.
- *Routing replay* (R2) replays the MoE router's expert choices of the rollout in training; it
  applies to MoE policies only and is trainer (Megatron) territory.

The option names in :meth:`TrainerSettings.trl_kwargs`, :meth:`verl_overrides` and
:meth:`slime_args` follow the trainers' documentation at the time of writing; the adapters'
contract tests check them against the installed trainer where it installs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["TrainerSettings"]


class TrainerSettings(BaseModel):
    """Settings the trainer implements; defaults are the paper's (Appendix A)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    queries_per_step: int = Field(default=32, ge=1)
    """Questions per optimizer mini-step."""
    group_size: int = Field(default=16, ge=2)
    """Rollouts per question (the GRPO group)."""
    learning_rate: float = Field(default=1e-6, gt=0.0)
    """Fixed learning rate of the RL stage."""
    clip_low: float = Field(default=0.2, gt=0.0, lt=1.0)
    """Lower clip range of the policy ratio (``1 - clip_low``)."""
    clip_high: float = Field(default=0.28, gt=0.0)
    """Upper clip range (``1 + clip_high``); above ``clip_low`` is clip-higher."""
    entropy_coef: float = Field(default=0.0, ge=0.0)
    """Entropy bonus (the paper uses none)."""
    kl_coef: float = Field(default=0.0, ge=0.0)
    """KL penalty to the reference policy (the paper uses none)."""
    tis: bool = True
    """Truncated importance sampling against the rollout engine's log-probs."""
    tis_cap: float = Field(default=2.0, gt=0.0)
    """Truncation of the TIS ratio."""
    routing_replay: bool = False
    """Replay the rollout's MoE routing in training (R2; MoE policies only)."""
    loss_aggregation: Literal["token_mean", "sequence_mean"] = "token_mean"
    """How per-token losses are averaged (DAPO's token-level mean is the default)."""
    temperature: float = Field(default=0.85, gt=0.0)
    """Rollout sampling temperature."""
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    """Rollout nucleus sampling."""

    @model_validator(mode="after")
    def _clip_higher(self) -> TrainerSettings:
        if self.clip_high < self.clip_low:
            raise ValueError(
                f"clip_high ({self.clip_high}) below clip_low ({self.clip_low}) is clip-lower; "
                "clip-higher needs clip_high >= clip_low"
            )
        return self

    def trl_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of TRL's ``GRPOConfig``."""
        kwargs: dict[str, Any] = {
            "learning_rate": self.learning_rate,
            "num_generations": self.group_size,
            "epsilon": self.clip_low,
            "epsilon_high": self.clip_high,
            "beta": self.kl_coef,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "loss_type": "dapo" if self.loss_aggregation == "token_mean" else "grpo",
        }
        if self.tis:
            kwargs["vllm_importance_sampling_correction"] = True
            kwargs["vllm_importance_sampling_cap"] = self.tis_cap
        return kwargs

    def verl_overrides(self) -> dict[str, Any]:
        """Verl Hydra overrides (``key=value`` on its command line)."""
        actor = "actor_rollout_ref.actor"
        overrides: dict[str, Any] = {
            "algorithm.adv_estimator": "grpo",
            "actor_rollout_ref.rollout.n": self.group_size,
            "actor_rollout_ref.rollout.temperature": self.temperature,
            "actor_rollout_ref.rollout.top_p": self.top_p,
            f"{actor}.optim.lr": self.learning_rate,
            f"{actor}.clip_ratio_low": self.clip_low,
            f"{actor}.clip_ratio_high": self.clip_high,
            f"{actor}.entropy_coeff": self.entropy_coef,
            f"{actor}.use_kl_loss": self.kl_coef > 0,
            f"{actor}.kl_loss_coef": self.kl_coef,
            f"{actor}.loss_agg_mode": (
                "token-mean" if self.loss_aggregation == "token_mean" else "seq-mean-token-mean"
            ),
        }
        if self.tis:  # verl 0.9's rollout correction: token-level IS weights, truncated at the cap
            overrides["algorithm.rollout_correction.rollout_is"] = "token"
            overrides["algorithm.rollout_correction.rollout_is_threshold"] = self.tis_cap
        return overrides

    def slime_args(self) -> list[str]:
        """Slime command-line arguments."""
        args = [
            "--advantage-estimator", "grpo",
            "--n-samples-per-prompt", str(self.group_size),
            "--lr", str(self.learning_rate),
            "--eps-clip", str(self.clip_low),
            "--eps-clip-high", str(self.clip_high),
            "--entropy-coef", str(self.entropy_coef),
            "--rollout-temperature", str(self.temperature),
            "--rollout-top-p", str(self.top_p),
        ]  # fmt: skip
        if self.kl_coef > 0:
            args += ["--use-kl-loss", "--kl-loss-coef", str(self.kl_coef)]
        if self.tis:
            args += ["--use-tis", "--tis-clip", str(self.tis_cap)]
        if self.routing_replay:
            args += ["--use-routing-replay"]
        return args
