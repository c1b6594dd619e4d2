"""End to end: a scripted model solves the tiny World's multi-hop question over real HTTP.

The model is the scripted chat server (real HTTP, real client); the environment is the tiny
World's real index behind the real tools, in-process and through the real environment server.
The script is what a good agent would do: search, read the pages that state the facts (the
film's director, its cast, the director's child), answer. The trajectory is checked field by
field against what the environment really returns.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from agent_support import QUESTION, TASK, episode

import redsearcher
from redsearcher.agent import AgentConfig, load_prompt, run_episode
from redsearcher.env import LocalEnvironment
from redsearcher.log import Trajectory
from redsearcher.testing import (
    Expect,
    ScriptedChatServer,
    ScriptedModel,
    Step,
    ToolCallSpec,
    text_answer,
    text_tool_call,
)
from redsearcher.tools import ServicesConfig, Toolbox

SEARCH = {"query": ["1990 film director cast own child", "The Quiet Harbor cast"]}
GOAL = "Who directed the film, who is in its cast, and whose child are they?"


def urls(env: LocalEnvironment) -> list[str]:
    """The pages stating the three facts: director (D2), cast (D3), child (D4)."""
    titles = ["The Quiet Harbor", "Cast of The Quiet Harbor", "Velden family"]
    return [env.search(t, 1)[0].url for t in titles]


def expected_outputs(env: LocalEnvironment, box: Toolbox | None = None) -> list[str]:
    """What the tools really answer to the script's two calls."""

    async def main() -> list[str]:
        async with box or Toolbox.local(env) as b:
            return [
                await b.call("search", SEARCH),
                await b.call("visit", {"url": urls(env), "goal": GOAL}),
            ]

    return asyncio.run(main())


def native_steps(env: LocalEnvironment, model: str = "scripted") -> list[Step]:
    return [
        Step(
            reasoning_content="I should find 1990 films and their casts.",
            tool_calls=[ToolCallSpec(name="search", arguments=SEARCH, id="call_search")],
            expect=Expect(message_count=2, tools_include=["search", "visit"], model=model),
        ),
        Step(
            content="The cast list and the Velden family page look relevant.",
            tool_calls=[
                ToolCallSpec(
                    name="visit", arguments={"url": urls(env), "goal": GOAL}, id="call_visit"
                )
            ],
            expect=Expect(last_role="tool", last_message_contains="Cast of The Quiet Harbor"),
        ),
        Step(
            content="<think>Marta Velden directed it; her child Ilse Velden is in the cast.</think>"
            + text_answer("Ilse Velden"),
            expect=Expect(
                last_role="tool", last_message_contains="Ilse Velden is a child of Marta Velden"
            ),
        ),
    ]


def text_steps(env: LocalEnvironment) -> list[Step]:
    no_tools = Expect(message_count=2, params={"stop": ["<tool_response>"]})
    return [
        Step(
            content="<think>Find 1990 films first.</think>\n" + text_tool_call("search", SEARCH),
            expect=no_tools,
        ),
        Step(
            content="<think>Read the pages.</think>\n"
            + text_tool_call("visit", {"url": urls(env), "goal": GOAL}),
            expect=Expect(
                last_role="user", last_message_contains="<tool_response>\nA Google search for"
            ),
        ),
        Step(
            content="<think>Marta Velden directed it; her child Ilse Velden is in the cast.</think>\n"
            + text_answer("Ilse Velden"),
            expect=Expect(
                last_role="user", last_message_contains="Ilse Velden is a child of Marta Velden"
            ),
        ),
    ]


