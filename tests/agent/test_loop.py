"""The loop's terminations and its handling of model and tool misbehaviour, over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agent_support import QUESTION, TASK, episode, make_model

from redsearcher.agent import AgentConfig, load_prompt, run_episode
from redsearcher.env import LocalEnvironment, RunResult
from redsearcher.errors import ConfigError
from redsearcher.testing import (
    Expect,
    ScriptedChatServer,
    Step,
    StepError,
    ToolCallSpec,
    text_answer,
    text_python_call,
    text_tool_call,
)
from redsearcher.tools import LocalBackend, Toolbox

ANSWER_NOW = load_prompt("answer_now")
NUDGE = load_prompt("nudge")


def search(q: str, call_id: str | None = None) -> ToolCallSpec:
    return ToolCallSpec(name="search", arguments={"query": [q]}, id=call_id)


def searching(n: int) -> list[Step]:
    return [Step(tool_calls=[search(f"Marta Velden {i}")]) for i in range(n)]


# -- limits ----------------------------------------------------------------------------------


def test_max_turns_asks_once_for_an_answer(tiny_env: LocalEnvironment) -> None:
    final = Step(
        content="<answer>Ilse Velden</answer>",
        expect=Expect(last_role="user", last_message_contains=ANSWER_NOW),
    )
    with ScriptedChatServer([*searching(2), final]) as server:
        traj = episode(server, tiny_env, config=AgentConfig(max_turns=2))
    assert traj.termination == "max_turns" and traj.prediction == "Ilse Velden"
    assert traj.turns == 3 and len(traj.tool_calls) == 2 and traj.usage.model_calls == 3
    assert [m.role for m in traj.messages][-2:] == ["user", "assistant"]


def test_max_turns_without_the_final_question(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer(searching(2)) as server:
        traj = episode(server, tiny_env, config=AgentConfig(max_turns=2, answer_at_limit=False))
    assert traj.termination == "max_turns" and traj.prediction is None and traj.turns == 2
    assert traj.messages[-1].role == "tool"


def test_max_turns_final_reply_without_answer(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer([*searching(1), Step(tool_calls=[search("more")])]) as server:
        traj = episode(server, tiny_env, config=AgentConfig(max_turns=1))
    assert traj.termination == "max_turns" and traj.prediction is None
    assert len(traj.tool_calls) == 1  # the forced turn's call is not run


def test_max_tool_calls_runs_only_the_budget(tiny_env: LocalEnvironment) -> None:
    steps = [
        Step(tool_calls=[search("a", "c1"), search("b", "c2")]),
        Step(tool_calls=[search("c", "c3"), search("d", "c4")]),
        Step(
            content="<answer>Ilse Velden</answer>", expect=Expect(last_message_contains=ANSWER_NOW)
        ),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=AgentConfig(max_tool_calls=3))
        second = server.chat_requests[2].body["messages"]
    assert traj.termination == "max_tool_calls" and traj.prediction == "Ilse Velden"
    assert [c.id for c in traj.tool_calls] == ["c1", "c2", "c3", "c4"]
    assert [c.error for c in traj.tool_calls] == [False, False, False, True]
    assert (
        traj.tool_calls[3].output == "Not run: the limit of 3 tool calls for this task was reached."
    )
    assert traj.tool_calls[3].latency_s == 0.0
    # Every native call id got its answer before the final question.
    assert [m.get("tool_call_id") for m in second if m["role"] == "tool"] == [
        "c1",
        "c2",
        "c3",
        "c4",
    ]


# -- model misbehaviour ----------------------------------------------------------------------


def test_a_reply_with_neither_call_nor_answer_is_nudged_once(tiny_env: LocalEnvironment) -> None:
    steps = [
        Step(content="Let me think about the question."),
        Step(
            content="<answer>Ilse Velden</answer>",
            expect=Expect(last_role="user", last_message_contains=NUDGE),
        ),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env)
    assert traj.termination == "answer" and traj.turns == 2
    assert [m.role for m in traj.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert not traj.messages[3].train


def test_two_replies_in_a_row_without_call_or_answer_end_in_error(
    tiny_env: LocalEnvironment,
) -> None:
    steps = [Step(content="Hmm."), Step(content="", reasoning_content="still thinking")]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env)
    assert traj.termination == "error" and traj.prediction is None
    assert (
        traj.error == "the model replied with neither a tool call nor an answer 2 time(s) in a row"
    )


def test_nudges_reset_after_a_tool_call(tiny_env: LocalEnvironment) -> None:
    steps = [
        Step(content="Hmm."),
        *searching(1),
        Step(content="Hmm again."),
        Step(content=text_answer("x")),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env)
    assert traj.termination == "answer" and traj.turns == 4


def test_plain_text_answers_when_configured(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer([Step(content="  Ilse Velden\n")]) as server:
        traj = episode(server, tiny_env, config=AgentConfig(answer_extraction="tag_or_text"))
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"


def test_malformed_and_unknown_calls_go_back_to_the_model(tiny_env: LocalEnvironment) -> None:
    bad = '<tool_call>\n{"name": "search", "arguments": {"query": ["a"]\n</tool_call>'
    steps = [
        Step(content=bad + "\n" + text_tool_call("browse", {"url": "x"})),
        Step(
            content=text_tool_call("search", {"query": []}),
            expect=Expect(
                last_message_contains="Unknown tool 'browse'. Available tools: search, visit"
            ),
        ),
        Step(
            content=text_answer("Ilse Velden"),
            expect=Expect(last_message_contains="Invalid arguments for search"),
        ),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, protocol="text")
        first_results = server.chat_requests[1].body["messages"][-1]["content"]
    assert traj.termination == "answer"
    malformed, unknown, invalid = traj.tool_calls
    assert malformed.error and malformed.name == "search" and isinstance(malformed.arguments, str)
    assert "not valid JSON" in malformed.output and malformed.output in first_results
    assert unknown.error and unknown.name == "browse" and unknown.arguments == {"url": "x"}
    assert invalid.error and invalid.turn == 1
    assert first_results.count("<tool_response>") == 2
    assert traj.failed_tool_calls == 3


class EchoSandbox:
    """Stands in for the bubblewrap sandbox: nothing the test's model writes is executed."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    async def arun(self, code: str) -> RunResult:
        self.codes.append(code)
        return RunResult("Finished", 0, f"got {len(code)} characters\n", "", 0.01)


