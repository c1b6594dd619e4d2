"""The scripted chat server end to end over real HTTP, with the official OpenAI SDK as client."""

from __future__ import annotations

import asyncio
import json
import re
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from redsearcher.testing import (
    Expect,
    Script,
    ScriptedChatServer,
    Step,
    StepError,
    ToolCallSpec,
    scripted_chat_server,
    text_answer,
    text_python_call,
    text_tool_call,
)

FIXTURES = Path(__file__).parent / "fixtures"
USER: list[Any] = [{"role": "user", "content": "What is the capital of France?"}]


# Making an SDK client costs ~40 ms, so each server keeps one per retry setting.
_clients: weakref.WeakKeyDictionary[ScriptedChatServer, dict[int, openai.OpenAI]] = (
    weakref.WeakKeyDictionary()
)


def client(server: ScriptedChatServer, max_retries: int = 0) -> openai.OpenAI:
    per_server = _clients.setdefault(server, {})
    if max_retries not in per_server:
        per_server[max_retries] = openai.OpenAI(
            base_url=server.base_url, api_key="sk-test", max_retries=max_retries
        )
    return per_server[max_retries]


def ask(server: ScriptedChatServer, content: str = USER[0]["content"], **kw: Any) -> Any:
    messages: list[Any] = [{"role": "user", "content": content}]
    return client(server).chat.completions.create(model="m", messages=messages, **kw)


@pytest.fixture(scope="module")
def raw() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


# -- answers ---------------------------------------------------------------------------------------


def test_plain_text_answer() -> None:
    step = Step(content="Paris.", reasoning_content="France's capital is Paris.")
    with ScriptedChatServer([step]) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.base_url)
        out = client(server).chat.completions.create(model="qwen3-8b", messages=USER)
    assert out.object == "chat.completion" and out.id.startswith("chatcmpl-")
    assert out.model == "qwen3-8b"
    choice = out.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == "Paris."
    assert choice.finish_reason == "stop" and choice.message.tool_calls is None
    assert getattr(choice.message, "reasoning_content", None) == "France's capital is Paris."
    assert out.usage is not None
    assert out.usage.prompt_tokens > 0 and out.usage.completion_tokens > 0
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_native_tool_calls_round_trip() -> None:
    calls = [
        ToolCallSpec(name="search", arguments={"query": ["capital of France"]}),
        ToolCallSpec(name="visit", arguments={"url": "https://x.test/fr", "goal": "capital"}),
    ]
    check = Expect(last_role="tool", last_message_contains="Paris", tools_include=["search"])
    tools: list[Any] = [{"type": "function", "function": {"name": "search", "parameters": {}}}]
    with ScriptedChatServer([Step(tool_calls=calls), Step(content="Paris", expect=check)]) as s:
        sdk = client(s)
        first = sdk.chat.completions.create(model="m", messages=USER, tools=tools)
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "tool_calls" and message.content is None
        assert message.tool_calls is not None
        assert all(isinstance(t, ChatCompletionMessageFunctionToolCall) for t in message.tool_calls)
        parsed = [
            (t.function.name, json.loads(t.function.arguments))
            for t in message.tool_calls
            if isinstance(t, ChatCompletionMessageFunctionToolCall)
        ]
        assert parsed == [(call.name, call.arguments) for call in calls]
        ids = [t.id for t in message.tool_calls]
        assert all(i.startswith("call_") for i in ids) and len(set(ids)) == 2
        history = [
            *USER,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": ids[0], "content": "Paris is the capital."},
        ]
        second = sdk.chat.completions.create(model="m", messages=history, tools=tools)
        assert second.choices[0].message.content == "Paris"
        assert s.chat_requests[1].body["messages"][1]["tool_calls"][0]["id"] == ids[0]


def test_text_protocol_tool_calls() -> None:
    steps = [
        Step(content="<think>search</think>\n" + text_tool_call("search", {"query": ["q"]})),
        Step(content=text_python_call("print(2 ** 10)")),
        Step(content=text_answer("1024")),
    ]
    with ScriptedChatServer(steps) as server:
        contents = [ask(server).choices[0].message.content for _ in steps]
    assert contents == [s.content for s in steps]
    call = re.search(r"<tool_call>\n(.*)\n</tool_call>", contents[0] or "", re.S)
    assert call is not None and json.loads(call.group(1))["arguments"] == {"query": ["q"]}
    assert "<code>\nprint(2 ** 10)\n</code>" in (contents[1] or "")


