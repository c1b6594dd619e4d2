"""Long-horizon trajectories: the one rollout, the SFT post-filter, observations never trained.

Episodes run through ``run_rollout`` (the agent loop, the tools over the environment server of
the tiny World) with an in-process scripted policy, exactly as the main job runs its oracle
replay: one task answered correctly after a search, one answered wrongly, one answered correctly
after too many failed tool calls. Only the first may become mid-training data.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from redsearcher.errors import UserError
from redsearcher.log import Task
from redsearcher.midtrain import GenContext, MidtrainSample, Rejection
from redsearcher.midtrain._trajectories import (
    TrajectoryGenerator,
    collect_trajectories,
    samples_from_runs,
)
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool, RolloutConfig
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Script, ScriptedModel, Step, ToolCallSpec, tiny_world

SEARCH = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])
VISIT = Step(tool_calls=[ToolCallSpec(name="visit", arguments={"url": ["x"], "goal": "director"})])
BROKEN = Step(tool_calls=[ToolCallSpec(name="no_such_tool", arguments={})])
TASKS = [
    Task(id="good", question="Which film did Marta Velden direct?", answer="The Quiet Harbor"),
    Task(id="wrong", question="Which company produced it?", answer="Ostrand Pictures"),
    Task(id="broken", question="Name the film again.", answer="The Quiet Harbor"),
]
SCRIPTS = [
    Script(
        match="Marta Velden direct",
        steps=[SEARCH, Step(content="<answer>The Quiet Harbor</answer>")],
    ),
    Script(match="produced it", steps=[SEARCH, Step(content="<answer>Harwick</answer>")]),
    Script(
        match="film again",
        steps=[BROKEN, BROKEN, BROKEN, BROKEN, Step(content="<answer>The Quiet Harbor</answer>")],
    ),
]


@pytest.fixture(scope="module")
def run(tiny_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traj") / "run"
    policy = ScriptedModel(SCRIPTS, name="policy")
    with EnvServer(ServerConfig(index=tiny_index, sandbox=None)) as env:
        summary = asyncio.run(
            collect_trajectories(
                TASKS,
                out=out,
                env_url=env.base_url,
                model=ModelConfig(name=policy.name, base_url=policy.endpoint),
                pool=EndpointPool({policy.endpoint: policy}),
                config=RolloutConfig(concurrency=1, fsync=False),
            )
        )
    assert summary.completed == 3
    policy.assert_all_used()
    return out


def test_only_correct_clean_trajectories_become_samples(run: Path) -> None:
    samples, dropped = samples_from_runs([run], TASKS)
    assert dropped == {"incorrect": 1, "failed_tool_calls": 1}
    (sample,) = samples
    assert sample.kind == "trajectories" and sample.stage == "II"
    assert sample.source["task_id"] == "good" and sample.question == TASKS[0].question
    roles = [(m.role, m.loss_weight) for m in sample.messages]
    assert roles == [
        ("system", 0.0),
        ("user", 0.0),
        ("assistant", 1.0),
        ("tool", 0.0),
        ("assistant", 1.0),
    ]
    call = sample.messages[2].tool_calls
    assert call and call[0]["function"]["name"] == "search"
    assert "The Quiet Harbor" in sample.messages[3].content  # the environment's real result
    assert "The Quiet Harbor" in sample.messages[4].content
    # The offered tools travel with the sample (native protocol), as the SFT export writes them.
    assert {t["function"]["name"] for t in sample.source["tools"]} >= {"search", "visit"}


def test_generator_yields_samples_and_filter_rejections(run: Path, tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    ctx = GenContext(
        world, world.content_hash, tasks=TASKS, options={"trajectories": {"runs": [str(run)]}}
    )
    generator = TrajectoryGenerator()
    generator.check(ctx)
    out = list(generator.generate(ctx, 10, 7))
    rejections = sorted(r.reason for r in out if isinstance(r, Rejection))
    assert rejections == ["failed_tool_calls", "incorrect"]
    (sample,) = [s for s in out if isinstance(s, MidtrainSample)]
    assert sample.id == "trajectories-7-0" and sample.source["world_hash"] == world.content_hash
    # A looser filter keeps the broken one too; the same run, the same order.
    loose = GenContext(
        world,
        world.content_hash,
        tasks=TASKS,
        options={
            "trajectories": {
                "runs": [str(run)],
                "filter": {"max_failed_tool_calls": None, "max_failed_fraction": None},
            }
        },
    )
    kept = [s for s in generator.generate(loose, 10, 7) if isinstance(s, MidtrainSample)]
    assert sorted(s.source["task_id"] for s in kept) == ["broken", "good"]
    broken = next(s for s in kept if s.source["task_id"] == "broken")
    errors = [m for m in broken.messages if m.role == "tool"]
    assert len(errors) == 4 and all(m.loss_weight == 0.0 for m in errors)
    json.dumps([s.model_dump() for s in kept])  # serializable


def test_missing_runs_are_a_clear_error(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    generator = TrajectoryGenerator()
    with pytest.raises(UserError, match="runs"):
        generator.check(GenContext(world, world.content_hash))
    with pytest.raises(UserError, match="unknown trajectories option"):
        generator.check(
            GenContext(world, world.content_hash, options={"trajectories": {"run": "x"}})
        )
    with pytest.raises(UserError, match="nowhere"):
        generator.check(
            GenContext(
                world,
                world.content_hash,
                options={"trajectories": {"runs": [str(tmp_path / "nowhere")]}},
            )
        )
