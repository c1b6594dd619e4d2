"""The message protocols: system prompts, parsing tool calls and answers, rendering results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from redsearcher.errors import ConfigError
from redsearcher.log import Message, ToolCallRecord
from redsearcher.model import (
    NativeProtocol,
    ParsedCall,
    ProtocolOptions,
    TextProtocol,
    extract_answer,
    get_protocol,
    split_reasoning,
)
from redsearcher.registry import names
from redsearcher.testing import text_answer, text_python_call, text_tool_call

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web.",
            "parameters": {"type": "object", "properties": {"query": {"type": "array"}}},
        },
    },
    {"type": "function", "function": {"name": "visit", "description": "Read a page — fully."}},
]


def assistant(content: str = "", tool_calls: list[dict[str, Any]] | None = None) -> Message:
    return Message(role="assistant", content=content, tool_calls=tool_calls, train=True)


def record(call_id: str, output: str, name: str = "search") -> ToolCallRecord:
    return ToolCallRecord(id=call_id, turn=0, segment=0, name=name, arguments={}, output=output)


# -- registry ----------------------------------------------------------------------------------


def test_protocols_are_registered_and_chosen_by_name() -> None:
    assert {"native", "text"} <= set(names("protocol"))
    assert isinstance(get_protocol("native"), NativeProtocol)
    text = get_protocol("text", ProtocolOptions(tool_response_role="tool"))
    assert isinstance(text, TextProtocol) and text.options.tool_response_role == "tool"
    with pytest.raises(ConfigError, match=r"unknown protocol 'hermes'.*native, text"):
        get_protocol("hermes")
    assert NativeProtocol.sends_tools and not TextProtocol.sends_tools
    assert NativeProtocol.stop == () and TextProtocol.stop == ("<tool_response>",)


# -- reasoning and answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reasoning", "content"),
    [
        ("<think>plan</think>\n<answer>x</answer>", "plan", "<answer>x</answer>"),
        ("  <think>\nmulti\nline\n</think>\n\nrest", "multi\nline", "rest"),
        ("plan only closed</think>rest", "plan only closed", "rest"),  # <think> was in the prompt
        ("<think>cut off while thinking", "cut off while thinking", ""),
        ("no reasoning here", None, "no reasoning here"),
        ("<think></think>answer", "", "answer"),
    ],
)
def test_split_reasoning(text: str, reasoning: str | None, content: str) -> None:
    assert split_reasoning(text) == (reasoning, content)


def test_extract_answer_takes_the_last_complete_tag() -> None:
    assert extract_answer("<answer> Ilse Velden </answer>") == "Ilse Velden"
    assert extract_answer("I will write <answer></answer>. <answer>\n42\n</answer>") == "42"
    assert extract_answer("<answer>unclosed") is None
    assert extract_answer("no answer") is None


# -- native ----------------------------------------------------------------------------------


def native_call(name: str, arguments: Any, call_id: str | None = "c1") -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
    return call


def test_native_system_message_is_the_plain_prompt() -> None:
    message = NativeProtocol().system_message("Be thorough.", TOOLS)
    assert message.role == "system" and message.content == "Be thorough." and not message.train


def test_native_parses_several_calls() -> None:
    calls = [
        native_call("search", json.dumps({"query": ["a", "b"]}), "c1"),
        native_call("visit", '{"url": "https://x.test", "goal": "g"}', "c2"),
    ]
    parsed = NativeProtocol().parse(assistant("Let me look.", calls), turn=3)
    assert parsed.answer is None
    assert parsed.calls == [
        ParsedCall("c1", "search", {"query": ["a", "b"]}),
        ParsedCall("c2", "visit", {"url": "https://x.test", "goal": "g"}),
    ]
    assert parsed.message.tool_calls == calls and parsed.message.content == "Let me look."


def test_native_malformed_arguments_become_an_error_for_the_model() -> None:
    calls = [
        native_call("search", '{"query": ["a"'),
        native_call("visit", "[1, 2]", "c2"),
        native_call("", "{}", "c3"),
        native_call("search", "", "c4"),
    ]
    parsed = NativeProtocol().parse(assistant("", calls), turn=0)
    bad_json, not_object, no_name, empty = parsed.calls
    assert bad_json.arguments == '{"query": ["a"' and bad_json.error is not None
    assert "not valid JSON" in bad_json.error
    assert (
        not_object.arguments == "[1, 2]"
        and not_object.error == "The arguments must be a JSON object."
    )
    assert no_name.error is not None and "names no function" in no_name.error
    assert empty == ParsedCall("c4", "search", {})


def test_native_fills_missing_ids_in_the_kept_message() -> None:
    calls = [native_call("search", {"query": ["q"]}, None)]  # a dict, and no id
    parsed = NativeProtocol().parse(assistant("", calls), turn=7)
    assert parsed.calls == [ParsedCall("call_7_0", "search", {"query": ["q"]})]
    assert parsed.message.tool_calls == [
        {
            "id": "call_7_0",
            "type": "function",
            "function": {"name": "search", "arguments": '{"query": ["q"]}'},
        }
    ]


def test_native_answer_and_no_text_protocol_sniffing() -> None:
    parsed = NativeProtocol().parse(assistant(text_answer("Ilse Velden")), turn=0)
    assert parsed.answer == "Ilse Velden" and parsed.calls == []
    # A text-protocol call in a native message is just text.
    parsed = NativeProtocol().parse(assistant(text_tool_call("search", {"query": ["q"]})), turn=0)
    assert parsed.calls == [] and parsed.answer is None


def test_native_tool_results_answer_each_call_id() -> None:
    messages = NativeProtocol().tool_results([record("c1", "one"), record("c2", "two")])
    assert [(m.role, m.tool_call_id, m.content, m.train) for m in messages] == [
        ("tool", "c1", "one", False),
        ("tool", "c2", "two", False),
    ]


# -- text ------------------------------------------------------------------------------------


def test_text_system_message_lists_the_tools_as_json_lines() -> None:
    content = TextProtocol().system_message("Be thorough.\n", TOOLS).content
    head, _, rest = content.partition("\n\n# Tools\n\n")
    assert head == "Be thorough."
    block = rest[rest.index("<tools>\n") + len("<tools>\n") : rest.index("\n</tools>")]
    assert [json.loads(line) for line in block.splitlines()] == TOOLS
    assert "—" in block  # not ASCII-escaped
    assert content.endswith(
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    )
    assert TextProtocol().system_message("Be thorough.", []).content == "Be thorough."


def test_text_parses_several_calls_with_generated_ids() -> None:
    content = (
        "<think>two things</think>I will search and visit.\n"
        + text_tool_call("search", {"query": ["a"]})
        + "\n"
        + text_tool_call("visit", {"url": ["https://x.test"], "goal": "g"})
    )
    parsed = TextProtocol().parse(assistant(content), turn=2)
    assert parsed.calls == [
        ParsedCall("call_2_0", "search", {"query": ["a"]}),
        ParsedCall("call_2_1", "visit", {"url": ["https://x.test"], "goal": "g"}),
    ]
    assert parsed.answer is None and parsed.message.content == content


def test_text_python_code_form() -> None:
    code = "import math\n\nfor i in range(3):\n    print(math.sqrt(i))"
    parsed = TextProtocol().parse(assistant(text_python_call(code)), turn=0)
    assert parsed.calls == [ParsedCall("call_0_0", "PythonInterpreter", {"code": code})]
    # Arguments may also carry the code; the <code> block wins over an argument.
    both = '<tool_call>\n{"name": "PythonInterpreter", "arguments": {"code": "x"}}\n<code>print(1)</code>\n</tool_call>'
    assert TextProtocol().parse(assistant(both), turn=0).calls[0].arguments == {"code": "print(1)"}
    plain = text_tool_call("PythonInterpreter", {"code": "print(2)"})
    assert TextProtocol().parse(assistant(plain), turn=0).calls[0].arguments == {"code": "print(2)"}


def test_text_malformed_calls_become_errors_for_the_model() -> None:
    content = (
        '<tool_call>\n{"name": "search", "arguments": {"query": ["a"]\n</tool_call>\n'
        "<tool_call>not json at all</tool_call>\n"
        '<tool_call>{"arguments": {}}</tool_call>\n'
        '<tool_call>{"name": "visit", "arguments": [1]}</tool_call>\n'
        '<tool_call>{"name": "search", "arguments": "{\\"query\\": [\\"b\\"]}"}</tool_call>\n'
        '<tool_call>{"name": "search", "arguments": {"query": ["c"]}}'
    )
    parsed = TextProtocol().parse(assistant(content), turn=1)
    bad_json, no_json, no_name, not_object, double_encoded, unclosed = parsed.calls
    assert bad_json.name == "search" and bad_json.error is not None
    assert "not valid JSON" in bad_json.error and '{"name": <tool name>' in bad_json.error
    assert isinstance(bad_json.arguments, str) and bad_json.arguments.startswith('{"name"')
    assert no_json.name == "" and no_json.error is not None and "no JSON object" in no_json.error
    assert no_name.error is not None and 'string "name"' in no_name.error
    assert not_object.error == 'The "arguments" of visit must be a JSON object.'
    assert double_encoded == ParsedCall("call_1_4", "search", {"query": ["b"]})
    assert unclosed.name == "search" and unclosed.error is not None
    assert "not closed" in unclosed.error and unclosed.id == "call_1_5"


def test_text_answer_and_invented_tool_responses() -> None:
    parsed = TextProtocol().parse(assistant("Done.\n" + text_answer("Ilse Velden")), turn=0)
    assert parsed.answer == "Ilse Velden" and parsed.calls == []
    invented = (
        text_tool_call("search", {"query": ["a"]})
        + "\n<tool_response>\nmade up\n</tool_response>\n"
        + text_tool_call("search", {"query": ["b"]})
        + text_answer("made up too")
    )
    parsed = TextProtocol().parse(assistant(invented), turn=0)
    assert [c.arguments for c in parsed.calls] == [{"query": ["a"]}] and parsed.answer is None


@pytest.mark.parametrize("role", ["user", "tool"])
def test_text_tool_results(role: str) -> None:
    protocol = TextProtocol(ProtocolOptions(tool_response_role=role))  # type: ignore[arg-type]
    messages = protocol.tool_results([record("a", "one"), record("b", "two")])
    blocks = ["<tool_response>\none\n</tool_response>", "<tool_response>\ntwo\n</tool_response>"]
    if role == "user":  # Tongyi: one user message per turn
        assert [(m.role, m.content) for m in messages] == [("user", "\n".join(blocks))]
    else:  # DeepTraceHub: one tool message per call
        assert [(m.role, m.content) for m in messages] == [("tool", b) for b in blocks]
    assert all(m.tool_call_id is None and not m.train for m in messages)
    assert protocol.tool_results([]) == []


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_lone_surrogates_in_arguments_are_malformed_calls_naming_the_argument(
    protocol: str,
) -> None:
    arguments = {"query": ["fine", "bad \ud800"], "goal": "ok"}
    if protocol == "native":
        raw = {
            "type": "function",
            "function": {"name": "search", "arguments": json.dumps(arguments)},
        }
        message = Message(role="assistant", content="", tool_calls=[raw])
    else:  # the model wrote the escape inside its JSON
        message = Message(
            role="assistant",
            content=text_tool_call("search", arguments).replace("\ud800", "\\ud800"),
        )
    assert "\\ud800" in (message.content or json.dumps(message.tool_calls))
    (call,) = get_protocol(protocol).parse(message, turn=0).calls
    assert call.name == "search"
    assert call.error is not None
    assert "The argument 'query.1' of search is not valid Unicode text" in call.error
    call.error.encode("utf-8")  # the text the model reads is itself encodable
