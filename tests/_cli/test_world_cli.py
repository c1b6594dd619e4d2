from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from redsearcher._cli import app, main
from redsearcher.log import read_manifest, read_trajectories
from redsearcher.world import World

BIN = Path(sys.executable).parent / "redsearcher"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_acceptance_build_then_info(tmp_path: Path) -> None:
    """`redsearcher world build --entities 5000 --seed 1 --out W && redsearcher world info W`."""
    a, b = tmp_path / "a", tmp_path / "b"
    built = _cli("world", "build", "--entities", "5000", "--seed", "1", "--out", str(a))
    assert built.returncode == 0, built.stderr
    assert "content hash" in built.stdout
    shown = _cli("world", "info", str(a))
    assert shown.returncode == 0, shown.stderr
    for word in ("Entities", "person", "Documents per fact", "degree", "look-alike"):
        assert word in shown.stdout
    assert (
        _cli(
            "world", "build", "--entities", "5000", "--seed", "1", "--out", str(b), "--quiet"
        ).returncode
        == 0
    )
    ha = json.loads(_cli("world", "info", str(a), "--json").stdout)["content_hash"]
    hb = json.loads(_cli("world", "info", str(b), "--json", "--verify").stdout)["content_hash"]
    assert ha == hb


def test_env_and_config_layers_reach_the_generator(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("world:\n  entities: 400\n  seed: 4\n")
    out = tmp_path / "w"
    r = _cli("world", "build", "--config", str(cfg), "--out", str(out), "--quiet",
             env={"REDSEARCHER_WORLD__NOISE_RATE": "0"})  # fmt: skip
    assert r.returncode == 0, r.stderr
    source = json.loads((out / "manifest.json").read_text())["source"]["config"]
    assert (source["entities"], source["seed"], source["noise_rate"]) == (400, 4, 0)


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    r = _cli("world", "info", str(tmp_path / "nope"))
    assert r.returncode == 2
    assert "no such World directory" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli("world", "build", "--entities", "3", "--out", str(tmp_path / "w"))
    assert r.returncode == 2
    assert "world.entities" in r.stderr
    (tmp_path / "exists").mkdir()
    r = _cli("world", "build", "--entities", "100", "--out", str(tmp_path / "exists"), "--quiet")
    assert r.returncode == 2 and "already exists" in r.stderr


def _children() -> set[int]:
    """Live (non-zombie) descendants of this process."""
    import psutil

    out = set()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.status() != psutil.STATUS_ZOMBIE:
                out.add(child.pid)
    return out


def test_run_builds_indexes_serves_and_stops(tmp_path: Path) -> None:
    before = _children()
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path), "--entities", "300"])
    assert result.exit_code == 0, result.output
    # Stopped for real, not just said so: the port it served on is closed, its thread is
    # gone, and nothing it started (the sandbox's processes) outlived it.
    found = re.search(r"environment server at http://127\.0\.0\.1:(\d+)", result.output)
    assert found, result.output
    port = int(found.group(1))
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still accepts"
    assert not [t.name for t in threading.enumerate() if t.name.endswith(f":{port}")]
    assert _children() <= before
    assert (tmp_path / "world" / "manifest.json").is_file()
    assert (tmp_path / "index").is_dir()
    out = result.output
    assert "Documents per fact" in out
    for line in (
        "A Google search for",
        "The useful information in",
        "A Google scholar for",
        "A Google Maps search for",
        "Route from",
        "stdout:",
        "server stopped",
    ):
        assert line in out, line
    assert "[tool error]" not in out
    # Step 5: the agent ran every task through the server (the oracle replay: no model given),
    # was scored, and the run became SFT samples and an RL query set.
    tasks = [json.loads(line) for line in (tmp_path / "tasks.jsonl").read_text().splitlines()]
    run = tmp_path / "rollout"
    trajectories = list(read_trajectories(run))
    assert tasks and sorted(t.task_id for t in trajectories) == sorted(t["id"] for t in tasks)
    assert all(t.termination == "answer" and t.score == 1.0 for t in trajectories)
    assert all({"search", "visit"} <= {c.name for c in t.tool_calls} for t in trajectories)
    assert not any(c.error for t in trajectories for c in t.tool_calls)
    assert read_manifest(run).model == "oracle-replay"
    sft = (run / "sft.sharegpt.jsonl").read_text().splitlines()
    assert len(sft) == len(tasks)
    assert pq.read_table(run / "rl.verl.parquet").num_rows == len(tasks)
    # Evaluation: the exact judge's verdicts, summary and HTML report beside the run, and the
    # lower-bound reference (a no-tool guesser through the same loop, offered no tools).
    summary = json.loads((run / "summary.json").read_text())
    assert summary["judge"] == "exact" and summary["accuracy"]["value"] == 1.0
    assert (run / "report.html").read_text().startswith("<!DOCTYPE html>")
    guessed = list(read_trajectories(tmp_path / "rollout-guesser"))
    assert len(guessed) == len(tasks) and not any(t.tool_calls for t in guessed)
    assert (
        json.loads((tmp_path / "rollout-guesser" / "summary.json").read_text())["accuracy"]["value"]
        < 1.0
    )
    assert "oracle replay" in out and "upper bound" in out  # table cells wrap: word checks
    assert "guesser" in out and "lower bound" in out


