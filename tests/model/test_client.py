"""The OpenAI-compatible client against the scripted chat server (real HTTP) and mock transports."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model import (
    ChatModel,
    Completion,
    ContextLengthExceeded,
    ModelConfig,
    ModelRequestError,
    ModelUnavailable,
    OpenAIChatModel,
    SamplingConfig,
    _client,
    count_tokens,
    is_context_length_error,
)
from redsearcher.testing import Expect, ScriptedChatServer, Step, StepError, ToolCallSpec

MESSAGES = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="What is the capital of France?"),
]
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
]


def config(base_url: str, **kw: Any) -> ModelConfig:
    kw.setdefault("max_retries", 0)
    kw.setdefault("backoff_s", 0.0)
    return ModelConfig(name="m", base_url=base_url, api_key=SecretStr("sk-test"), **kw)


def complete(
    model: OpenAIChatModel,
    messages: list[Message] = MESSAGES,
    tools: list[dict[str, Any]] | None = None,
) -> Completion:
    async def main() -> Completion:
        async with model:
            return await model.complete(messages, tools or [])

    return asyncio.run(main())


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Record retry delays instead of sleeping."""
    seen: list[float] = []

    async def fake_sleep(delay: float) -> None:
        seen.append(delay)

    monkeypatch.setattr(_client, "_sleep", fake_sleep)
    yield seen


def mock_model(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> OpenAIChatModel:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return OpenAIChatModel(config("http://mock.test/v1", **kw), client=client)


def chat_body(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}


# -- requests --------------------------------------------------------------------------------


def test_is_a_chat_model_and_does_no_io_when_built() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = OpenAIChatModel(config(f"http://127.0.0.1:{port}/v1/"))
    assert isinstance(model, ChatModel) and model._client is None
    assert model.url == f"http://127.0.0.1:{port}/v1/chat/completions"
    assert model.name == "m" and model.protocol == "native"
    with pytest.raises(ModelUnavailable, match=r"ConnectError.*after 1 tries"):
        complete(model)


def test_sampling_defaults_are_the_papers() -> None:
    step = Step(
        content="Paris", expect=Expect(params={"temperature": 0.85, "top_p": 0.95}, model="m")
    )
    with ScriptedChatServer([step]) as server:
        complete(OpenAIChatModel(config(server.base_url)))
        body = server.chat_requests[0].body
        headers = server.chat_requests[0].headers
    assert headers["authorization"] == "Bearer sk-test"
    for absent in ("max_tokens", "presence_penalty", "stop", "tools", "stream"):
        assert absent not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"},
    ]


def test_sampling_is_overridable_and_extra_body_passes_through() -> None:
    sampling = SamplingConfig(
        temperature=0.2,
        top_p=0.5,
        max_tokens=64,
        presence_penalty=1.1,
        stop=["</answer>"],
        extra_body={"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}},
    )
    params = {
        "temperature": 0.2,
        "top_p": 0.5,
        "max_tokens": 64,
        "presence_penalty": 1.1,
        "top_k": 20,
        "chat_template_kwargs": {"enable_thinking": False},
        "stop": ["<tool_response>", "</answer>"],  # the text protocol's own stop comes first
    }
    with ScriptedChatServer([Step(content="Paris", expect=Expect(params=params))]) as server:
        complete(OpenAIChatModel(config(server.base_url, sampling=sampling, protocol="text")))


def test_no_key_and_no_top_p_are_left_out() -> None:
    # What the visit summarizer asks of the client: no Authorization header without a key, and
    # the server's own top_p.
    sampling = SamplingConfig(temperature=0.7, top_p=None)
    with ScriptedChatServer([Step(content="Paris")]) as server:
        cfg = ModelConfig(name="m", base_url=server.base_url, api_key=None, sampling=sampling)
        complete(OpenAIChatModel(cfg))
        (request,) = server.chat_requests
    assert "authorization" not in request.headers
    assert set(request.body) == {"model", "messages", "temperature"}
    assert OpenAIChatModel(cfg).settings()["sampling"]["top_p"] is None


def test_a_transport_serves_the_client_the_model_makes() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=chat_body({"role": "assistant", "content": "Paris"}))

    model = OpenAIChatModel(config("http://mock.test/v1"), transport=httpx.MockTransport(handler))
    assert complete(model).message.content == "Paris"
    assert seen == ["http://mock.test/v1/chat/completions"]
    assert model._client is None  # made by the model, so closed by it


