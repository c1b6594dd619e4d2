from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.env import LocalEnvironment, build_index
from redsearcher.errors import ConfigError
from redsearcher.export import export_sft, is_observation, to_openai_messages, to_sharegpt
from redsearcher.log import (
    Message,
    RunLog,
    RunManifest,
    Segment,
    Task,
    Trajectory,
    TrajectoryProvenance,
)
from redsearcher.model import ModelConfig, OpenAIChatModel
from redsearcher.testing import ScriptedChatServer, Step, text_answer, text_tool_call, tiny_world
from redsearcher.tools import Toolbox

TOOLS = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "search", "arguments": '{"query": ["x"]}'},
}


def native_trajectory() -> Trajectory:
    """Two segments (a discard-all reset after the first search), native tool calls."""
    system = Message(role="system", content="You search.")
    first = [
        system,
        Message(role="user", content="Who?"),
        Message(
            role="assistant",
            content="Let me look.",
            tool_calls=[CALL],
            reasoning="plan",
            train=True,
        ),
        Message(role="tool", content="results 1", tool_call_id="call_1"),
    ]
    second = [
        system,
        Message(role="user", content="Who? (history was reset)"),
        Message(
            role="assistant", content="", tool_calls=[CALL, {**CALL, "id": "call_2"}], train=True
        ),
        Message(role="tool", content="r2", tool_call_id="call_1"),
        Message(role="tool", content="r3", tool_call_id="call_2"),
        Message(role="assistant", content="<answer>Ada</answer>", train=True),
    ]
    return Trajectory(
        id="t#0", task_id="t", sample=0, question="Who?", answers=["Ada"],
        segments=[
            Segment(index=0, messages=first, first_turn=0, end="discarded"),
            Segment(index=1, messages=second, first_turn=1, end="final"),
        ],
        prediction="Ada", termination="answer", score=1.0,
        provenance=TrajectoryProvenance(model="m", protocol="native"),
    )  # fmt: skip


def test_sharegpt_native_one_sample_per_segment() -> None:
    samples = to_sharegpt(native_trajectory(), tools=TOOLS)
    assert len(samples) == 2
    first, second = samples
    assert json.loads(first["tools"]) == TOOLS
    assert [t["from"] for t in first["conversations"]] == [
        "system",
        "human",
        "gpt",
        "function_call",
    ]
    # The trailing observation of a discarded window trains nothing: it is cut.
    assert first["conversations"][2]["value"] == "<think>\nplan\n</think>\n\nLet me look."
    assert json.loads(first["conversations"][3]["value"]) == {
        "name": "search",
        "arguments": {"query": ["x"]},
    }
    kinds = [t["from"] for t in second["conversations"]]
    assert kinds == [
        "system",
        "human",
        "function_call",
        "function_call",
        "observation",
        "observation",
        "gpt",
    ]
    assert second["conversations"][-1]["value"] == "<answer>Ada</answer>"
    assert all("loss" not in t for t in second["conversations"])


def test_openai_messages_keep_the_chat_schema_and_flag_every_message() -> None:
    samples = to_openai_messages(native_trajectory(), tools=TOOLS)
    assert len(samples) == 2 and samples[0]["tools"] == TOOLS
    messages = samples[1]["messages"]
    assert [m["role"] for m in messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
    ]
    assert [m["train"] for m in messages] == [False, False, True, False, False, True]
    assert (
        messages[2]["tool_calls"][1]["id"] == "call_2" and messages[3]["tool_call_id"] == "call_1"
    )
    assert samples[0]["messages"][2]["reasoning_content"] == "plan"
    swift = to_openai_messages(native_trajectory(), tools=TOOLS, flag_key="loss")
    assert [m["loss"] for m in swift[1]["messages"]][-1] is True


def test_untrained_assistant_turns_are_marked_and_untrained_segments_skipped() -> None:
    t = native_trajectory()
    msgs = t.segments[1].messages
    msgs[2] = msgs[2].model_copy(update={"train": False})
    nothing = Segment(index=2, messages=[msgs[0], msgs[1]], first_turn=3, end="final")
    t = t.model_copy(update={"segments": [t.segments[1], nothing]})
    (sample,) = to_sharegpt(t, tools=TOOLS)
    assert [c.get("loss") for c in sample["conversations"]][2:4] == [False, False]
    assert len(to_openai_messages(t)) == 1


