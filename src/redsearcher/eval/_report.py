"""``write_report``: a scored run as one self-contained HTML file with plots.

The report is what people look at and pass around, so it is a single file that opens offline
and months later: inline CSS, plots as inline SVG (:mod:`._report_svg`), no script, no font or
image fetched from anywhere. Every number comes from a :class:`~redsearcher.eval.Summary` (what
``summary.json`` holds), so the page and the JSON can never disagree; the only optional extra is
the turn count of each episode (:func:`turn_counts`), which draws real histograms for correct
and incorrect answers where the summary keeps only their mean, median, p90 and max.

Everything shown is escaped: tool names, termination reasons, unscored reasons and identity
fields can come from model output or user files. The file is written whole or not at all
(temporary file in the same directory, fsync, rename), so a crash never leaves half a report
where a previous one was.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from redsearcher._util import write_atomic
from redsearcher.eval._metrics import Accuracy, Distribution
from redsearcher.eval._report_svg import bars, esc, grouped_bars, heat_map
from redsearcher.eval._summary import RECALL_BINS, RegimeGap, Summary
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Trajectory

__all__ = ["ReportRow", "render_report", "turn_counts", "write_report"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#111;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
.note{color:#555;font-size:.9em}.plots{display:flex;flex-wrap:wrap;gap:2em}
code{font-size:.9em;word-break:break-all}
"""


@dataclass(frozen=True)
class ReportRow:
    """One more line of the accuracy table: another benchmark or regime of the same report."""

    benchmark: str
    regime: str
    summary: Summary


def turn_counts(
    trajectories: Iterable[Trajectory], verdicts: Iterable[Verdict]
) -> dict[str, list[int]]:
    """Each episode's turns, grouped ``correct`` / ``incorrect`` / ``unscored`` by its verdict."""
    outcome = {v.trajectory_id: v.correct for v in verdicts}
    groups: dict[str, list[int]] = {"correct": [], "incorrect": [], "unscored": []}
    for t in trajectories:
        correct = outcome.get(t.id)
        key = "unscored" if correct is None else "correct" if correct else "incorrect"
        groups[key].append(t.turns)
    return groups


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(head: Sequence[str], rows: Iterable[Sequence[object]], left: int = 1) -> str:
    def cell(tag: str, i: int, value: object) -> str:
        cls = ' class="l"' if i < left else ""
        return f"<{tag}{cls}>{esc(value)}</{tag}>"

    out = ["<table><tr>", *(cell("th", i, h) for i, h in enumerate(head)), "</tr>"]
    for row in rows:
        out += ["<tr>", *(cell("td", i, v) for i, v in enumerate(row)), "</tr>"]
    out.append("</table>")
    return "".join(out)


def _ci(acc: Accuracy) -> str:
    ci = acc.ci95
    return "–" if ci is None else f"{ci.low:.1%} – {ci.high:.1%}"


def _accuracy_rows(rows: Sequence[ReportRow]) -> list[list[object]]:
    out: list[list[object]] = []
    for row in rows:
        s = row.summary
        k = s.repeats.k
        out.append(
            [
                row.benchmark,
                row.regime,
                s.judge or "–",
                _pct(s.accuracy.value),
                _ci(s.accuracy),
                f"{s.accuracy.correct}/{s.accuracy.scored}",
                s.accuracy.unscored,
                s.tasks,
                s.trajectories,
                k,
                _pct(s.repeats.avg_at_k),
                _pct(s.repeats.pass_at_k.get(k)),
                _pct(s.repeats.best_pass_at_1),
            ]
        )
    return out


