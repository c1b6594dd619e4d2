"""``redsearcher view``: the viewer over a real bench run, its filters, escaping and refusals.

The run is real: ``run_bench`` on the pinned ``redsearcher-synthetic`` set with the oracle
replay (tools; every task correct, every evidence document read) and a no-tool guesser
(tool-free; every task wrong), through the real rollout, tools and environment. The viewer finds
its task set through the bench's ``summary.json``. Hostile content is a hand-written run whose
every text field is markup.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from records_support import make_manifest
from redsearcher._cli import _view as view_cli
from redsearcher._cli._app import main
from redsearcher.errors import UserError
from redsearcher.eval import BenchResult, Verdict, ViewServer, run_bench
from redsearcher.eval._benchmarks import tasks_path
from redsearcher.log import (
    Message,
    Segment,
    Task,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    read_tasks,
)
from redsearcher.model import ModelConfig
from redsearcher.rollout import EndpointPool, tasks_digest
from redsearcher.testing import ScriptedModel, Step, oracle_scripts, text_answer

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> BenchResult:
    tasks = read_tasks(tasks_path())
    oracle = ScriptedModel(oracle_scripts(tasks), name="oracle")
    guesser = ScriptedModel(default=Step(content=text_answer("no idea")), name="guesser")
    return asyncio.run(
        run_bench(
            "redsearcher-synthetic",
            out=tmp_path_factory.mktemp("bench"),
            model=ModelConfig(name="oracle", base_url=oracle.endpoint),
            tool_free=True,
            pool=EndpointPool({oracle.endpoint: oracle}),
            tool_free_pool=EndpointPool({guesser.endpoint: guesser}),
        )
    )


@pytest.fixture(scope="module")
def viewer(bench: BenchResult) -> Iterator[ViewServer]:
    with ViewServer(bench.out) as server:
        yield server


def _get(server: ViewServer, path: str, **params: str) -> httpx.Response:
    return httpx.get(server.base_url + path, params=params, timeout=30)


def _text(page: str) -> str:
    """The page's visible text, tags dropped and entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_bench_writes_the_html_report(bench: BenchResult) -> None:
    page = bench.html_path.read_text(encoding="utf-8")
    assert bench.html_path == bench.out / "report.html"
    text = _text(page)
    assert "redsearcher-synthetic tools exact 100.0%" in text
    assert "redsearcher-synthetic tool-free exact 0.0%" in text
    assert "scored in both: +100.0%" in text
    assert page.count("<svg") == 5 and "<script" not in page


def test_index_lists_the_bench_runs(viewer: ViewServer) -> None:
    response = _get(viewer, "")
    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["content-security-policy"]
    text = _text(response.text)
    assert "rollout oracle native 32 1" in text and "tool-free" in text
    assert 'href="report"' in response.text
    report = _get(viewer, "report")
    assert (
        report.status_code == 200
        and "default-src 'none'" in report.headers["content-security-policy"]
    )
    assert "redsearcher-synthetic tools exact 100.0%" in _text(report.text)


def test_run_list_filters_by_verdict_and_difficulty(viewer: ViewServer) -> None:
    tasks = read_tasks(tasks_path())
    tw1 = sum(t.treewidth == 1 for t in tasks)
    cell = sum(t.treewidth == 2 and t.msd == 3 for t in tasks)
    page = _text(_get(viewer, "run", r="rollout").text)
    assert "32 trajectories: 32 correct, 0 incorrect, 0 unscored" in page
    assert "tasks: " in page and "redsearcher-synthetic-v1.tasks.jsonl" in page
    assert "0 match" in _text(_get(viewer, "run", r="rollout", verdict="incorrect").text)
    assert "32 match" in _text(_get(viewer, "run", r="tool-free", verdict="incorrect").text)
    assert f"{tw1} match" in _text(_get(viewer, "run", r="rollout", treewidth="1").text)
    filtered = _get(viewer, "run", r="rollout", treewidth="2", msd="3").text
    assert f"{cell} match" in _text(filtered)
    assert filtered.count('href="trajectory?') == cell


