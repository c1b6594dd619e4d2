"""The OpenAI-compatible chat client: ``POST {base_url}/chat/completions`` over ``httpx``.

``httpx`` directly rather than the ``openai`` SDK: the SDK is not a core dependency, and the
agent needs control the SDK hides — which failures are retried (connection errors, timeouts,
408, 429, 5xx; never a 4xx the request itself caused), that a context-length 400 surfaces as
:class:`~redsearcher.model.ContextLengthExceeded` for the context strategy, that a rejected key
stops the run (:class:`~redsearcher.errors.ConfigError`), and that ``reasoning_content`` and
inline ``<think>`` blocks both land in ``Message.reasoning``.

Retries back off exponentially with ±50% jitter, so hundreds of concurrent rollouts that hit a
503 together do not come back together; a ``Retry-After``/``retry-after-ms`` header wins. The
loop is ``redsearcher._util.send_with_retries``, the one the environment's tools use too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from redsearcher._util import AsyncClosing, send_with_retries
from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model._config import ModelConfig
from redsearcher.model._errors import error_fields, is_context_length_error
from redsearcher.model._protocols import get_protocol, split_reasoning
from redsearcher.model._tokens import TokenCounter
from redsearcher.model._types import (
    Completion,
    ContextLengthExceeded,
    ModelRequestError,
    ModelUnavailable,
    TokenCompletion,
)

if TYPE_CHECKING:
    from redsearcher.model._chat_template import TokenizerChat

__all__ = ["OpenAIChatModel", "is_context_length_error", "token_completion", "wire_message"]

logger = logging.getLogger(__name__)

#: The sleep between retries; tests replace it to see the delays without waiting.
_sleep = asyncio.sleep


def wire_message(message: Message) -> dict[str, Any]:
    """``message`` in the OpenAI request shape (``reasoning`` is not sent back)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = message.tool_calls
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def _normalize_tool_calls(raw: Any) -> list[dict[str, Any]]:
    calls = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        call = dict(item)
        function = dict(call.get("function") or {})
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            function["arguments"] = json.dumps(arguments, ensure_ascii=False)
        call["function"] = function
        call.setdefault("type", "function")
        calls.append(call)
    return calls


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


