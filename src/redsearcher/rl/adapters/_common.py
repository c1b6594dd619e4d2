"""What every trainer adapter shares: the environment server's tools, task rows, the judge.

A trainer's workers reach the environment through one URL (``redsearcher env serve``, or N
replicas behind any HTTP balancer); :func:`env_toolbox` builds our :class:`~redsearcher.tools.
Toolbox` over it with the per-episode response cache on. :func:`row_task` reads a trainer's data
row (our task JSONL fields, or slime's ``{"prompt", "label"}``) into a
:class:`~redsearcher.log.Task`. :class:`GenerateIdsModel` turns any trainer's token-in/token-out
generate call (verl's ``server_manager.generate``, a custom engine) into our token-exact model,
so the one agent loop drives the trainer's inference engine and :func:`redsearcher.agent.
episode_segments` gives the ids, masks and log-probs. :func:`judged_episode` runs one episode
and judges it with a registered scorer: unscored gives reward ``None``, never 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redsearcher.agent import AgentConfig, TokenSegment, episode_segments, run_episode
from redsearcher.errors import UserError
from redsearcher.log import Message, Task, Trajectory
from redsearcher.model import (
    ChatModel,
    Completion,
    TokenCompletion,
    TokenizerChat,
    token_completion,
)
from redsearcher.rl._rewards import SampleReward, judge_rewards
from redsearcher.tools import ServicesConfig, Toolbox

__all__ = [
    "GenerateIds",
    "GenerateIdsModel",
    "JudgedEpisode",
    "env_toolbox",
    "judged_episode",
    "row_task",
]

GenerateIds = Callable[[list[int]], Awaitable[tuple[list[int], list[float]]]]
"""A trainer's generate call: prompt ids → (generated ids, their sampling log-probs)."""


def env_toolbox(
    env_url: str,
    *,
    api_key: str | None = None,
    tools: Sequence[str] | None = None,
    cache: bool = True,
    style: str = "tongyi",
    num_results: int = 10,
) -> Toolbox:
    """Our tools over the environment server at ``env_url`` (one URL; a balancer is fine).

    Args:
        env_url: The server's base URL (``redsearcher env serve``, or a balancer in front of
            N replicas: every endpoint is stateless, so any replica answers any call).
        api_key: The server's key, when it has one.
        tools: Registered tool names to offer (default: all of ``DEFAULT_TOOLS``).
        cache: The per-episode response cache (a repeated call is answered locally).
        style: The render style the model reads.
        num_results: Results per search query (fewer keeps a small policy's context short).
    """
    options: dict[str, Any] = {"cache": cache, "style": style, "num_results": num_results}
    if tools is not None:
        options["tools"] = list(tools)
    return Toolbox.http(ServicesConfig.local(env_url, api_key=api_key), **options)


def _field(row: Mapping[str, Any], name: str, where: str) -> Any:
    value = row.get(name)
    if value is not None and not isinstance(value, str):
        raise UserError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    return value