def test_trajectory_page_shows_steps_evidence_and_verdict(viewer: ViewServer) -> None:
    task = read_tasks(tasks_path())[0]
    page = _get(viewer, "trajectory", r="rollout", id=f"{task.id}#0").text
    text = _text(page)
    assert " ".join(task.question.split()) in text
    assert "verdict correct judge exact (exact-rules-v1)" in text
    assert f"treewidth / MSD {task.treewidth} / {task.msd}" in text
    for doc, url in zip(task.evidence_documents, task.evidence_urls, strict=True):
        assert f'<mark class="ev" title="evidence {doc}">{url}</mark>' in page
        assert doc in text.split("reads evidence")[1]  # a visit step reads it
    assert "turn 0" in text and "observation" in text
    free = _text(_get(viewer, "trajectory", r="tool-free", id=f"{task.id}#0").text)
    assert "verdict incorrect" in free and "answer no idea" in free


def test_unknown_run_trajectory_host_and_method_are_refused(viewer: ViewServer) -> None:
    assert _get(viewer, "run", r="../../etc").status_code == 404
    assert _get(viewer, "trajectory", r="rollout", id="nope#0").status_code == 404
    evil = httpx.get(viewer.base_url, headers={"Host": "evil.example:80"}, timeout=30)
    assert evil.status_code == 400  # DNS rebinding: only loopback names are answered
    assert httpx.post(viewer.base_url + "run", timeout=30).status_code == 405


def _hostile_run(root: Path, turns: int = 3) -> Path:
    """A run directory whose every text field is markup, with ``turns`` tool-calling turns."""
    task = Task(
        id="h",
        question=HOSTILE,
        answer=HOSTILE,
        evidence_documents=["D1"],
        evidence_urls=["https://ev.example.org/page"],
        treewidth=2,
        msd=3,
    )
    messages = [Message(role="system", content=HOSTILE), Message(role="user", content=HOSTILE)]
    calls = []
    for turn in range(turns):
        messages.append(
            Message(
                role="assistant",
                content=f"<think>{HOSTILE}</think>{HOSTILE}",
                reasoning=HOSTILE,
                tool_calls=[{"id": f"c{turn}", "type": "function", "function": {}}],
            )
        )
        messages.append(Message(role="tool", content=HOSTILE, tool_call_id=f"c{turn}"))
        calls.append(
            ToolCallRecord(
                id=f"c{turn}",
                turn=turn,
                segment=0,
                name=HOSTILE,
                arguments={HOSTILE: "https://ev.example.org/page"},
                output=f"{HOSTILE} see https://ev.example.org/page/ and https://other.org/x",
            )
        )
    trajectory = Trajectory(
        id="h#0",
        task_id="h",
        sample=0,
        question=HOSTILE,
        answers=[HOSTILE],
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        tool_calls=calls,
        prediction=HOSTILE,
        termination="answer",
        turns=turns + 1,
        provenance=TrajectoryProvenance(model=HOSTILE, protocol="native"),
    )
    verdict = Verdict(
        trajectory_id="h#0",
        task_id="h",
        sample=0,
        judge="browsecomp",
        judge_version="sha",
        model=HOSTILE,
        correct=False,
        extracted_answer=HOSTILE,
        reasoning=HOSTILE,
        raw=HOSTILE,
    )
    run = root / "run"
    run.mkdir(parents=True)
    tasks_file = root / "tasks.jsonl"
    tasks_file.write_text(task.model_dump_json() + "\n", encoding="utf-8")
    manifest = make_manifest(model=HOSTILE, tasks_digest=tasks_digest([task]), n_samples=1)
    (run / "run.json").write_text(manifest.model_dump_json(), encoding="utf-8")
    (run / "trajectories.jsonl").write_text(trajectory.model_dump_json() + "\n", "utf-8")
    (run / "verdicts-browsecomp.jsonl").write_text(verdict.model_dump_json() + "\n", "utf-8")
    return tasks_file


def test_model_output_is_escaped_everywhere(tmp_path: Path) -> None:
    tasks_file = _hostile_run(tmp_path)
    with ViewServer(tmp_path, tasks=tasks_file) as server:
        pages = [
            _get(server, "").text,
            _get(server, "run", r="run").text,
            _get(server, "run", r="run", q=HOSTILE).text,
            _get(server, "trajectory", r="run", id="h#0").text,
            _get(server, "trajectory", r="run", id=HOSTILE).text,
        ]
    for page in pages:
        assert "<script" not in page and "<img" not in page and "onerror=alert" in page
    trajectory = pages[3]
    assert trajectory.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 10
    # the evidence URL is marked (normalised: the trailing slash does not matter), others not
    assert '<mark class="ev" title="evidence D1">https://ev.example.org/page/</mark>' in trajectory
    assert "https://other.org/x" in trajectory and 'evidence D1">https://other' not in trajectory


