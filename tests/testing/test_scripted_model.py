"""The in-process scripted model: every step kind, both protocols, records, unused-step failures."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

import pytest

from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model import (
    ChatModel,
    Completion,
    ContextLengthExceeded,
    CountsTokens,
    DescribesSettings,
    ModelRequestError,
    ModelUnavailable,
    SamplingConfig,
    TextProtocol,
    count_tokens,
)
from redsearcher.testing import (
    Expect,
    Script,
    ScriptedChatServer,
    ScriptedModel,
    Step,
    StepError,
    ToolCallSpec,
    text_answer,
    text_python_call,
    text_tool_call,
)

ASK = [Message(role="system", content="Be brief."), Message(role="user", content="Capital?")]
TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}
]


def complete(
    model: ScriptedModel, messages: Sequence[Message] = ASK, tools: Sequence[dict[str, Any]] = ()
) -> Completion:
    return asyncio.run(model.complete(messages, list(tools)))


# -- the protocol and what is recorded -------------------------------------------------------


def test_is_a_chat_model_that_records_every_call() -> None:
    with ScriptedModel([Step(content="Paris")], name="m", endpoint="http://s0/v1/") as model:
        assert isinstance(model, ChatModel)
        assert isinstance(model, CountsTokens) and isinstance(model, DescribesSettings)
        out = complete(model, tools=TOOLS)
    assert (model.name, model.protocol, model.endpoint) == ("m", "native", "http://s0/v1")
    assert out.message == Message(role="assistant", content="Paris", train=True)
    assert (out.finish_reason, out.endpoint, out.estimated) == ("stop", "http://s0/v1", False)
    (call,) = model.calls
    assert call.messages == ASK and call.tools == TOOLS and call.completion == out
    assert call.error is None and call.body is not None
    assert call.body["model"] == "m" and call.body["tools"] == TOOLS
    assert call.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital?"},
    ]
    assert call.sampling == {"temperature": 0.85, "top_p": 0.95}
    assert [r.status for r in model.requests] == [200] and model.requests[0].step_index == 0
    assert model.settings()["base_url"] == "http://s0/v1"
    assert model.count_tokens(ASK, TOOLS) == count_tokens(ASK, TOOLS)


def test_sampling_and_text_protocol_stops_are_sent() -> None:
    sampling = SamplingConfig(temperature=0.2, max_tokens=64, extra_body={"top_k": 20})
    with ScriptedModel([Step(content="x")], protocol="text", sampling=sampling) as model:
        complete(model)
    assert model.calls[0].sampling == {
        "temperature": 0.2, "top_p": 0.95, "max_tokens": 64, "stop": ["<tool_response>"],
        "top_k": 20,
    }  # fmt: skip


def test_answers_match_the_scripted_server_over_http() -> None:
    """The same step gives the same Completion in process and over HTTP (endpoint aside)."""
    from redsearcher.model import ModelConfig, OpenAIChatModel

    step = Step(
        content="<think>Paris is the capital.</think>Let me check.",
        reasoning_content="Recall first.",
        tool_calls=[ToolCallSpec(name="search", arguments={"query": ["France capital"]})],
    )

    async def over_http(base_url: str) -> Completion:
        config = ModelConfig(name="scripted", base_url=base_url, api_key=None, max_retries=0)
        async with OpenAIChatModel(config) as client:
            return await client.complete(ASK, TOOLS)

    with ScriptedChatServer([step]) as server:
        remote = asyncio.run(over_http(server.base_url))
    with ScriptedModel([step]) as model:
        local = complete(model, tools=TOOLS)
    assert local.message == remote.message
    assert (local.prompt_tokens, local.completion_tokens) == (
        remote.prompt_tokens,
        remote.completion_tokens,
    )
    assert local.message.reasoning == "Recall first.\n\nParis is the capital."
    assert local.message.tool_calls == [
        {"id": "call_0_0_0", "type": "function",
         "function": {"name": "search", "arguments": json.dumps({"query": ["France capital"]})}},
    ]  # fmt: skip
    assert local.finish_reason == "tool_calls"


def test_text_protocol_steps_parse_with_the_text_protocol() -> None:
    steps = [
        Step(content=text_tool_call("search", {"query": ["a"]})),
        Step(content=text_python_call("print(1)")),
        Step(content=text_answer("Paris")),
    ]
    protocol = TextProtocol()
    with ScriptedModel(steps, protocol="text") as model:
        turns = [protocol.parse(complete(model).message, turn=i) for i in range(3)]
    assert [(c.name, c.arguments) for c in turns[0].calls] == [("search", {"query": ["a"]})]
    assert [(c.name, c.arguments) for c in turns[1].calls] == [
        ("PythonInterpreter", {"code": "print(1)"})
    ]
    assert turns[2].answer == "Paris" and not turns[2].calls


def test_usage_overrides_finish_reason_and_latency() -> None:
    step = Step(content="cut", finish_reason="length", prompt_tokens=7, completion_tokens=3,
                latency_s=0.05)  # fmt: skip
    with ScriptedModel([step], latency_s=0.05) as model:
        start = time.perf_counter()
        out = complete(model)
        assert time.perf_counter() - start >= 0.1
    assert (out.finish_reason, out.prompt_tokens, out.completion_tokens) == ("length", 7, 3)


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "raised", "match"),
    [
        (StepError(status=503, message="overloaded"), ModelUnavailable, "HTTP 503: overloaded"),
        (StepError(status=429), ModelUnavailable, "HTTP 429"),
        (StepError(status=400, message="This model's maximum context length is 8 tokens"),
         ContextLengthExceeded, "maximum context length"),
        (StepError(status=400, message="x", code="context_length_exceeded"),
         ContextLengthExceeded, "x"),
        (StepError(status=401, message="bad key"), ConfigError, "rejected the API key"),
        (StepError(status=404, message="no such model"), ConfigError, "check base_url"),
        (StepError(status=422, message="bad field"), ModelRequestError, "HTTP 422: bad field"),
    ],
)  # fmt: skip
def test_error_steps_raise_what_the_client_raises(
    error: StepError, raised: type[Exception], match: str
) -> None:
    with ScriptedModel([Step(error=error)]) as model, pytest.raises(raised, match=match):
        complete(model)
    assert model.calls[0].error is not None and model.unused_steps() == []
    assert model.failures == []  # a scripted error is not a scripting failure


def test_retries_consume_steps_when_asked_for() -> None:
    steps = [Step(error=StepError(status=503)), Step(content="Paris")]
    with ScriptedModel(steps, max_retries=1) as model:
        assert complete(model).message.content == "Paris"
    assert len(model.calls) == 1 and [r.status for r in model.calls[0].requests] == [503, 200]


def test_injected_errors_consume_no_step() -> None:
    model = ScriptedModel([Step(content="a")], error_rate=1.0, error_statuses=[502])
    with pytest.raises(ModelUnavailable, match="HTTP 502: injected transient error"):
        complete(model)
    assert model.unused_steps() == [(0, 0)] and model.requests[0].injected
    assert model.failures == []


def test_down_and_fail_with_raise_without_consuming_a_step() -> None:
    with ScriptedModel([Step(content="a")], endpoint="http://s1") as model:
        model.down = True
        assert model.down
        with pytest.raises(ModelUnavailable, match="http://s1 is down"):
            complete(model)
        model.fail_with = ValueError("a bug")
        assert not model.down
        with pytest.raises(ValueError, match="a bug"):
            complete(model)
        model.down = False
        assert complete(model).message.content == "a"
    assert [type(c.error).__name__ for c in model.calls] == [
        "ModelUnavailable", "ValueError", "NoneType",
    ]  # fmt: skip
    assert model.calls[0].requests == [] and model.calls[0].body is None


def test_default_answers_unscripted_calls() -> None:
    model = ScriptedModel([Step(content="first")], default=Step(content="ok", prompt_tokens=1))
    with model:
        assert [complete(model).message.content for _ in range(3)] == ["first", "ok", "ok"]
    assert [r.step_index for r in model.requests] == [0, None, None]
    assert ScriptedModel(default=Step(content="ok")).scripts == []


# -- unused steps and scripting failures -----------------------------------------------------


def test_unused_steps_fail_the_with_block() -> None:
    unused = r"(?s)1 unused step\(s\).*step 1: content 'never'"
    model = ScriptedModel([Step(content="a"), Step(content="never")])
    with pytest.raises(AssertionError, match=unused), model:
        complete(model)


def test_unused_steps_fail_the_async_with_block_and_close_the_model() -> None:
    model = ScriptedModel([Step(content="never")])

    async def main() -> None:
        async with model:
            pass

    with pytest.raises(AssertionError, match="unused"):
        asyncio.run(main())
    assert model.closed


def test_no_step_left_is_a_request_error_and_a_failure() -> None:
    model = ScriptedModel([Step(content="a")])
    complete(model)
    with pytest.raises(ModelRequestError, match="no steps left"):
        complete(model)
    assert model.unused_steps() == [] and len(model.failures) == 1
    with pytest.raises(AssertionError, match=r"1 failure\(s\)"):
        model.assert_all_used()


def test_failed_expectation_is_reported() -> None:
    step = Step(content="a", expect=Expect(last_role="tool", params={"temperature": 0.1}))
    model = ScriptedModel([step])
    with pytest.raises(ModelRequestError, match="expectation failed") as caught, model:
        complete(model)
    notes = getattr(caught.value, "__notes__", [])
    assert any("last message role should be 'tool'" in n for n in notes)
    assert "temperature" in model.failures[0]


def test_an_empty_conversation_is_refused_as_the_server_would() -> None:
    model = ScriptedModel([Step(content="a")])
    with pytest.raises(ModelRequestError, match="'messages' is required"):
        complete(model, [])
    assert model.unused_steps() == [(0, 0)] and model.failures


# -- scripts per conversation ----------------------------------------------------------------


def test_concurrent_conversations_consume_their_own_scripts() -> None:
    scripts = [
        Script(match=f"question {i}", steps=[Step(content=f"q{i} turn {t}") for t in range(2)])
        for i in range(3)
    ]

    async def episode(model: ScriptedModel, i: int) -> list[str]:
        window = [Message(role="user", content=f"question {i}")]
        out = []
        for _ in range(2):
            done = await model.complete(window, [])
            window.append(done.message)
            out.append(done.message.content)
            await asyncio.sleep(0)
        return out

    async def main(model: ScriptedModel) -> list[list[str]]:
        return list(await asyncio.gather(*(episode(model, i) for i in range(3))))

    with ScriptedModel(scripts, latency_s=(0.0, 0.01), seed=3) as model:
        answers = asyncio.run(main(model))
    assert answers == [[f"q{i} turn 0", f"q{i} turn 1"] for i in range(3)]
    for call in model.calls:  # each call's record holds its own request, not a neighbour's
        assert call.body is not None and call.body["messages"][0] == call.messages[0].model_dump(
            include={"role", "content"}
        )


def test_bad_fault_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="latency_s"):
        ScriptedModel(latency_s=(0.2, 0.1))
    with pytest.raises(ValueError, match="error_rate"):
        ScriptedModel(error_rate=2.0)