def test_native_sends_tools_and_reads_tool_calls_and_reasoning() -> None:
    call = ToolCallSpec(name="search", arguments={"query": ["capital of France"]}, id="c1")
    step = Step(
        tool_calls=[call],
        reasoning_content="Look it up.",
        expect=Expect(tools_include=["search"]),
        prompt_tokens=123,
        completion_tokens=45,
    )
    with ScriptedChatServer([step]) as server:
        out = complete(OpenAIChatModel(config(server.base_url)), tools=TOOLS)
    assert out.finish_reason == "tool_calls" and out.endpoint == server.base_url
    assert (out.prompt_tokens, out.completion_tokens, out.estimated) == (123, 45, False)
    message = out.message
    assert message.role == "assistant" and message.train and message.content == ""
    assert message.reasoning == "Look it up."
    assert message.tool_calls == [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "search", "arguments": '{"query": ["capital of France"]}'},
        }
    ]


def test_inline_think_goes_to_reasoning() -> None:
    step = Step(content="<think>Easy.</think>\n<answer>Paris</answer>", reasoning_content="Sure.")
    with ScriptedChatServer([step]) as server:
        out = complete(OpenAIChatModel(config(server.base_url)))
    assert out.message.content == "<answer>Paris</answer>"
    assert out.message.reasoning == "Sure.\n\nEasy."


def test_history_is_sent_without_reasoning() -> None:
    history = [
        *MESSAGES,
        Message(
            role="assistant",
            content="",
            reasoning="secret",
            tool_calls=[
                {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}
            ],
            train=True,
        ),
        Message(role="tool", content="Paris is the capital.", tool_call_id="c1"),
    ]
    with ScriptedChatServer([Step(content="Paris")]) as server:
        complete(OpenAIChatModel(config(server.base_url)), history, TOOLS)
        sent = server.chat_requests[0].body["messages"]
    assert sent[2] == {"role": "assistant", "content": "", "tool_calls": history[2].tool_calls}
    assert sent[3] == {"role": "tool", "content": "Paris is the capital.", "tool_call_id": "c1"}


def test_missing_usage_is_estimated() -> None:
    content = "The capital is Paris."
    model = mock_model(
        lambda r: httpx.Response(200, json=chat_body({"role": "assistant", "content": content}))
    )
    out = complete(model, tools=TOOLS)
    assert out.estimated
    assert out.prompt_tokens == count_tokens(MESSAGES, TOOLS)
    assert out.completion_tokens == 6  # ceil(21 / 3.5)
    assert out.message.content == content and out.finish_reason == "stop"


def test_a_200_that_is_not_a_completion_is_unavailable() -> None:
    with pytest.raises(ModelUnavailable, match="non-JSON"):
        complete(mock_model(lambda r: httpx.Response(200, text="<html>proxy</html>")))
    with pytest.raises(ModelUnavailable, match="without a chat completion"):
        complete(mock_model(lambda r: httpx.Response(200, json={"choices": []})))


# -- retries ---------------------------------------------------------------------------------


def test_retries_5xx_and_429_with_jittered_backoff(sleeps: list[float]) -> None:
    steps = [Step(error=StepError(status=s)) for s in (500, 503, 429)] + [Step(content="Paris")]
    with ScriptedChatServer(steps) as server:
        out = complete(OpenAIChatModel(config(server.base_url, max_retries=3, backoff_s=0.01)))
    assert out.message.content == "Paris"
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        base = 0.01 * 2**attempt
        assert 0.5 * base <= delay <= 1.5 * base


def test_backoff_is_capped(sleeps: list[float]) -> None:
    steps = [Step(error=StepError(status=502)), Step(content="ok")]
    with ScriptedChatServer(steps) as server:
        complete(
            OpenAIChatModel(
                config(server.base_url, max_retries=1, backoff_s=100, max_backoff_s=0.5)
            )
        )
    assert sleeps == [0.5]


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    answers = iter(
        [
            httpx.Response(
                429, headers={"Retry-After": "7"}, json={"error": {"message": "slow down"}}
            ),
            httpx.Response(503, headers={"retry-after-ms": "250"}),
            httpx.Response(200, json=chat_body({"role": "assistant", "content": "Paris"})),
        ]
    )
    out = complete(mock_model(lambda r: next(answers), max_retries=2, backoff_s=1.0))
    assert out.message.content == "Paris" and sleeps == [7.0, 0.25]