def _prompt_question(prompt: Any, where: str) -> str | None:
    """The last user message's text of a chat-format prompt (slime/TRL ``prompt`` column)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        for message in reversed(prompt):
            if isinstance(message, Mapping) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, str):
                    return content
        raise UserError(f"{where}: field 'prompt' has no user message with text content")
    if prompt is None:
        return None
    raise UserError(f"{where}: field 'prompt' must be a string or a list of messages")


def row_task(row: Mapping[str, Any], *, where: str = "task row") -> Task:
    """A trainer's data row as a :class:`~redsearcher.log.Task`.

    Accepts our task fields (``id``, ``question``, ``answer``, ``aliases``, as written by
    ``redsearcher synth`` / ``export rl``) and slime's ``{"prompt": messages, "label": answer}``;
    ``question`` wins over ``prompt``, ``answer`` over ``label``.

    Args:
        row: The row.
        where: Names the row in errors (``tasks.jsonl:12``).

    Raises:
        UserError: naming ``where`` and the field, for a row without a question or with a field
            of the wrong type.
    """
    if not isinstance(row, Mapping):
        raise UserError(f"{where}: a task row must be an object, got {type(row).__name__}")
    question = _field(row, "question", where) or _prompt_question(row.get("prompt"), where)
    if not question:
        raise UserError(f"{where}: no 'question' (or 'prompt') field")
    answer = _field(row, "answer", where)
    if answer is None:
        answer = _field(row, "label", where)
    aliases = row.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise UserError(f"{where}: field 'aliases' must be a list of strings")
    task_id = row.get("id", row.get("task_id"))
    if task_id is None:  # stable across worker processes (hash() is salted per process)
        task_id = "q" + hashlib.sha256(question.encode()).hexdigest()[:12]
    return Task(id=str(task_id), question=question, answer=answer, aliases=aliases)


class GenerateIdsModel:
    """A token-exact :class:`~redsearcher.model.ChatModel` over a trainer's generate call.

    The agent loop sends the segment's token ids (``complete_ids``) and appends exactly the
    ids and log-probs that come back, so the trainer gets the ids its own engine produced,
    never a re-tokenization. Text requests (:meth:`complete`) are refused: the loop only uses
    them when the model has no chat template, which this model always has.

    Args:
        chat: The policy's tokenizer and chat template.
        generate: The trainer's generate call (see :data:`GenerateIds`).
        name: Recorded as the trajectory's model.
    """

    protocol = "text"

    def __init__(self, chat: TokenizerChat, generate: GenerateIds, *, name: str = "policy"):
        self.name = name
        self._chat = chat
        self._generate = generate
        self.endpoint = "trainer"

    @property
    def chat_template(self) -> TokenizerChat:
        """The policy's tokenizer and chat template."""
        return self._chat

    async def complete_ids(self, prompt_ids: Sequence[int]) -> TokenCompletion:
        """One turn through the trainer's engine: the ids and log-probs it generated."""
        prompt = [int(i) for i in prompt_ids]
        ids, logprobs = await self._generate(prompt)
        ids = [int(i) for i in ids]
        logprobs = [float(p) for p in logprobs]
        if len(logprobs) != len(ids):
            raise ValueError(f"the engine returned {len(ids)} ids but {len(logprobs)} log-probs")
        eos = self._chat.eos_id
        finish = "stop" if ids and eos is not None and ids[-1] == eos else "length"
        text = self._chat.decode(ids, skip_special_tokens=True)
        return token_completion(prompt, ids, logprobs, text, finish, self.endpoint)

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        """Refused: this model only answers token-id prompts."""
        raise TypeError("GenerateIdsModel answers token-id prompts only (complete_ids)")

    async def aclose(self) -> None:
        """Nothing to release: the trainer owns its engine."""


@dataclass(frozen=True)
class JudgedEpisode:
    """One finished, judged episode: the record, its reward and its token segments."""

    trajectory: Trajectory
    reward: SampleReward
    segments: list[TokenSegment]

    @property
    def value(self) -> float | None:
        """The reward, ``None`` when unscored (drop it from the gradient, never train on 0)."""
        return self.reward.reward


async def judged_episode(
    task: Task,
    *,
    model: ChatModel,
    toolbox: Toolbox,
    config: AgentConfig,
    scorer: str = "exact",
    sample: int = 0,
    tokens: bool = True,
) -> JudgedEpisode:
    """Run the agent on ``task`` and judge it with the registered ``scorer``.

    Args:
        task: The question and its accepted answers.
        model: The policy (token-exact for ``tokens=True``).
        toolbox: The tools (:func:`env_toolbox`).
        config: The agent's limits, context strategy and prompts.
        scorer: A registered scorer/judge name (registry kind ``scorer``).
        sample: The sample index (trajectory id ``{task.id}#{sample}``).
        tokens: Return the token segments (the episode must be token-exact).
    """
    trajectory = await run_episode(task, model=model, toolbox=toolbox, config=config, sample=sample)
    (reward,) = await judge_rewards([trajectory], scorer)
    trajectory = trajectory.model_copy(update={"score": reward.reward})
    segments = episode_segments(trajectory) if tokens else []
    return JudgedEpisode(trajectory, reward, segments)
