"""verl: a registered ``AgentLoopBase`` that runs our agent through verl's inference servers.

Point verl's agent loop config at it (``examples/verl/agent_loop.yaml``)::

    - name: redsearcher
      _target_: redsearcher.rl.adapters.verl.RedSearcherAgentLoop

and set ``actor_rollout_ref.rollout.agent.default_agent_loop=redsearcher`` (or a per-row
``agent_name``). ``run(sampling_params, **kwargs)`` reads the row (``raw_prompt``, the answer
from ``reward_model.ground_truth``, our task fields from ``extra_info``), runs the one agent
loop with a token-exact model whose turns go through ``server_manager.generate`` with one sticky
``request_id`` per episode (verl routes every turn of it to the same server, for its prefix
cache), and returns ``AgentLoopOutput`` with the ids, mask and log-probs the trace recorded at
append time (``redsearcher.agent.episode_segments``) and the judged ``reward_score``.

verl trains one sequence per ``AgentLoopOutput``. By default (``segments: final``) an episode
that ``discard_all`` split into several context windows returns its final window (the one that
holds the answer); the count of the others is in ``extra_fields["redsearcher_segments"]``.

**Every window (``segments: all``, opt-in).** The loop argument ``segments: all`` (an extra key
of the ``agent_loop.yaml`` entry; ``examples/verl/agent_loop.yaml`` registers it as
``redsearcher_windows``) returns ``list[AgentLoopOutput]``: one per window, in order, each with
its own token-exact ids, mask and log-probs (:func:`window_outputs`), all with the episode's
reward. verl 0.9.1 takes a list in one place only, and counts an episode once in one estimator
only, so the loop refuses ``segments: all`` (``ConfigError``) outside both:

- the v1 trainer (``trainer.use_v1=True``, 0.9.1's default): ``AgentLoopWorkerTQ.
  _agent_loop_postprocess`` (``verl/trainer/ppo/v1/agent_loop_tq.py``) accepts
  ``AgentLoopOutput | list[AgentLoopOutput]``, scores only ``outputs[-1]`` (ours is preset),
  copies its ``reward_score`` and ``extra_fields["reward_extra_info"]`` to the others (so each
  window carries ``reward_extra_info: {}``), and stores each under ``{uid}_{session_id}_{index}``
  with the prompt's ``uid``. The legacy worker (``AgentLoopWorker._run_agent_loop`` →
  ``_agent_loop_postprocess(output)``, ``verl/experimental/agent_loop/agent_loop.py``) takes one
  ``AgentLoopOutput`` (it writes ``output.extra_fields``; a list fails there);
- ``algorithm.adv_estimator=grpo``: the v1 trainer's ``_compute_advantage`` calls
  ``compute_advantage_for_multi_trajectories`` (``verl/trainer/ppo/v1/utils.py``), which for
  ``grpo`` alone computes the group statistics over each ``{uid}_{session_id}``'s highest
  ``index`` (the final window) and gives every window of the session that advantage — exactly
  "the episode counts once, its windows share its advantage". Every other estimator gets all
  rows through ``compute_advantage``, with only ``token_level_rewards``, ``response_mask``, the
  ``uid`` and the config: no session key, so ``redsearcher_grpo`` could not tell two windows of
  one episode from two sibling episodes with the same reward, and would count a 3-window
  episode three times. It is therefore not used with ``segments: all``.

verl's ``grpo`` has no NaN path, so in this mode an unscored episode returns ``[]`` (the v1
worker stores nothing for an empty list: the episode leaves its group, as ``redsearcher_grpo``
would leave it out), and an abnormal one returns every window with its reward and an all-zero
mask (flagged on the whole episode; ``truncated`` when any window is cut to
``response_length``): its final window's reward is in the statistics, and verl reads the
broadcast advantage at the final window's first unmasked token — none, so 0. One difference
from ``redsearcher_grpo`` remains: a group with one scored episode gets ``r / (1 + ε)``, not 0.

**Unscored and abnormal samples.** verl's GRPO (``compute_grpo_outcome_advantage``) sums each
sample's ``token_level_rewards`` and normalises it by its group's (``uid``) mean and std, so a
sample that merely *looks* neutral still moves its siblings' advantages. Two kinds of samples
must get no gradient, for different reasons:

- *unscored* (a judge or environment outage): it has no reward at all, so it must stay out of
  its group's statistics — a 0 would teach the siblings that an outage was a wrong answer;
- *abnormal* (the paper's filter, ``redsearcher.rl.abnormal_reasons``: repetition, excessive
  length, a response cut off, frequent tool failures): it has a real reward and, per the paper,
  "still participates in advantage computation but is excluded from gradient updates".

Both get an all-zero ``response_mask`` (no loss, in every verl loss aggregation). They are told
apart by the reward: an unscored sample's ``reward_score`` is NaN — the IEEE "no value" —
because the estimator sees only tensors (``token_level_rewards``, ``response_mask``, the ``uid``
index and the algorithm config: ``extra_fields`` reach ``non_tensor_batch`` in the legacy
trainer but never the estimator, and the v1 trainer fetches only tensor fields for it), and the
reward tensor is the one per-sample value that survives verl's batching in both trainers
(``reward_score`` → ``rm_scores`` → ``token_level_scores`` → ``token_level_rewards``; with a KL
penalty in the reward, NaN plus the penalty is still NaN). ``extra_fields["unscored"]`` (the
reason) and ``extra_fields["abnormal"]`` (the reasons) say the same for the logs.

Select the estimator this module registers, ``algorithm.adv_estimator=redsearcher_grpo``
(:data:`ADV_ESTIMATOR`, :func:`redsearcher_grpo_advantage`): GRPO over each ``uid`` group with
unscored (NaN) samples left out of the mean and std and given advantage 0, abnormal ones kept in
— the math is :func:`redsearcher.rl.group_advantages` (Bessel std, ε = 1e-6 added, as verl;
``algorithm.norm_adv_by_std_in_grpo=False`` is Dr.GRPO). With no unscored sample it equals
verl's ``grpo`` for every group of two or more samples; a group with one scored sample gets 0
(no baseline, no signal), where verl's gives ``r / (1 + ε)``. The estimator must be registered
in the trainer's own process: ``examples/verl/run.sh`` sets verl's
``VERL_USE_EXTERNAL_MODULES=redsearcher.rl.adapters.verl``, which ``import verl`` honours in
every process. Left on verl's ``grpo``, a NaN makes its group's advantages NaN and verl's FSDP
and Megatron engines skip the non-finite update: loud, never a silent 0. (A step with an
unscored sample also logs NaN ``critic/score/*``; the estimator logs the unscored count.)

The abnormal thresholds are ``abnormal:`` in the agent settings file (``AbnormalConfig``; on,
with its defaults, as in the paper); a window longer than verl's ``response_length`` is cut to
it and flagged ``truncated``.

``compute_score`` is verl's ``custom_reward_function``: our registered scorer over the
``<answer>`` in the decoded response (``reward_kwargs: {scorer: exact}``); NaN when unscored.

The environment server URL comes from ``REDSEARCHER_ENV_URL`` (every worker reads it; one URL,
N replicas behind a balancer), the agent settings from ``REDSEARCHER_AGENT_CONFIG`` (a YAML
file with ``agent:`` — an ``AgentConfig`` — and optionally ``abnormal:``; optional).

Tested (``tests/rl/test_adapter_verl.py``) against verl 0.9.1's real classes where verl imports
(the ``rl-verl`` extra, CPU only: its agent loop, ``core_algos`` and the legacy trainer's
``compute_advantage``, whose custom-estimator path the v1 trainer also takes), including a batch
of real episodes through verl's own padding and batching (``AgentLoopWorker._postprocess``) into
``compute_advantage``, the estimator against verl's ``compute_grpo_outcome_advantage``, and
discard-all windows through ``AgentLoopOutput.as_dict`` into the v1 trainer's
``compute_advantage_for_multi_trajectories`` (where ``transfer_queue`` imports); and
everywhere (the default CI, without verl) against stand-ins with 0.9.1's signatures. Training
itself needs verl's GPU inference engine (vLLM or SGLang), which these tests do not run.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import uuid
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from verl.experimental.agent_loop.agent_loop import (
    AgentLoopBase,
    AgentLoopOutput,
    register,
)
from verl.trainer.ppo.core_algos import register_adv_est

from redsearcher.agent import AgentConfig, TokenSegment
from redsearcher.errors import ConfigError
from redsearcher.log import Task, Trajectory, TrajectoryProvenance
from redsearcher.model import TokenizerChat, extract_answer
from redsearcher.rl._abnormal import AbnormalConfig, abnormal_reasons, trajectory_stats
from redsearcher.rl._advantages import AdvantageConfig, group_advantages
from redsearcher.rl.adapters._common import (
    GenerateIdsModel,
    JudgedEpisode,
    env_toolbox,
    judged_episode,
    row_task,
)

__all__ = [
    "ADV_ESTIMATOR",
    "SEGMENTS_MODES",
    "UNSCORED",
    "RedSearcherAgentLoop",
    "compute_score",
    "grpo_advantages",
    "output_fields",
    "redsearcher_grpo_advantage",
    "verl_task",
    "window_outputs",
]

ENV_URL_VAR = "REDSEARCHER_ENV_URL"
AGENT_CONFIG_VAR = "REDSEARCHER_AGENT_CONFIG"
ADV_ESTIMATOR = "redsearcher_grpo"
"""The advantage estimator's name: ``algorithm.adv_estimator=redsearcher_grpo``."""
UNSCORED = math.nan
"""The ``reward_score`` of an unscored episode: no value, which the estimator leaves out."""
VERL_EPSILON = 1e-6
"""Added to the group std, as verl's ``compute_grpo_outcome_advantage``."""