def test_text_python_code_form_reaches_the_sandbox(tiny_env: LocalEnvironment) -> None:
    code = "for year in (1951, 1990):\n    print(1990 - year)"
    sandbox = EchoSandbox()
    steps = [
        Step(content=text_python_call(code)),
        Step(
            content=text_answer("39"),
            expect=Expect(last_message_contains=f"got {len(code)} characters"),
        ),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server, tiny_env, protocol="text", toolbox=Toolbox.local(tiny_env, sandbox=sandbox)
        )
    assert sandbox.codes == [code]
    (call,) = traj.tool_calls
    assert call.name == "PythonInterpreter" and call.arguments == {"code": code} and not call.error
    assert call.output == f"stdout:\ngot {len(code)} characters\n"


def test_text_protocol_with_tool_role(tiny_env: LocalEnvironment) -> None:
    steps = [
        Step(
            content=text_tool_call("search", {"query": ["Harwick"]})
            + text_tool_call("search", {"query": ["Caldora"]})
        ),
        Step(content=text_answer("x"), expect=Expect(last_role="tool", message_count=5)),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server, tiny_env, protocol="text", config=AgentConfig(tool_response_role="tool")
        )
    assert [m.role for m in traj.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert traj.messages[3].content.startswith("<tool_response>\nA Google search for 'Harwick'")


# -- infrastructure --------------------------------------------------------------------------


def test_model_unavailable_ends_the_episode_in_error(tiny_env: LocalEnvironment) -> None:
    steps = [*searching(1), *[Step(error=StepError(status=500, message="engine died"))] * 2]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, model_options={"max_retries": 1})
    assert traj.termination == "error" and traj.prediction is None
    assert traj.error is not None and traj.error.startswith("ModelUnavailable: ")
    assert "HTTP 500: engine died after 2 tries" in traj.error
    assert traj.turns == 1 and len(traj.tool_calls) == 1 and traj.usage.model_calls == 1
    assert traj.segments[0].end == "final" and traj.messages[-1].role == "tool"
    assert traj.provenance.endpoint == server.base_url