class OpenAIChatModel(AsyncClosing):
    """A :class:`~redsearcher.model.ChatModel` over one OpenAI-compatible endpoint.

    Nothing happens on the network until :meth:`complete`. Use it from one event loop; close
    it with :meth:`aclose` or ``async with``.

    Args:
        config: Endpoint, protocol, sampling, retries.
        client: An ``httpx.AsyncClient`` to use (and not close); by default one is made on
            first use with the configured timeouts.
        transport: The ``httpx`` transport of the client made on first use (a proxy, or the
            in-process :class:`~redsearcher.testing.ScriptedModel`); ignored with ``client``.
        rng: Source of the retry jitter (tests seed it).
        chat_template: The tokenizer and template of token-exact requests (by default loaded
            from ``config.tokens.tokenizer`` on first use); ignored without ``config.tokens``.
    """

    def __init__(
        self,
        config: ModelConfig,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        chat_template: TokenizerChat | None = None,
    ) -> None:
        self.config = config
        self.name: str = config.name
        self.protocol: str = config.protocol
        self.endpoint = config.base_url.rstrip("/")
        self.url = self.endpoint + "/chat/completions"
        self._url = httpx.URL(self.url)  # parsed once: httpx re-parses a str on every request
        stop = [*get_protocol(config.protocol).stop, *config.sampling.stop]
        self._stop = list(dict.fromkeys(stop))
        key = config.api_key
        self._headers = {} if key is None else {"Authorization": f"Bearer {key.get_secret_value()}"}
        self._client = client
        self._transport = transport
        self._owns_client = client is None
        self._rng = rng or random.Random()
        self._counter: TokenCounter | None = None
        self._chat_template = chat_template
        tokens = config.tokens
        if tokens is not None and tokens.api == "sglang":
            root = self.endpoint.removesuffix("/v1")
            self._ids_url = httpx.URL(root + "/generate")
        else:
            self._ids_url = httpx.URL(self.endpoint + "/completions")

    async def aclose(self) -> None:
        """Close the HTTP client if this model made it (idempotent)."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def token_counter(self) -> TokenCounter:
        """The counter of :attr:`ModelConfig.tokenizer` (loaded on first use)."""
        if self._counter is None:
            self._counter = TokenCounter.from_file(self.config.tokenizer)
        return self._counter

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> int:
        """Prompt tokens of a request (the tokenizer's count, else the estimate)."""
        return self.token_counter.count(messages, tools)

    def settings(self) -> dict[str, Any]:
        """Name, protocol, endpoint and sampling, for provenance (no API key)."""
        return {
            "name": self.name,
            "protocol": self.protocol,
            "base_url": self.endpoint,
            "sampling": self.config.sampling.model_dump(mode="json"),
            "tokenizer": None if self.config.tokenizer is None else str(self.config.tokenizer),
        } | self._token_settings()

    def _token_settings(self) -> dict[str, Any]:
        # Only when set, so the provenance of plain chat episodes reads as it always did.
        tokens = self.config.tokens
        return {} if tokens is None else {"tokens": tokens.model_dump(mode="json")}

    # -- token-exact requests ----------------------------------------------------------------

    @property
    def chat_template(self) -> TokenizerChat | None:
        """The served model's tokenizer and template; ``None`` unless ``config.tokens`` is set.

        Raises:
            ImportError: without ``transformers`` (the ``rl`` extra).
            ConfigError: for a tokenizer directory that cannot be loaded.
        """
        tokens = self.config.tokens
        if tokens is None:
            return None
        if self._chat_template is None:
            from redsearcher.model._chat_template import TokenizerChat

            if tokens.tokenizer is None:
                raise ConfigError("model.tokens.tokenizer: the tokenizer directory is required")
            self._chat_template = TokenizerChat.from_pretrained(
                tokens.tokenizer, template_kwargs=tokens.template_kwargs
            )
        return self._chat_template

    def ids_request_body(self, prompt_ids: Sequence[int]) -> dict[str, Any]:
        """The JSON body of a token-exact request (``docs/rl.md``)."""
        sampling = self.config.sampling
        tokens = self.config.tokens
        params: dict[str, Any] = {"temperature": sampling.temperature}
        if sampling.top_p is not None:
            params["top_p"] = sampling.top_p
        if sampling.presence_penalty is not None:
            params["presence_penalty"] = sampling.presence_penalty
        if self._stop:
            params["stop"] = list(self._stop)
        if tokens is not None and tokens.api == "sglang":
            if sampling.max_tokens is not None:
                params["max_new_tokens"] = sampling.max_tokens
            params.update(sampling.extra_body)
            return {
                "input_ids": list(prompt_ids),
                "sampling_params": params,
                "return_logprob": True,
            }
        if sampling.max_tokens is not None:
            params["max_tokens"] = sampling.max_tokens
        body: dict[str, Any] = {"model": self.name, "prompt": list(prompt_ids), **params}
        body.update(logprobs=1, return_tokens_as_token_ids=True, return_token_ids=True)
        body.update(sampling.extra_body)
        return body

    async def complete_ids(self, prompt_ids: Sequence[int]) -> TokenCompletion:
        """Sample the next turn after ``prompt_ids``: the ids, their log-probs and the answer.

        Raises:
            ConfigError: when ``config.tokens`` is not set, or as :meth:`complete`.
            ModelUnavailable: as :meth:`complete`, and for an answer without token ids or
                log-probs (a server too old, or not asked the right way; ``docs/rl.md``).
            ContextLengthExceeded: as :meth:`complete`.
            ModelRequestError: as :meth:`complete`.
        """
        tokens = self.config.tokens
        if tokens is None:
            raise ConfigError(f"model {self.name!r}: token-exact requests need model.tokens")
        prompt = [int(i) for i in prompt_ids]
        data = await self._post(self.ids_request_body(prompt), self._ids_url)
        url = str(self._ids_url)
        if tokens.api == "sglang":
            text, ids, logprobs, finish = _read_sglang(data, url)
        else:
            text, ids, logprobs, finish = _read_vllm(data, url)
        if not text and ids and self.chat_template is not None:
            text = self.chat_template.decode(ids, skip_special_tokens=True)
        return token_completion(prompt, ids, logprobs, text, finish, self.endpoint)

    def request_body(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        """The JSON body of a chat-completions request."""
        sampling = self.config.sampling
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [wire_message(m) for m in messages],
            "temperature": sampling.temperature,
        }
        if sampling.top_p is not None:
            body["top_p"] = sampling.top_p
        if sampling.max_tokens is not None:
            body["max_tokens"] = sampling.max_tokens
        if sampling.presence_penalty is not None:
            body["presence_penalty"] = sampling.presence_penalty
        if self._stop:
            body["stop"] = list(self._stop)
        if tools:
            body["tools"] = list(tools)
        body.update(sampling.extra_body)
        return body

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        """Ask the model for the next assistant message.

        Raises:
            ModelUnavailable: connection errors, timeouts, 408/429/5xx through every retry, or
                a 200 that is not a chat completion.
            ContextLengthExceeded: a 400 saying the prompt is too long.
            ModelRequestError: any other 4xx.
            ConfigError: 401/403 (the key) or 404 (the base URL or model name).
        """
        data = await self._post(self.request_body(messages, tools))
        try:
            choice = data["choices"][0]
            raw = choice["message"]
            if not isinstance(raw, dict):
                raise TypeError("message is not an object")
        except (KeyError, IndexError, TypeError) as err:
            raise ModelUnavailable(f"{self.url} answered 200 without a chat completion") from err
        text = _text(raw.get("content"))
        thought, content = split_reasoning(text)
        separate = raw.get("reasoning_content") or raw.get("reasoning")
        parts = [p for p in (separate if isinstance(separate, str) else None, thought) if p]
        tool_calls = _normalize_tool_calls(raw.get("tool_calls"))
        message = Message(
            role="assistant",
            content=content,
            tool_calls=tool_calls or None,
            reasoning="\n\n".join(parts) or None,
            train=True,
        )
        usage = data.get("usage")
        prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        completion = usage.get("completion_tokens") if isinstance(usage, dict) else None
        estimated = not (isinstance(prompt, int) and isinstance(completion, int))
        if not (isinstance(prompt, int) and isinstance(completion, int)):
            prompt = self.count_tokens(messages, tools)
            generated = [text, separate if isinstance(separate, str) else ""]
            generated.append(json.dumps(tool_calls) if tool_calls else "")
            completion = sum(self.token_counter.count_text(t) for t in generated)
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return Completion(
            message=message,
            finish_reason=finish if isinstance(finish, str) else None,
            prompt_tokens=prompt,
            completion_tokens=completion,
            estimated=estimated,
            endpoint=self.endpoint,
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s)
            self._client = httpx.AsyncClient(timeout=timeout, transport=self._transport)
        return self._client

    async def _post(self, body: dict[str, Any], url: httpx.URL | None = None) -> dict[str, Any]:
        client = self._http()
        target = self._url if url is None else url
        request = client.build_request("POST", target, json=body, headers=self._headers)
        response = await send_with_retries(
            client,
            request,
            retries=self.config.max_retries,
            backoff_s=self.config.backoff_s,
            max_delay_s=self.config.max_backoff_s,
            exhausted=ModelUnavailable,
            jitter=self._rng,
            describe=lambda r: f"HTTP {r.status_code}: {error_fields(r)[0]}",
            sleep=_sleep,
        )
        where = str(target)
        status = response.status_code
        if status == 200:
            try:
                data = response.json()
            except ValueError as err:
                raise ModelUnavailable(f"{where} answered 200 with non-JSON") from err
            if not isinstance(data, dict):
                raise ModelUnavailable(f"{where} answered 200 with a non-object")
            return data
        message, code = error_fields(response)
        if status in (401, 403):
            raise ConfigError(f"{where} rejected the API key (HTTP {status}): {message}")
        if status == 404:
            raise ConfigError(
                f"{where} answered 404 ({message}); check base_url and the model name {self.name!r}"
            )
        if is_context_length_error(status, message, code):
            raise ContextLengthExceeded(message)
        raise ModelRequestError(status, message)


def _read_vllm(data: dict[str, Any], url: str) -> tuple[str, list[int], list[float], str | None]:
    """Text, ids, log-probs and finish reason of a vLLM ``text_completion``.

    The ids come from ``token_ids`` (``return_token_ids``) or else from the ``token_id:N``
    strings of ``logprobs.tokens`` (``return_tokens_as_token_ids``); the log-probs from
    ``logprobs.token_logprobs``.
    """
    try:
        choice = data["choices"][0]
        text = choice.get("text") or ""
        logprobs = choice.get("logprobs") or {}
        values = logprobs.get("token_logprobs")
        ids = choice.get("token_ids")
        names = logprobs.get("tokens")
        finish = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError) as err:
        raise ModelUnavailable(f"{url} answered 200 without a text completion") from err
    if ids is None and isinstance(names, list):
        if not all(isinstance(n, str) and n.startswith("token_id:") for n in names):
            raise ModelUnavailable(
                f"{url} answered without token ids (no choices[0].token_ids, and logprobs "
                "tokens are text, not token_id:N); ask for return_token_ids"
            )
        ids = [int(n.removeprefix("token_id:")) for n in names]
    return _checked(url, text, ids, values, finish)


