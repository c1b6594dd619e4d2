"""``redsearcher rl curate`` end to end: the real agent, scripted models, the environment server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.env import build_index
from redsearcher.log import read_tasks, read_trajectories
from redsearcher.rl import CURATED_FILE, read_curation
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Script, ScriptedChatServer, Step, ToolCallSpec, tiny_world


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    root = tmp_path_factory.mktemp("rl-curate")
    assert tiny_world(root / "world") is not None
    build_index(root / "world", root / "world.index", progress=False)
    with EnvServer(ServerConfig(index=root / "world.index", sandbox=None)) as server:
        yield server


SEARCH = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])

#: Task i's policy answers over k=4 rollouts: t0 4/4, t1 0/4, t2 2/4, t3 1/4, t4 3/4.
ANSWERS = {
    0: ["A0"] * 4,
    1: ["no"] * 4,
    2: ["A2", "A2", "B2", "B2"],
    3: ["A3", "x", "y", "z"],
    4: ["A4", "A4", "A4", "nope"],
}
#: What the verifier answers for the in-band tasks.
VERDICTS = {
    2: json.dumps(
        {"verdict": "multiple_answers", "reason": "B2 fits too.", "alternative_answers": ["B2"]}
    ),
    3: json.dumps({"verdict": "valid", "reason": "Every condition holds for A3."}),
    4: "I think it is fine.",  # not the requested object: unverified
}


def policy_scripts() -> list[Script]:
    return [
        Script(match=f"Question number {i}?", steps=[SEARCH, Step(content=f"<answer>{a}</answer>")])
        for i, answers in ANSWERS.items()
        for a in answers
    ]


def verifier_scripts() -> list[Script]:
    return [
        Script(
            match=f"Verify this question.\n\nQuestion: Question number {i}?",
            steps=[SEARCH, Step(content=f"<answer>{text}</answer>")],
        )
        for i, text in VERDICTS.items()
    ]


def write_tasks(path: Path) -> Path:
    rows = [
        {"id": f"t{i}", "question": f"Question number {i}?", "answer": f"A{i}"} for i in ANSWERS
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_curate_with_verifier_end_to_end(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl")
    out = tmp_path / "curated"
    policy = ScriptedChatServer(policy_scripts()).start()
    verifier = ScriptedChatServer(verifier_scripts()).start()
    argv = [
        "rl", "curate", str(tasks), "--model", "policy", "--base-url", policy.base_url,
        "--env", env.base_url, "--k", "4", "--band", "0.25-0.75", "--out", str(out), "--verify",
        "--verifier-model", "judge-agent", "--verifier-base-url", verifier.base_url,
        "--concurrency", "1",  # scripts sharing a match are consumed step by step, in turn
    ]  # fmt: skip
    try:
        assert run(argv) == 0
        assert run(argv) == 0  # resumed: everything decided, no request (scripts are used up)
    finally:
        policy.stop()
        verifier.stop()
    err = capsys.readouterr().err
    assert "kept" in err and "too easy (removed)" in err and "verifier: unverified" in err

    records = {r.id: r for r in read_curation(out)}
    assert sorted(records) == ["t0", "t1", "t2", "t3", "t4"]
    assert [records[f"t{i}"].rollouts.bucket for i in range(5)] == [
        "too_easy", "too_hard", "in_band", "in_band", "in_band",
    ]  # fmt: skip
    assert [records[f"t{i}"].rollouts.correct for i in range(5)] == [4, 0, 2, 1, 3]
    assert records["t0"].verifier is None and records["t1"].verifier is None
    t2, t3, t4 = (records[f"t{i}"].verifier for i in (2, 3, 4))
    assert t2 is not None and t2.status == "multiple_answers" and t2.alternative_answers == ["B2"]
    assert t3 is not None and t3.status == "valid"
    assert t4 is not None and t4.status == "unverified" and "not one JSON object" in t4.reason
    assert [r.id for r in records.values() if r.kept] == ["t3"]
    assert [t.id for t in read_tasks(out / CURATED_FILE)] == ["t3"]

    # The pass rate came from the ordinary rollout, its tool calls answered by the server.
    rollouts = list(read_trajectories(out / "rollout"))
    assert len(rollouts) == 20
    assert all(len(t.tool_calls) == 1 and not t.tool_calls[0].error for t in rollouts)
    assert all("Quiet Harbor" in t.tool_calls[0].output for t in rollouts)
    # The verifier is the agent loop with the packaged verifier prompt, on its own model.
    checks = {t.task_id: t for t in read_trajectories(out / "verify")}
    assert sorted(checks) == ["t2", "t3", "t4"]
    first = checks["t2"].segments[0].messages
    assert first[0].role == "system" and "fact-checker" in first[0].content
    assert "'B2': 2 of 4 rollouts" in checks["t2"].question
    assert checks["t2"].provenance.model == "judge-agent" and checks["t2"].score is None


def test_curate_without_verifier_keeps_the_band(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl")
    policy = ScriptedChatServer(policy_scripts()).start()
    base = ["rl", "curate", str(tasks), "--model", "policy", "--base-url", policy.base_url,
            "--env", env.base_url, "--k", "4", "--out", str(tmp_path / "out"), "--quiet",
            "--concurrency", "1"]  # fmt: skip
    try:
        # the default band 0.125-0.875 keeps 1/4 .. 3/4
        assert run(base) == 0
        # other settings on the same directory are refused, naming the key
        assert run([*base, "--band", "0.5-1"]) == 2
        assert "band_low" in capsys.readouterr().err
        assert run([*base, "--scorer", "another-judge"]) == 2
        assert "scorer" in capsys.readouterr().err
    finally:
        policy.stop()
    kept = [r.id for r in read_curation(tmp_path / "out") if r.kept]
    assert kept == ["t2", "t3", "t4"]
    assert all(r.verifier is None for r in read_curation(tmp_path / "out"))


def test_bad_band_and_missing_tasks_are_user_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["rl", "curate", str(write_tasks(tmp_path / "t.jsonl")), "--model", "m", "--out",
            str(tmp_path / "o"), "--band", "0.9-0.1", "--env", "http://127.0.0.1:9"]  # fmt: skip
    assert run(argv) == 2
    assert "--band" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    argv = ["rl", "curate", str(empty), "--model", "m", "--out", str(tmp_path / "o2"),
            "--env", "http://127.0.0.1:9"]  # fmt: skip
    assert run(argv) == 2


def test_curate_api_rejects_an_empty_task_list(tmp_path: Path) -> None:
    import asyncio

    from redsearcher.errors import UserError
    from redsearcher.model import ModelConfig
    from redsearcher.rl import curate

    with pytest.raises(UserError, match="no tasks"):
        model = ModelConfig(name="m", base_url="http://127.0.0.1:9/v1")
        asyncio.run(curate([], out=tmp_path, model=model, env_url="http://127.0.0.1:9"))


def test_verifier_outage_stops_before_deciding_and_resumes(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl")
    config = tmp_path / "fast.yaml"
    config.write_text("model: {max_retries: 0}\nrollout: {endpoint_wait_s: 0}\n")
    out = tmp_path / "out"
    policy = ScriptedChatServer(policy_scripts()).start()
    base = ["rl", "curate", str(tasks), "--model", "policy", "--base-url", policy.base_url,
            "--env", env.base_url, "--k", "4", "--band", "0.25-0.75", "--out", str(out),
            "--verify", "--verifier-model", "judge-agent", "--concurrency", "1", "--quiet",
            "--config", str(config)]  # fmt: skip
    try:
        assert run([*base, "--verifier-base-url", "http://127.0.0.1:9/v1"]) == 1
        assert "no model endpoint" in capsys.readouterr().err
        # Out-of-band decisions are final and kept; no in-band task was decided unverified.
        assert sorted(r.id for r in read_curation(out)) == ["t0", "t1"]
        verifier = ScriptedChatServer(verifier_scripts()).start()
        try:
            assert run([*base, "--verifier-base-url", verifier.base_url]) == 0
        finally:
            verifier.stop()
    finally:
        policy.stop()
    records = {r.id: r for r in read_curation(out)}
    assert sorted(records) == ["t0", "t1", "t2", "t3", "t4"]
    assert [r.id for r in records.values() if r.kept] == ["t3"]


def test_tasks_without_a_reference_answer_are_unscored_not_hard(
    tmp_path: Path, env: EnvServer
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "open", "question": "Question number 1?"}) + "\n")
    policy = ScriptedChatServer([s for s in policy_scripts() if s.match == "Question number 1?"])
    policy.start()
    try:
        argv = ["rl", "curate", str(tasks), "--model", "policy", "--base-url", policy.base_url,
                "--env", env.base_url, "--k", "4", "--out", str(tmp_path / "out"), "--quiet",
                "--concurrency", "1"]  # fmt: skip
        assert run(argv) == 0
    finally:
        policy.stop()
    (record,) = read_curation(tmp_path / "out")
    assert record.rollouts.bucket == "unscored" and record.rollouts.scored == 0
    assert not record.kept and record.reason.startswith("unscored")