def test_injected_errors_over_http_are_retried_with_retry_after_ms(sleeps: list[float]) -> None:
    steps = [Step(content=f"answer {i}") for i in range(6)]
    with ScriptedChatServer(steps, error_rate=0.5, seed=3, retry_after_ms=20) as server:
        model = OpenAIChatModel(config(server.base_url, max_retries=10, backoff_s=5.0))

        async def main() -> list[str]:
            async with model:
                return [(await model.complete(MESSAGES, [])).message.content for _ in steps]

        assert asyncio.run(main()) == [f"answer {i}" for i in range(6)]
        injected = [r for r in server.chat_requests if r.injected]
    assert injected and sleeps == [0.02] * len(injected)


def test_unavailable_after_retries_are_exhausted(sleeps: list[float]) -> None:
    steps = [Step(error=StepError(status=500, message="boom"))] * 3
    with (
        ScriptedChatServer(steps) as server,
        pytest.raises(ModelUnavailable, match=r"HTTP 500: boom after 3 tries"),
    ):
        complete(OpenAIChatModel(config(server.base_url, max_retries=2)))
    assert len(server.chat_requests) == 3
    assert len(sleeps) == 2


def test_timeout_is_unavailable() -> None:
    with (
        ScriptedChatServer([Step(content="late", latency_s=0.4)]) as server,
        pytest.raises(ModelUnavailable, match="ReadTimeout"),
    ):
        complete(OpenAIChatModel(config(server.base_url, timeout_s=0.1)))


# -- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_a_config_error(status: int) -> None:
    with (
        ScriptedChatServer([Step(error=StepError(status=status, message="bad key"))]) as server,
        pytest.raises(ConfigError, match=f"rejected the API key \\(HTTP {status}\\): bad key"),
    ):
        complete(OpenAIChatModel(config(server.base_url, max_retries=3)))
    assert len(server.chat_requests) == 1  # not retried


def test_unknown_model_is_a_config_error() -> None:
    step = Step(error=StepError(status=404, message="The model `m` does not exist."))
    with (
        ScriptedChatServer([step]) as server,
        pytest.raises(ConfigError, match=r"404.*model name 'm'"),
    ):
        complete(OpenAIChatModel(config(server.base_url)))


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.",
            None,
        ),
        (
            "The decoder prompt (length 40000) is longer than the maximum model length of 32768.",
            None,
        ),
        (
            "The input (40000 tokens) is longer than the model's context length (32768 tokens).",
            None,
        ),
        ("Request too large.", "context_length_exceeded"),
        # llama.cpp server (its error carries the HTTP status as ``code``)
        ("the request exceeds the available context size, try increasing it", "400"),
    ],
)
def test_context_length_400(message: str, code: str | None) -> None:
    step = Step(error=StepError(status=400, message=message, code=code))
    with ScriptedChatServer([step]) as server, pytest.raises(ContextLengthExceeded) as caught:
        complete(OpenAIChatModel(config(server.base_url, max_retries=3)))
    assert len(server.chat_requests) == 1
    assert str(caught.value) == message


def test_other_4xx_is_a_request_error() -> None:
    steps = [Step(error=StepError(status=400, message="'messages' is malformed"))]
    with (
        ScriptedChatServer(steps) as server,
        pytest.raises(ModelRequestError, match="HTTP 400: 'messages' is malformed") as caught,
    ):
        complete(OpenAIChatModel(config(server.base_url, max_retries=3)))
    assert caught.value.status == 400
    assert not is_context_length_error(500, "maximum context length")
    assert is_context_length_error(413, "prompt is too long")


# -- configuration ---------------------------------------------------------------------------


def test_config_key_from_environment_and_model_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    built = ModelConfig.model_validate({"model": "qwen", "base_url": "http://x/v1"})
    assert built.name == "qwen" and built.api_key.get_secret_value() == "sk-env"
    assert "sk-env" not in repr(built)
    monkeypatch.delenv("OPENAI_API_KEY")
    assert ModelConfig(name="q", base_url="http://x/v1").api_key.get_secret_value() == "EMPTY"
    assert ModelConfig(name="q", base_url="http://x/v1").protocol == "native"
    settings = OpenAIChatModel(built).settings()
    assert settings["sampling"]["top_p"] == 0.95 and "sk-env" not in json.dumps(settings)


def test_protocol_is_configuration_only() -> None:
    with pytest.raises(ValueError, match="protocol"):
        ModelConfig(name="q", base_url="http://x/v1", protocol="hermes")  # type: ignore[arg-type]
