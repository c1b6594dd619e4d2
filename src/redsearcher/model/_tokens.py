r"""Counting prompt tokens: exactly with a HuggingFace tokenizer, else a documented estimate.

The agent's context strategies act when the prompt reaches a fraction of the window, so they
need a count *before* sending. With a ``tokenizer.json`` (the served model's), each message's
text is encoded; without one the estimate is

* ``ceil(ascii_chars / 3.5) + non_ascii_chars`` per text: English BPE vocabularies average
  about four characters per token, and 3.5 errs on the large side so the limit is reached a
  little early rather than late; a CJK character is about one token, so each non-ASCII
  character counts one (an overestimate for accented Latin, which is rare in this data);
* plus :data:`MESSAGE_OVERHEAD` tokens per message (role and separators of a chat template
  such as ``<|im_start|>role\n…<|im_end|>\n``) and :data:`REPLY_OVERHEAD` for the assistant
  header the template appends;
* counting what the request carries: ``content``, native ``tool_calls`` as JSON, and the
  ``tools`` list as JSON. ``reasoning`` is not counted: it is not sent back.

Neither is the chat template itself, so even the tokenizer count is approximate by a few tokens
per message; the agent loop also corrects it with the server's reported ``prompt_tokens``.

The same counter sizes the goal-directed visit's passages and the page content sent to the
summarizer (:meth:`TokenCounter.count_text`, :meth:`TokenCounter.truncate_text`), so the package
has one token rule, not one per module.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from redsearcher.log import Message

__all__ = [
    "CHARS_PER_TOKEN",
    "MESSAGE_OVERHEAD",
    "REPLY_OVERHEAD",
    "TokenCounter",
    "count_tokens",
    "estimate_text_tokens",
]

#: ASCII characters per token of the estimate.
CHARS_PER_TOKEN = 3.5
#: Tokens per message for the role and separators of the chat template.
MESSAGE_OVERHEAD = 4
#: Tokens for the assistant header the template appends to a prompt.
REPLY_OVERHEAD = 3
#: Texts whose counts a counter remembers before it starts over: enough for the windows of
#: hundreds of concurrent episodes, whose texts are alive in those windows anyway.
COUNT_CACHE_SIZE = 32_768


class _Encoding(Protocol):
    @property
    def ids(self) -> list[int]: ...

    @property
    def offsets(self) -> list[tuple[int, int]]: ...


class Tokenizer(Protocol):
    """What counting needs of a tokenizer: ``tokenizers.Tokenizer`` satisfies it.

    Counting reads only ``ids``; :meth:`TokenCounter.truncate_text` also reads the character
    ``offsets`` of each token.
    """

    def encode(self, sequence: str, /) -> _Encoding:
        """Encode ``sequence``."""
        ...


def estimate_text_tokens(text: str) -> int:
    """The estimated token count of ``text`` (see the module docstring)."""
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return math.ceil((len(text) - non_ascii) / CHARS_PER_TOKEN) + non_ascii


def _estimate_prefix(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` whose estimate is at most ``max_tokens``."""
    if max_tokens <= 0:
        return ""
    if text.isascii():  # ceil(n / 3.5) <= m  <=>  n <= 3.5 m
        return text[: math.floor(max_tokens * CHARS_PER_TOKEN)]
    if estimate_text_tokens(text) <= max_tokens:
        return text
    # The estimate grows with the prefix length, so the cut is found by bisection.
    length = bisect.bisect_right(
        range(len(text) + 1), max_tokens, key=lambda n: estimate_text_tokens(text[:n])
    )
    return text[: length - 1]


class _JsonTexts:
    """``json.dumps`` of lists that are counted again and again (tool calls, tool schemas).

    Remembered by the list's identity, and used only while the list still equals a snapshot
    taken when it was encoded, so a list changed in place is encoded afresh. Comparing is a
    C-level walk, several times cheaper than encoding.
    """

    def __init__(self) -> None:
        self._texts: dict[int, tuple[list[Any], list[Any], str]] = {}

    def __call__(self, value: list[Any]) -> str:
        found = self._texts.get(id(value))
        if found is not None and found[0] is value and found[1] == value:
            return found[2]
        text = json.dumps(value, ensure_ascii=False)
        if len(self._texts) >= COUNT_CACHE_SIZE:
            self._texts = {}  # replaced, never cleared: another thread may be reading it
        self._texts[id(value)] = (value, json.loads(text), text)
        return text


