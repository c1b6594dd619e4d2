"""How a script answers one chat request, with no HTTP framework: shared by both scripted models.

The scripted server (:mod:`._http`, over Starlette) and the in-process
:class:`~redsearcher.testing.ScriptedModel` (over an ``httpx`` mock transport) must answer the
same step the same way, or a test that passes against one would fail against the other. So the
order of a chat request's handling lives here once: draw the server-wide faults (latency, an
injected transient error), pick the step, wait its latency, check its expectations, then
answer its error or its completion. The caller records the request and any failure, and turns
the :class:`Reply` into its own kind of response.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redsearcher.testing import _wire
from redsearcher.testing._ledger import Ledger
from redsearcher.testing._script import Step
from redsearcher.testing._wire import AnswerIds, RequestError

__all__ = ["Replier", "Reply"]


@dataclass(frozen=True)
class Reply:
    """The answer to one chat request, before it becomes an HTTP response."""

    status: int
    """HTTP status: 200 for a completion."""
    payload: dict[str, Any]
    """The JSON body: a ``chat.completion`` object, or an OpenAI error body."""
    record: dict[str, Any] = field(default_factory=dict)
    """What the caller's ``RecordedRequest`` should say beyond the HTTP basics (``body``,
    ``script_index``, ``step_index``, ``injected``, ``error``)."""
    failure: str | None = None
    """A scripting failure to record (no script, no steps left, a failed expectation)."""
    headers: dict[str, str] | None = None
    """Extra response headers (``retry-after-ms`` of injected errors)."""
    step: Step | None = None
    """The step that answered (a streamed answer is rendered from it)."""
    ids: AnswerIds | None = None
    """The identifiers of a completion (a streamed answer reuses them)."""


class Replier:
    """Answers validated chat requests from a :class:`~._ledger.Ledger`'s scripts.

    Args:
        ledger: Script cursors, fault draws and records.
        error_rate: Shown in the message of injected errors.
        retry_after_ms: ``retry-after-ms`` header of injected errors (``None``: no header).
        default: Answers a request that no script has a step for (instead of a 400 and a
            recorded failure); ``None`` for none. For tests that count calls rather than
            script them.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        error_rate: float,
        retry_after_ms: int | None,
        default: Step | None = None,
    ) -> None:
        self.ledger = ledger
        self._error_rate = error_rate
        self._retry_after_ms = retry_after_ms
        self._default = default
        self._ids = itertools.count(1)

    async def reply(
        self,
        body: dict[str, Any],
        received: float,
        *,
        view: dict[str, Any] | None = None,
        render: Callable[[Step, AnswerIds], dict[str, Any]] | None = None,
    ) -> Reply:
        """The answer to ``body`` (already validated), received at ``received`` (Unix time).

        Args:
            body: The request.
            received: When it arrived.
            view: The chat body that scripts are picked and expectations checked by (a
                token-id request's decoded prompt, :mod:`._ids`); default ``body``.
            render: Makes the 200 answer of a step (default: a ``chat.completion``).
        """
        delay, injected = self.ledger.draw_fault()
        if delay:
            await asyncio.sleep(delay)
        if injected is not None:
            message = f"injected transient error {injected} (error_rate={self._error_rate})"
            headers = None
            if self._retry_after_ms is not None:
                headers = {"retry-after-ms": str(self._retry_after_ms)}
            return Reply(
                injected,
                _wire.error_body(injected, message),
                {"body": body, "injected": True, "error": message},
                headers=headers,
            )
        seen = body if view is None else view
        try:
            script_index, step_index, step = self.ledger.select(seen)
        except RequestError as err:
            if self._default is None:
                return Reply(
                    err.status,
                    _wire.error_body(err.status, err.message),
                    {"body": body, "error": err.message},
                    failure=err.message,
                )
            return await self._answer(self._default, body, seen, received, None, None, render)
        return await self._answer(step, body, seen, received, script_index, step_index, render)

    async def _answer(
        self,
        step: Step,
        body: dict[str, Any],
        seen: dict[str, Any],
        received: float,
        script_index: int | None,
        step_index: int | None,
        render: Callable[[Step, AnswerIds], dict[str, Any]] | None,
    ) -> Reply:
        where = {"script_index": script_index, "step_index": step_index, "body": body}
        if step.latency_s:
            await asyncio.sleep(step.latency_s)
        problems = _wire.check_expectations(step, seen)
        if problems:
            if script_index is None:
                label = "the default step"
            else:
                label = self.ledger.scripts[script_index].label(script_index)
                label += f" step {step_index}"
            message = f"{label}: expectation failed: " + "; ".join(problems)
            payload = _wire.error_body(400, message, code="expectation_failed")
            return Reply(400, payload, {**where, "error": message}, failure=message)
        if step.error is not None:
            e = step.error
            payload = _wire.error_body(
                e.status, e.message, type_=e.type, param=e.param, code=e.code
            )
            return Reply(e.status, payload, {**where, "error": e.message}, step=step)
        prefix = "default" if script_index is None else f"{script_index}_{step_index}"
        ids = _wire.AnswerIds(
            completion_id=f"chatcmpl-scripted-{next(self._ids)}",
            created=int(received),
            call_prefix=f"call_{prefix}",
        )
        try:
            payload = _wire.completion(step, body, ids) if render is None else render(step, ids)
        except RequestError as err:
            payload = _wire.error_body(err.status, err.message)
            return Reply(err.status, payload, {**where, "error": err.message}, failure=err.message)
        return Reply(200, payload, where, step=step, ids=ids)