logger = logging.getLogger(__name__)


def verl_task(kwargs: Mapping[str, Any]) -> Task:
    """The task of a verl row: ``raw_prompt``, ``reward_model.ground_truth``, ``extra_info``."""
    extra = dict(kwargs.get("extra_info") or {})
    reward_model = kwargs.get("reward_model") or {}
    row: dict[str, Any] = {**extra, "prompt": kwargs.get("raw_prompt")}
    if "answer" not in row and isinstance(reward_model, Mapping):
        row["answer"] = reward_model.get("ground_truth")
    where = f"verl row {extra.get('id', extra.get('index', '?'))!r}"
    return row_task(row, where=where)


def output_fields(
    episode: JudgedEpisode,
    response_length: int | None = None,
    abnormal: AbnormalConfig | None = None,
) -> dict[str, Any]:
    """``AgentLoopOutput`` fields of a judged, token-exact episode (its final window).

    A scored episode that the abnormal filter flags keeps its reward (it stays in its group's
    statistics) with an all-zero mask (no loss); an unscored one gets an all-zero mask and
    ``reward_score`` :data:`UNSCORED` (NaN), which :func:`redsearcher_grpo_advantage` leaves
    out of its group. A window longer than ``response_length`` is cut to it and flagged
    ``truncated`` (the cut sequence does not hold the answer its reward is for).
    """
    extra: dict[str, Any] = {
        "redsearcher_segments": len(episode.segments),
        "trajectory_id": episode.trajectory.id,
        "termination": episode.trajectory.termination,
    }
    segment = episode.segments[-1]
    cut = response_length is not None and len(segment.response_ids) > response_length
    if episode.value is None:
        extra["unscored"] = episode.reward.unscored_reason or "unscored"
    else:
        reasons = _abnormal(episode, cut, abnormal)
        if reasons:
            extra["abnormal"] = reasons
    fields = _window(
        segment, response_length, trained="unscored" not in extra and "abnormal" not in extra
    )
    return {
        **fields,
        "reward_score": UNSCORED if episode.value is None else episode.value,
        "num_turns": episode.trajectory.turns * 2 + 1,
        "extra_fields": extra,
    }


