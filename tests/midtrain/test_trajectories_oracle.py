"""The offline path of long-horizon data: the oracle replay on the pinned synthetic task set.

The same path as the main job (``scripts/main.sh``): ``oracle_scripts`` in a ``ScriptedModel``
handed to the one rollout as its pool, over the environment server of the pinned World. Every
oracle episode is correct, so every task yields a sample that carries the task's answer entity
and evidence documents — and decontamination against that same task set drops them all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from redsearcher.env import build_index
from redsearcher.eval._benchmarks import read_manifest, tasks_path
from redsearcher.log import read_tasks
from redsearcher.midtrain._decontam import decontaminate, load_holdout
from redsearcher.midtrain._trajectories import collect_trajectories, samples_from_runs
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool, RolloutConfig
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import ScriptedModel, oracle_scripts
from redsearcher.world.generate import GeneratorConfig, generate_world


def test_oracle_trajectories_become_samples_and_decontaminate_against_their_tasks(
    tmp_path: Path,
) -> None:
    manifest = read_manifest()
    generate_world(
        GeneratorConfig.model_validate(manifest.world_config),
        tmp_path / "world",
        overwrite=True,
        progress=False,
    )
    build_index(tmp_path / "world", tmp_path / "index", progress=False)
    tasks = read_tasks(tasks_path())
    oracle = ScriptedModel(oracle_scripts(tasks), name="oracle-replay")
    with EnvServer(ServerConfig(index=tmp_path / "index", sandbox=None)) as env:
        summary = asyncio.run(
            collect_trajectories(
                tasks,
                out=tmp_path / "run",
                env_url=env.base_url,
                model=ModelConfig(name=oracle.name, base_url=oracle.endpoint),
                pool=EndpointPool({oracle.endpoint: oracle}),
                config=RolloutConfig(concurrency=4, fsync=False),
            )
        )
    oracle.assert_all_used()
    assert summary.completed == len(tasks) and summary.accuracy == 1.0
    samples, dropped = samples_from_runs([tmp_path / "run"], tasks)
    assert dropped == {}
    assert sorted(s.source["task_id"] for s in samples) == sorted(t.id for t in tasks)
    by_id = {t.id: t for t in tasks}
    for sample in samples:
        task = by_id[sample.source["task_id"]]
        assert sample.answer_entities == [task.answer_entity]
        assert sample.evidence_docs == task.evidence_documents
        calls = [c["function"]["name"] for m in sample.messages for c in m.tool_calls or []]
        assert "search" in calls and "visit" in calls
        assert all(m.loss_weight == 0.0 for m in sample.messages if m.role == "tool")
        final = sample.messages[-1]
        assert final.role == "assistant" and final.loss_weight == 1.0
    kept, reasons = decontaminate(samples, load_holdout([tasks_path()]))
    assert kept == [] and reasons == {"answer_entity": len(tasks)}


def test_cli_rolls_out_the_oracle_for_the_trajectories_kind(tmp_path: Path) -> None:
    """``midtrain --kinds trajectories`` with no runs configured: index, serve, roll out, keep."""
    import json

    from typer.testing import CliRunner

    from redsearcher._cli._app import app
    from redsearcher.log import read_trajectories

    manifest = read_manifest()
    world = tmp_path / "world"
    generate_world(
        GeneratorConfig.model_validate(manifest.world_config), world, overwrite=True, progress=False
    )
    out = tmp_path / "mt"
    args = ["midtrain", str(world), "--out", str(out), "--tasks", str(tasks_path())]
    result = CliRunner().invoke(app, [*args, "--kinds", "trajectories", "--n", "5", "--quiet"])
    assert result.exit_code == 0, result.output
    run = out / "trajectories-rollout"
    trajectories = list(read_trajectories(run))
    assert len(trajectories) == len(read_tasks(tasks_path()))
    assert all(t.score == 1.0 and t.tool_calls for t in trajectories)
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 5 and {s["kind"] for s in samples} == {"trajectories"}
    tool_turns = [m for s in samples for m in s["messages"] if m["role"] == "tool"]
    assert tool_turns and all(m["loss_weight"] == 0.0 for m in tool_turns)
