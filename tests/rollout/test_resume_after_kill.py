"""Acceptance: a rollout killed with SIGKILL mid-run and restarted loses and repeats nothing.

The real CLI runs in a subprocess against a scripted chat server and the environment server
(both in this process, so they outlive the kill); it is killed once some trajectories are in
the log, a torn half-record is appended as a kill during a write would leave it, and the same
command is run again to the end. Two samples per task, so resume must tell the samples of one
task apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from redsearcher.log import TRAJECTORIES_FILE, read_trajectories
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Script, ScriptedChatServer, Step, ToolCallSpec

BIN = Path(sys.executable).parent / "redsearcher"
TASKS = 40
SAMPLES = 2
EPISODES = TASKS * SAMPLES


def scripts() -> list[Script]:
    search = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])
    # A copy per sample, plus one per sample for an episode cut by the kill and rerun from
    # scratch on resume.
    return [
        Script(
            match=f"Question number {i}?", steps=[search, Step(content=f"<answer>A{i}</answer>")]
        )
        for i in range(TASKS)
        for _ in range(2 * SAMPLES)
    ]


def lines(run: Path) -> int:
    path = run / TRAJECTORIES_FILE
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_sigkill_mid_run_then_resume_ends_with_exactly_the_expected_trajectories(
    tmp_path: Path, tiny_index: Path
) -> None:
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(
        "".join(
            json.dumps({"id": f"t{i}", "question": f"Question number {i}?", "answer": f"A{i}"})
            + "\n"
            for i in range(TASKS)
        )
    )
    run = tmp_path / "run"
    # Scripts have spare copies, so the server is stopped without requiring every step used.
    chat = ScriptedChatServer(scripts(), latency_s=0.05).start()
    try:
        _kill_and_resume(tasks, run, chat, tiny_index)
    finally:
        chat.stop()
    raw = (run / TRAJECTORIES_FILE).read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == EPISODES
    trajectories = list(read_trajectories(run))
    ids = Counter(t.id for t in trajectories)
    expected = Counter(f"t{i}#{s}" for i in range(TASKS) for s in range(SAMPLES))
    assert ids == expected  # no loss, no duplicates
    assert all(t.termination == "answer" and t.score == 1.0 for t in trajectories)
    assert not chat.failures


def _kill_and_resume(tasks: Path, run: Path, chat: ScriptedChatServer, tiny_index: Path) -> None:
    with EnvServer(ServerConfig(index=tiny_index, sandbox=None)) as env:
        argv = [
            str(BIN), "rollout", str(tasks), "--env", env.base_url, "--model", "scripted",
            "--base-url", chat.base_url, "--out", str(run), "--concurrency", "4", "--quiet",
            "--n-samples", str(SAMPLES),
        ]  # fmt: skip
        first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while lines(run) < 8:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the rollout wrote nothing"
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        killed_at = lines(run)
        assert 8 <= killed_at < EPISODES, "the kill did not land mid-run"
        # A kill during a write leaves a torn last line: cut mid-record, no newline.
        record = next(read_trajectories(run)).model_dump_json().replace('"t', '"zz', 1)
        with (run / TRAJECTORIES_FILE).open("ab") as handle:
            handle.write(record.encode()[: len(record) // 2])

        second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