def text_trajectory(role: str) -> Trajectory:
    call = text_tool_call("search", {"query": ["x"]})
    observation = Message(role=role, content="<tool_response>\nresults\n</tool_response>")  # type: ignore[arg-type]
    messages = [
        Message(role="system", content="You search.\n<tools>...</tools>"),
        Message(role="user", content="Who wrote <tool_response>?"),  # a question, even so
        Message(role="assistant", content=f"I will search.\n{call}", train=True),
        observation,
        Message(role="assistant", content=text_answer("Ada"), train=True),
    ]
    return Trajectory(
        id="t#0", task_id="t", sample=0, question="Who?", answers=["Ada"],
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        prediction="Ada", termination="answer", score=1.0,
        provenance=TrajectoryProvenance(model="m", protocol="text"),
    )  # fmt: skip


@pytest.mark.parametrize("role", ["user", "tool"])
def test_sharegpt_text_protocol_tool_responses_are_observations(role: str) -> None:
    (sample,) = to_sharegpt(text_trajectory(role), tools=TOOLS)
    assert "tools" not in sample  # already in the system prompt
    kinds = [t["from"] for t in sample["conversations"]]
    assert kinds == ["system", "human", "gpt", "observation", "gpt"]
    assert "<tool_call>" in sample["conversations"][2]["value"]
    (openai,) = to_openai_messages(text_trajectory(role), tools=TOOLS)
    assert "tools" not in openai and [m["train"] for m in openai["messages"]] == [
        False,
        False,
        True,
        False,
        True,
    ]


def test_is_observation() -> None:
    response = "<tool_response>\nx\n</tool_response>"
    assert is_observation(Message(role="tool", content="x"))
    assert is_observation(Message(role="user", content=response))
    assert not is_observation(Message(role="user", content=response), first_user=True)
    assert not is_observation(Message(role="user", content="plain follow-up"))
    assert not is_observation(Message(role="assistant", content=response, train=True))


def write_run(path: Path, trajectories: list[Trajectory]) -> Path:
    manifest = RunManifest(model="m", protocol="native", tasks_digest="d", n_samples=3, tools=TOOLS)
    with RunLog.open(path, manifest, fsync=False) as log:
        log.append_many(trajectories)
    return path


def test_export_sft_filters_then_writes_jsonl(tmp_path: Path) -> None:
    good = native_trajectory()
    wrong = good.model_copy(update={"id": "t#1", "sample": 1, "prediction": "Bob", "score": 0.0})
    other = good.model_copy(update={"id": "u#0", "task_id": "u"})
    run = write_run(tmp_path / "run", [wrong, good, other])
    out = tmp_path / "sft.jsonl"
    summary = export_sft(run, out, format="sharegpt")
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == summary.samples == 4  # two trajectories, two segments each
    assert (summary.trajectories, summary.exported) == (3, 2)
    assert summary.dropped == {"incorrect": 1}
    everything = export_sft(run, tmp_path / "all.jsonl", format="openai", apply_filter=False)
    assert everything.samples == 6 and not everything.dropped
    first = json.loads((tmp_path / "all.jsonl").read_text().splitlines()[0])
    assert first["tools"] == TOOLS and "train" in first["messages"][0]
    with pytest.raises(ConfigError, match="sharegpt"):
        export_sft(run, tmp_path / "x.jsonl", format="alpaca")


# -- a real text-protocol episode, exported --------------------------------------------------------


def test_a_real_text_protocol_episode_exports_observations_correctly(tmp_path: Path) -> None:
    tiny_world(tmp_path / "w")
    build_index(tmp_path / "w", tmp_path / "w.index", progress=False)
    steps = [
        Step(content="Searching.\n" + text_tool_call("search", {"query": ["Quiet Harbor"]})),
        Step(content=text_answer("The Quiet Harbor")),
    ]

    async def episode(base_url: str) -> Trajectory:
        model = OpenAIChatModel(ModelConfig(name="m", base_url=base_url, protocol="text"))
        with LocalEnvironment.open(tmp_path / "w.index") as env:
            async with model, Toolbox.local(env, tools=["search"]) as toolbox:
                task = Task(id="q", question="Which film?", answer="The Quiet Harbor")
                return await run_episode(
                    task, model=model, toolbox=toolbox, config=AgentConfig(tools=["search"])
                )

    with ScriptedChatServer(steps) as server:
        trajectory = asyncio.run(episode(server.base_url))
    (sample,) = to_sharegpt(trajectory)
    kinds = [t["from"] for t in sample["conversations"]]
    assert kinds == ["system", "human", "gpt", "observation", "gpt"], kinds
    assert "The Quiet Harbor" in sample["conversations"][3]["value"]
    (messages,) = to_openai_messages(trajectory)
    flags: list[Any] = [(m["role"], m["train"]) for m in messages["messages"]]
    assert flags == [
        ("system", False),
        ("user", False),
        ("assistant", True),
        ("user", False),
        ("assistant", True),
    ]
