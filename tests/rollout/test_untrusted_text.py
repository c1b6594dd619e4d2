"""Model output is untrusted: a reply holding lone surrogates never stops a rollout.

A model can write ``\\ud800`` (a UTF-16 half with no pair) inside its tool-call JSON or its
answer. Python decodes it into a string no UTF-8 encoder accepts; before the fix it made the
toolbox's cache key, the next request and the run log's append raise — one reply killed the
run, and resume re-ran the same episode into the same crash. Here the real loop, tools and run
log run a rollout under both protocols, and a resume of it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Literal

import pytest
from rollout_support import make_manifest

from redsearcher.agent import AgentConfig
from redsearcher.env import LocalEnvironment
from redsearcher.log import TRAJECTORIES_FILE, RunLog, Task, read_trajectories
from redsearcher.rollout import EndpointPool, RolloutConfig, rollout
from redsearcher.testing import Script, ScriptedModel, Step, ToolCallSpec, text_answer
from redsearcher.tools import Toolbox

Protocol = Literal["native", "text"]

#: What the model wrote: a search and a visit whose arguments hold lone surrogates.
SEARCH = {"query": ["Quiet Harbor", "cast \ud800 list"]}
VISIT = {"url": "https://example.org/\udfff", "goal": "the cast"}


def bad_calls(protocol: Protocol) -> Step:
    if protocol == "native":
        return Step(
            tool_calls=[
                ToolCallSpec(name="search", arguments=SEARCH),
                ToolCallSpec(name="visit", arguments=VISIT),
            ]
        )
    # The text protocol: the model writes the escapes in its JSON, as a model would.
    calls = [
        json.dumps({"name": name, "arguments": args})  # ensure_ascii: "\ud800" as an escape
        for name, args in (("search", SEARCH), ("visit", VISIT))
    ]
    return Step(content="".join(f"<tool_call>\n{c}\n</tool_call>" for c in calls))


def scripts(protocol: Protocol, tasks: list[Task]) -> list[Script]:
    return [
        Script(
            match=task.question,
            steps=[bad_calls(protocol), Step(content=text_answer(f"Ilse \ud800Velden {task.id}"))],
        )
        for task in tasks
    ]


def run(
    tmp_path: Path, env: LocalEnvironment, protocol: Protocol, tasks: list[Task]
) -> tuple[Any, ScriptedModel]:
    model = ScriptedModel(scripts(protocol, tasks), protocol=protocol)

    async def go() -> Any:
        pool = EndpointPool({model.endpoint: model})
        try:
            with RunLog.open(
                tmp_path / "run", make_manifest(protocol=protocol, n_samples=1)
            ) as log:
                async with Toolbox.local(env, tools=["search", "visit"]) as toolbox:
                    return await rollout(
                        tasks,
                        config=RolloutConfig(concurrency=4),
                        pool=pool,
                        toolbox=toolbox,
                        agent_config=AgentConfig(tools=["search", "visit"]),
                        log=log,
                    )
        finally:
            await pool.aclose()

    return asyncio.run(go()), model


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_lone_surrogates_in_tool_calls_become_tool_errors_and_the_run_and_resume_complete(
    tmp_path: Path, tiny_env: LocalEnvironment, protocol: Protocol
) -> None:
    tasks = [Task(id=f"t{i}", question=f"Question number {i}?", answer="x") for i in range(3)]
    summary, model = run(tmp_path, tiny_env, protocol, tasks[:2])
    assert summary.completed == 2 and summary.finished
    model.assert_all_used()

    # The model read a tool error naming each bad argument; the next request went out.
    second = [c for c in model.calls if len(c.messages) > 2]
    assert len(second) == 2
    seen = "\n".join(m.content for m in second[0].messages[2:])
    assert "The argument 'query.1' of search is not valid Unicode text" in seen
    assert "The argument 'url' of visit is not valid Unicode text" in seen

    # The run log is valid UTF-8 JSON, the repairs are counted, and nothing else changed.
    raw = (tmp_path / "run" / TRAJECTORIES_FILE).read_bytes()
    raw.decode("utf-8")
    trajectories = {t.id: t for t in read_trajectories(tmp_path / "run")}
    assert sorted(trajectories) == ["t0#0", "t1#0"]
    for t in trajectories.values():
        assert t.termination == "answer"
        assert t.prediction == f"Ilse \ufffdVelden {t.task_id}"
        assert [c.error for c in t.tool_calls] == [True, True]
        assert t.failed_tool_calls == 2 and t.text_repairs >= 2
        assert "\ufffd" in json.dumps(t.tool_calls[0].arguments, ensure_ascii=False)

    # Resume: the done episodes are skipped, the new task runs into the same reply and ends.
    summary, _ = run(tmp_path, tiny_env, protocol, tasks)
    assert (summary.skipped, summary.completed) == (2, 1) and summary.finished
    assert sorted(t.id for t in read_trajectories(tmp_path / "run")) == ["t0#0", "t1#0", "t2#0"]
