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

from redsearcher.agent import AgentConfig, AgentTask, Trajectory, run_episode
from redsearcher.env import ServicesConfig, Toolbox
from redsearcher.env.server import EnvServer, ServerConfig
from redsearcher.eval._match import exact_match
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.synth import SynthConfig, Task, open_verifier, read_tasks, synthesize
from redsearcher.testing import ScriptedChatServer, Step, ToolCallSpec, text_answer, text_tool_call
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
    agent_task = AgentTask(id=task.id, question=task.question, answers=task.answers)
    with (
        EnvServer(ServerConfig(index=index, sandbox=None)) as env_server,
        ScriptedChatServer(_steps(task, queries, protocol)) as chat,
    ):

        async def main() -> Trajectory:
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
                return await run_episode(
                    agent_task,
                    model=model,
                    toolbox=box,
                    config=AgentConfig(),
                    world_hash=task.provenance.world_hash,
                )

        traj = asyncio.run(main())
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
    assert (
        traj.segments[0].messages[1].content.endswith(task.question)
        or task.question in traj.segments[0].messages[1].content
    )
    trained = [m.role for m in traj.messages if m.train]
    assert trained == ["assistant"] * 3
    if protocol == "native":
        assert [t["function"]["name"] for t in first_request["tools"]][:2] == ["search", "visit"]  # type: ignore[index]
    else:
        assert "tools" not in first_request and "<tools>" in first_request["messages"][0]["content"]  # type: ignore[index]
    from redsearcher.export._sft import to_sharegpt

    rows = to_sharegpt(traj)
    assert len(rows) == 1
    roles = [turn["from"] for turn in rows[0]["conversations"]]
    assert roles[:2] == ["system", "human"] and roles[-1] == "gpt"
    assert "observation" in roles and json.dumps(rows[0])
