"""ART (OpenPipe): ``rollout(model, scenario)`` returns a ``Trajectory`` with more histories.

Use it in ART's training loop (``examples/art/train.py``)::

    groups = await art.gather_trajectory_groups(
        (art.TrajectoryGroup(rollout(model, s) for _ in range(8)) for s in scenarios),
        max_exceptions=0.25,  # unscored episodes raise Unscored and are left out
    )
    await model.train(groups)

The episode runs through the model's OpenAI-compatible endpoint (``model.inference_base_url``,
``inference_api_key``, ``get_inference_name()``), our tools on the environment server
(``scenario["env_url"]`` or ``REDSEARCHER_ENV_URL``) and our judge. ART trains the assistant
messages it is given as ``Choice`` objects and re-tokenizes with the model's template, so each
context window of ``discard_all`` becomes one history: the first in ``messages_and_choices``,
the others in ``additional_histories``. ART has no "no reward": an unscored episode (environment
or judge outage) raises :class:`Unscored`, which ``gather_trajectory_groups`` counts against
``max_exceptions`` and leaves out of the group — never a 0.

Tested against ART's real classes where ``openpipe-art`` installs (``tests/rl/
test_adapter_art.py`` ``importorskip``s it; its GPU backend is not needed to build
trajectories), else skipped; the conversion is tested with a stand-in of ``art.Trajectory`` /
``art.History``'s documented fields.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from redsearcher.agent import AgentConfig
from redsearcher.errors import ConfigError, RedsearcherError
from redsearcher.log import Message, Segment
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.rl.adapters._common import JudgedEpisode, env_toolbox, judged_episode, row_task

__all__ = ["Unscored", "art_trajectory", "history_items", "rollout"]

ENV_URL_VAR = "REDSEARCHER_ENV_URL"


class Unscored(RedsearcherError):
    """The episode has no reward (environment or judge outage): leave it out of the group."""


def _choice(message: Message) -> Any:
    from openai.types.chat import ChatCompletionMessage
    from openai.types.chat.chat_completion import Choice

    calls = [
        {
            "id": c.get("id", f"call_{i}"),
            "type": "function",
            "function": {
                "name": c.get("function", {}).get("name", ""),
                "arguments": c.get("function", {}).get("arguments", "{}"),
            },
        }
        for i, c in enumerate(message.tool_calls or [])
    ]
    return Choice(
        index=0,
        finish_reason="tool_calls" if calls else "stop",
        message=ChatCompletionMessage.model_validate(
            {"role": "assistant", "content": message.content, "tool_calls": calls or None}
        ),
    )


def history_items(segment: Segment) -> list[Any]:
    """One window's messages for ART: plain dicts, and a ``Choice`` for each model turn."""
    items: list[Any] = []
    for message in segment.messages:
        if message.role == "assistant":
            items.append(_choice(message))
        else:
            item: dict[str, Any] = {"role": message.role, "content": message.content}
            if message.tool_call_id:
                item["tool_call_id"] = message.tool_call_id
            items.append(item)
    return items


def art_trajectory(episode: JudgedEpisode, trajectory_cls: Any, history_cls: Any) -> Any:
    """The ART trajectory of a judged episode (``art.Trajectory``, ``art.trajectories.History``).

    Raises:
        Unscored: for an episode without a reward.
    """
    if episode.value is None:
        raise Unscored(episode.reward.unscored_reason or "unscored")
    segments = episode.trajectory.segments
    first, rest = history_items(segments[0]), segments[1:]
    return trajectory_cls(
        messages_and_choices=first,
        additional_histories=[history_cls(messages_and_choices=history_items(s)) for s in rest],
        reward=episode.value,
        metrics={
            "turns": episode.trajectory.turns,
            "tool_calls": len(episode.trajectory.tool_calls),
            "segments": len(segments),
        },
        metadata={
            "trajectory_id": episode.trajectory.id,
            "termination": episode.trajectory.termination,
        },
    )


async def rollout(model: Any, scenario: Mapping[str, Any], *, scorer: str = "exact") -> Any:
    """ART rollout: one episode of our agent on ``scenario`` (our task fields), judged."""
    import art
    from art.trajectories import History

    env_url = scenario.get("env_url") or os.environ.get(ENV_URL_VAR, "")
    if not env_url:
        raise ConfigError(f"set {ENV_URL_VAR} (or scenario['env_url']) to the environment server")
    task = row_task(scenario, where=f"scenario {scenario.get('id', '?')!r}")
    name = model.get_inference_name() if hasattr(model, "get_inference_name") else model.name
    base_url = model.inference_base_url
    if not base_url:
        raise ConfigError(f"ART model {name!r} has no inference_base_url (register it first)")
    config = ModelConfig.model_validate(
        {
            "name": name,
            "base_url": base_url,
            "api_key": model.inference_api_key or "EMPTY",
            "protocol": "native",
        }
    )
    agent = AgentConfig.model_validate(scenario.get("agent") or {})
    chat = OpenAIChatModel(config)
    toolbox = env_toolbox(env_url, tools=agent.tools)
    try:
        episode = await judged_episode(
            task, model=chat, toolbox=toolbox, config=agent, scorer=scorer, tokens=False
        )
    finally:
        await toolbox.aclose()
        await chat.aclose()
    return art_trajectory(episode, art.Trajectory, History)