def test_streaming_content_and_tool_calls() -> None:
    text = "The capital of France is Paris, a city on the Seine."
    call = ToolCallSpec(name="search", arguments={"query": ["Seine cities", "Paris"]})
    steps = [Step(content=text, reasoning_content="easy"), Step(tool_calls=[call])]
    with ScriptedChatServer(steps) as server:
        c = client(server)
        chunks = list(
            c.chat.completions.create(
                model="m", messages=USER, stream=True, stream_options={"include_usage": True}
            )
        )
        # The SDK's stream helper accumulates deltas into a full completion, strictly.
        with c.chat.completions.stream(model="m", messages=USER) as stream:
            final = stream.get_final_completion()
    deltas = [ch.choices[0].delta.content for ch in chunks if ch.choices]
    assert len([d for d in deltas if d]) > 3  # really streamed in pieces
    assert "".join(d or "" for d in deltas) == text
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(ch.id == chunks[0].id for ch in chunks)
    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None and message.tool_calls[0].function.name == "search"
    assert json.loads(message.tool_calls[0].function.arguments) == call.arguments


def test_stream_ends_with_done(raw: httpx.Client) -> None:
    with ScriptedChatServer([Step(content="a b")]) as server:
        body = {"model": "m", "messages": USER, "stream": True}
        r = raw.post(server.base_url + "/chat/completions", json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [line for line in r.text.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0].removeprefix("data: "))["object"] == "chat.completion.chunk"


# -- conversations --------------------------------------------------------------------------------


def test_concurrent_conversations_each_get_their_own_steps() -> None:
    countries = ["France", "Italy", "Spain", "Peru"]
    scripts = [
        Script(
            match=f"capital of {country}",
            steps=[
                Step(content=f"{country}: step {i}", latency_s=0.01 * ((n + i) % 3))
                for i in range(3)
            ],
        )
        for n, country in enumerate(countries)
    ]

    async def converse(c: openai.AsyncOpenAI, country: str) -> list[str | None]:
        messages: list[Any] = [{"role": "user", "content": f"What is the capital of {country}?"}]
        said = []
        for _ in range(3):
            out = await c.chat.completions.create(model="m", messages=messages)
            said.append(out.choices[0].message.content)
            messages += [
                {"role": "assistant", "content": said[-1]},
                {"role": "user", "content": "go"},
            ]
        return said

    async def main(server: ScriptedChatServer) -> list[list[str | None]]:
        c = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        async with c:
            return await asyncio.gather(*(converse(c, country) for country in countries))

    with ScriptedChatServer(scripts) as server:
        results = asyncio.run(main(server))
        records = server.chat_requests
    for country, said in zip(countries, results, strict=True):
        assert said == [f"{country}: step {i}" for i in range(3)]
    assert sorted((r.script_index, r.step_index) for r in records) == [
        (i, j) for i in range(4) for j in range(3)
    ]


def test_longest_match_wins_and_equal_matches_queue() -> None:
    scripts = [
        Script(match="capital", steps=[Step(content="generic")]),
        Script(match="capital of France", steps=[Step(content="france 1")]),
        Script(match="capital of France", steps=[Step(content="france 2")]),
        Script(steps=[Step(content="fallback")]),
    ]
    with ScriptedChatServer(scripts) as server:
        said = [
            ask(server, q).choices[0].message.content
            for q in ["capital of France?", "capital of France!", "a capital idea", "hello"]
        ]
    assert said == ["france 1", "france 2", "generic", "fallback"]


def test_unused_steps_fail_the_with_block() -> None:
    scripts = [Script(match="France", name="fr", steps=[Step(content="a"), Step(content="b")])]
    with pytest.raises(AssertionError) as info, ScriptedChatServer(scripts) as server:
        ask(server, "France")
    message = str(info.value)
    assert "1 unused step(s)" in message
    assert "script 0 'fr' (match='France') step 1: content 'b'" in message
    assert "step 0" not in message


