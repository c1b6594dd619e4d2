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

verl trains one sequence per ``AgentLoopOutput``. An episode that ``discard_all`` split into
several context windows returns its final window (the one that holds the answer); the count
of the others is in ``extra_fields["redsearcher_segments"]`` — use slime (``list[Sample]``) to
train on every window, or ``context.strategy: none``. verl has no "no reward": an unscored
episode (environment or judge outage) gets ``reward_score=0.0`` with an all-zero
``response_mask`` (no gradient from it) and ``extra_fields["unscored"]`` naming why.

``compute_score`` is verl's ``custom_reward_function``: our registered scorer over the
``<answer>`` in the decoded response (``reward_kwargs: {scorer: exact}``).

The environment server URL comes from ``REDSEARCHER_ENV_URL`` (every worker reads it; one URL,
N replicas behind a balancer), the agent settings from ``REDSEARCHER_AGENT_CONFIG`` (a YAML
file of ``AgentConfig``; optional).

Tested against the documented signatures (``tests/rl/test_adapter_verl.py`` installs a stand-in
``verl.experimental.agent_loop`` with verl's ``AgentLoopBase`` / ``AgentLoopOutput`` /
``register`` shapes): verl needs Ray and a GPU inference engine and does not install on CPU.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from verl.experimental.agent_loop.agent_loop import (
    AgentLoopBase,
    AgentLoopOutput,
    register,
)

from redsearcher.agent import AgentConfig
from redsearcher.errors import ConfigError
from redsearcher.log import Task, Trajectory, TrajectoryProvenance
from redsearcher.model import TokenizerChat, extract_answer
from redsearcher.rl.adapters._common import (
    GenerateIdsModel,
    JudgedEpisode,
    env_toolbox,
    judged_episode,
    row_task,
)

__all__ = ["RedSearcherAgentLoop", "compute_score", "output_fields", "verl_task"]

ENV_URL_VAR = "REDSEARCHER_ENV_URL"
AGENT_CONFIG_VAR = "REDSEARCHER_AGENT_CONFIG"


def verl_task(kwargs: Mapping[str, Any]) -> Task:
    """The task of a verl row: ``raw_prompt``, ``reward_model.ground_truth``, ``extra_info``."""
    extra = dict(kwargs.get("extra_info") or {})
    reward_model = kwargs.get("reward_model") or {}
    row: dict[str, Any] = {**extra, "prompt": kwargs.get("raw_prompt")}
    if "answer" not in row and isinstance(reward_model, Mapping):
        row["answer"] = reward_model.get("ground_truth")
    where = f"verl row {extra.get('id', extra.get('index', '?'))!r}"
    return row_task(row, where=where)


def output_fields(episode: JudgedEpisode, response_length: int | None = None) -> dict[str, Any]:
    """``AgentLoopOutput`` fields of a judged, token-exact episode (its final window)."""
    segment = episode.segments[-1]
    limit = response_length if response_length is not None else len(segment.response_ids)
    mask = segment.response_mask[:limit]
    extra: dict[str, Any] = {
        "redsearcher_segments": len(episode.segments),
        "trajectory_id": episode.trajectory.id,
        "termination": episode.trajectory.termination,
    }
    reward = episode.value
    if reward is None:
        mask = [0] * len(mask)
        extra["unscored"] = episode.reward.unscored_reason or "unscored"
    return {
        "prompt_ids": segment.prompt_ids,
        "response_ids": segment.response_ids[:limit],
        "response_mask": mask,
        "response_logprobs": segment.logprobs[:limit],
        "multi_modal_data": {},
        "reward_score": 0.0 if reward is None else reward,
        "num_turns": episode.trajectory.turns * 2 + 1,
        "metrics": {},
        "extra_fields": extra,
    }


def _agent_config() -> AgentConfig:
    path = os.environ.get(AGENT_CONFIG_VAR)
    if not path:
        return AgentConfig()
    data = yaml.safe_load(Path(path).read_text()) or {}
    return AgentConfig.model_validate(data.get("agent", data))


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
        self, *args: Any, env_url: str | None = None, scorer: str = "exact", **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.env_url = env_url or os.environ.get(ENV_URL_VAR, "")
        if not self.env_url:
            raise ConfigError(f"set {ENV_URL_VAR} to the environment server's URL")
        self.scorer = scorer
        self.agent_config = _agent_config()
        config = getattr(self, "config", None)
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
        return AgentLoopOutput(**output_fields(episode, self.response_length))


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    scorer: str = "exact",
) -> float:
    """Verl ``custom_reward_function``: our registered scorer on the response's ``<answer>``.

    The agent loop already sets ``reward_score``; this serves verl's reward path for rows
    generated by other loops. A scorer that leaves a sample unscored gives 0.0 here, since verl
    needs a number (log it through ``extra_info`` and prefer the agent loop's masking).
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
    return 0.0 if reward.reward is None else reward.reward
