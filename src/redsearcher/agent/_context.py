"""Context strategies: what the agent does when the prompt reaches its token budget.

The loop measures the next prompt before every model call; when it reaches
``threshold × context_window`` (or the server refuses it as too long) it hands the current
window to the configured strategy, which answers one of three actions:

* :class:`Restart` — close the current segment (``end="discarded"``) and continue in a new one
  made of the given messages; every segment is recorded, and each is an SFT sample of its own
  whose messages are exactly what the model saw;
* :class:`AnswerNow` — replace the window by the given messages (which end with an instruction
  to answer) and ask the model once more, with no further tool calls;
* :class:`Stop` — end the episode with ``"context_limit"``.

Strategies (registry kind ``"context_strategy"``), each with its own validated parameters:

* ``discard_all`` — the paper's (§2.3): drop every past tool call and result, keep the system
  prompt (the task specification) and the original question, with a short note that the history
  was dropped and nothing of it kept; no summary, no notes carried over.
* ``keep_last_k`` — keep the last ``k`` turns (an assistant message with the results it got),
  fewer if even those do not fit; a removal starts a new segment, so no SFT sample ever shows
  the model a context it did not see. Carried-over assistant messages are marked
  ``train=False`` in the new segment: they were trained on in the segment that produced them.
* ``rollback_answer`` — the paper's inference setting: roll back the last turn and ask for an
  answer with what the model has.
* ``none`` — stop at the limit.

A restart must shrink the prompt below both the limit and the current prompt; when it cannot
(e.g. a fresh window is already too long), the strategy stops, so no strategy can loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redsearcher.agent._prompts import Prompts
from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.registry import lookup, register

__all__ = [
    "AnswerNow",
    "ContextAction",
    "ContextStrategy",
    "DiscardAll",
    "KeepLastK",
    "NoStrategy",
    "Restart",
    "RollbackAnswer",
    "Stop",
    "Window",
    "build_strategy",
    "split_turns",
]

_PARAMS = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def split_turns(messages: Sequence[Message]) -> tuple[list[Message], list[list[Message]]]:
    """Split a window into its head and its turns.

    Returns:
        ``(head, turns)``: the messages before the first assistant message, then each assistant
        message with the messages that follow it up to the next one.
    """
    head: list[Message] = []
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == "assistant":
            turns.append([message])
        elif turns:
            turns[-1].append(message)
        else:
            head.append(message)
    return head, turns


@dataclass(frozen=True)
class Window:
    """The current context as a strategy sees it."""

    messages: Sequence[Message]
    """What the next request would send."""
    opening: tuple[Message, Message]
    """The episode's first two messages: the system prompt and the original question."""
    prompts: Prompts
    """The episode's fixed texts (notes and the answer-now instruction)."""
    fits: Callable[[Sequence[Message]], bool]
    """Whether a candidate window is under the limit and smaller than the current one."""

    @property
    def turns(self) -> list[list[Message]]:
        """The complete turns after the head (see :func:`split_turns`)."""
        return split_turns(self.messages)[1]

    def question_with(self, note: str) -> Message:
        """The original question message with ``note`` appended."""
        question = self.opening[1]
        return question.model_copy(update={"content": f"{question.content}\n\n{note}"})


@dataclass(frozen=True)
class Stop:
    """End the episode with ``"context_limit"``."""


@dataclass(frozen=True)
class Restart:
    """Close the segment and continue in a new one made of ``messages``."""

    messages: list[Message]


@dataclass(frozen=True)
class AnswerNow:
    """Replace the window by ``messages`` (ending with an instruction) and ask for an answer."""

    messages: list[Message]


ContextAction = Stop | Restart | AnswerNow


class ContextStrategy(Protocol):
    """Decides what to do when the prompt reaches the budget."""

    def make_room(self, window: Window) -> ContextAction:
        """The action for ``window``, which has reached the limit."""
        ...


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> ContextStrategy:
    """The registered strategy ``name`` with its parameters validated.

    Raises:
        ConfigError: for an unknown strategy or invalid parameters.
    """
    cls = lookup("context_strategy", name)
    try:
        validated = cls.Params.model_validate(dict(params or {}))
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"context strategy {name!r}: {problems}") from err
    strategy: ContextStrategy = cls(validated)
    return strategy


class NoParams(BaseModel):
    """A strategy without parameters."""

    model_config = _PARAMS


@register("context_strategy", "none")
class NoStrategy:
    """Stop at the limit."""

    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params

    def make_room(self, window: Window) -> ContextAction:
        """Always :class:`Stop`."""
        return Stop()


@register("context_strategy", "discard_all")
class DiscardAll:
    """The paper's discard-all: restart from the system prompt and the question (§2.3)."""

    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params

    def make_room(self, window: Window) -> ContextAction:
        """A fresh window (question plus the reset note), or stop when there is no history."""
        if not window.turns:
            return Stop()
        fresh = [window.opening[0], window.question_with(window.prompts.context_reset)]
        return Restart(fresh) if window.fits(fresh) else Stop()


class KeepLastKParams(BaseModel):
    """Parameters of ``keep_last_k``."""

    model_config = _PARAMS

    k: int = Field(default=5, ge=0)
    """How many of the latest turns (assistant message and its results) to keep."""


def _as_context(message: Message) -> Message:
    return message.model_copy(update={"train": False}) if message.train else message


@register("context_strategy", "keep_last_k")
class KeepLastK:
    """Keep the last ``k`` turns (fewer if they do not fit); older ones are dropped."""

    Params: ClassVar[type[BaseModel]] = KeepLastKParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.k = params.k if isinstance(params, KeepLastKParams) else KeepLastKParams().k

    def make_room(self, window: Window) -> ContextAction:
        """The largest ``j <= k`` of latest turns that fits, after the question and a note."""
        turns = window.turns
        for j in range(min(self.k, len(turns) - 1), -1, -1):
            kept = [_as_context(m) for turn in turns[len(turns) - j :] for m in turn]
            note = window.prompts.context_trim if j else window.prompts.context_reset
            candidate = [window.opening[0], window.question_with(note), *kept]
            if window.fits(candidate):
                return Restart(candidate)
        return Stop()


@register("context_strategy", "rollback_answer")
class RollbackAnswer:
    """Roll back the last turn and ask for an answer (the paper's inference setting)."""

    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params

    def make_room(self, window: Window) -> ContextAction:
        """The window without its last turn, plus the answer-now instruction."""
        turns = window.turns
        if not turns:
            return Stop()
        kept = list(window.messages[: len(window.messages) - len(turns[-1])])
        ask = Message(role="user", content=window.prompts.answer_now)
        return AnswerNow([*kept, ask])