def _message_texts(message: Message, dumps: Callable[[list[Any]], str]) -> list[str]:
    texts = [message.content]
    if message.tool_calls:
        texts.append(dumps(message.tool_calls))
    if message.tool_call_id:
        texts.append(message.tool_call_id)
    return texts


class TokenCounter:
    """Counts the prompt tokens of a request.

    Args:
        tokenizer: A ``tokenizers.Tokenizer`` (anything with ``encode(text).ids``); ``None``
            uses :func:`estimate_text_tokens`.
    """

    def __init__(self, tokenizer: Tokenizer | None = None) -> None:
        self.tokenizer = tokenizer
        # text -> tokens. An agent re-counts its whole window every turn, and the window's
        # texts are the same string objects turn after turn (their hashes are cached).
        self._counts: dict[str, int] = {}
        self._json = _JsonTexts()

    @classmethod
    def from_file(cls, path: str | Path | None) -> TokenCounter:
        """A counter over the ``tokenizer.json`` at ``path`` (``None``: the estimate).

        The file is loaded once per process and path. ``ModelConfig.tokenizer`` and
        ``VisitConfig.tokenizer_file`` both come here.

        Raises:
            ImportError: when ``tokenizers`` is not installed.
        """
        return cls(None if path is None else _load_tokenizer(str(path)))

    @property
    def estimated(self) -> bool:
        """Whether counts are estimates (no tokenizer)."""
        return self.tokenizer is None

    def count_text(self, text: str) -> int:
        """Tokens of ``text``."""
        if not text:
            return 0
        found = self._counts.get(text)
        if found is None:
            if self.tokenizer is None:
                found = estimate_text_tokens(text)
            else:
                found = len(self.tokenizer.encode(text).ids)
            if len(self._counts) >= COUNT_CACHE_SIZE:
                self._counts = {}  # replaced, never cleared: another thread may be reading it
            self._counts[text] = found
        return found

    def truncate_text(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` of at most ``max_tokens`` tokens.

        With a tokenizer the cut falls at the end of the last whole token that fits (its
        character ``offsets``); with the estimate, at the last character that keeps the
        estimate within ``max_tokens``. Not remembered: the texts cut are pages and long
        sentences, rarely seen twice.
        """
        if self.tokenizer is None:
            return _estimate_prefix(text, max_tokens)
        encoding = self.tokenizer.encode(text)
        if len(encoding.ids) <= max_tokens:
            return text
        if max_tokens <= 0:
            return ""
        return text[: encoding.offsets[max_tokens - 1][1]]

    def count(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] = ()) -> int:
        """Prompt tokens of a request with ``messages`` and ``tools``."""
        total = REPLY_OVERHEAD
        for message in messages:
            texts = _message_texts(message, self._json)
            total += MESSAGE_OVERHEAD + sum(self.count_text(t) for t in texts)
        if tools:
            listed = tools if isinstance(tools, list) else list(tools)
            total += self.count_text(self._json(listed))
        return total

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] = ()) -> int:
        """Same as :meth:`count`, so a counter can be passed where a function is expected."""
        return self.count(messages, tools)


_ESTIMATE = TokenCounter()


def count_tokens(
    messages: Sequence[Message],
    tools: Sequence[dict[str, Any]] = (),
    *,
    tokenizer: Tokenizer | None = None,
) -> int:
    """Prompt tokens of a request: exact text counts with ``tokenizer``, else the estimate."""
    counter = _ESTIMATE if tokenizer is None else TokenCounter(tokenizer)
    return counter.count(messages, tools)


@lru_cache(maxsize=4)
def _load_tokenizer(path: str) -> Tokenizer:
    try:
        from tokenizers import Tokenizer as HFTokenizer  # type: ignore[import-not-found,unused-ignore]
    except ImportError as err:
        raise ImportError(
            f"counting tokens with {path} (ModelConfig.tokenizer, VisitConfig.tokenizer_file) "
            "needs the tokenizers package: pip install tokenizers"
        ) from err
    tokenizer: Tokenizer = HFTokenizer.from_file(path)
    return tokenizer