def test_run_world_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["run", "--out", str(tmp_path), "--entities", "300", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "index").exists()


REAL = Path(__file__).resolve().parents[1] / "fixtures" / "realkb"


def test_run_on_real_dumps_tells_the_whole_story(tmp_path: Path) -> None:
    """`redsearcher run --wikidata DUMP --wikipedia FILE`: every step on the real slice."""
    before = _children()
    args = ["run", "--out", str(tmp_path), "--tasks", "4"]
    real = ["--wikidata", str(REAL / "wikidata.json"), "--wikipedia", str(REAL / "enwiki.jsonl")]
    result = CliRunner().invoke(app, [*args, *real])
    assert result.exit_code == 0, result.output
    out = result.output
    # 1: the dumps were ingested (not the default World generated): a sample World.
    manifest = json.loads((tmp_path / "world" / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "ingest"
    assert manifest["source"]["wikidata"] == [str(REAL / "wikidata.json")]
    assert manifest["source"]["completeness"] == "sample"
    assert "Documents per fact" in out and "completeness: sample" in out
    # 2-3: indexed, served, search and visit exercised; tools without data are said, not called.
    assert (tmp_path / "index").is_dir()
    for line in ("A Google search for 'Arnold Schwarzenegger'", "The useful information in"):
        assert line in out, line
    assert "stdout:" in out and "[tool error]" not in out
    assert "no entity has a coordinates fact" in out and "no paper entities" in out
    assert "A Google Maps search for" not in out and "A Google scholar for" not in out
    found = re.search(r"environment server at http://127\.0\.0\.1:(\d+)", out)
    assert found, out
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(found.group(1)))) != 0
    assert _children() <= before and "server stopped" in out
    # 4: tasks over real entities, recorded as unique within the sample World only.
    tasks = [json.loads(line) for line in (tmp_path / "tasks.jsonl").read_text().splitlines()]
    # The 22-item slice is small: the per-graph cap, distinct answers and the time-varying rule
    # leave fewer graphs than asked for; at least one task must come out.
    assert 1 <= len(tasks) <= 4
    assert all(t["uniqueness"] == "within_world_sample" for t in tasks)
    assert all(t["answer_entity"].startswith("Q") for t in tasks)
    assert all(set(t["required_tools"]) <= {"python"} for t in tasks)
    assert "tools synthesis may require: python" in out and "within_world_sample" in out
    # 5: the oracle replay solved each through the server; SFT and RL exports written.
    run = tmp_path / "rollout"
    trajectories = list(read_trajectories(run))
    assert sorted(t.task_id for t in trajectories) == sorted(t["id"] for t in tasks)
    assert all(t.termination == "answer" and t.score == 1.0 for t in trajectories)
    assert len((run / "sft.sharegpt.jsonl").read_text().splitlines()) == len(tasks)
    assert pq.read_table(run / "rl.verl.parquet").num_rows == len(tasks)


