"""Agentic RL plumbing: rewards, GRPO utilities, query curation and trainer settings.

This package sits above ``export`` and ``eval`` (judges are the reward) and below ``testing``.
We never write a trainer: everything here is plain functions over plain per-sample inputs
(a verdict or score, lengths, tool-failure counts, text), so any trainer's sample can use it.

- Rewards (``sample_reward``, ``sample_rewards``): the judge's outcome, plus optional process
  terms from provenance (off by default, as in the paper). Unscored samples get no reward and
  are dropped from the gradient and counted — never rewarded 0.
- GRPO (``group_advantages``, ``dynamic_sampling``, ``grpo_batch``): group-relative advantages
  (GRPO, Dr.GRPO), DAPO's dynamic sampling and the paper's abnormal-sample filter, which masks
  a sample out of the loss while it still counts in its group's advantage.
- ``TrainerSettings``: what the trainer implements (clip-higher, TIS, the paper's recipe),
  translated into each trainer's option names.
- Query curation (``curate``): pass-rate band over k rollouts and the agent-as-verifier pass,
  recorded per task in a resumable JSONL (``redsearcher rl curate``).

See ``docs/rl.md``.
"""

from redsearcher.rl._abnormal import (
    AbnormalConfig,
    AbnormalReason,
    SampleStats,
    abnormal_reasons,
    repeated_ngram_share,
    trajectory_stats,
)
from redsearcher.rl._advantages import (
    AdvantageConfig,
    GroupAdvantages,
    dynamic_sampling,
    group_advantages,
)
from redsearcher.rl._batch import BatchConfig, GrpoBatch, GrpoSample, SampleOutcome, grpo_batch
from redsearcher.rl._curate import (
    CURATED_FILE,
    CURATION_FILE,
    Bucket,
    CurationConfig,
    CurationRecord,
    CurationSummary,
    PassRate,
    curate,
    parse_band,
    pass_rate,
    read_curation,
)
from redsearcher.rl._rewards import (
    RewardConfig,
    SampleReward,
    judge_rewards,
    outcome_reward,
    sample_reward,
    sample_rewards,
)
from redsearcher.rl._trainer import TrainerSettings
from redsearcher.rl._verifier import (
    VERIFIER_PROMPT_VERSION,
    VerifierResult,
    VerifierStatus,
    parse_verifier_output,
    verification_task,
    verifier_prompt,
    verifier_result,
)

__all__ = [
    "CURATED_FILE",
    "CURATION_FILE",
    "VERIFIER_PROMPT_VERSION",
    "AbnormalConfig",
    "AbnormalReason",
    "AdvantageConfig",
    "BatchConfig",
    "Bucket",
    "CurationConfig",
    "CurationRecord",
    "CurationSummary",
    "GroupAdvantages",
    "GrpoBatch",
    "GrpoSample",
    "PassRate",
    "RewardConfig",
    "SampleOutcome",
    "SampleReward",
    "SampleStats",
    "TrainerSettings",
    "VerifierResult",
    "VerifierStatus",
    "abnormal_reasons",
    "curate",
    "dynamic_sampling",
    "group_advantages",
    "grpo_batch",
    "judge_rewards",
    "outcome_reward",
    "parse_band",
    "parse_verifier_output",
    "pass_rate",
    "read_curation",
    "repeated_ngram_share",
    "sample_reward",
    "sample_rewards",
    "trajectory_stats",
    "verification_task",
    "verifier_prompt",
    "verifier_result",
]
