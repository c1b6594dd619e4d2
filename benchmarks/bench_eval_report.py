"""Speed of the HTML report and the trajectory viewer on a 10,000-trajectory run.

Targets (issue 13): the report renders in <= 5 s for a 10,000-trajectory run; the viewer opens a
200-turn trajectory in <= 1 s.

- Report: N trajectories over the pinned ``redsearcher-synthetic`` tasks (as in
  ``bench_eval_summary.py``, with 1-40 turns each), their ``summarize``; then timed:
  ``turn_counts`` + ``write_report`` (render + atomic write) — what ``bench``/``eval`` add on
  top of the summary they compute anyway.
- Viewer: the same N trajectories written as a run directory, plus one 200-turn episode (each
  turn a thought, a search with ten results and a visit of two pages, ~9 KB of observations per
  turn), served by ``ViewServer``; timed over HTTP: the first run page (indexes the run), the
  200-turn trajectory page (cold, then the median of 10), and a filtered run page.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_eval_report.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench_eval_summary import build
from redsearcher.eval import ViewServer, summarize, turn_counts, write_report
from redsearcher.eval._bench import exact_verdicts
from redsearcher.eval._benchmarks import tasks_path
from redsearcher.log import (
    Message,
    RunManifest,
    Segment,
    Task,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
)
from redsearcher.rollout import tasks_digest
from redsearcher.tools import TongyiStyle


def long_trajectory(task: Task, turns: int = 200) -> Trajectory:
    """A ``turns``-turn episode on ``task``: thought, search, visit each turn, then an answer."""
    style = TongyiStyle()
    links = [{"title": f"Result {j}", "link": f"https://site{j}.example.org/p"} for j in range(8)]
    links += [{"title": "Evidence", "link": u} for u in task.evidence_urls[:2]]
    messages = [
        Message(role="system", content="You search."),
        Message(role="user", content=task.question),
    ]
    calls = []
    for turn in range(turns):
        messages.append(
            Message(
                role="assistant",
                content="",
                reasoning="Let me check the next fact. " * 20,
                tool_calls=[{"id": f"s{turn}", "type": "function", "function": {}}],
            )
        )
        search = style.search(
            f"query {turn}",
            {
                "organic": [
                    {**hit, "snippet": "A snippet of the page that says something relevant. " * 4}
                    for hit in links
                ]
            },
        )
        urls = task.evidence_urls[:2]
        visit = style.join(style.visit(u, "g", "Evidence in page. " * 60, "Summary.") for u in urls)
        calls.append(
            ToolCallRecord(
                id=f"s{turn}",
                turn=turn,
                segment=0,
                name="search",
                arguments={"query": [f"query {turn}"]},
                output=search,
            )
        )
        calls.append(
            ToolCallRecord(
                id=f"v{turn}",
                turn=turn,
                segment=0,
                name="visit",
                arguments={"url": urls, "goal": "g"},
                output=visit,
            )
        )
        messages.append(Message(role="tool", content=search, tool_call_id=f"s{turn}"))
        messages.append(Message(role="tool", content=visit, tool_call_id=f"v{turn}"))
    messages.append(Message(role="assistant", content=f"<answer>{task.answer}</answer>"))
    return Trajectory(
        id=f"{task.id}#999",
        task_id=task.id,
        sample=999,
        question=task.question,
        answers=task.answers,
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        tool_calls=calls,
        prediction=task.answer,
        termination="answer",
        turns=turns + 1,
        provenance=TrajectoryProvenance(model="m", protocol="native"),
    )


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(n: int) -> None:
    runs, tasks = build(n)
    for i, t in enumerate(runs):
        t.turns = 1 + (i * 7) % 40
    verdicts = exact_verdicts(runs)
    summary, summary_s = _timed(summarize, runs, verdicts, tasks)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        turns = turn_counts(runs, verdicts)
        path = write_report(
            root / "report.html", summary, benchmark="redsearcher-synthetic", turns=turns
        )
        report_s = time.perf_counter() - start
        print(f"trajectories: {n:,} (summarize, not counted below: {summary_s:.2f} s)")
        print(
            f"report (turn_counts + render + atomic write): {report_s * 1000:.0f} ms, "
            f"{path.stat().st_size / 1024:.0f} KiB"
        )

        run = root / "run"
        run.mkdir()
        long = long_trajectory(tasks[0])
        manifest = RunManifest(
            model="m",
            protocol="native",
            tasks=str(tasks_path()),
            tasks_digest=tasks_digest(tasks),
            task_count=len(tasks),
            n_samples=1,
        )
        (run / "run.json").write_text(manifest.model_dump_json(), encoding="utf-8")
        with (run / "trajectories.jsonl").open("w", encoding="utf-8") as handle:
            for t in runs[: n // 2]:
                handle.write(t.model_dump_json() + "\n")
            line = long.model_dump_json()
            handle.write(line + "\n")
            for t in runs[n // 2 :]:
                handle.write(t.model_dump_json() + "\n")
        (run / "verdicts-exact.jsonl").write_text(
            "".join(v.model_dump_json() + "\n" for v in exact_verdicts([*runs, long])),
            encoding="utf-8",
        )
        size = (run / "trajectories.jsonl").stat().st_size / 2**20
        print(
            f"viewer run: {n + 1:,} trajectories, {size:.0f} MiB; the 200-turn line "
            f"{len(line) / 2**20:.1f} MiB"
        )
        with ViewServer(run) as viewer, httpx.Client(base_url=viewer.base_url, timeout=60) as c:
            _, index_s = _timed(c.get, "run", params={"r": "."})
            params = {"r": ".", "id": long.id}
            first, cold_s = _timed(c.get, "trajectory", params=params)
            assert first.status_code == 200 and "turn 199" in first.text, first.status_code
            warm = [_timed(c.get, "trajectory", params=params)[1] for _ in range(10)]
            _, filter_s = _timed(
                c.get, "run", params={"r": ".", "verdict": "correct", "treewidth": "2"}
            )
            browser = _browser_open(
                viewer.base_url + "run?r=.", viewer.base_url + "trajectory?" + urlencode(params)
            )
        print(f"viewer: first run page (indexes {n + 1:,} trajectories): {index_s:.2f} s")
        print(
            f"viewer: 200-turn trajectory page: first {cold_s * 1000:.0f} ms, median of 10 "
            f"{statistics.median(warm) * 1000:.0f} ms ({len(first.text) / 2**20:.1f} MiB HTML)"
        )
        print(f"viewer: filtered run page: {filter_s * 1000:.0f} ms")
        if browser is not None:
            print(
                f"viewer: 200-turn trajectory in headless Chromium, navigation to load event: "
                f"first {browser[0] * 1000:.0f} ms, median of 5 {browser[1] * 1000:.0f} ms"
            )


def _browser_open(warm_up: str, url: str) -> tuple[float, float] | None:
    """Seconds from navigation to the load event in headless Chromium (None without one).

    The browser first shows ``warm_up`` (the run's list, as a user would before clicking), so
    the first timing is the trajectory, not Chromium's own start.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path("/usr/bin/chromium").exists():
        return None
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", args=flags, headless=True
        )
        page = context.new_page()
        page.goto(warm_up, wait_until="load")
        times = []
        for _ in range(6):
            start = time.perf_counter()
            page.goto(url, wait_until="load")
            times.append(time.perf_counter() - start)
        context.close()
    return times[0], statistics.median(times[1:])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
