"""The served model's chat template, applied on the client: how token-exact episodes build prompts.

A trainer needs, for every model turn, the token ids the policy read and the ids it generated.
Sending messages to ``/chat/completions`` cannot give that across turns: the server renders the
whole conversation from text on every request, so turn ``k``'s generated ids come back to the
model as the re-tokenization of their decoded text (which differs whenever sampling produced a
non-canonical split), and templates such as Qwen3's drop earlier ``<think>`` blocks. So, as verl
and slime do, token-exact episodes keep the ids themselves and only ever *append*:

* the first prompt is the template applied to the opening messages (``prompt``);
* a model turn appends exactly the ids the server generated;
* what follows a turn — the template's end-of-turn glue (``turn_end``), the next messages
  (tool results, a nudge) and the assistant header (``observation``) — is rendered by the
  template after a fixed assistant turn, read off after that turn, and tokenized on its own.

:class:`TokenizerChat` wraps a Hugging Face tokenizer whose ``chat_template`` is the served
model's (``transformers`` is the optional extra ``rl``; it is imported only when a tokenizer is
loaded from a directory).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model._client import wire_message

__all__ = ["HFTokenizer", "RenderedIds", "TokenizerChat"]

#: The assistant content of the fixed conversation that observations are rendered against.
_SENTINEL = "\u2063REDSEARCHER-TURN\u2063"
_BASE: tuple[dict[str, Any], ...] = (
    {"role": "system", "content": "s"},
    {"role": "user", "content": "u"},
    {"role": "assistant", "content": _SENTINEL},
)


class HFTokenizer(Protocol):
    """What :class:`TokenizerChat` uses of a ``transformers`` tokenizer."""

    eos_token_id: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any:
        """Render ``conversation`` (called with ``tokenize=False``)."""
        ...

    def encode(self, text: str, **kwargs: Any) -> Any:
        """Token ids of ``text``."""
        ...

    def decode(self, token_ids: Any, **kwargs: Any) -> Any:
        """Text of ``token_ids``."""
        ...


@dataclass(frozen=True)
class RenderedIds:
    """Messages rendered by the template: their ids, then the assistant header's."""

    message_ids: list[int]
    """The messages themselves (a rollback may cut the sequence right after them)."""
    generation_ids: list[int]
    r"""The header that asks the model for the next turn (``<|im_start|>assistant\n``)."""

    @property
    def ids(self) -> list[int]:
        """Both, in order."""
        return [*self.message_ids, *self.generation_ids]