def _accuracy_section(rows: Sequence[ReportRow], gap: RegimeGap | None) -> str:
    head = ["benchmark", "regime", "judge", "accuracy", "95% CI", "correct/scored", "unscored"]
    head += ["tasks", "episodes", "k", "Avg@k", "Pass@k", "Best Pass@1"]
    parts = ["<h2>Accuracy</h2>", _table(head, _accuracy_rows(rows), left=3)]
    if gap is not None:
        ci = "–" if gap.ci95 is None else f"{gap.ci95.low:+.1%} – {gap.ci95.high:+.1%}"
        shown = "–" if gap.gap is None else f"{gap.gap:+.1%}"
        parts.append(
            "<p>Tool-enabled minus tool-free on the "
            f"{esc(gap.tasks)} tasks scored in both: <b>{esc(shown)}</b> (paired bootstrap 95% "
            f"CI {esc(ci)}; tool-free {esc(_pct(gap.tool_free))}, tool-enabled "
            f"{esc(_pct(gap.tool_enabled))}).</p>"
        )
    notes = []
    for row in rows:
        s = row.summary
        if s.unscored_reasons:
            reasons = ", ".join(f"{reason}: {n}" for reason, n in s.unscored_reasons.items())
            notes.append(f"{row.benchmark} / {row.regime}: unscored — {reasons}")
        cal = s.calibration
        rms = f"RMS {cal.rms:.3f} over {cal.n} answers" if cal.rms is not None else cal.reason
        notes.append(f"{row.benchmark} / {row.regime}: calibration error — {rms}")
    parts += [f'<p class="note">{esc(n)}</p>' for n in notes]
    return "".join(parts)


