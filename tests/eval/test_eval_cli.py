"""``redsearcher eval`` end to end on a run made by the real ``redsearcher rollout``.

The run: 4 tasks over the environment server, the agent played by a scripted model —
t0 answered right, t1 with extra words (exact: wrong; a grader: right), t2 wrong, t3 has no
reference answer. The judges' endpoint is a scripted chat server over real HTTP.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.env import build_index
from redsearcher.eval import prompt_sha256
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Script, ScriptedChatServer, Step, ToolCallSpec, tiny_world

ANSWERS = {0: "A0", 1: "The answer is A1, I believe", 2: "B2", 3: "A3"}


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("eval-cli")
    tiny_world(root / "world")
    build_index(root / "world", root / "world.index", progress=False)
    tasks = root / "tasks.jsonl"
    rows = [
        {"id": f"t{i}", "question": f"Question number {i}?", "answer": f"A{i}"} for i in range(3)
    ]
    rows.append({"id": "t3", "question": "Question number 3?", "answer": None})
    tasks.write_text("".join(json.dumps(r) + "\n" for r in rows))
    search = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])
    scripts = [
        Script(match=f"Question number {i}?", steps=[search, Step(content=f"<answer>{a}</answer>")])
        for i, a in ANSWERS.items()
    ]
    with EnvServer(ServerConfig(index=root / "world.index", sandbox=None)) as env:
        server = ScriptedChatServer(scripts).start()
        try:
            code = run([
                "rollout", str(tasks), "--env", env.base_url, "--model", "agent",
                "--base-url", server.base_url, "--out", str(root / "run"), "--quiet",
            ])  # fmt: skip
        finally:
            server.stop()
    assert code == 0
    yield root / "run", tasks


def judge_server(outputs: dict[int, str]) -> ScriptedChatServer:
    return ScriptedChatServer([
        Script(match=f"Question number {i}?", steps=[Step(content=text)])
        for i, text in outputs.items()
    ]).start()  # fmt: skip


def summary(run_dir: Path) -> dict[str, object]:
    """``judges.json`` (per-judge counts and agreement)."""
    value = json.loads((run_dir / "judges.json").read_text())
    assert isinstance(value, dict)
    return value


def test_eval_exact_and_browsecomp_with_agreement(
    made_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = made_run
    assert run(["eval", str(run_dir)]) == 0
    exact = summary(run_dir)["judges"]["exact"]  # type: ignore[index]
    assert (exact["correct"], exact["incorrect"], exact["unscored"]) == (1, 2, 1)
    assert exact["accuracy"] == pytest.approx(1 / 3)
    metrics = json.loads((run_dir / "summary.json").read_text())
    assert metrics["judge"] == "exact" and metrics["accuracy"]["correct"] == 1
    assert metrics["tools"] == {"search": 4}
    server = judge_server({0: "correct: yes", 1: "**correct:** Yes", 2: "correct: no"})
    try:
        argv = ["eval", str(run_dir), "--judges", "exact,browsecomp", "--judge-model", "judge",
                "--judge-base-url", server.base_url]  # fmt: skip
        assert run(argv) == 0
    finally:
        server.stop()
    assert not server.failures
    result = summary(run_dir)
    bc = result["judges"]["browsecomp"]  # type: ignore[index]
    assert (bc["correct"], bc["incorrect"], bc["unscored"]) == (2, 1, 1)
    assert bc["judge_version"] == prompt_sha256("browsecomp.v1.txt") and bc["model"] == "judge"
    # exact [T, F, F] vs browsecomp [T, T, F] on the 3 scored by both: p_o = 2/3,
    # p_e = (1/3)(2/3) + (2/3)(1/3) = 4/9, kappa = (2/3 - 4/9) / (5/9) = 0.4
    (pair,) = result["agreement"]  # type: ignore[misc]
    assert pair["n"] == 3 and pair["kappa"] == pytest.approx(0.4)
    rows = {r["task_id"]: r for r in csv.DictReader((run_dir / "samples.csv").open())}
    assert [rows[f"t{i}"]["judge_browsecomp"] for i in range(4)] == ["true", "true", "false", ""]
    assert "kappa 0.400 over 3" in capsys.readouterr().err


def test_eval_with_a_down_judge_then_retry_unscored(
    made_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, _ = made_run
    down = ["eval", str(run_dir), "--judge", "ab", "--judge-model", "j", "--judge-retries", "0",
            "--judge-base-url", "http://127.0.0.1:9/v1"]  # fmt: skip
    assert run(down) == 0
    ab = summary(run_dir)["judges"]["ab"]  # type: ignore[index]
    assert (ab["correct"], ab["incorrect"], ab["unscored"]) == (0, 0, 4)
    assert ab["unscored_reasons"] == {"judge call failed": 3, "no reference answer": 1}
    assert ab["accuracy"] is None
    server = judge_server({0: "A", 1: "A", 2: "B"})
    try:
        argv = ["eval", str(run_dir), "--judge", "ab", "--judge-model", "j",
                "--judge-base-url", server.base_url, "--retry-unscored"]  # fmt: skip
        assert run(argv) == 0
    finally:
        server.stop()
    assert not server.failures
    ab = summary(run_dir)["judges"]["ab"]  # type: ignore[index]
    assert (ab["correct"], ab["incorrect"], ab["unscored"]) == (2, 1, 1)
    assert "verdicts-ab.retried.jsonl" in {p.name for p in run_dir.iterdir()}
    # the agent's run is untouched by any of it
    assert (run_dir / "trajectories.jsonl").read_text().count("\n") == 4


def test_eval_refuses_a_run_of_another_task_set_and_bad_flags(
    made_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir, tasks = made_run
    assert run(["eval", str(run_dir), "--tasks", str(tasks)]) == 0
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x", "question": "Q?", "answer": "y"}) + "\n")
    assert run(["eval", str(run_dir), "--tasks", str(other)]) == 2
    assert "made on another task set" in capsys.readouterr().err
    assert run(["eval", str(run_dir), "--judge", "exact", "--judges", "exact,f1"]) == 2
    assert run(["eval", str(run_dir), "--judge", "ab", "--judge-model", "j"]) == 2
    assert run(["eval", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