def test_a_200_turn_trajectory_renders_every_turn(tmp_path: Path) -> None:
    tasks_file = _hostile_run(tmp_path, turns=200)
    with ViewServer(tmp_path, tasks=tasks_file) as server:
        page = _get(server, "trajectory", r="run", id="h#0").text
    text = _text(page)
    assert "turn 0" in text and "turn 199" in text and "turn 200" not in text
    assert page.count('class="call') == 200


def test_the_run_is_reindexed_when_it_grows(tmp_path: Path) -> None:
    _hostile_run(tmp_path)
    with ViewServer(tmp_path / "run") as server:
        assert "1 trajectories" in _text(_get(server, "run", r=".").text)
        assert "tasks not found" in _text(_get(server, "run", r=".").text)
        file = tmp_path / "run" / "trajectories.jsonl"
        record = json.loads(file.read_text(encoding="utf-8"))
        record.update(id="h#1", sample=1)
        with file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.write('{"id": "torn')  # a record still being written is not shown
        page = _text(_get(server, "run", r=".").text)
        assert "2 trajectories: 0 correct, 1 incorrect, 1 unscored" in page


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no run directory"):
        ViewServer(tmp_path)
    _hostile_run(tmp_path)
    other = tmp_path / "other.jsonl"
    other.write_text(Task(id="z", question="q", answer="a").model_dump_json() + "\n", "utf-8")
    viewer = ViewServer(tmp_path, tasks=other)
    with pytest.raises(UserError, match="not this run's task set"):
        viewer.runs.get("run")
    with pytest.raises(UserError, match="tasks file not found"):
        ViewServer(tmp_path, tasks=tmp_path / "missing.jsonl")
    (tmp_path / "run" / "trajectories.jsonl").write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"trajectories.jsonl:1: not a trajectory"):
        ViewServer(tmp_path).runs.get("run")


def test_a_taken_port_is_a_user_error(tmp_path: Path) -> None:
    _hostile_run(tmp_path)
    with ViewServer(tmp_path) as first:
        second = ViewServer(tmp_path, port=first.port)
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            second.start()


def test_view_cli_serves_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hostile_run(tmp_path)
    seen: list[str] = []

    def fetch(url: str) -> None:
        assert url.startswith("http://127.0.0.1:")
        seen.append(httpx.get(url + "run", params={"r": "run"}, timeout=30).text)

    monkeypatch.setattr(view_cli, "wait_until_interrupted", fetch)
    with pytest.raises(SystemExit) as done:
        main(["view", str(tmp_path), "--port", "0"])
    assert done.value.code == 0
    assert "1 trajectories" in _text(seen[0])
    with pytest.raises(SystemExit) as refused:
        main(["view", str(tmp_path / "nothing")])
    assert refused.value.code == 2


def test_counts_match_the_verdict_files(bench: BenchResult, viewer: ViewServer) -> None:
    for run in ("rollout", "tool-free"):
        lines = (bench.out / run / "verdicts-exact.jsonl").read_text().splitlines()
        counts = Counter(json.loads(line)["correct"] for line in lines)
        page = _text(_get(viewer, "run", r=run).text)
        assert f"{counts[True]} correct, {counts[False]} incorrect" in page


# --- The browser test --------------------------------------------------------------------------
#: Chromium's path (Debian's ``chromium`` package, installed by ``scripts/bootstrap.sh dev``).
CHROMIUM = os.environ.get("REDSEARCHER_CHROMIUM", "/usr/bin/chromium")
#: Set to 1 on a developer machine without Chromium to skip the browser test; everywhere else
#: (CI) a missing browser is a failure, so the viewer is never "tested" by nobody.
NO_BROWSER = "REDSEARCHER_NO_BROWSER"
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_or_fail() -> Any:
    if os.environ.get(NO_BROWSER) == "1":
        pytest.skip(f"{NO_BROWSER}=1: browser test opted out on this machine")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the browser test needs the playwright package (pip install -e '.[dev]'); set "
            f"{NO_BROWSER}=1 to skip it on a developer machine"
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium, or "
            f"scripts/bootstrap.sh dev as root; REDSEARCHER_CHROMIUM=PATH for another); set "
            f"{NO_BROWSER}=1 to skip it on a developer machine"
        )
    return sync_playwright