def _turn_bins(turns: Mapping[str, Sequence[int]]) -> tuple[list[str], dict[str, list[float]]]:
    top = max((max(v) for v in turns.values() if v), default=0)
    width = max(1, math.ceil((top + 1) / 25))
    count = top // width + 1
    labels = [
        str(i * width) if width == 1 else f"{i * width}–{i * width + width - 1}"
        for i in range(count)
    ]
    series: dict[str, list[float]] = {}
    for name, values in turns.items():
        if not values:
            continue
        counts = [0.0] * count
        for value in values:
            counts[max(value, 0) // width] += 1
        series[name] = counts
    return labels, series


def _distribution_rows(summary: Summary) -> list[list[object]]:
    rows: list[list[object]] = []
    for group, stats in summary.episodes.items():
        for what, dist in (("turns", stats.turns), ("tool calls", stats.tool_calls)):
            rows.append([group, what, stats.episodes, *_dist_cells(dist)])
    return rows


def _dist_cells(dist: Distribution) -> list[str]:
    return [_fmt(dist.mean), _fmt(dist.median), _fmt(dist.p90), _fmt(dist.max)]


def _episodes_section(summary: Summary, turns: Mapping[str, Sequence[int]] | None) -> str:
    parts = ["<h2>Turns and tool calls per episode</h2>"]
    if turns is not None and any(turns.values()):
        labels, series = _turn_bins(turns)
        parts.append(
            grouped_bars(
                labels,
                series,
                label="turn distribution by verdict",
                x_title="turns per episode",
                y_title="episodes",
                width=760,
            )
        )
    head = ["episodes", "quantity", "n", "mean", "median", "p90", "max"]
    parts.append(_table(head, _distribution_rows(summary), left=2))
    return "".join(parts)


def _tools_section(summary: Summary) -> str:
    parts = ["<h2>Tools</h2>"]
    if not summary.tool_categories:
        return parts[0] + "<p>No tool was called.</p>"
    total = sum(summary.tool_categories.values())
    parts.append('<div class="plots"><div><h3>Calls per tool category</h3>')
    parts.append(bars(list(summary.tool_categories.items()), label="tool categories"))
    parts.append("</div><div><h3>Calls per tool</h3>")
    parts.append(_table(["tool", "calls", "share"], _shares(summary.tools, total)))
    parts.append("</div></div>")
    parts.append(
        f'<p class="note">{esc(total)} calls, {esc(summary.failed_tool_calls)} returned a tool '
        f"error; {esc(summary.search_credits)} search credits (each query of a multi-query "
        "search counts).</p>"
    )
    return "".join(parts)


def _shares(counts: Mapping[str, int], total: int) -> list[list[object]]:
    return [[name, n, _pct(n / total if total else None)] for name, n in counts.items()]


def _terminations_section(summary: Summary) -> str:
    items = list(summary.terminations.items())
    total = sum(n for _, n in items)
    return (
        "<h2>Termination reasons</h2>"
        + bars(items, label="termination reasons", color="#e69f00")
        + _table(["reason", "episodes", "share"], _shares(summary.terminations, total))
    )


def _difficulty_section(summary: Summary) -> str:
    if not summary.difficulty:
        return (
            "<h2>Difficulty</h2><p>No task carries treewidth and MSD (they come with "
            "synthesized tasks).</p>"
        )
    rows = sorted({c.treewidth for c in summary.difficulty})
    cols = sorted({c.msd for c in summary.difficulty})
    cells: dict[tuple[int, int], tuple[float | None, str]] = {}
    table: list[list[object]] = []
    for c in summary.difficulty:
        recall = "–" if c.read_recall is None else f"{c.read_recall:.2f}"
        text = f"{_pct(c.accuracy.value)}\n{c.tasks} tasks\nrecall {recall}"
        cells[(c.treewidth, c.msd)] = (c.accuracy.value, text)
        table.append([c.treewidth, c.msd, c.tasks, _pct(c.accuracy.value), _ci(c.accuracy), recall])
    head = ["treewidth", "MSD", "tasks", "accuracy", "95% CI", "read recall"]
    return (
        "<h2>Difficulty: accuracy per treewidth × MSD</h2>"
        + heat_map(
            rows,
            cols,
            cells,
            label="accuracy per treewidth and MSD",
            row_title="treewidth",
            col_title="minimum source dispersion (MSD)",
        )
        + _table(head, table, left=0)
    )


def _recall_bins(values: Iterable[float]) -> list[float]:
    counts = [0.0] * RECALL_BINS
    for value in values:
        counts[RECALL_BINS - 1 if value >= 1.0 else min(int(value * 10), RECALL_BINS - 2)] += 1
    return counts


def _process_section(summary: Summary) -> str:
    process = summary.process
    if process is None:
        return f"<h2>Evidence recall</h2><p>{esc(summary.process_reason or 'not measured')}</p>"
    labels = [f"{i / 10:.1f}" for i in range(RECALL_BINS - 1)] + ["1.0"]
    series = {
        "read": [float(n) for n in process.read_recall_histogram],
        "retrieved": _recall_bins(r.retrieved_recall for r in summary.process_records),
    }
    first = process.first_read_turn
    rows: list[list[object]] = [
        ["trajectories with evidence URLs", process.trajectories],
        ["mean retrieved recall", f"{process.retrieved_recall:.3f}"],
        ["mean read recall", f"{process.read_recall:.3f}"],
        ["read recall, correct answers", _ratio(process.read_recall_correct)],
        ["read recall, incorrect answers", _ratio(process.read_recall_incorrect)],
        ["read every evidence document", process.all_read],
        ["first read turn (median / p90)", f"{_fmt(first.median)} / {_fmt(first.p90)}"],
        ["required tools called", _pct(process.required_tools_called)],
        ["required tools returned the deciding value", _pct(process.deciding_values_returned)],
        ["search queries / redundant", f"{process.searches} / {process.redundant_searches}"],
        ["over-search turns after all evidence read (mean)", _fmt(process.over_search_turns.mean)],
    ]
    return (
        "<h2>Evidence recall</h2>"
        + grouped_bars(
            labels,
            series,
            label="evidence recall histogram",
            x_title="share of the task's evidence documents (bin start; 1.0 = all)",
            y_title="episodes",
        )
        + _table(["process metric", "value"], rows)
    )


def _identity_section(identity: Mapping[str, object] | None, summary: Summary) -> str:
    fields: dict[str, object] = dict(identity or {})
    fields.setdefault("judge", summary.judge or "–")
    if summary.judge_version:
        fields.setdefault("judge version", summary.judge_version)
    if summary.judge_model:
        fields.setdefault("judge model", summary.judge_model)
    rows = [
        [k, v if not isinstance(v, dict) else ", ".join(f"{a}={b}" for a, b in v.items())]
        for k, v in fields.items()
        if v is not None
    ]
    return _table(["run", ""], rows, left=2)


def _footer(summary: Summary) -> str:
    tokens = summary.tokens
    wall = summary.wall_time_s
    estimated = " (some estimated)" if tokens.estimated else ""
    return (
        "<h2>Cost</h2>"
        + _table(
            ["quantity", "value"],
            [
                ["model calls", f"{tokens.model_calls:,}"],
                [f"prompt tokens{estimated}", f"{tokens.prompt:,}"],
                ["completion tokens", f"{tokens.completion:,}"],
                ["tokens per episode (median / p90)", _dist_pair(tokens.per_episode)],
                ["wall time per episode, s (median / p90)", _dist_pair(wall)],
            ],
        )
        + '<p class="note">Generated by redsearcher from the run\'s summary; every number '
        "above is in summary.json.</p>"
    )


def _dist_pair(dist: Distribution) -> str:
    return f"{_fmt(dist.median)} / {_fmt(dist.p90)}"


def render_report(
    summary: Summary,
    *,
    benchmark: str = "run",
    regime: str = "tools",
    title: str | None = None,
    identity: Mapping[str, object] | None = None,
    tool_free: Summary | None = None,
    regime_gap: RegimeGap | None = None,
    turns: Mapping[str, Sequence[int]] | None = None,
    rows: Sequence[ReportRow] = (),
) -> str:
    """The report as one HTML document (see the module docstring).

    Args:
        summary: The run's summary; every plot but the accuracy table is drawn from it.
        benchmark: Its benchmark's name (the accuracy table's first column).
        regime: Its regime (``tools``; a tool-free run passed here says ``tool-free``).
        title: The page title (default: the benchmark's name).
        identity: What the score was measured on (benchmark, file sha256, World hash, model...),
            shown as a table; values are shown as text.
        tool_free: The tool-free run of the same tasks (another accuracy row).
        regime_gap: The gap between the two regimes.
        turns: Each episode's turns by verdict (:func:`turn_counts`) for the turn histogram.
        rows: Further accuracy rows (other benchmarks or runs shown in the same report).
    """
    table = [ReportRow(benchmark, regime, summary)]
    if tool_free is not None:
        table.append(ReportRow(benchmark, "tool-free", tool_free))
    table += rows
    heading = title or f"{benchmark}: evaluation report"
    return "".join(
        [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:\">",
            f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{esc(heading)}</h1>",
            _identity_section(identity, summary),
            _accuracy_section(table, regime_gap),
            _episodes_section(summary, turns),
            _tools_section(summary),
            _terminations_section(summary),
            _difficulty_section(summary),
            _process_section(summary),
            _footer(summary),
            "</body></html>\n",
        ]
    )


def write_report(
    out_path: str | Path,
    summary: Summary,
    *,
    benchmark: str = "run",
    regime: str = "tools",
    title: str | None = None,
    identity: Mapping[str, object] | None = None,
    tool_free: Summary | None = None,
    regime_gap: RegimeGap | None = None,
    turns: Mapping[str, Sequence[int]] | None = None,
    rows: Sequence[ReportRow] = (),
) -> Path:
    """Render the report (:func:`render_report`, same arguments) and write it atomically.

    Returns:
        The path written.
    """
    path = Path(out_path)
    text = render_report(
        summary,
        benchmark=benchmark,
        regime=regime,
        title=title,
        identity=identity,
        tool_free=tool_free,
        regime_gap=regime_gap,
        turns=turns,
        rows=rows,
    )
    write_atomic(path, text)
    return path