def test_failed_expectation_is_a_400_and_a_failure() -> None:
    step = Step(content="x", expect=Expect(last_message_contains="tool result"))
    server = ScriptedChatServer([step]).start()
    try:
        with pytest.raises(openai.BadRequestError) as info:
            ask(server, "something else")
    finally:
        server.stop()
    assert "expectation failed" in str(info.value) and "'tool result'" in str(info.value)
    assert info.value.code == "expectation_failed"
    with pytest.raises(AssertionError, match=r"(?s)1 failure\(s\).*expectation failed"):
        server.assert_all_used()
    assert server.unused_steps() == []  # the step was consumed by the wrong request


def test_unmatched_and_exhausted_are_failures() -> None:
    scripts = [Script(match="France", steps=[Step(content="a")])]
    with pytest.raises(AssertionError) as info, ScriptedChatServer(scripts) as server:
        ask(server, "France")
        with pytest.raises(openai.BadRequestError, match="no steps left"):
            ask(server, "France")
        with pytest.raises(openai.BadRequestError, match=r"no script matches .*'Germany'"):
            ask(server, "Germany")
    assert "2 failure(s)" in str(info.value)


def test_client_exception_gets_the_server_failures_as_a_note() -> None:
    with (
        pytest.raises(openai.BadRequestError) as info,
        ScriptedChatServer([Step(content="a")]) as s,
    ):
        ask(s)
        ask(s)
    assert any("no steps left" in note for note in info.value.__notes__)


# -- errors and faults ----------------------------------------------------------------------------


def test_error_steps_map_to_sdk_errors(raw: httpx.Client) -> None:
    steps = [
        Step(error=StepError(status=429, message="slow down", code="rate_limit_exceeded")),
        Step(error=StepError(status=500, message="boom")),
        Step(error=StepError(status=400, message="too long", code="context_length_exceeded")),
        Step(error=StepError(status=503, message="overloaded", type="overloaded_error")),
        Step(content="recovered"),
    ]
    with ScriptedChatServer(steps) as server:
        with pytest.raises(openai.RateLimitError) as rate:
            ask(server)
        assert rate.value.code == "rate_limit_exceeded"
        with pytest.raises(openai.InternalServerError, match="boom"):
            ask(server)
        with pytest.raises(openai.BadRequestError) as bad:
            ask(server)
        assert bad.value.code == "context_length_exceeded"
        r = raw.post(server.base_url + "/chat/completions", json={"model": "m", "messages": USER})
        assert r.status_code == 503
        assert r.json() == {
            "error": {
                "message": "overloaded",
                "type": "overloaded_error",
                "param": None,
                "code": None,
            }
        }
        assert ask(server).choices[0].message.content == "recovered"
        assert [r.status for r in server.chat_requests] == [429, 500, 400, 503, 200]
    assert server.failures == []  # scripted errors are not failures


def test_error_rate_one_injects_without_consuming() -> None:
    server = ScriptedChatServer([Step(content="ok")], error_rate=1.0, error_statuses=[503])
    with pytest.raises(AssertionError, match=r"1 unused step\(s\), 0 failure\(s\)"), server:
        for _ in range(2):
            with pytest.raises(openai.InternalServerError, match="injected"):
                ask(server)
    assert [(r.status, r.injected, r.step_index) for r in server.chat_requests] == [
        (503, True, None),
        (503, True, None),
    ]
    assert server.requests[0].error is not None


def test_error_rate_is_seeded_and_sdk_retries_through_it() -> None:
    def run(seed: int) -> list[tuple[int, int | None]]:
        steps = [Step(content=str(i)) for i in range(6)]
        with ScriptedChatServer(steps, error_rate=0.5, seed=seed) as server:
            said = [ask_retrying(server) for _ in steps]
            assert said == [str(i) for i in range(6)]  # no step lost to an injected error
            return [(r.status, r.step_index) for r in server.chat_requests]

    def ask_retrying(server: ScriptedChatServer) -> str | None:
        out = client(server, max_retries=20).chat.completions.create(model="m", messages=USER)
        return out.choices[0].message.content

    first = run(seed=1)
    assert {s for s, _ in first} == {200, 429, 500}
    assert all(step is None for status, step in first if status != 200)
    assert run(seed=1) == first
    assert run(seed=2) != first


def test_latency_is_observed() -> None:
    with ScriptedChatServer(
        [Step(content="a"), Step(content="b", latency_s=0.15)], latency_s=0.1
    ) as server:
        started = time.monotonic()
        ask(server)
        assert time.monotonic() - started >= 0.1
        started = time.monotonic()
        ask(server)
        assert time.monotonic() - started >= 0.25
    with ScriptedChatServer([Step(content="a")], latency_s=(0.1, 0.2), seed=3) as server:
        started = time.monotonic()
        ask(server)
        assert time.monotonic() - started >= 0.1