def test_browser_opens_a_trajectory_and_renders_it(
    bench: BenchResult, viewer: ViewServer, tmp_path: Path
) -> None:
    sync_playwright = _browser_or_fail()
    task = read_tasks(tasks_path())[0]
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(viewer.base_url, timeout=30_000)
            page.get_by_role("link", name="rollout", exact=True).click()
            page.select_option("select[name=verdict]", "correct")
            page.select_option("select[name=treewidth]", str(task.treewidth))
            page.get_by_role("button", name="filter").click()
            assert "32 correct" in page.inner_text("body")
            page.get_by_role("link", name=f"{task.id}#0").click()
            page.wait_for_selector("text=Evidence documents")
            shot = tmp_path / "trajectory.png"
            page.screenshot(path=str(shot), full_page=True)
            body = " ".join(page.inner_text("body").split())
            marks = page.locator("mark.ev").all_inner_texts()
            # the hostile run: markup shows as text, nothing executes
            hostile = tmp_path / "hostile"
            _hostile_run(hostile)
            with ViewServer(hostile, tasks=hostile / "tasks.jsonl") as other:
                page.goto(other.base_url + "trajectory?r=run&id=h%230", timeout=30_000)
                hostile_text = page.inner_text("body")
                scripts = page.locator("script").count()
        finally:
            context.close()
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:4] == b"\x89PNG"
    assert " ".join(task.question.split()) in body
    assert "verdict correct" in body and f"answer {task.answer}" in body
    assert "Steps" in body and "turn 0" in body and "reads evidence" in body
    assert set(task.evidence_urls) <= set(marks)
    assert HOSTILE in hostile_text and scripts == 0 and dialogs == []


def test_text_protocol_thoughts_and_context_windows(tmp_path: Path) -> None:
    """Qwen-style text protocol: ``<think>`` is a thought, ``<tool_response>`` turns are the
    observations (shown once, with their call), and a discard-all episode shows each window."""
    call = ToolCallRecord(
        id="t0",
        turn=0,
        segment=0,
        name="search",
        arguments={"query": ["velden"]},
        output="A Google search for 'velden' found 1 results: [Velden](https://x.org/v)",
    )
    later = ToolCallRecord(
        id="t1",
        turn=1,
        segment=1,
        name="visit",
        arguments={"url": "https://x.org/v"},
        output="The useful information in https://x.org/v for user goal g as follows",
    )
    first = [
        Message(role="system", content="sys"),
        Message(role="user", content="Who?"),
        Message(role="assistant", content="<think>first I search</think><tool_call>{}</tool_call>"),
        Message(role="user", content="<tool_response>\nA Google search ...</tool_response>"),
    ]
    second = [
        Message(role="system", content="sys"),
        Message(role="user", content="Who?"),
        Message(role="assistant", content="<think>now I read</think>", tool_calls=None),
        Message(role="user", content="<tool_response>\nThe useful ...</tool_response>"),
        Message(role="user", content="You must answer now."),
        Message(role="assistant", content="<think>done</think><answer>Velden</answer>"),
    ]
    trajectory = Trajectory(
        id="p#0",
        task_id="p",
        sample=0,
        question="Who?",
        answers=["Velden"],
        segments=[
            Segment(index=0, messages=first, first_turn=0, end="discarded"),
            Segment(index=1, messages=second, first_turn=1, end="final"),
        ],
        tool_calls=[call, later],
        prediction="Velden",
        termination="answer",
        turns=3,
        provenance=TrajectoryProvenance(model="m", protocol="text"),
    )
    run = tmp_path / "run"
    run.mkdir()
    manifest = make_manifest(protocol="text", n_samples=1)
    (run / "run.json").write_text(manifest.model_dump_json(), encoding="utf-8")
    (run / "trajectories.jsonl").write_text(trajectory.model_dump_json() + "\n", "utf-8")
    with ViewServer(run) as server:
        page = _get(server, "trajectory", r=".", id="p#0").text
        listed = _text(_get(server, "run", r=".").text)
    text = _text(page)
    assert "Context window 1 (discarded)" in text and "Context window 2 (final)" in text
    assert text.index("turn 0") < text.index("first I search") < text.index("velden")
    assert text.index("turn 1") < text.index("now I read") < text.index("useful information")
    assert "turn 2" in text and "done" in text and "You must answer now." in text
    assert "<tool_response>" not in html.unescape(page)  # observations shown with their calls
    assert page.count('class="thought"') == 3
    assert "no verdict" in text.lower()
    assert "1 trajectories: 0 correct, 0 incorrect, 1 unscored" in listed
