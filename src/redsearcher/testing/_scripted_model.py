"""An in-process scripted chat model: the scripted server's steps with no socket and no thread.

The scripted HTTP server (:class:`~redsearcher.testing.ScriptedChatServer`) is the test double
of choice where the HTTP path is under test. Most tests only need *a model that says what the
test wants*: the summarizer's retry rules, a realizer's checks, the rollout router's affinity.
Those tests used to bring their own fakes, each with its own idea of a completion. This one is
the package's: a :class:`~redsearcher.model.ChatModel` driven by the same :class:`Script` and
:class:`Step` objects, that records every call, and that fails the test when a scripted step
was left unused (:meth:`ScriptedModel.assert_all_used`, or leaving a ``with`` block).

It is the real :class:`~redsearcher.model.OpenAIChatModel` over an ``httpx`` mock transport
whose handler answers with the scripted server's own :class:`~._reply.Replier`. So a step
becomes exactly the :class:`~redsearcher.model.Completion` or exception it would become over
HTTP: native tool calls normalized, ``<think>`` split into ``reasoning``, usage from the step or
the server's estimate, and a step's ``error`` raised as the client raises it —
``ModelUnavailable`` for 408/429/5xx (with ``max_retries=0``, the default, at once),
``ContextLengthExceeded`` for a context-length 400, ``ConfigError`` for 401/403/404,
``ModelRequestError`` for other 4xx. The request body the client built is recorded, so tests see
the sampling parameters, stop sequences and tools that would have gone over the wire.

Two switches that a script cannot express serve the rollout tests' endpoint outages: while
:attr:`ScriptedModel.down` is true every call raises ``ModelUnavailable``, and while
:attr:`ScriptedModel.fail_with` is set every call raises that exception; neither consumes a
step. ``default`` answers calls no step is left for, for tests that count calls rather than
script them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from redsearcher.log import Message
from redsearcher.model import (
    Completion,
    ModelConfig,
    ModelUnavailable,
    OpenAIChatModel,
    SamplingConfig,
    TokenCompletion,
    TokenConfig,
    TokenizerChat,
)
from redsearcher.testing import _ids, _wire
from redsearcher.testing._ledger import Ledger, LedgerChecks, RecordedRequest
from redsearcher.testing._reply import Replier
from redsearcher.testing._script import Script, Step, as_scripts
from redsearcher.testing._wire import RequestError

__all__ = ["ModelCall", "ScriptedModel"]

#: Request fields that are the conversation rather than how it is sampled.
_NOT_SAMPLING = frozenset({"model", "messages", "tools"})


@dataclass
class ModelCall:
    """One :meth:`ScriptedModel.complete` call, as the code under test made it."""

    messages: list[Message]
    """The messages passed (the list copied; the messages themselves are immutable); empty for
    a token-exact call, whose prompt is :attr:`prompt_ids`."""
    tools: list[dict[str, Any]]
    """The ``tools`` passed."""
    requests: list[RecordedRequest] = field(default_factory=list)
    """The requests the client sent for this call (more than one only with retries)."""
    completion: Completion | None = None
    """What the call returned, if it returned."""
    error: BaseException | None = None
    """What the call raised, if it raised."""
    prompt_ids: list[int] | None = None
    """A token-exact call's prompt ids (:meth:`ScriptedModel.complete_ids`); else ``None``."""
    token_completion: TokenCompletion | None = None
    """What a token-exact call returned, if it returned."""

    @property
    def body(self) -> dict[str, Any] | None:
        """The JSON body of the last request sent (``None`` when none was: ``down``)."""
        return self.requests[-1].body if self.requests else None

    @property
    def sampling(self) -> dict[str, Any]:
        """The last request's fields other than the model name, messages and tools.

        That is ``temperature``, ``top_p``, ``max_tokens``, ``stop`` and any extra body field.
        """
        body = self.body or {}
        return {k: v for k, v in body.items() if k not in _NOT_SAMPLING}


# The call being made in this task: the transport handler appends the requests it answers to
# it. The handler runs in the task that called ``complete`` (httpx awaits the mock transport
# directly), so concurrent episodes never see each other's calls.
_CURRENT: ContextVar[ModelCall | None] = ContextVar("scripted_model_call", default=None)