def check_common(traj: Trajectory, outputs: list[str], protocol: str, endpoint: str) -> None:
    assert traj.id == "tiny-1#0" and traj.task_id == "tiny-1" and traj.sample == 0
    assert traj.question == QUESTION and traj.answers == ["Ilse Velden"]
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
    assert traj.error is None and traj.turns == 3
    # The tool calls, with the environment's real text.
    assert [c.name for c in traj.tool_calls] == ["search", "visit"]
    assert [c.turn for c in traj.tool_calls] == [0, 1]
    assert [c.segment for c in traj.tool_calls] == [0, 0]
    assert traj.tool_calls[0].arguments == SEARCH
    assert [c.output for c in traj.tool_calls] == outputs
    assert "Ilse Velden is a child of Marta Velden." in outputs[1]
    assert "The Quiet Harbor is a 1990 film directed by Marta Velden." in outputs[1]
    assert not any(c.error for c in traj.tool_calls)
    assert all(c.latency_s > 0 for c in traj.tool_calls)
    # One segment: the whole episode.
    assert len(traj.segments) == 1
    segment = traj.segments[0]
    assert segment.index == 0 and segment.first_turn == 0 and segment.end == "final"
    messages = traj.messages
    assert messages == segment.messages
    assert [m.role for m in messages][:2] == ["system", "user"]
    assert messages[0].content.startswith(load_prompt("system"))
    assert messages[1].content == QUESTION
    assert [m.train for m in messages] == [m.role == "assistant" for m in messages]
    assert (
        messages[-1].role == "assistant" and messages[-1].content == "<answer>Ilse Velden</answer>"
    )
    assert (
        messages[-1].reasoning == "Marta Velden directed it; her child Ilse Velden is in the cast."
    )
    # Usage as the server reported it; provenance.
    assert traj.usage.model_calls == 3 and not traj.usage.estimated
    assert traj.usage.prompt_tokens > 0 and traj.usage.completion_tokens > 0
    assert traj.duration_s > 0
    p = traj.provenance
    assert p.model == "scripted" and p.protocol == protocol and p.endpoint == endpoint
    assert p.world_hash == "w-hash" and p.redsearcher_version == redsearcher.__version__
    assert p.started_at.endswith("+00:00")
    assert p.config["agent"] == AgentConfig().model_dump(mode="json")
    assert p.config["model"]["sampling"]["temperature"] == 0.85
    assert "sk-test" not in json.dumps(p.config)
    # The record round-trips through JSON (the run log's format).
    assert Trajectory.model_validate_json(traj.model_dump_json()) == traj


