"""slime: a custom generate function (one ``Sample`` per context window) and a custom reward.

Launch slime with (``examples/slime/run.sh``)::

    --custom-generate-function-path redsearcher.rl.adapters.slime.generate
    --custom-rm-path redsearcher.rl.adapters.slime.reward
    --input-key prompt --label-key label --metadata-key metadata

and data rows ``{"prompt": messages, "label": answer, "metadata": {"id", "aliases"}}``
(:func:`slime_rows`). ``generate(args, sample, sampling_params)`` runs the one agent loop with
a token-exact model on slime's SGLang router (``POST http://{sglang_router_ip}:{port}/generate``
with ``input_ids``, ``return_logprob``; the tokenizer and chat template from
``args.hf_checkpoint``) and returns one ``Sample`` per context window
(``redsearcher.agent.episode_segments``): ``tokens = prompt_ids + response_ids``,
``response_length``, ``loss_mask`` (1 on policy ids only) and ``rollout_log_probs`` as the trace
recorded them, every window with the episode's judged reward — the paper's discard-all
training on slime. An unscored episode (environment or judge outage) comes back with
``status=ABORTED``, ``reward=None`` and an all-zero ``loss_mask``; ``reward`` returns ``None``
for it: never 0.

The environment server URL comes from ``REDSEARCHER_ENV_URL`` (one URL; N replicas behind a
balancer), agent settings from ``REDSEARCHER_AGENT_CONFIG`` (optional YAML).

Tested against the documented signatures (``tests/rl/test_adapter_slime.py`` uses a stand-in
``slime.utils.types.Sample`` with slime's fields and ``Status``): slime needs Megatron and
SGLang on GPUs and does not install on CPU. The SGLang wire format is our client's, tested in
``tests/model``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from redsearcher.agent import AgentConfig
from redsearcher.errors import ConfigError
from redsearcher.log import Task
from redsearcher.model import ModelConfig, OpenAIChatModel, SamplingConfig, TokenConfig
from redsearcher.rl.adapters._common import JudgedEpisode, env_toolbox, judged_episode, row_task

__all__ = ["generate", "reward", "samples", "slime_model_config", "slime_rows"]

ENV_URL_VAR = "REDSEARCHER_ENV_URL"
AGENT_CONFIG_VAR = "REDSEARCHER_AGENT_CONFIG"


def slime_rows(tasks: Sequence[Task], *, system_prompt: str | None = None) -> list[dict[str, Any]]:
    """Rows of slime data: ``{"prompt": messages, "label": answer, "metadata": {id, aliases}}``.

    slime copies the row's ``--metadata-key`` field into ``Sample.metadata``, where
    :func:`generate` reads the task id and aliases back.
    """
    rows = []
    for task in tasks:
        prompt = [{"role": "user", "content": task.question}]
        if system_prompt:
            prompt.insert(0, {"role": "system", "content": system_prompt})
        metadata = {"id": task.id, "aliases": list(task.aliases)}
        rows.append({"prompt": prompt, "label": task.answer, "metadata": metadata})
    return rows


def slime_model_config(args: Any, sampling_params: dict[str, Any]) -> ModelConfig:
    """Our token-exact model on slime's SGLang router, sampling as slime asks."""
    base = f"http://{args.sglang_router_ip}:{args.sglang_router_port}/v1"
    sampling = SamplingConfig(
        temperature=sampling_params.get("temperature", 1.0),
        top_p=sampling_params.get("top_p", 1.0),
        max_tokens=sampling_params.get("max_new_tokens", 4096),
    )
    return ModelConfig(
        name="slime-policy",
        base_url=base,
        protocol="text",
        sampling=sampling,
        tokens=TokenConfig(tokenizer=Path(args.hf_checkpoint), api="sglang"),
    )


def samples(episode: JudgedEpisode, sample: Any) -> list[Any]:
    """One slime ``Sample`` per context window of ``episode``, cloned from ``sample``."""
    status_type = type(sample).Status
    reward = episode.value
    if reward is None:
        status = status_type.ABORTED
    elif episode.trajectory.termination in ("max_turns", "context_limit", "max_tool_calls"):
        status = status_type.TRUNCATED
    else:
        status = status_type.COMPLETED
    out = []
    for segment in episode.segments:
        copy = _clone(sample)
        copy.tokens = segment.prompt_ids + segment.response_ids
        copy.response_length = len(segment.response_ids)
        copy.loss_mask = (
            list(segment.response_mask) if reward is not None else [0] * len(segment.response_mask)
        )
        copy.rollout_log_probs = list(segment.logprobs)
        copy.reward = reward
        copy.status = status
        copy.metadata = {
            **(getattr(sample, "metadata", None) or {}),
            "episode_id": segment.episode_id,
            "segment": segment.index,
            "segments": len(episode.segments),
            "termination": episode.trajectory.termination,
            "unscored": episode.reward.unscored_reason if reward is None else None,
        }
        out.append(copy)
    return out


def _clone(sample: Any) -> Any:
    import copy

    return copy.copy(sample)


def _agent_config() -> AgentConfig:
    path = os.environ.get(AGENT_CONFIG_VAR)
    if not path:
        return AgentConfig()
    data = yaml.safe_load(Path(path).read_text()) or {}
    return AgentConfig.model_validate(data.get("agent", data))


async def generate(
    args: Any, sample: Any, sampling_params: dict[str, Any], evaluation: bool = False
) -> list[Any]:
    """Slime ``--custom-generate-function-path``: one episode, one ``Sample`` per window."""
    env_url = os.environ.get(ENV_URL_VAR, "")
    if not env_url:
        raise ConfigError(f"set {ENV_URL_VAR} to the environment server's URL")
    row = {
        **(getattr(sample, "metadata", None) or {}),
        "prompt": sample.prompt,
        "label": sample.label,
    }
    task = row_task(row, where=f"slime sample {getattr(sample, 'index', '?')}")
    config = _agent_config()
    model = OpenAIChatModel(slime_model_config(args, sampling_params))
    toolbox = env_toolbox(env_url, tools=config.tools)
    try:
        episode = await judged_episode(task, model=model, toolbox=toolbox, config=config)
    finally:
        await toolbox.aclose()
        await model.aclose()
    return samples(episode, sample)


async def reward(args: Any, sample: Any, **kwargs: Any) -> float | None:
    """Slime ``--custom-rm-path``: the judged reward ``generate`` stored (``None``: unscored)."""
    value = getattr(sample, "reward", None)
    return None if value is None else float(value)
