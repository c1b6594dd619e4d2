"""Token-exact episodes: the ids of each context window, built by appending as the loop runs.

When the model has a chat template (``ModelConfig.tokens``), the loop keeps one
:class:`TokenTrace` per segment next to its messages. The trace is only ever appended to:

* the segment's first prompt: the template applied to its messages (mask 0);
* each model turn: exactly the ids the server generated, with their log-probs (mask 1);
* before the next turn: the template's end-of-turn glue, the new messages (tool results, a
  nudge, the answer-now instruction) and the assistant header (mask 0).

So the loss mask is decided when each id is appended, by who produced it, and never rebuilt
from text. A restart (discard-all, keep-last-k) closes the trace and opens a new one from the
new window; a rollback (rollback-answer) cuts the trace back to the end of the messages it
keeps, so the turns before it keep their generated ids.

:func:`episode_segments` is what trainers' adapters call: one :class:`TokenSegment` per
segment, sharing the episode id and reward (slime's ``list[Sample]``, ART's additional
histories).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from redsearcher.errors import UserError
from redsearcher.log import Message, SegmentTokens, Trajectory
from redsearcher.model import TokenizerChat

__all__ = ["TokenSegment", "TokenTrace", "TokenTurn", "episode_segments"]


class TokenTrace:
    """The growing token sequence of one segment, with its mask and log-probs.

    Args:
        chat: The served model's tokenizer and template.
        messages: The segment's opening window.
        tools: The ``tools`` the template renders (empty for the text protocol, whose tools
            are in the system message).
    """

    def __init__(
        self, chat: TokenizerChat, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> None:
        self.chat, self.tools = chat, list(tools)
        rendered = chat.prompt(messages, self.tools)
        self.ids: list[int] = []
        self.mask: list[int] = []
        self.logprobs: list[float] = []
        self.synced = len(messages)
        """How many window messages the ids hold."""
        self._last_generated: list[int] = []
        """The ids of the last turn when the sequence ends with it (its glue is still due)."""
        # window size -> (sequence length after those messages, ids of the turn it ends with)
        self._marks: dict[int, tuple[int, list[int]]] = {}
        self._append(rendered.message_ids, 0)
        self._marks[self.synced] = (len(self.ids), [])
        self._append(rendered.generation_ids, 0)

    def _append(self, ids: Sequence[int], mask: int, logprobs: Sequence[float] = ()) -> None:
        self.ids.extend(ids)
        self.mask.extend([mask] * len(ids))
        self.logprobs.extend(logprobs if mask else [0.0] * len(ids))

    def sync(self, window: Sequence[Message]) -> None:
        """Append the messages of ``window`` the ids do not hold yet, then the header."""
        new = window[self.synced :]
        if not new:
            return
        if self._last_generated:
            self._append(self.chat.turn_end(self._last_generated, self.tools), 0)
            self._last_generated = []
        rendered = self.chat.observation(new, self.tools)
        self._append(rendered.message_ids, 0)
        self.synced = len(window)
        self._marks[self.synced] = (len(self.ids), [])
        self._append(rendered.generation_ids, 0)

    def generated(self, ids: Sequence[int], logprobs: Sequence[float]) -> None:
        """Append a model turn (the loop appends its message to the window)."""
        self._append(ids, 1, logprobs)
        self.synced += 1
        self._last_generated = list(ids)
        self._marks[self.synced] = (len(self.ids), self._last_generated)

    def rollback(self, size: int) -> bool:
        """Cut the ids back to the first ``size`` window messages; False if not a boundary."""
        mark = self._marks.get(size)
        if mark is None:
            return False
        length, last = mark
        del self.ids[length:], self.mask[length:], self.logprobs[length:]
        self.synced, self._last_generated = size, last
        self._marks = {k: v for k, v in self._marks.items() if k <= size}
        return True

    def record(self) -> SegmentTokens:
        """The segment's ids: the prompt up to the first generated id, then the response."""
        start = self.mask.index(1) if 1 in self.mask else len(self.ids)
        return SegmentTokens(
            prompt_ids=self.ids[:start],
            response_ids=self.ids[start:],
            response_mask=self.mask[start:],
            logprobs=self.logprobs[start:],
        )


@dataclass(frozen=True)
class TokenTurn:
    """One model turn of a segment, read off its ids and mask."""

    prompt_ids: list[int]
    """The prompt as sent: every id of the segment before the turn's first generated id."""
    completion_ids: list[int]
    """The ids the server generated."""
    logprobs: list[float]
    """Their sampling log-probs, as the server returned them."""
    observation_ids: list[int]
    """What was appended after the turn (template glue, tool results, the assistant
    header), up to the next turn; empty for the segment's last turn."""


@dataclass(frozen=True)
class TokenSegment:
    """One training sample of a token-exact episode: one context window's ids.

    Every segment of an episode carries the episode's id and reward, so a trainer can put
    them in one group (GRPO) while each is a sequence of its own.
    """

    episode_id: str
    """The trajectory id, ``{task_id}#{sample}``."""
    task_id: str
    sample: int
    index: int
    """The segment's position in the episode (0-based)."""
    end: Literal["discarded", "final"]
    """``discarded`` (the context strategy dropped the history after it) or ``final``."""
    prompt_ids: list[int]
    response_ids: list[int]
    response_mask: list[int]
    logprobs: list[float]
    reward: float | None
    """The trajectory's score; ``None`` when unscored (never read as 0)."""

    @property
    def ids(self) -> list[int]:
        """Prompt and response, the whole sequence."""
        return [*self.prompt_ids, *self.response_ids]

    def turns(self) -> list[TokenTurn]:
        """The segment's model turns: each a run of mask-1 ids and what follows it."""
        mask, starts = self.response_mask, []
        for i, bit in enumerate(mask):
            if bit and (i == 0 or not mask[i - 1]):
                starts.append(i)
        ids, offset, out = self.ids, len(self.prompt_ids), []
        for k, start in enumerate(starts):
            end = start
            while end < len(mask) and mask[end]:
                end += 1
            following = starts[k + 1] if k + 1 < len(starts) else len(mask)
            out.append(
                TokenTurn(
                    prompt_ids=ids[: offset + start],
                    completion_ids=self.response_ids[start:end],
                    logprobs=self.logprobs[start:end],
                    observation_ids=self.response_ids[end:following],
                )
            )
        return out


def episode_segments(trajectory: Trajectory) -> list[TokenSegment]:
    """The token segments of a token-exact episode, in order.

    Raises:
        UserError: when a segment has no token ids (the episode was not run with
            ``ModelConfig.tokens``; re-tokenizing its text would not be exact).
    """
    out = []
    for segment in trajectory.segments:
        tokens = segment.tokens
        if tokens is None:
            raise UserError(
                f"trajectory {trajectory.id!r}: segment {segment.index} has no token ids; run "
                "the episode with model.tokens set (docs/rl.md, 'Token-exact episodes')"
            )
        out.append(
            TokenSegment(
                episode_id=trajectory.id,
                task_id=trajectory.task_id,
                sample=trajectory.sample,
                index=segment.index,
                end=segment.end,
                prompt_ids=list(tokens.prompt_ids),
                response_ids=list(tokens.response_ids),
                response_mask=list(tokens.response_mask),
                logprobs=list(tokens.logprobs),
                reward=trajectory.score,
            )
        )
    return out
