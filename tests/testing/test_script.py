"""The script model, the text-protocol helpers and script files (no HTTP here)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from redsearcher.errors import InputFormatError
from redsearcher.testing import (
    Expect,
    Script,
    ScriptedChatServer,
    Step,
    StepError,
    ToolCallSpec,
    estimate_tokens,
    load_scripts,
    parse_scripts,
    text_answer,
    text_python_call,
    text_tool_call,
)
from redsearcher.testing._script import as_scripts
from redsearcher.testing._wire import AnswerIds, check_expectations, completion, usage

FIXTURES = Path(__file__).parent / "fixtures"


def _body(*messages: dict[str, object], **extra: object) -> dict[str, object]:
    return {"model": "m", "messages": list(messages), **extra}


# -- text protocol ------------------------------------------------------------------------------


def test_text_tool_call_is_hermes_format() -> None:
    text = text_tool_call("search", {"query": ["a b", "ü"]})
    assert text.startswith("<tool_call>\n") and text.endswith("\n</tool_call>")
    inner = text.removeprefix("<tool_call>\n").removesuffix("\n</tool_call>")
    assert json.loads(inner) == {"name": "search", "arguments": {"query": ["a b", "ü"]}}
    assert "ü" in inner  # not \u-escaped: models write the characters themselves


def test_text_python_call_has_empty_arguments_and_code_inside_the_call() -> None:
    text = text_python_call("print(1 + 1)")
    assert text == (
        '<tool_call>\n{"name": "PythonInterpreter", "arguments": {}}\n'
        "<code>\nprint(1 + 1)\n</code>\n</tool_call>"
    )


def test_text_answer() -> None:
    assert text_answer("Paris") == "<answer>Paris</answer>"


# -- model validation -----------------------------------------------------------------------------


def test_step_needs_something_to_answer() -> None:
    with pytest.raises(ValidationError, match="content, tool_calls or error"):
        Step()
    assert Step(content="").content == ""


def test_error_step_cannot_also_answer() -> None:
    with pytest.raises(ValidationError, match="error step"):
        Step(content="x", error=StepError(status=500))
    with pytest.raises(ValidationError):
        StepError(status=200)


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="toolcalls"):
        Step.model_validate({"content": "x", "toolcalls": []})


def test_script_needs_steps() -> None:
    with pytest.raises(ValidationError, match="steps"):
        Script(steps=[])


def test_as_scripts_normalises_and_rejects_mixtures() -> None:
    step = Step(content="x")
    assert as_scripts(step) == [Script(steps=[step])]
    assert as_scripts([step, step]) == [Script(steps=[step, step])]
    script = Script(steps=[step], match="q")
    assert as_scripts(script) == [script]
    with pytest.raises(TypeError, match="only Scripts or only Steps"):
        as_scripts([step, script])  # type: ignore[arg-type]


# -- files ----------------------------------------------------------------------------------------


def test_load_yaml_scripts() -> None:
    scripts = load_scripts(FIXTURES / "conversations.yaml")
    assert [s.match for s in scripts] == ["capital of France", "capital of Italy"]
    paris = scripts[0]
    assert paris.steps[0].tool_calls == [
        ToolCallSpec(name="search", arguments={"query": ["capital of France"]})
    ]
    assert paris.steps[1].expect == Expect(last_role="tool", last_message_contains="Paris")
    assert "<tool_call>" in (scripts[1].steps[0].content or "")


def test_load_json_single_script() -> None:
    (script,) = load_scripts(FIXTURES / "single.json")
    assert script.match is None
    assert script.steps[1].error == StepError(status=503, message="overloaded")


def test_load_names_file_and_field() -> None:
    path = FIXTURES / "bad_field.yaml"
    with pytest.raises(InputFormatError) as info:
        load_scripts(path)
    assert info.value.path == str(path)
    assert info.value.field == "scripts[0].steps[1].tool_calls[0].name"
    assert "bad_field.yaml" in str(info.value)


def test_load_missing_and_unparsable(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="not found"):
        load_scripts(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("steps: [\n  {content: 'x'\n")
    with pytest.raises(InputFormatError, match="not valid YAML") as info:
        load_scripts(broken)
    assert info.value.line is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"scripts": [], "extra": 1}, "extra"),
        ({"scripts": {"steps": []}}, "scripts"),
        ([{"steps": [{"content": "x", "latency_s": -1}]}], "scripts[0].steps[0].latency_s"),
        ({"steps": [{"content": "x"}], "match": ""}, "match"),
    ],
)
def test_parse_errors_name_the_field(data: object, field: str) -> None:
    with pytest.raises(InputFormatError) as info:
        parse_scripts(data, "inline.yaml")
    assert info.value.field == field


def test_parse_rejects_other_shapes_and_empty() -> None:
    with pytest.raises(InputFormatError, match="expected a list of scripts"):
        parse_scripts("just text")
    with pytest.raises(InputFormatError, match="no scripts"):
        parse_scripts([])


# -- wire helpers ----------------------------------------------------------------------------------


def test_expectations_report_each_problem() -> None:
    step = Step(
        content="x",
        expect=Expect(
            last_message_contains="Paris",
            last_role="tool",
            tools_include=["search", "visit"],
            message_count=3,
            model="qwen",
            params={"temperature": 0.6},
        ),
    )
    tools = [{"type": "function", "function": {"name": "search", "parameters": {}}}]
    wrong = _body({"role": "user", "content": "Rome"}, tools=tools, temperature=1.0)
    problems = check_expectations(step, wrong)
    assert len(problems) == 6
    assert any("'visit'" in p for p in problems)
    right = _body(
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q"},
        {"role": "tool", "content": [{"type": "text", "text": "It is Paris."}]},
        model="qwen",
        tools=[*tools, {"type": "function", "function": {"name": "visit"}}],
        temperature=0.6,
    )
    assert check_expectations(step, right) == []


def test_usage_estimate_and_overrides() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    body = _body({"role": "user", "content": "x" * 40})
    assert usage(Step(content="y" * 8), body) == {
        "prompt_tokens": 4 + 10,
        "completion_tokens": 2,
        "total_tokens": 16,
    }
    fixed = usage(Step(content="y", prompt_tokens=1000, completion_tokens=7), body)
    assert fixed == {"prompt_tokens": 1000, "completion_tokens": 7, "total_tokens": 1007}


def test_completion_shape() -> None:
    step = Step(tool_calls=[ToolCallSpec(name="visit", arguments={"url": "u"}, id="call_fixed")])
    ids = AnswerIds(completion_id="chatcmpl-1", created=5, call_prefix="call_0_0")
    out = completion(step, _body({"role": "user", "content": "q"}), ids)
    choice = out["choices"][0]
    assert out["object"] == "chat.completion" and out["model"] == "m"
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["id"] == "call_fixed" and call["type"] == "function"
    assert json.loads(call["function"]["arguments"]) == {"url": "u"}
    truncated = completion(
        Step(content="abc", finish_reason="length"), _body({"role": "user"}), ids
    )
    assert truncated["choices"][0]["finish_reason"] == "length"


# -- imports ------------------------------------------------------------------------------------


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, redsearcher.testing; "
        "print(sorted(m for m in ('starlette', 'uvicorn', 'pytest', 'openai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_server_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    server = ScriptedChatServer([Step(content="x")])
    with pytest.raises(ImportError, match=re.escape("pip install 'redsearcher[server]'")):
        server.start()
    assert not server.running
