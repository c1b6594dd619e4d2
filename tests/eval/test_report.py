"""The HTML report: the summary's numbers on the page, plots inline, everything escaped, atomic.

The run is built by hand (four tasks on a 2 × 2 treewidth × MSD grid, one judge), summarized
with the real ``summarize`` and rendered; the assertions read the page for the numbers the test
knows: 2 correct of 3 scored, one unscored, the cells' accuracies and the turn histogram.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from records_support import make_trajectory
from redsearcher.eval import (
    ReportRow,
    Summary,
    Verdict,
    compare_regimes,
    render_report,
    summarize,
    turn_counts,
    write_report,
)
from redsearcher.log import Task, ToolCallRecord, Trajectory

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _task(task_id: str, treewidth: int, msd: int) -> Task:
    return Task(
        id=task_id,
        question=f"Question {task_id}?",
        answer="Paris",
        evidence_documents=["D1", "D2"],
        evidence_urls=["https://a.example.org/one", "https://b.example.org/two"],
        treewidth=treewidth,
        msd=msd,
    )


def _verdict(t: Trajectory, correct: bool | None, reason: str | None = None) -> Verdict:
    return Verdict(
        trajectory_id=t.id,
        task_id=t.task_id,
        sample=t.sample,
        judge="exact",
        judge_version="rule:1",
        correct=correct,
        unscored_reason=reason,
    )


def _run() -> tuple[list[Trajectory], list[Verdict], list[Task]]:
    tasks = [_task("a", 1, 2), _task("b", 1, 3), _task("c", 2, 2), _task("d", 2, 3)]
    runs = [
        make_trajectory("a", tools=2),  # 3 turns, correct
        make_trajectory("b", tools=4),  # 5 turns, correct
        make_trajectory("c", tools=1, termination="max_turns"),  # 2 turns, incorrect
        make_trajectory("d", tools=0),  # 1 turn, unscored
    ]
    visit = ToolCallRecord(
        id="v",
        turn=1,
        segment=0,
        name="visit",
        arguments={"url": "https://a.example.org/one"},
        output="The useful information in https://a.example.org/one for user goal g as follows",
    )
    runs[0] = runs[0].model_copy(update={"tool_calls": [*runs[0].tool_calls, visit]})
    verdicts = [
        _verdict(runs[0], True),
        _verdict(runs[1], True),
        _verdict(runs[2], False),
        _verdict(runs[3], None, "judge failed"),
    ]
    return runs, verdicts, tasks


def _summary() -> tuple[Summary, list[Trajectory], list[Verdict]]:
    runs, verdicts, tasks = _run()
    return summarize(runs, verdicts, tasks), runs, verdicts


def test_report_shows_the_summary_numbers_and_plots() -> None:
    summary, runs, verdicts = _summary()
    page = render_report(
        summary,
        benchmark="hand-made",
        identity={"model": "m", "world_hash": "w" * 16},
        turns=turn_counts(runs, verdicts),
    )
    text = re.sub(r"<[^>]+>", " ", page)
    assert "hand-made: evaluation report" in text
    # accuracy 2/3 scored, one unscored, with its reason
    assert re.search(r"hand-made\s+tools\s+exact\s+66\.7%", text)
    assert "2/3" in text and "unscored — judge failed: 1" in text
    # difficulty: (1,2) and (1,3) correct, (2,2) wrong, (2,3) unscored
    for cell in (
        "1, minimum source dispersion (MSD) 2: 100.0%",
        "2, minimum source dispersion (MSD) 2: 0.0%",
        "2, minimum source dispersion (MSD) 3: –",
    ):
        assert cell in page
    # tool categories and terminations
    assert "search: 7" in page and "visit: 1" in page
    assert "max_turns: 1" in page and "answer: 3" in page
    # turn histogram: one correct episode with 3 turns and one with 5, one incorrect with 2
    assert "correct, 3: 1</title>" in page and "correct, 5: 1</title>" in page
    assert "incorrect, 2: 1</title>" in page
    # evidence recall: task a read 1 of 2 documents (bin 0.5), the others none
    assert "read, 0.5: 1</title>" in page and "read, 0.0: 3</title>" in page
    assert page.count("<svg") == 5  # turns, tool categories, terminations, heat map, recall


def test_report_is_self_contained() -> None:
    summary, runs, verdicts = _summary()
    page = render_report(summary, turns=turn_counts(runs, verdicts))
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and the page says so to the browser


def test_report_escapes_every_text_it_did_not_write() -> None:
    runs, verdicts, tasks = _run()
    call = ToolCallRecord(id="h", turn=0, segment=0, name=HOSTILE, arguments={}, output="")
    runs[0] = runs[0].model_copy(update={"tool_calls": [call]})
    verdicts[3] = _verdict(runs[3], None, HOSTILE)
    summary = summarize(runs, verdicts, tasks)
    page = render_report(
        summary,
        benchmark=HOSTILE,
        title=HOSTILE,
        identity={HOSTILE: HOSTILE},
        turns={HOSTILE: [1, 2]},
    )
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_tool_free_row_and_regime_gap() -> None:
    runs, verdicts, tasks = _run()
    free = [_verdict(t, False) for t in runs]
    free_summary = summarize(runs, free, tasks)
    gap = compare_regimes(free, verdicts)
    extra = ReportRow("other-bench", "tools", free_summary)
    page = render_report(
        summarize(runs, verdicts, tasks),
        benchmark="b",
        tool_free=free_summary,
        regime_gap=gap,
        rows=[extra],
    )
    text = re.sub(r"<[^>]+>", " ", page)
    assert re.search(r"b\s+tool-free\s+exact\s+0\.0%", text)
    assert re.search(r"other-bench\s+tools\s+exact\s+0\.0%", text)
    assert "scored in both: +66.7%" in " ".join(text.split())


def test_a_run_without_synthesized_tasks_says_why_plots_are_missing() -> None:
    runs, verdicts, _ = _run()
    page = render_report(summarize(runs, verdicts))
    assert "No task carries treewidth and MSD" in page
    assert "process metrics need synthesized tasks" in page


def test_write_report_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary, _, _ = _summary()
    out = tmp_path / "deep" / "report.html"
    assert write_report(out, summary) == out
    before = out.read_text(encoding="utf-8")
    assert before.startswith("<!DOCTYPE html>") and os.stat(out).st_mode & 0o044 == 0o044

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        write_report(out, summary, title="another")
    assert out.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]