def window_outputs(
    episode: JudgedEpisode,
    response_length: int | None = None,
    abnormal: AbnormalConfig | None = None,
) -> list[dict[str, Any]]:
    """``AgentLoopOutput`` fields of every context window of a judged episode, in order.

    For verl's v1 trainer with ``algorithm.adv_estimator=grpo`` (``segments: all``; see the
    module docstring): each window is a sequence of its own with its own ids, mask and
    log-probs, and every one carries the episode's reward — verl puts the final window's score
    alone in its group's statistics and gives the others its advantage, so the episode counts
    once. An unscored episode gives no windows at all: verl's v1 worker stores nothing for an
    empty list, which leaves the episode out of its group (verl's ``grpo`` has no NaN path).
    An abnormal episode — flagged on the whole episode, ``truncated`` when any window is cut
    to ``response_length`` — gives every window an all-zero mask, its reward still in the group.
    """
    reward = episode.value
    if reward is None:
        return []
    cut = response_length is not None and any(
        len(s.response_ids) > response_length for s in episode.segments
    )
    reasons = _abnormal(episode, cut, abnormal)
    outputs = []
    for segment in episode.segments:
        extra: dict[str, Any] = {
            "redsearcher_segments": len(episode.segments),
            "redsearcher_window": segment.index,
            "trajectory_id": episode.trajectory.id,
            "termination": episode.trajectory.termination,
            # verl's v1 worker copies the final output's reward_extra_info to the other windows
            # (AgentLoopWorkerTQ._agent_loop_postprocess): without it, a KeyError.
            "reward_extra_info": {},
        }
        if reasons:
            extra["abnormal"] = reasons
        fields = _window(segment, response_length, trained=not reasons)
        outputs.append(
            {
                **fields,
                "reward_score": reward,
                "num_turns": len(segment.turns()) * 2 + 1,
                "extra_fields": extra,
            }
        )
    return outputs