def test_a_rejected_key_stops_the_run(tiny_env: LocalEnvironment) -> None:
    with (
        ScriptedChatServer([Step(error=StepError(status=401, message="invalid key"))]) as server,
        pytest.raises(ConfigError, match="rejected the API key"),
    ):
        episode(server, tiny_env)


def test_a_tool_missing_from_the_toolbox_is_a_config_error(tiny_env: LocalEnvironment) -> None:
    server = ScriptedChatServer([Step(content="never asked")]).start()
    try:
        with pytest.raises(ConfigError, match=r"agent tools \['visit'\] are not in the toolbox"):
            episode(
                server,
                tiny_env,
                toolbox=Toolbox.local(tiny_env, tools=["search"]),
                config=AgentConfig(tools=["search", "visit"]),
            )
    finally:
        server.stop()
    assert server.chat_requests == []


class CrashingBackend(LocalBackend):
    async def search(self, query: str, num: int) -> dict[str, Any]:
        raise KeyError("index corrupted")


def test_a_crashing_tool_ends_the_episode_in_error(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer(searching(1)) as server:
        traj = episode(server, tiny_env, toolbox=Toolbox(CrashingBackend(tiny_env)))
    assert traj.termination == "error"
    assert traj.error == "ToolCrashed: tool search raised KeyError: 'index corrupted'"


def test_tool_timeout_is_text_for_the_model(tiny_env: LocalEnvironment) -> None:
    class SlowBackend(LocalBackend):
        async def search(self, query: str, num: int) -> dict[str, Any]:
            await asyncio.sleep(5)
            raise AssertionError("not reached")

    steps = [
        *searching(1),
        Step(
            content=text_answer("x"),
            expect=Expect(last_message_contains="timed out after 0.05 seconds"),
        ),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server,
            tiny_env,
            toolbox=Toolbox(SlowBackend(tiny_env)),
            config=AgentConfig(tool_timeout_s=0.05),
        )
    assert traj.termination == "answer" and traj.tool_calls[0].error


def test_cancellation_propagates(tiny_env: LocalEnvironment) -> None:
    async def main(server: ScriptedChatServer) -> None:
        async with make_model(server) as model, Toolbox.local(tiny_env) as box:
            task = asyncio.create_task(
                run_episode(TASK, model=model, toolbox=box, config=AgentConfig())
            )
            for _ in range(500):  # until the server holds the request (at most 10 s)
                if not server.unused_steps():  # the step is taken: the request is in
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            await task

    with (
        ScriptedChatServer([Step(content="late", latency_s=2.0)]) as server,
        pytest.raises(asyncio.CancelledError),
    ):
        asyncio.run(main(server))


def test_sample_and_ids(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer(
        [Step(content=text_answer("x"), expect=Expect(last_message_contains=QUESTION))]
    ) as server:
        traj = episode(server, tiny_env, sample=3)
    assert traj.id == "tiny-1#3" and traj.sample == 3 and traj.provenance.world_hash is None


def test_a_toolbox_rendering_another_style_is_a_config_error(tiny_env: LocalEnvironment) -> None:
    server = ScriptedChatServer([Step(content="never asked")]).start()
    try:
        with pytest.raises(ConfigError, match=r"render_style is 'deeptracehub'.*renders 'tongyi'"):
            episode(
                server,
                tiny_env,
                toolbox=Toolbox.local(tiny_env),
                config=AgentConfig(render_style="deeptracehub"),
            )
    finally:
        server.stop()
    assert server.chat_requests == []