class TokenizerChat:
    """A Hugging Face tokenizer and chat template, used to build token-exact prompts.

    Args:
        tokenizer: A ``transformers`` tokenizer with a ``chat_template``.
        template_kwargs: Extra variables of the template (e.g. ``{"enable_thinking": False}``),
            as vLLM's ``chat_template_kwargs``.
    """

    def __init__(
        self, tokenizer: HFTokenizer, *, template_kwargs: Mapping[str, Any] | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.template_kwargs = dict(template_kwargs or {})
        self._glue: dict[str, str] = {}

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, template_kwargs: Mapping[str, Any] | None = None
    ) -> TokenizerChat:
        """Load the tokenizer directory at ``path`` (local files only, never the network).

        Raises:
            ImportError: without ``transformers`` (``pip install 'redsearcher[rl]'``).
            ConfigError: when the directory has no loadable tokenizer or no chat template.
        """
        try:
            from transformers import AutoTokenizer  # type: ignore[import-not-found,unused-ignore]
        except ImportError as err:
            raise ImportError(
                f"token-exact episodes with the tokenizer at {path} need transformers: "
                "pip install 'redsearcher[rl]'"
            ) from err
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as err:
            raise ConfigError(f"model.tokens.tokenizer: cannot load {path}: {err}") from err
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError(f"model.tokens.tokenizer: {path} has no chat_template")
        return cls(tokenizer, template_kwargs=template_kwargs)

    # -- text <-> ids --------------------------------------------------------------------------

    @property
    def eos_id(self) -> int | None:
        """The end-of-sequence id (the end of an assistant turn in ChatML templates)."""
        eos = self.tokenizer.eos_token_id
        return eos if isinstance(eos, int) else None

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` with no special tokens added (the template wrote them as text)."""
        return [int(i) for i in self.tokenizer.encode(text, add_special_tokens=False)]

    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Text of ``ids``."""
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def render(
        self,
        messages: Sequence[Message] | Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] = (),
        *,
        add_generation_prompt: bool,
    ) -> str:
        """The template applied to ``messages`` (``Message`` or OpenAI dicts), as text."""
        conversation = [m if isinstance(m, dict) else wire_message(m) for m in messages]
        text = self.tokenizer.apply_chat_template(
            conversation,
            tools=list(tools) or None,
            tokenize=False,
            add_generation_prompt=add_generation_prompt,
            **self.template_kwargs,
        )
        if not isinstance(text, str):
            raise ConfigError("the chat template did not render text")
        return text

    # -- the pieces of a token-exact episode ---------------------------------------------------

    def prompt(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] = ()
    ) -> RenderedIds:
        """The ids of a first request: ``messages`` rendered, then the assistant header."""
        closed = self.render(messages, tools, add_generation_prompt=False)
        opened = self.render(messages, tools, add_generation_prompt=True)
        return RenderedIds(self.encode(closed), self.encode(_suffix(opened, closed, "header")))

    def observation(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]] = ()
    ) -> RenderedIds:
        """The ids that append ``messages`` after a closed assistant turn, then the header.

        Rendered after a fixed conversation that ends with an assistant turn: the text after
        that turn's content and its end-of-turn glue. Only what follows the turn is read, so a
        template may render the earlier turns differently once more messages follow (Qwen3
        writes an empty ``<think>`` block into the last assistant turn only).
        """
        conversation = [*_BASE, *(wire_message(m) for m in messages)]
        closed = self.render(conversation, tools, add_generation_prompt=False)
        opened = self.render(conversation, tools, add_generation_prompt=True)
        after = _after_sentinel(closed)
        glue = self._turn_glue(tools)
        if not after.startswith(glue):
            raise ConfigError(
                "the chat template is not append-only: the end of an assistant turn renders "
                f"as {glue!r} alone but as {after[: len(glue)]!r} before further messages"
            )
        return RenderedIds(
            self.encode(after[len(glue) :]), self.encode(_suffix(opened, closed, "header"))
        )

    def _turn_glue(self, tools: Sequence[dict[str, Any]]) -> str:
        key = json.dumps(list(tools), sort_keys=True, ensure_ascii=False)
        glue = self._glue.get(key)
        if glue is None:
            glue = _after_sentinel(self.render(_BASE, tools, add_generation_prompt=False))
            self._glue[key] = glue
        return glue

    def turn_end(
        self, response_ids: Sequence[int], tools: Sequence[dict[str, Any]] = ()
    ) -> list[int]:
        r"""The template's glue after a generated assistant turn, less what the model wrote.

        ChatML closes a turn with ``<|im_end|>\n``: a model that stopped on ``<|im_end|>``
        generated the first token itself, so only ``\n`` is appended; a turn cut by a stop
        string or ``max_tokens`` gets the whole glue.
        """
        ids = self.encode(self._turn_glue(tools))
        if ids and response_ids and response_ids[-1] == ids[0]:
            return ids[1:]
        return ids


def _after_sentinel(text: str) -> str:
    at = text.rfind(_SENTINEL)
    if at < 0:
        raise ConfigError("the chat template does not render assistant content verbatim")
    return text[at + len(_SENTINEL) :]


def _suffix(longer: str, prefix: str, what: str) -> str:
    if not longer.startswith(prefix):
        raise ConfigError(
            f"the chat template is not append-only: rendering the {what} changed the text "
            "before it, so token-exact episodes cannot extend the prompt"
        )
    return longer[len(prefix) :]