class ScriptedModel(LedgerChecks):
    """A :class:`~redsearcher.model.ChatModel` that answers from scripts, in process.

    Example::

        with ScriptedModel([Step(content="<answer>Paris</answer>")]) as model:
            ...  # run the code under test with model=model
        assert model.calls[0].messages[-1].content == "What is the capital of France?"

    Args:
        scripts: Scripts, or steps that form one script taking every call. Scripts are picked
            by the first user message (``Script.match``), as the scripted server does, so
            concurrent episodes each consume their own steps.
        name: The model name (sent in each request, shown in provenance).
        protocol: ``native`` or ``text``: the text protocol's stop sequences are sent, and
            the agent loop parses ``<tool_call>`` text (write it with ``text_tool_call``).
        sampling: Sampling parameters of the requests (default: ``SamplingConfig()``, with
            ``max_tokens=4096`` for a token-exact model).
        endpoint: The base URL reported as :attr:`~redsearcher.model.Completion.endpoint`.
        latency_s: Delay before every answer: seconds, or a ``(min, max)`` range drawn from
            the seeded RNG (a step's ``latency_s`` adds to it).
        error_rate: Probability that a call gets an injected transient error (one of
            ``error_statuses``) instead of a step; such a call consumes no step.
        error_statuses: Statuses injected errors are drawn from.
        seed: Seed of the RNG behind ``latency_s`` ranges and ``error_rate``.
        default: Answers every call that no script has a step left for; ``None`` makes such a
            call a failure (``ModelRequestError`` now, :meth:`assert_all_used` later).
        max_retries: Retries of the client after 408/429/5xx (each retry consumes a step);
            0, the default, raises ``ModelUnavailable`` at the first.
        tokenizer: A ``tokenizer.json`` for :meth:`count_tokens` (default: the estimate).
        chat_template: Makes the model token-exact (``docs/rl.md``): the agent loop sends
            token ids (:meth:`complete_ids`), answered as ``token_api`` answers them, the
            step's text tokenized with this tokenizer unless the step fixes ``token_ids``.
            Needs ``protocol="text"``.
        token_api: ``vllm`` (``/v1/completions``) or ``sglang`` (``/generate``).
    """

    def __init__(
        self,
        scripts: Script | Step | Sequence[Script] | Sequence[Step] = (),
        *,
        name: str = "scripted",
        protocol: Literal["native", "text"] = "native",
        sampling: SamplingConfig | None = None,
        endpoint: str = "http://scripted.test/v1",
        latency_s: float | tuple[float, float] = 0.0,
        error_rate: float = 0.0,
        error_statuses: Sequence[int] = (500, 429),
        seed: int = 0,
        default: Step | None = None,
        max_retries: int = 0,
        tokenizer: Path | None = None,
        chat_template: TokenizerChat | None = None,
        token_api: _ids.IdsApi = "vllm",
    ) -> None:
        self.scripts: list[Script] = as_scripts(scripts)
        self._ledger = Ledger.with_faults(
            self.scripts,
            latency_s=latency_s,
            error_rate=error_rate,
            error_statuses=error_statuses,
            seed=seed,
        )
        # No retry-after header: with retries on, the client's own backoff (0 s) applies.
        self._replier = Replier(
            self._ledger, error_rate=error_rate, retry_after_ms=None, default=default
        )
        config = ModelConfig(
            name=name,
            base_url=endpoint,
            api_key=None,
            protocol=protocol,
            # Token-exact requests need a max_tokens (the raw endpoints' defaults are tiny).
            sampling=sampling or SamplingConfig(max_tokens=None if chat_template is None else 4096),
            max_retries=max_retries,
            backoff_s=0.0,
            tokenizer=tokenizer,
            tokens=None if chat_template is None else TokenConfig(api=token_api),
        )
        self._chat = chat_template
        self._token_api: _ids.IdsApi = token_api
        self._client = OpenAIChatModel(
            config, transport=httpx.MockTransport(self._handle), chat_template=chat_template
        )
        self.name: str = config.name
        self.protocol: str = config.protocol
        self.endpoint: str = self._client.endpoint
        self.calls: list[ModelCall] = []
        """Every :meth:`complete` call, in the order they were made."""
        self.fail_with: BaseException | None = None
        """While set, every call raises it and consumes no step (e.g. a bug in a wrapper)."""
        self.closed = False
        """Whether :meth:`aclose` was called (the rollout pool closes its models)."""

    # -- the ChatModel protocol --------------------------------------------------------------

    @property
    def down(self) -> bool:
        """Whether the model is out: every call raises ``ModelUnavailable``, consuming no step.

        Setting it stands for an endpoint outage (the rollout router's tests toggle it).
        """
        return isinstance(self.fail_with, ModelUnavailable)

    @down.setter
    def down(self, value: bool) -> None:
        self.fail_with = ModelUnavailable(f"{self.endpoint} is down") if value else None

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        """Answer with the next scripted step (see the module docstring for errors)."""
        call = ModelCall(list(messages), list(tools))
        self.calls.append(call)
        token = _CURRENT.set(call)
        try:
            if self.fail_with is not None:
                raise self.fail_with.with_traceback(None)  # one call's frames, not every call's
            call.completion = await self._client.complete(messages, tools)
        except BaseException as err:
            call.error = err
            raise
        finally:
            _CURRENT.reset(token)
        return call.completion

    @property
    def chat_template(self) -> TokenizerChat | None:
        """The tokenizer of token-exact episodes (``None``: a plain chat model)."""
        return self._chat

    async def complete_ids(self, prompt_ids: Sequence[int]) -> TokenCompletion:
        """Answer a token-id prompt with the next scripted step, as vLLM or SGLang would."""
        call = ModelCall([], [], prompt_ids=list(prompt_ids))
        self.calls.append(call)
        token = _CURRENT.set(call)
        try:
            if self.fail_with is not None:
                raise self.fail_with.with_traceback(None)
            answer = await self._client.complete_ids(prompt_ids)
        except BaseException as err:
            call.error = err
            raise
        finally:
            _CURRENT.reset(token)
        call.token_completion, call.completion = answer, answer.completion
        return answer

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> int:
        """Prompt tokens of a request, as :class:`~redsearcher.model.OpenAIChatModel` counts."""
        return self._client.count_tokens(messages, tools)

    def settings(self) -> dict[str, Any]:
        """Name, protocol, endpoint and sampling, for provenance."""
        return self._client.settings()

    async def aclose(self) -> None:
        """Release the client (idempotent); the scripts are not checked here."""
        await self._client.aclose()
        self.closed = True

    # -- what happened -----------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._check(exc)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
        self._check(exc)

    def _check(self, exc: BaseException | None) -> None:
        """On a clean exit assert every step was used; else add what went wrong to ``exc``."""
        if exc is None:
            self.assert_all_used()
        elif self.failures:
            exc.add_note("scripted model failures:\n  " + "\n  ".join(self.failures))

    # -- the transport ---------------------------------------------------------------------

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        received = time.time()
        path = request.url.path
        body: Any = None
        try:
            try:
                body = json.loads(await request.aread())
            except ValueError as err:
                raise RequestError(400, f"request body is not valid JSON: {err}") from err
            if path.endswith("/chat/completions") or self._chat is None:
                body = _wire.validate_request(body)
            else:
                prompt = _ids.prompt_ids(body, self._token_api)
        except RequestError as err:
            self._record(request, received, err.status, body=body, error=err.message)
            self._ledger.fail(f"{request.method} {path}: {err.message}")
            payload = _wire.error_body(err.status, err.message, param=err.param, code=err.code)
            return httpx.Response(err.status, json=payload)
        if path.endswith("/chat/completions") or self._chat is None:
            reply = await self._replier.reply(body, received)
        else:
            chat, api = self._chat, self._token_api
            reply = await self._replier.reply(
                body,
                received,
                view=_ids.chat_view(body, prompt, chat),
                render=lambda step, ids: _ids.ids_answer(step, body, ids, prompt, chat, api),
            )
        self._record(request, received, reply.status, **reply.record)
        if reply.failure is not None:
            self._ledger.fail(f"{request.method} {path}: {reply.failure}")
        # ASCII-escaped JSON, as servers that escape non-ASCII send it: a step can then carry
        # any Python string, a lone surrogate included (a model that wrote ``\\ud800``).
        content = json.dumps(reply.payload).encode("ascii")
        headers = {"content-type": "application/json", **(reply.headers or {})}
        return httpx.Response(reply.status, content=content, headers=headers)

    def _record(self, request: httpx.Request, received: float, status: int, **kw: Any) -> None:
        record = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            time=received,
            status=status,
            **kw,
        )
        self._ledger.record(record)
        call = _CURRENT.get()
        if call is not None:
            call.requests.append(record)