def _abnormal(episode: JudgedEpisode, cut: bool, abnormal: AbnormalConfig | None) -> list[str]:
    stats = trajectory_stats(episode.trajectory)
    if cut:
        stats = stats.model_copy(update={"truncated": True})
    return abnormal_reasons(stats, abnormal)


def _window(segment: TokenSegment, response_length: int | None, trained: bool) -> dict[str, Any]:
    """One window's ids, cut to ``response_length``; an all-zero mask where not ``trained``."""
    limit = response_length if response_length is not None else len(segment.response_ids)
    mask = segment.response_mask[:limit]
    return {
        "prompt_ids": segment.prompt_ids,
        "response_ids": segment.response_ids[:limit],
        "response_mask": mask if trained else [0] * len(mask),
        "response_logprobs": segment.logprobs[:limit],
        "multi_modal_data": {},
        "metrics": {},
    }


def grpo_advantages(
    scores: Sequence[float], index: Sequence[Hashable], config: AdvantageConfig | None = None
) -> tuple[list[float], int]:
    """One advantage per sample, grouped by ``index``; a NaN score is an unscored sample.

    Each group goes through :func:`redsearcher.rl.group_advantages`: unscored samples are left
    out of the mean and std and get 0 (no gradient), every scored one is in.

    Args:
        scores: Each sample's summed reward (NaN: unscored).
        index: Each sample's group key (verl's ``uid``).
        config: The normalisation (verl's: sample std, ε = 1e-6, when omitted).

    Returns:
        The advantages, in order, and the number of unscored samples.

    Raises:
        ValueError: for an infinite score (a reward function's bug, not an outage), or
            ``index`` of another length.
    """
    if len(index) != len(scores):
        raise ValueError(f"{len(scores)} scores but {len(index)} group keys")
    config = config or AdvantageConfig(std_epsilon=VERL_EPSILON)
    groups: dict[Hashable, list[int]] = {}
    for i, key in enumerate(index):
        groups.setdefault(key, []).append(i)
    advantages = [0.0] * len(scores)
    unscored = 0
    for members in groups.values():
        rewards = [None if math.isnan(scores[i]) else float(scores[i]) for i in members]
        result = group_advantages(rewards, config)
        unscored += result.unscored
        for i, advantage in zip(members, result.advantages, strict=True):
            advantages[i] = 0.0 if advantage is None else advantage
    return advantages, unscored


