"""``redsearcher bench``: the pinned synthetic benchmark end to end, and its refusals.

The agent is the oracle replay (each task's verified walk as a scripted model): it searches with
the queries that found the evidence, visits every evidence URL and answers the reference answer,
so the numbers the summary must report are known from the task set alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from redsearcher._cli._app import main
from redsearcher.env import build_index
from redsearcher.errors import UserError
from redsearcher.eval import run_bench
from redsearcher.eval._benchmarks import _synthetic, read_manifest, tasks_path
from redsearcher.log import read_tasks
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import (
    ScriptedChatServer,
    ScriptedModel,
    Step,
    oracle_scripts,
    small_world,
    text_answer,
)


def test_pinned_manifest_matches_its_task_file_and_grid() -> None:
    manifest = read_manifest()
    tasks = read_tasks(tasks_path())
    assert manifest.task_count == len(tasks) >= 24
    cells: dict[str, int] = {}
    for task in tasks:
        assert task.synthesized and task.evidence_urls and task.world_hash == manifest.world_hash
        cells[f"{task.treewidth},{task.msd}"] = cells.get(f"{task.treewidth},{task.msd}", 0) + 1
    assert cells == {cell: n for cell, n in manifest.cells.items() if n}
    assert len(cells) >= 6  # the grid spans treewidth 1-3 and MSD 2-4


def test_a_modified_task_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for source in (_synthetic.manifest_path(), tasks_path()):
        shutil.copy(source, tmp_path / source.name)
    monkeypatch.setattr(_synthetic, "_DATA", tmp_path)
    with (tmp_path / tasks_path().name).open("a") as handle:
        handle.write("\n")
    with pytest.raises(UserError, match=r"sha256 .* differs from the manifest"):
        read_manifest()


def test_bench_cli_on_the_pinned_set_reports_the_oracle_numbers(tmp_path: Path) -> None:
    tasks = read_tasks(tasks_path())
    out = tmp_path / "bench"
    with ScriptedChatServer(oracle_scripts(tasks)) as model:
        with pytest.raises(SystemExit) as done:
            main(
                [
                    "bench",
                    "redsearcher-synthetic",
                    "--model",
                    "scripted",
                    "--base-url",
                    model.base_url,
                    "--out",
                    str(out),
                    "--quiet",
                ]
            )
        assert done.value.code == 0
        model.assert_all_used()
    report = json.loads((out / "summary.json").read_text())
    identity = report["identity"]
    manifest = read_manifest()
    assert identity["world_hash"] == manifest.world_hash
    assert identity["file_sha256"] == manifest.tasks_sha256
    assert (identity["benchmark"], identity["version"]) == ("redsearcher-synthetic", "v1")
    summary = report["summary"]
    assert summary["accuracy"]["value"] == 1.0
    assert summary["accuracy"]["scored"] == len(tasks)
    process = summary["process"]
    assert process["trajectories"] == len(tasks)
    assert process["read_recall"] == 1.0  # the oracle visits every evidence URL
    assert process["retrieved_recall"] == 1.0
    assert process["over_search_turns"]["max"] == 0.0
    records = {r["task_id"]: r for r in summary["process_records"]}
    for task in tasks:
        # The oracle replays route and scholar look-ups but computes nothing with python.
        expected = {tool: tool != "python" for tool in task.required_tools}
        assert records[task.id]["required_tools"] == expected
        # ... and the route and citation count it gets back decide the constraint.
        assert records[task.id]["deciding_values"] == expected
    cells = {(c["treewidth"], c["msd"]): c for c in summary["difficulty"]}
    assert set(cells) == {(t.treewidth, t.msd) for t in tasks}
    verdicts = (out / "rollout" / "verdicts-exact.jsonl").read_text().splitlines()
    assert len(verdicts) == len(tasks)


def test_bench_tool_free_regime_and_repeats(tmp_path: Path) -> None:
    tasks = read_tasks(tasks_path())
    oracle = ScriptedModel(oracle_scripts(tasks) * 2, name="oracle")
    guesser = ScriptedModel(default=Step(content=text_answer("no idea")), name="guesser")
    result = _run(
        run_bench(
            "redsearcher-synthetic",
            out=tmp_path,
            model=ModelConfig(name="oracle", base_url=oracle.endpoint),
            n_repeats=2,
            tool_free=True,
            pool=EndpointPool({oracle.endpoint: oracle}),
            tool_free_pool=EndpointPool({guesser.endpoint: guesser}),
        )
    )
    report = result.report
    assert report.summary.repeats.k == 2
    assert report.summary.repeats.pass_at_k == {1: 1.0, 2: 1.0}
    assert report.tool_free is not None and report.tool_free.accuracy.value == 0.0
    assert report.tool_free.tools == {}
    gap = report.regime_gap
    assert gap is not None
    assert (gap.tasks, gap.tool_free, gap.tool_enabled, gap.gap) == (len(tasks), 0.0, 1.0, 1.0)


def test_bench_refuses_an_environment_of_another_world(tmp_path: Path) -> None:
    small_world(tmp_path / "w", entities=200)
    build_index(tmp_path / "w", tmp_path / "i", progress=False)
    model = ScriptedModel(default=Step(content=text_answer("x")))
    pinned_world = "is not the pinned redsearcher-synthetic v1 World"
    with (
        EnvServer(ServerConfig(index=tmp_path / "i", port=0)) as server,
        pytest.raises(UserError, match=pinned_world),
    ):
        _run(
            run_bench(
                "redsearcher-synthetic",
                out=tmp_path / "b",
                model=ModelConfig(name="m", base_url=model.endpoint),
                env_url=server.base_url,
                pool=EndpointPool({model.endpoint: model}),
            )
        )


def test_bench_file_benchmark_needs_file_and_env(tmp_path: Path) -> None:
    model = ModelConfig(name="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(UserError, match="needs its file"):
        _run(run_bench("browsecomp", out=tmp_path, model=model, env_url="http://x"))
    fixture = Path(__file__).parents[1] / "fixtures" / "benchmarks" / "browsecomp.csv"
    with pytest.raises(UserError, match="needs an environment server"):
        _run(run_bench("browsecomp", out=tmp_path, model=model, file=fixture))
    with pytest.raises(UserError, match="unknown benchmark"):
        _run(run_bench("nope", out=tmp_path, model=model))


def _run(coro):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(coro)


def test_bench_on_a_benchmark_file_records_its_sha256(tmp_path: Path) -> None:
    fixture = Path(__file__).parents[1] / "fixtures" / "benchmarks" / "generic.jsonl"
    small_world(tmp_path / "w", entities=200)
    build_index(tmp_path / "w", tmp_path / "i", progress=False)
    # Right on the first question (Harwick), wrong on the second (1990).
    model = ScriptedModel(default=Step(content=text_answer("Harwick")))
    with EnvServer(ServerConfig(index=tmp_path / "i", port=0)) as server:
        result = _run(
            run_bench(
                "jsonl",
                out=tmp_path / "b",
                model=ModelConfig(name="m", base_url=model.endpoint),
                file=fixture,
                env_url=server.base_url,
                pool=EndpointPool({model.endpoint: model}),
            )
        )
    identity = result.report.identity
    assert identity.file_sha256 == hashlib.sha256(fixture.read_bytes()).hexdigest()
    assert (identity.default_judge, identity.judge, identity.world_hash) == ("exact", "exact", None)
    assert result.report.summary.accuracy.value == 0.5
    assert result.report.summary.process is None  # no provenance in a question file