def test_run_refuses_flags_of_the_other_world(tmp_path: Path) -> None:
    real = ["--wikidata", str(REAL / "wikidata.json")]
    sized = CliRunner().invoke(app, ["run", "--out", str(tmp_path), *real, "--entities", "300"])
    assert sized.exit_code != 0 and "--entities" in str(sized.exception)
    kb = CliRunner().invoke(app, ["run", "--out", str(tmp_path), "--no-kb-pages"])
    assert kb.exit_code != 0 and "--wikidata" in str(kb.exception)
    assert not (tmp_path / "world").exists()


def test_run_picks_synthetic_entities_as_before_and_real_tools_by_data(tmp_path: Path) -> None:
    from redsearcher._cli._run import _pick
    from redsearcher.testing import small_world
    from redsearcher.world.ingest import ingest_world

    world = small_world(tmp_path / "synthetic", entities=300)
    rows = world.table("entities", ["label", "type", "distractor_of"]).to_pylist()
    first = {}
    for e in rows:
        if e["distractor_of"] is None:
            first.setdefault(e["type"], []).append(e["label"])
    picks = _pick(world)
    assert (picks.person, picks.paper, picks.place) == (
        first["person"][0],
        first["paper"][0],
        first["place"][0],
    )
    assert picks.cities == (first["city"][0], first["city"][1])
    assert picks.tools == ["maps", "scholar", "python"] and picks.skipped == []
    ingest_world(tmp_path / "real", wikidata=REAL / "wikidata.json", progress=False)
    real = _pick(World.open(tmp_path / "real"))
    assert real.tools == ["python"] and real.paper is None and real.cities is None
    assert real.person == "Arnold Schwarzenegger"  # a person a page is about
    assert [line.split(":")[0] for line in real.skipped] == ["maps", "scholar"]


def test_run_summary_lists_the_most_common_types_and_counts_the_rest(tmp_path: Path) -> None:
    from redsearcher._cli._run import SHOWN_TYPES, _shortened
    from redsearcher.testing import small_world
    from redsearcher.world import world_info

    info = world_info(small_world(tmp_path / "w", entities=300))
    assert _shortened(info) is info  # a synthetic World's summary is unchanged
    many = {f"type {i}": 100 - i for i in range(SHOWN_TYPES + 5)}
    short = _shortened(info.model_copy(update={"entity_types": many})).entity_types
    assert len(short) == SHOWN_TYPES + 1
    assert list(short)[:SHOWN_TYPES] == list(many)[:SHOWN_TYPES]
    assert short["(5 other types)"] == sum(list(many.values())[SHOWN_TYPES:])


def test_main_entry_point_exit_codes(tmp_path: Path, capsys: object) -> None:
    import pytest

    with pytest.raises(SystemExit) as done:
        main(["world", "info", str(tmp_path / "missing")])
    assert done.value.code == 2


def test_run_with_a_model_rolls_out_through_it(tmp_path: Path) -> None:
    """--model/--base-url: the agent's requests go to that OpenAI-compatible server."""
    from redsearcher.testing import Script, ScriptedChatServer, Step

    wrong = [Script(steps=[Step(content="<answer>nobody at all</answer>")]) for _ in range(5)]
    with ScriptedChatServer(wrong) as chat:
        result = CliRunner().invoke(
            app,
            [
                *("run", "--out", str(tmp_path), "--entities", "300", "--tasks", "5"),
                *("--model", "my-model", "--base-url", chat.base_url),
            ],
        )
        assert result.exit_code == 0, result.output
        chat.assert_all_used()
    trajectories = list(read_trajectories(tmp_path / "rollout"))
    assert len(trajectories) == 5 and all(t.score == 0.0 for t in trajectories)
    manifest = read_manifest(tmp_path / "rollout")
    assert manifest.model == "my-model" and manifest.endpoints == [chat.base_url]
    assert "agent model my-model" in result.output
    assert "accuracy: my-model" in result.output and "guesser" not in result.output
    assert (tmp_path / "rollout" / "report.html").is_file()