@register_adv_est(ADV_ESTIMATOR)  # type: ignore[untyped-decorator]
def redsearcher_grpo_advantage(
    token_level_rewards: Any,
    response_mask: Any,
    index: Any,
    config: Any = None,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """The ``redsearcher_grpo`` estimator: GRPO with unscored (NaN) samples out of their group.

    verl calls it as ``adv_estimator_fn(token_level_rewards=, response_mask=, config=,
    index=)`` (``config`` is ``algorithm``: ``norm_adv_by_std_in_grpo=False`` is Dr.GRPO).

    Returns:
        ``(advantages, returns)``, both ``advantage × response_mask`` per token, as verl's GRPO.
    """
    by_std = bool(_get(config, "norm_adv_by_std_in_grpo", True))
    settings = AdvantageConfig(scale="std" if by_std else "none", std_epsilon=VERL_EPSILON)
    scores = token_level_rewards.sum(dim=-1).tolist()
    advantages, unscored = grpo_advantages(scores, list(index), settings)
    if unscored:
        logger.warning(
            "%s: %d of %d samples unscored (an outage): left out of their groups, advantage 0",
            ADV_ESTIMATOR,
            unscored,
            len(scores),
        )
    per_token = token_level_rewards.new_tensor(advantages).unsqueeze(-1) * response_mask
    return per_token, per_token


def _settings() -> tuple[AgentConfig, AbnormalConfig]:
    path = os.environ.get(AGENT_CONFIG_VAR)
    if not path:
        return AgentConfig(), AbnormalConfig()
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} ({AGENT_CONFIG_VAR}): the agent settings must be a mapping")
    sections: list[tuple[str, type[AgentConfig] | type[AbnormalConfig], Any]]
    if "agent" in data:
        sections = [
            ("agent", AgentConfig, data["agent"]),
            ("abnormal", AbnormalConfig, data.get("abnormal") or {}),
        ]
    else:  # the whole file is the agent's settings
        sections = [("", AgentConfig, data), ("abnormal", AbnormalConfig, {})]
    built: list[Any] = []
    for section, model, value in sections:
        try:
            built.append(model.model_validate(value))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join([section, *map(str, first["loc"])]).strip(".")
            raise ConfigError(
                f"{path} ({AGENT_CONFIG_VAR}): field {field!r}: {first['msg']}"
            ) from exc
    return built[0], built[1]


SEGMENTS_MODES = ("final", "all")
"""The loop's ``segments`` argument: return the final window only, or every window."""


def _segments_mode(segments: str, config: Any) -> str:
    """Check ``segments`` against the trainer config: ``all`` needs verl's v1 trainer and ``grpo``.

    Only verl 0.9.1's v1 worker (``AgentLoopWorkerTQ._agent_loop_postprocess``) takes a list of
    outputs, and only its ``grpo`` path (``compute_advantage_for_multi_trajectories``) counts an
    episode once; any other estimator would see each window as an episode of its own.
    """
    if segments not in SEGMENTS_MODES:
        raise ConfigError(
            f"agent loop argument 'segments': {segments!r} is not one of {list(SEGMENTS_MODES)}"
        )
    if segments == "final":
        return segments
    if not _get(config, "trainer.use_v1", True):
        raise ConfigError(
            "agent loop argument 'segments: all' needs verl's v1 trainer (trainer.use_v1=True): "
            "the legacy AgentLoopWorker takes one AgentLoopOutput per loop"
        )
    estimator = _get(config, "algorithm.adv_estimator", None)
    if str(estimator) != "grpo":
        raise ConfigError(
            f"agent loop argument 'segments: all' needs algorithm.adv_estimator=grpo, not "
            f"{estimator!r}: only verl's grpo puts one window per episode in the group "
            "statistics (compute_advantage_for_multi_trajectories); another estimator, "
            f"{ADV_ESTIMATOR} included, would count every window as an episode"
        )
    return segments