def test_multi_hop_solve_native(tiny_env: LocalEnvironment) -> None:
    outputs = expected_outputs(tiny_env)
    with ScriptedChatServer(native_steps(tiny_env)) as server:
        traj = episode(server, tiny_env, world_hash="w-hash")
        bodies = [r.body for r in server.chat_requests]
    check_common(traj, outputs, "native", server.base_url)
    roles = [m.role for m in traj.messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    first, visit = traj.messages[2], traj.messages[4]
    assert first.reasoning == "I should find 1990 films and their casts."
    assert first.tool_calls is not None and first.tool_calls[0]["id"] == "call_search"
    assert json.loads(first.tool_calls[0]["function"]["arguments"]) == SEARCH
    assert traj.messages[3].tool_call_id == "call_search" and traj.messages[3].content == outputs[0]
    assert visit.content == "The cast list and the Velden family page look relevant."
    assert traj.messages[5].tool_call_id == "call_visit" and traj.messages[5].content == outputs[1]
    assert traj.messages[0].content == load_prompt("system")  # tools travel in the request
    # What was sent: the tools, the history with call ids, no reasoning.
    assert [t["function"]["name"] for t in bodies[0]["tools"]] == list(AgentConfig().tools)
    assert bodies[2]["messages"][2]["tool_calls"][0]["id"] == "call_search"
    assert all("reasoning" not in m and "reasoning_content" not in m for m in bodies[2]["messages"])
    assert [c.id for c in traj.tool_calls] == ["call_search", "call_visit"]


def test_multi_hop_solve_text(tiny_env: LocalEnvironment) -> None:
    outputs = expected_outputs(tiny_env)
    with ScriptedChatServer(text_steps(tiny_env)) as server:
        traj = episode(server, tiny_env, protocol="text", world_hash="w-hash")
        bodies = [r.body for r in server.chat_requests]
    check_common(traj, outputs, "text", server.base_url)
    roles = [m.role for m in traj.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user", "assistant"]
    system = traj.messages[0].content
    assert "<tools>" in system and "</tools>" in system and '"name": "visit"' in system
    assert all("tools" not in b for b in bodies)
    assert traj.messages[2].content == text_tool_call("search", SEARCH)
    assert traj.messages[2].reasoning == "Find 1990 films first."
    assert traj.messages[3].content == f"<tool_response>\n{outputs[0]}\n</tool_response>"
    assert traj.messages[5].content == f"<tool_response>\n{outputs[1]}\n</tool_response>"
    assert [c.id for c in traj.tool_calls] == ["call_0_0", "call_1_0"]


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_multi_hop_solve_through_the_env_server(tiny_env: LocalEnvironment, protocol: str) -> None:
    server_mod = pytest.importorskip("redsearcher.server")
    config = server_mod.ServerConfig(sandbox=None)
    steps = native_steps(tiny_env) if protocol == "native" else text_steps(tiny_env)
    with server_mod.EnvServer(config, env=tiny_env) as env_server:
        services = ServicesConfig.local(env_server.base_url)
        outputs = expected_outputs(tiny_env, Toolbox.http(services))
        with ScriptedChatServer(steps) as server:
            traj = episode(
                server,
                tiny_env,
                protocol=protocol,
                toolbox=Toolbox.http(services),
                world_hash="w-hash",
            )
    check_common(traj, outputs, protocol, server.base_url)
    assert outputs == expected_outputs(tiny_env)  # the HTTP tools read like the local ones


def test_same_model_name_speaks_either_protocol(tiny_env: LocalEnvironment) -> None:
    """The protocol comes from configuration: a Qwen-looking name changes nothing."""
    name = "Qwen3-30B-A3B-tongyi-deepresearch"
    results: dict[str, Any] = {}
    for protocol, steps in (
        ("native", native_steps(tiny_env, name)),
        ("text", text_steps(tiny_env)),
    ):
        with ScriptedChatServer(steps) as server:
            results[protocol] = episode(
                server, tiny_env, protocol=protocol, model_options={"name": name}
            )
            results[protocol + "-bodies"] = [r.body for r in server.chat_requests]
    for protocol in ("native", "text"):
        traj = results[protocol]
        assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
        assert traj.provenance.model == name and traj.provenance.protocol == protocol
        assert [c.name for c in traj.tool_calls] == ["search", "visit"]
    assert all("tools" in b for b in results["native-bodies"])
    assert all("tools" not in b for b in results["text-bodies"])


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_in_process_scripted_model_gives_the_trajectory_http_gives(
    tiny_env: LocalEnvironment, protocol: Any
) -> None:
    """The same steps through ScriptedModel (no server) and the scripted server (HTTP)."""
    steps = native_steps(tiny_env) if protocol == "native" else text_steps(tiny_env)

    async def main(model: ScriptedModel) -> Trajectory:
        async with Toolbox.local(tiny_env) as box:
            return await run_episode(
                TASK, model=model, toolbox=box, config=AgentConfig(), world_hash="w-hash"
            )

    with ScriptedModel(steps, protocol=protocol) as model:
        local = asyncio.run(main(model))
    check_common(local, expected_outputs(tiny_env), protocol, model.endpoint)
    with ScriptedChatServer(steps) as server:
        remote = episode(server, tiny_env, protocol=protocol, world_hash="w-hash")
    assert local.messages == remote.messages and local.usage == remote.usage
    assert [c.model_dump(exclude={"latency_s"}) for c in local.tool_calls] == [
        c.model_dump(exclude={"latency_s"}) for c in remote.tool_calls
    ]
    assert [call.body for call in model.calls] == [r.body for r in server.chat_requests]
