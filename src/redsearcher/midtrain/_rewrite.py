"""The LLM path: rewrite an offline target through the package's one chat client.

Generators stay synchronous iterators, so this wrapper owns one event loop and runs each
``ChatModel.complete`` on it. A model failure is not an error of the run: the rewriter returns
``None`` and the generator keeps its offline text (counted as a fallback), exactly as when the
rewrite fails validation.
"""

from __future__ import annotations

import asyncio
import logging

from redsearcher.errors import RedsearcherError
from redsearcher.log import Message
from redsearcher.model import ChatModel, ModelConfig, OpenAIChatModel

__all__ = ["ChatRewriter", "open_rewriter"]

logger = logging.getLogger(__name__)


class ChatRewriter:
    """A :class:`~redsearcher.midtrain.Rewriter` over a :class:`~redsearcher.model.ChatModel`."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self.name = model.name
        self._loop = asyncio.new_event_loop()
        self.failures = 0

    def rewrite(self, instruction: str, text: str) -> str | None:
        """Ask the model to rewrite ``text``; ``None`` when it fails or answers nothing."""
        messages = [
            Message(role="system", content=instruction),
            Message(role="user", content=text),
        ]
        try:
            done = self._loop.run_until_complete(self.model.complete(messages, []))
        except RedsearcherError as err:
            self.failures += 1
            logger.warning("rewrite failed (%s); keeping the offline text", err)
            return None
        content = done.message.content.strip()
        return content or None

    def close(self) -> None:
        """Close the model's connections and the loop."""
        self._loop.run_until_complete(self.model.aclose())
        self._loop.close()


def open_rewriter(model: str, base_url: str, api_key: str | None = None) -> ChatRewriter:
    """A rewriter over an OpenAI-compatible endpoint (no network until the first rewrite)."""
    config = ModelConfig.model_validate(
        {"name": model, "base_url": base_url, **({"api_key": api_key} if api_key else {})}
    )
    return ChatRewriter(OpenAIChatModel(config))
