"""The mixture run: counts, formats, loss weights, buckets, resume without duplicates, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from redsearcher._cli._app import app
from redsearcher.errors import UserError
from redsearcher.log import HeaderMismatch, read_tasks
from redsearcher.midtrain import (
    SAMPLES_FILE,
    MidtrainMessage,
    MidtrainSample,
    MixtureConfig,
    _mixture,
    bucket_of,
    pack_texts,
    run_midtrain,
    to_openai,
    to_sharegpt,
)
from redsearcher.midtrain._dedupe import DedupeConfig
from redsearcher.model import TokenCounter
from redsearcher.testing import small_world

FIXTURE = Path(__file__).parents[1] / "fixtures" / "midtrain" / "tasks-small300.jsonl"


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mt") / "world"
    small_world(path, entities=300, seed=0)
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_counts_follow_stage_and_kind_ratios() -> None:
    config = MixtureConfig(total=100, kinds=["grounding", "planning", "tools"])
    assert config.counts() == {"grounding": 30, "planning": 20, "tools": 50}
    only_one_stage = MixtureConfig(total=10, kinds=["grounding", "planning"])
    assert only_one_stage.counts() == {"grounding": 6, "planning": 4}
    odd = MixtureConfig(total=7, kinds=["grounding", "planning"], ratios={"grounding": 1.0})
    assert odd.counts() == {"grounding": 7, "planning": 0}
    with pytest.raises(ValueError):
        MixtureConfig(kinds=[])
    for threshold in (0.0, 1.5):
        with pytest.raises(ValueError, match="dedupe_threshold"):
            MixtureConfig(dedupe_threshold=threshold)


def test_run_writes_formats_with_loss_weights_and_a_summary(
    world_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    config = MixtureConfig(total=30, kinds=["grounding", "planning"], seed=5)
    summary = run_midtrain(world_dir, out, config, tasks_file=FIXTURE)
    grounding, planning = summary.kinds["grounding"], summary.kinds["planning"]
    assert (grounding.wanted, grounding.samples) == (18, 18)
    assert planning.wanted == 12 and planning.samples == len(read_tasks(FIXTURE)) == 12
    assert grounding.tokens > 0 and grounding.buckets == {"32k": grounding.written}
    assert grounding.rewrites == {"offline": 18}
    samples = _lines(out / SAMPLES_FILE)
    assert len({s["id"] for s in samples}) == len(samples) == 30
    assert all(s["tokens"] > 0 for s in samples)
    share = _lines(out / "sharegpt" / "32k.jsonl")
    openai = _lines(out / "openai" / "32k.jsonl")
    texts = _lines(out / "text" / "pretrain.jsonl")
    written = grounding.written + planning.written
    assert len(share) == len(openai) == len(texts) == written
    for row in share:
        roles = [t["from"] for t in row["conversations"]]
        assert roles[0] == "system" and "gpt" in roles
        assert all("loss" not in t for t in row["conversations"])  # every gpt turn trained
    for row in openai:
        for m in row["messages"]:
            assert m["train"] == (m["role"] == "assistant")
            assert m["loss_weight"] == (1.0 if m["role"] == "assistant" else 0.0)
    saved = json.loads((out / "summary.json").read_text())
    assert saved["kinds"]["grounding"]["samples"] == 18


def test_interrupted_run_resumes_without_duplicates(world_dir: Path, tmp_path: Path) -> None:
    config = MixtureConfig(total=20, kinds=["grounding", "planning"], seed=2)
    whole = tmp_path / "whole"
    run_midtrain(world_dir, whole, config, tasks_file=FIXTURE)

    class Killed(Exception):
        pass

    def kill(kind: str, done: int, wanted: int) -> None:
        if done >= 4:
            raise Killed

    out = tmp_path / "resumed"
    with pytest.raises(Killed):
        run_midtrain(world_dir, out, config, tasks_file=FIXTURE, progress=kill, batch=2)
    assert len(_lines(out / SAMPLES_FILE)) == 4
    summary = run_midtrain(world_dir, out, config, tasks_file=FIXTURE, batch=2)
    assert summary.kinds["grounding"].resumed == 4
    resumed = sorted(_lines(out / SAMPLES_FILE), key=lambda s: s["id"])
    assert resumed == sorted(_lines(whole / SAMPLES_FILE), key=lambda s: s["id"])
    # a third run finds everything done and writes nothing new
    again = run_midtrain(world_dir, out, config, tasks_file=FIXTURE)
    assert again.kinds["grounding"].resumed == again.kinds["grounding"].wanted
    assert len(_lines(out / SAMPLES_FILE)) == 20
    # another config in the same directory is refused, naming what differs
    with pytest.raises(HeaderMismatch, match="seed"):
        run_midtrain(world_dir, out, config.model_copy(update={"seed": 3}), tasks_file=FIXTURE)


def test_unavailable_kind_is_a_clear_error(
    world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(_mixture._GENERATORS, "tools", ("_no_such_module", "ToolsGenerator"))
    with pytest.raises(UserError, match="'tools' is not available in this build"):
        run_midtrain(world_dir, tmp_path / "o", MixtureConfig(kinds=["grounding", "tools"]))
    assert not (tmp_path / "o").exists()


def test_planning_without_tasks_fails_before_writing(world_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="planning needs synthesized tasks"):
        run_midtrain(world_dir, tmp_path / "o", MixtureConfig(kinds=["planning"]))
    assert not (tmp_path / "o").exists()


CALL = {"id": "c1", "type": "function", "function": {"name": "search", "arguments": '{"q": "a"}'}}


def _sample(stage: str, chars: int) -> MidtrainSample:
    return MidtrainSample(
        id="s",
        kind="grounding" if stage == "I" else "tools",
        stage=stage,  # type: ignore[arg-type]
        messages=[
            MidtrainMessage(role="user", content="x" * chars),
            MidtrainMessage(
                role="assistant",
                content="",
                loss_weight=1.0,
                tool_calls=[CALL],
            ),
            MidtrainMessage(role="tool", content="result", tool_call_id="c1", name="search"),
            MidtrainMessage(role="assistant", content="done", loss_weight=0.0),
        ],
    )


def test_sharegpt_and_openai_shapes_for_tool_turns() -> None:
    row = to_sharegpt(_sample("II", 10))
    turns = row["conversations"]
    assert [t["from"] for t in turns] == ["human", "function_call", "observation", "gpt"]
    assert json.loads(turns[1]["value"]) == {"name": "search", "arguments": {"q": "a"}}
    assert "loss" not in turns[1] and turns[3]["loss"] is False
    messages = to_openai(_sample("II", 10))["messages"]
    assert messages[2] == {"role": "tool", "content": "result", "tool_call_id": "c1",
                           "name": "search", "loss_weight": 0.0, "train": False}  # fmt: skip


def test_buckets_and_packing() -> None:
    counter = TokenCounter()
    small = _sample("I", 100).model_copy(update={"tokens": 1_000})
    assert bucket_of(small) == "32k"
    assert bucket_of(small.model_copy(update={"tokens": 40_000})) == "128k"
    assert bucket_of(small.model_copy(update={"tokens": 200_000})) is None
    rows = [{"id": str(i), "text": "word " * 400} for i in range(10)]
    each = counter.count_text(rows[0]["text"])
    packed = list(pack_texts(rows, counter, limit=3 * each + 10))
    assert [p["id"] for p in packed] == ["0+1+2", "3+4+5", "6+7+8", "9"]
    assert all(p["tokens"] <= 3 * each + 10 for p in packed)


def test_cli_runs_and_prints_the_summary(world_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app,
        ["midtrain", str(world_dir), "--out", str(out), "--tasks", str(FIXTURE), "--n", "10",
         "--kinds", "grounding,planning", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "grounding" in result.output and "planning" in result.output
    assert len(_lines(out / SAMPLES_FILE)) == 10
    bad = CliRunner().invoke(app, ["midtrain", str(world_dir), "--out", str(out), "--kinds", "x"])
    assert bad.exit_code != 0 and "unknown kind 'x'" in str(bad.exception)


def test_dedupe_and_decontamination_are_applied_and_counted_per_kind(
    world_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver's side of the filters (the filters themselves are tested on their own)."""
    import types
    from collections import Counter

    held_file = tmp_path / "held.jsonl"
    held_file.write_text("")
    seen: dict[str, Any] = {}

    class Held:
        def reason(self, sample: MidtrainSample) -> str | None:
            return "shared_answer_entity" if sample.id == "planning-0-1" else None

    def load_holdout(files: list[Path], benchmarks: list[tuple[str, Path]]) -> Held:
        seen["files"], seen["benchmarks"] = files, benchmarks
        return Held()

    def dedupe(samples: list[MidtrainSample], config: Any) -> tuple[list[MidtrainSample], Any]:
        seen["threshold"] = config.threshold
        kept = [s for s in samples if s.id != "grounding-0-3"]
        return kept, types.SimpleNamespace(dropped=len(samples) - len(kept))

    decontam = types.ModuleType("redsearcher.midtrain._decontam")
    decontam.load_holdout = load_holdout  # type: ignore[attr-defined]
    dedup = types.ModuleType("redsearcher.midtrain._dedupe")
    dedup.dedupe = dedupe  # type: ignore[attr-defined]
    dedup.DedupeConfig = DedupeConfig  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "redsearcher.midtrain._decontam", decontam)
    monkeypatch.setitem(sys.modules, "redsearcher.midtrain._dedupe", dedup)
    out = tmp_path / "out"
    summary = run_midtrain(
        world_dir, out,
        MixtureConfig(total=20, kinds=["grounding", "planning"], dedupe_threshold=0.6),
        tasks_file=FIXTURE, holdout=[held_file, f"browsecomp={held_file}"],
    )  # fmt: skip
    assert seen == {
        "files": [held_file], "benchmarks": [("browsecomp", held_file)], "threshold": 0.6
    }  # fmt: skip
    g, p = summary.kinds["grounding"], summary.kinds["planning"]
    assert g.removed == Counter({"near_duplicate": 1}) and g.written == g.samples - 1
    assert p.removed == Counter({"shared_answer_entity": 1}) and p.written == p.samples - 1
    ids = {row["id"] for row in _lines(out / "openai" / "32k.jsonl")}
    assert "grounding-0-3" not in ids and "planning-0-1" not in ids
    assert len(_lines(out / SAMPLES_FILE)) == 20  # the run's state keeps everything