def _get(config: Any, dotted: str, default: Any) -> Any:
    node = config
    for part in dotted.split("."):
        try:
            node = node[part] if isinstance(node, Mapping) else getattr(node, part)
        except (KeyError, AttributeError, TypeError):
            return default
    return node


@register("redsearcher")
class RedSearcherAgentLoop(AgentLoopBase):  # type: ignore[misc]
    """Our agent loop inside verl (see the module docstring)."""

    def __init__(
        self,
        *args: Any,
        env_url: str | None = None,
        scorer: str = "exact",
        segments: str = "final",
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.env_url = env_url or os.environ.get(ENV_URL_VAR, "")
        if not self.env_url:
            raise ConfigError(f"set {ENV_URL_VAR} to the environment server's URL")
        self.scorer = scorer
        self.agent_config, self.abnormal = _settings()
        config = getattr(self, "config", None)
        self.segments = _segments_mode(segments, config)
        self.response_length = _get(config, "actor_rollout_ref.rollout.response_length", None)
        template_kwargs = _get(config, "data.apply_chat_template_kwargs", {}) or {}
        self.chat = TokenizerChat(self.tokenizer, template_kwargs=dict(template_kwargs))

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> Any:
        """One episode: our loop, verl's engine (sticky request id), judged reward."""
        task = verl_task(kwargs)
        request_id = uuid.uuid4().hex

        async def generate(prompt_ids: list[int]) -> tuple[list[int], list[float]]:
            out = await self.server_manager.generate(
                request_id=request_id, prompt_ids=prompt_ids, sampling_params=sampling_params
            )
            ids = list(getattr(out, "token_ids", out))
            logprobs = getattr(out, "log_probs", None)
            if not logprobs:
                raise ConfigError("verl's server returned no log-probs: enable rollout log-probs")
            return ids, list(logprobs)

        model = GenerateIdsModel(self.chat, generate, name="verl-policy")
        toolbox = env_toolbox(self.env_url, tools=self.agent_config.tools)
        try:
            episode = await judged_episode(
                task, model=model, toolbox=toolbox, config=self.agent_config, scorer=self.scorer
            )
        finally:
            await toolbox.aclose()
        if self.segments == "all":
            windows = window_outputs(episode, self.response_length, self.abnormal)
            if not windows:
                logger.warning(
                    "%s: unscored (%s): no windows, left out of its group",
                    episode.trajectory.id,
                    episode.reward.unscored_reason or "unscored",
                )
            return [AgentLoopOutput(**fields) for fields in windows]
        return AgentLoopOutput(**output_fields(episode, self.response_length, self.abnormal))


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    scorer: str = "exact",
) -> float:
    """Verl ``custom_reward_function``: our registered scorer on the response's ``<answer>``.

    The agent loop already sets ``reward_score``; this serves verl's reward path for rows
    generated by other loops. A scorer that leaves a sample unscored gives :data:`UNSCORED`
    (NaN), which ``redsearcher_grpo`` leaves out of the group — never 0.
    """
    from redsearcher.rl._rewards import judge_rewards

    trajectory = Trajectory(
        id="verl#0",
        task_id="verl",
        sample=0,
        question=str((extra_info or {}).get("question", "")),
        answers=[ground_truth],
        segments=[],
        prediction=extract_answer(solution_str),
        termination="answer",
        provenance=TrajectoryProvenance(model="verl-policy", protocol="text"),
    )
    (reward,) = asyncio.run(judge_rewards([trajectory], scorer))
    return UNSCORED if reward.reward is None else reward.reward
