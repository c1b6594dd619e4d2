"""What the agent loop asks of a model: the ``ChatModel`` protocol, its answer, its failures.

The loop and the rollout router code against :class:`ChatModel` only, so a router that spreads
one episode over several servers, a fake, or :class:`~redsearcher.model.OpenAIChatModel` are
interchangeable. Failures are typed by who can fix them: :class:`ModelUnavailable` (the
infrastructure; the router takes the server out and retries elsewhere),
:class:`ContextLengthExceeded` (the prompt; the loop's context strategy makes room), and
:class:`ModelRequestError` (a request the server refused for another reason; ends the episode).
A rejected API key is :class:`~redsearcher.errors.ConfigError`: nothing but the user fixes it.

:class:`~redsearcher.log.Message` is the trajectory record's message type; it lives in
``redsearcher.log``, below this package, so models and the agent share it without a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from redsearcher.errors import RedsearcherError
from redsearcher.log import Message

__all__ = [
    "ChatModel",
    "CompletesTokens",
    "Completion",
    "ContextLengthExceeded",
    "CountsTokens",
    "DescribesSettings",
    "ModelRequestError",
    "ModelUnavailable",
    "TokenCompletion",
]


class ModelUnavailable(RedsearcherError):
    """The model server stayed unreachable, timed out, or answered 5xx/429 through every retry.

    The rollout router catches it to take the endpoint out and retry elsewhere; the agent loop
    ends the episode with termination ``"error"``.
    """


class ContextLengthExceeded(RedsearcherError):
    """The server refused the prompt as longer than the model's context window (HTTP 400).

    The agent loop treats it as reaching the context limit: its strategy makes room or ends the
    episode with ``"context_limit"``.
    """


class ModelRequestError(RedsearcherError):
    """The server refused a request for a reason no retry fixes (a 4xx other than the above).

    Args:
        status: The HTTP status.
        message: The server's error message.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status}: {message}")


@dataclass(frozen=True)
class Completion:
    """One answer of the model.

    A dataclass rather than a pydantic model so that this module needs ``Message`` only as an
    annotation (see the module docstring).
    """

    message: Message
    """The assistant message: ``content`` without ``<think>`` reasoning, which is in
    ``reasoning``; native ``tool_calls`` in the OpenAI wire shape; ``train=True``."""
    finish_reason: str | None
    """``stop``, ``tool_calls``, ``length``, ... as the server said."""
    prompt_tokens: int
    """Prompt tokens of the request (the server's count, else an estimate)."""
    completion_tokens: int
    """Tokens of the answer (the server's count, else an estimate)."""
    estimated: bool
    """True when the token counts are estimates because the server sent no ``usage``."""
    endpoint: str
    """The base URL that served the answer."""


@dataclass(frozen=True)
class TokenCompletion:
    """One answer of a token-exact request: the parsed answer and the ids behind it."""

    completion: Completion
    """The answer as :meth:`ChatModel.complete` would give it (content from the text)."""
    prompt_ids: list[int]
    """The prompt token ids as sent."""
    ids: list[int]
    """The token ids the server generated (a stop token included when it generated one)."""
    logprobs: list[float]
    """The sampling log-prob of each of ``ids``, as the server returned it."""


@runtime_checkable
class ChatModel(Protocol):
    """An OpenAI-style chat model as the agent loop uses it."""

    name: str
    """The model name sent to the server."""
    protocol: str
    """The message protocol the model speaks: ``"native"`` or ``"text"`` (from configuration,
    never from the model's name)."""

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        """Answer ``messages``; ``tools`` is the OpenAI ``tools`` list (empty: none sent).

        Raises:
            ModelUnavailable: after retries of connection errors, timeouts, 5xx and 429.
            ContextLengthExceeded: when the server says the prompt is too long.
            ModelRequestError: for another refused request.
            ConfigError: for a rejected API key or an unknown model/endpoint.
        """
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class CountsTokens(Protocol):
    """Optional: a model that counts prompt tokens itself (e.g. with its own tokenizer).

    The agent loop uses it for its context-limit checks when present, else the estimate of
    :func:`~redsearcher.model.count_tokens`.
    """

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> int:
        """The prompt tokens of a request with ``messages`` and ``tools``."""
        ...


@runtime_checkable
class DescribesSettings(Protocol):
    """Optional: a model that can say how it samples, for the trajectory's provenance."""

    def settings(self) -> dict[str, Any]:
        """JSON-ready settings (model, protocol, sampling); never secrets."""
        ...


@runtime_checkable
class CompletesTokens(Protocol):
    """Optional: a model that can answer a token-id prompt with ids and log-probs.

    The agent loop runs a token-exact episode when the model has a :attr:`chat_template`
    (``ModelConfig.tokens`` set), and a plain chat episode otherwise.
    """

    @property
    def chat_template(self) -> Any:
        """The :class:`~redsearcher.model.TokenizerChat` of the served model, or ``None``."""
        ...

    async def complete_ids(self, prompt_ids: Sequence[int]) -> TokenCompletion:
        """Sample the next turn after ``prompt_ids`` (raises as :meth:`ChatModel.complete`)."""
        ...
