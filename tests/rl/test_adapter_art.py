"""ART adapter: the trajectory conversion (stand-in classes with ART's documented fields) and,
where ``openpipe-art`` installs (the ``rl-trainers`` extra does not pin it), a real
``rollout(model, scenario)`` returning a real ``art.Trajectory`` — skipped otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from adapter_support import ANSWER, serve_tiny, served
from pydantic import BaseModel, ConfigDict

from redsearcher.log import Message, Segment, Trajectory, TrajectoryProvenance
from redsearcher.rl import SampleReward
from redsearcher.rl.adapters import JudgedEpisode
from redsearcher.rl.adapters.art import Unscored, art_trajectory, rollout
from redsearcher.server import EnvServer
from redsearcher.testing import ScriptedChatServer, Step, ToolCallSpec

pytest.importorskip("openai")


class History(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    messages_and_choices: list[Any]


class ArtTrajectory(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    messages_and_choices: list[Any] = []
    additional_histories: list[History] = []
    reward: float = 0.0
    metrics: dict[str, float | int | bool] = {}
    metadata: dict[str, Any] = {}


def episode(reward: float | None, windows: int = 2) -> JudgedEpisode:
    segments = [
        Segment(
            index=i,
            messages=[
                Message(role="system", content="S"),
                Message(role="user", content="Q?"),
                Message(
                    role="assistant",
                    content="",
                    tool_calls=[
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "search", "arguments": '{"query": ["x"]}'},
                        }
                    ],
                    train=True,
                ),
                Message(role="tool", content="results", tool_call_id="c1"),
                Message(role="assistant", content=f"<answer>{i}</answer>", train=True),
            ],
            first_turn=2 * i,
            end="final" if i == windows - 1 else "discarded",
        )
        for i in range(windows)
    ]
    trajectory = Trajectory(
        id="t#0",
        task_id="t",
        sample=0,
        question="Q?",
        segments=segments,
        prediction="1",
        termination="answer",
        turns=2 * windows,
        provenance=TrajectoryProvenance(model="m", protocol="native"),
    )
    return JudgedEpisode(
        trajectory,
        SampleReward(
            reward=reward,
            outcome=reward,
            unscored_reason=None if reward is not None else "judge down",
        ),
        [],
    )


def test_each_context_window_is_a_history_and_model_turns_are_choices() -> None:
    from openai.types.chat.chat_completion import Choice

    out = art_trajectory(episode(1.0), ArtTrajectory, History)
    assert out.reward == 1.0 and out.metrics["segments"] == 2
    [extra] = out.additional_histories
    for items in (out.messages_and_choices, extra.messages_and_choices):
        kinds = [type(x).__name__ if isinstance(x, Choice) else x["role"] for x in items]
        assert kinds == ["system", "user", "Choice", "tool", "Choice"]
    call = out.messages_and_choices[2].message.tool_calls[0]
    assert call.function.name == "search" and out.messages_and_choices[3]["tool_call_id"] == "c1"
    assert extra.messages_and_choices[4].message.content == "<answer>1</answer>"


def test_an_unscored_episode_raises_for_gather_to_drop() -> None:
    with pytest.raises(Unscored, match="judge down"):
        art_trajectory(episode(None), ArtTrajectory, History)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("art"))


def test_a_real_art_rollout(env: EnvServer) -> None:
    art = pytest.importorskip("art")
    steps = [
        Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Marta Velden"]})]),
        Step(content=f"<answer>{ANSWER}</answer>"),
    ]
    with ScriptedChatServer(steps) as policy:
        model = art.Model(
            name="scripted",
            project="redsearcher",
            inference_base_url=policy.base_url,
            inference_api_key="x",
            inference_model_name="scripted",
        )
        scenario = {
            "id": "t1",
            "question": "Who is Marta Velden's sibling?",
            "answer": ANSWER,
            "env_url": env.base_url,
            "agent": {"tools": ["search", "visit"]},
        }
        before = served(env.base_url)
        out = asyncio.run(rollout(model, scenario))
    assert isinstance(out, art.Trajectory) and out.reward == 1.0
    assert served(env.base_url) == before + 1
    assert out.additional_histories == []