def _read_sglang(data: dict[str, Any], url: str) -> tuple[str, list[int], list[float], str | None]:
    """Text, ids, log-probs and finish reason of an SGLang ``/generate`` answer.

    ``meta_info.output_token_logprobs`` holds ``[logprob, token_id, text]`` per generated token.
    """
    try:
        meta = data["meta_info"]
        pairs = meta["output_token_logprobs"]
        ids = [int(p[1]) for p in pairs]
        values = [p[0] for p in pairs]
        finish_info = meta.get("finish_reason")
        finish = finish_info.get("type") if isinstance(finish_info, dict) else finish_info
        text = data.get("text") or ""
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
        raise ModelUnavailable(
            f"{url} answered 200 without meta_info.output_token_logprobs "
            "(send return_logprob: true)"
        ) from err
    if finish == "abort":
        raise ModelUnavailable(f"{url} aborted the request")
    return _checked(url, text, ids, values, finish)


def _checked(
    url: str, text: Any, ids: Any, values: Any, finish: Any
) -> tuple[str, list[int], list[float], str | None]:
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise ModelUnavailable(f"{url} answered without generated token ids")
    if not isinstance(values, list) or len(values) != len(ids):
        raise ModelUnavailable(
            f"{url} answered {len(ids)} token ids but "
            f"{len(values) if isinstance(values, list) else 'no'} log-probs"
        )
    if any(not isinstance(v, int | float) for v in values):
        raise ModelUnavailable(f"{url} answered a log-prob that is not a number")
    return (
        text if isinstance(text, str) else "",
        ids,
        [float(v) for v in values],
        finish if isinstance(finish, str) else None,
    )


def token_completion(
    prompt_ids: list[int],
    ids: list[int],
    logprobs: list[float],
    text: str,
    finish_reason: str | None,
    endpoint: str,
) -> TokenCompletion:
    """A token-exact answer: the generated ``ids`` with the message their ``text`` parses to.

    One place turns generated ids into the agent's answer, whoever generated them (an
    OpenAI-compatible server here, a trainer's engine in the RL adapters), so the reasoning
    split and the usage counts are the same on every path.
    """
    thought, content = split_reasoning(text)
    message = Message(role="assistant", content=content, reasoning=thought, train=True)
    completion = Completion(
        message=message,
        finish_reason=finish_reason,
        prompt_tokens=len(prompt_ids),
        completion_tokens=len(ids),
        estimated=False,
        endpoint=endpoint,
    )
    return TokenCompletion(completion, prompt_ids, ids, logprobs)
