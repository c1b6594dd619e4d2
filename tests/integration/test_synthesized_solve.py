"""Issue-spanning end to end: a synthesized task solved by the agent loop over real HTTP.

The task comes out of the synthesis pipeline (a generated World, stages 1-3); the scripted
chat server then plays a multi-hop solve through the environment server — a search for each
evidence document with the verifier's own derived queries, one visit of every evidence URL,
the answer — with both tool protocols. The trajectory is checked field by field, scored, and
exported to SFT.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.eval._match import exact_match
from redsearcher.log import Trajectory
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.synth import SynthConfig, Task, open_verifier, read_tasks, synthesize
from redsearcher.testing import ScriptedChatServer, Step, ToolCallSpec, text_answer, text_tool_call
from redsearcher.tools import ServicesConfig, Toolbox
from redsearcher.world import World


@pytest.fixture(scope="module")
def solved(
    default_world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Task, list[str], Path]]:
    out = tmp_path_factory.mktemp("synth") / "tasks.jsonl"
    with open_verifier(default_world.path) as verifier:
        cfg = SynthConfig(n=3, seed=2, treewidth="2", msd="2-")
        asyncio.run(synthesize(verifier, cfg, out, progress=False))
        task = read_tasks(out)[0]
    walk = task.verdict("completeness")
    assert walk is not None and walk.passed
    # The oracle walk's own queries: the one that found each evidence document.
    queries = [walk.detail["documents"][doc] for doc in task.evidence_documents]
    index = default_world.path.parent / f"{default_world.path.name}.index"
    yield task, queries, index


def _steps(task: Task, queries: list[str], protocol: str) -> list[Step]:
    search = {"query": queries}
    visit = {"url": task.evidence_urls, "goal": "Find the facts that identify the answer."}
    if protocol == "native":
        return [
            Step(tool_calls=[ToolCallSpec(name="search", arguments=search, id="c1")]),
            Step(tool_calls=[ToolCallSpec(name="visit", arguments=visit, id="c2")]),
            Step(content=f"<answer>{task.answer}</answer>"),
        ]
    return [
        Step(content=text_tool_call("search", search)),
        Step(content=text_tool_call("visit", visit)),
        Step(content=text_answer(task.answer)),
    ]


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_scripted_model_solves_a_synthesized_task(
    solved: tuple[Task, list[str], Path], protocol: str
) -> None:
    task, queries, index = solved
    with (
        EnvServer(ServerConfig(index=index, sandbox=None)) as env_server,
        ScriptedChatServer(_steps(task, queries, protocol)) as chat,
    ):

        async def main() -> tuple[Trajectory, list[dict[str, object]]]:
            config = ModelConfig(
                name="scripted",
                base_url=chat.base_url,
                protocol=protocol,
                max_retries=0,  # type: ignore[arg-type]
            )
            async with (
                OpenAIChatModel(config) as model,
                Toolbox.http(ServicesConfig.local(env_server.base_url)) as box,
            ):
                traj = await run_episode(
                    task,
                    model=model,
                    toolbox=box,
                    config=AgentConfig(),
                    world_hash=task.provenance.world_hash,
                )
                return traj, box.openai_tools()

        traj, tools = asyncio.run(main())
        chat.assert_all_used()
        first_request = chat.chat_requests[0].body
    assert traj.termination == "answer" and traj.prediction == task.answer
    assert exact_match(traj.prediction, task.answers)
    assert [c.name for c in traj.tool_calls] == ["search", "visit"]
    assert not any(c.error for c in traj.tool_calls)
    search_out, visit_out = (c.output for c in traj.tool_calls)
    for url in task.evidence_urls:
        assert url in search_out  # every evidence document is found by its derived query
        assert url in visit_out  # and read
    assert traj.turns == 3 and traj.usage.model_calls == 3
    assert (
        traj.provenance.protocol == protocol
        and traj.provenance.world_hash == task.provenance.world_hash
    )
    assert len(traj.segments) == 1 and traj.segments[0].messages == traj.messages
    assert task.question in traj.messages[1].content
    if protocol == "native":
        assert [t["function"]["name"] for t in first_request["tools"]][:2] == ["search", "visit"]  # type: ignore[index]
    else:
        assert "tools" not in first_request and "<tools>" in first_request["messages"][0]["content"]  # type: ignore[index]
    _check_messages(traj, protocol, search_out, visit_out)
    _check_exports(traj, task, queries, protocol, tools)


def _check_messages(traj: Trajectory, protocol: str, search_out: str, visit_out: str) -> None:
    """The history the model saw: its turns trained, the observations not."""
    m = traj.messages
    observation = "tool" if protocol == "native" else "user"
    roles = ["system", "user", "assistant", observation, "assistant", observation, "assistant"]
    assert [x.role for x in m] == roles
    assert [x.train for x in m] == [False, False, True, False, True, False, True]
    if protocol == "native":
        calls = [(x.tool_calls or [None])[0] for x in (m[2], m[4])]
        assert [c["id"] for c in calls] == ["c1", "c2"]  # type: ignore[index]
        assert [c["function"]["name"] for c in calls] == ["search", "visit"]  # type: ignore[index]
        assert [(x.tool_call_id, x.content) for x in (m[3], m[5])] == [
            ("c1", search_out),
            ("c2", visit_out),
        ]
    else:
        for x, out in ((m[3], search_out), (m[5], visit_out)):
            assert x.content.startswith("<tool_response>") and out in x.content


def _check_exports(
    traj: Trajectory, task: Task, queries: list[str], protocol: str, tools: list[dict[str, object]]
) -> None:
    """Both SFT formats, turn by turn: one sample, observations never trained."""
    from redsearcher.export._sft import to_openai_messages, to_sharegpt

    m = traj.messages
    search = {"query": queries}
    visit = {"url": task.evidence_urls, "goal": "Find the facts that identify the answer."}
    if protocol == "native":
        calls = [
            {"from": "function_call", "value": json.dumps({"name": n, "arguments": a})}
            for n, a in (("search", search), ("visit", visit))
        ]
        middle = [calls[0], {"from": "observation", "value": m[3].content}]
        middle += [calls[1], {"from": "observation", "value": m[5].content}]
    else:
        middle = [
            {"from": "gpt", "value": text_tool_call("search", search)},
            {"from": "observation", "value": m[3].content},
            {"from": "gpt", "value": text_tool_call("visit", visit)},
            {"from": "observation", "value": m[5].content},
        ]
    expected = [
        {"from": "system", "value": m[0].content},
        {"from": "human", "value": m[1].content},
        *middle,
        {"from": "gpt", "value": m[6].content},
    ]
    assert m[6].content.endswith(f"{task.answer}</answer>")
    sharegpt = to_sharegpt(traj, tools=tools)
    assert len(sharegpt) == 1 and sharegpt[0]["conversations"] == expected
    assert ("tools" in sharegpt[0]) == (protocol == "native")
    if protocol == "native":
        assert json.loads(sharegpt[0]["tools"]) == tools
    openai = to_openai_messages(traj, tools=tools)
    assert len(openai) == 1
    rows = openai[0]["messages"]
    assert [(r["role"], r["content"], r["train"]) for r in rows] == [
        (x.role, x.content, x.train) for x in m
    ]
    if protocol == "native":
        assert openai[0]["tools"] == tools
        assert [r.get("tool_call_id") for r in rows] == [None, None, None, "c1", None, "c2", None]
        assert rows[2]["tool_calls"] == m[2].tool_calls and rows[4]["tool_calls"] == m[4].tool_calls
    else:
        assert "tools" not in openai[0]
        assert not any("tool_calls" in r or "tool_call_id" in r for r in rows)
    json.dumps([sharegpt, openai])  # both are JSON as written