def test_invalid_fault_settings_rejected_without_binding() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        ScriptedChatServer([Step(content="a")], error_rate=1.5)
    with pytest.raises(ValueError, match="latency_s"):
        ScriptedChatServer([Step(content="a")], latency_s=(0.5, 0.1))
    server = ScriptedChatServer([Step(content="a")])
    assert not server.running
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url


# -- malformed requests, recording, other endpoints ----------------------------------------------


@pytest.mark.parametrize(
    ("payload", "param", "message"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (json.dumps({"messages": USER}).encode(), "model", "'model'"),
        (json.dumps({"model": "m", "messages": []}).encode(), "messages", "'messages'"),
        (
            json.dumps({"model": "m", "messages": [*USER, {"content": "x"}]}).encode(),
            "messages[1].role",
            "messages[1].role",
        ),
        (
            json.dumps({"model": "m", "messages": USER, "stream": "yes"}).encode(),
            "stream",
            "stream",
        ),
        (
            json.dumps({"model": "m", "messages": USER, "tools": "search"}).encode(),
            "tools",
            "tools",
        ),
    ],
)
def test_malformed_requests_get_400(
    raw: httpx.Client, payload: bytes, param: str | None, message: str
) -> None:
    server = ScriptedChatServer([Step(content="unused")]).start()
    try:
        r = raw.post(server.base_url + "/chat/completions", content=payload)
    finally:
        server.stop()
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == param and message in error["message"]
    assert error["type"] == "invalid_request_error"
    assert len(server.failures) == 1 and message in server.failures[0]
    assert server.unused_steps() == [(0, 0)]


def test_oversized_body_gets_413(raw: httpx.Client) -> None:
    big = {"model": "m", "messages": [{"role": "user", "content": "x" * (9 * 1024 * 1024)}]}
    small = {"model": "m", "messages": [{"role": "user", "content": "x" * 2000}]}
    server = ScriptedChatServer([Step(content="a")]).start()
    tight = ScriptedChatServer([Step(content="a")], max_body_bytes=1000).start()
    try:
        r = raw.post(server.base_url + "/chat/completions", json=big)
        r_tight = raw.post(tight.base_url + "/chat/completions", json=small)
    finally:
        server.stop()
        tight.stop()
    for response in (r, r_tight):
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "request_too_large"
    assert "8388608" in r.json()["error"]["message"]
    assert server.requests[0].body is None and server.failures


def test_requests_are_recorded(raw: httpx.Client) -> None:
    with ScriptedChatServer([Step(content="a")], models=["qwen", "judge"]) as server:
        c = client(server)
        assert [m.id for m in c.models.list()] == ["qwen", "judge"]
        assert raw.get(server.base_url.removesuffix("/v1") + "/health").json() == {"status": "ok"}
        before = time.time()
        c.chat.completions.create(
            model="m", messages=USER, temperature=0.5, extra_headers={"X-Trace": "t1"}
        )
        records = server.requests
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/v1/models", 200),
        ("GET", "/health", 200),
        ("POST", "/v1/chat/completions", 200),
    ]
    chat = records[2]
    assert chat.headers["x-trace"] == "t1" and chat.headers["authorization"] == "Bearer sk-test"
    assert chat.body == {"model": "m", "messages": USER, "temperature": 0.5}
    assert (chat.script_index, chat.step_index) == (0, 0)
    assert before - 1 <= chat.time <= time.time()


def test_unknown_route_and_wrong_method_are_failures(raw: httpx.Client) -> None:
    server = ScriptedChatServer([Step(content="a")]).start()
    try:
        missing = raw.post(server.base_url + "/completions", json={})
        wrong = raw.get(server.base_url + "/chat/completions")
    finally:
        server.stop()
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert "error" in missing.json() and len(server.failures) == 2


def test_lifecycle_start_twice_and_helper_from_file() -> None:
    with scripted_chat_server(FIXTURES / "one_step.yaml") as server:
        with pytest.raises(RuntimeError, match="only once"):
            server.start()
        assert ask(server).choices[0].message.content == "pong"
    assert not server.running
