"""The viewer's pages as HTML strings: the runs, one run's filtered list, one trajectory.

Everything a model, a tool or a file wrote is untrusted and goes through :func:`esc` — there is
no other way text reaches a page — and the pages carry no script at all: filters are a plain
GET form and the server sends a Content-Security-Policy that forbids scripts, so even a missed
escape could not run code. Evidence highlighting is done on the *escaped* pieces: the text is
split around URLs first, each piece escaped, and only evidence URLs wrapped in ``<mark>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from redsearcher.eval._process import _read_urls, normalize_url
from redsearcher.eval._report_svg import esc
from redsearcher.eval._view import Opened, RunRow, RunView
from redsearcher.log import Message, RunManifest, ToolCallRecord

__all__ = ["PAGE_SIZE", "Filters", "index_page", "run_page", "trajectory_page"]

PAGE_SIZE = 200
#: Observations longer than this start collapsed unless they read evidence (a whole page dump
#: of 100 KB is rarely what one scrolls past). Shorter ones are laid out only when scrolled
#: near (``content-visibility: auto`` on ``pre.obs``): a 200-turn episode carries megabytes.
_OPEN_CHARS = 20_000
_URL = re.compile(r"https?://[^\s)\]>\"'<`]+")
_THINK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL)
_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#111;padding:0 1em}
a{color:#0645ad}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.q{max-width:520px}
.correct{color:#fff;background:#009e73}.incorrect{color:#fff;background:#d55e00}
.unscored{color:#fff;background:#777}.badge{padding:1px 6px;border-radius:3px;font-size:.85em}
.step{border:1px solid #ddd;border-radius:4px;margin:.6em 0;padding:.4em .8em}
.step h3{font-size:.95em;margin:.2em 0}.assistant{background:#f7fbff}.prompt{background:#fffbe6}
.call{border-left:4px solid #0072b2;margin:.4em 0;padding:.2em .6em;background:#fff}
.call.err{border-left-color:#d55e00}
pre{white-space:pre-wrap;word-break:break-word;margin:.3em 0;font-size:.88em}
pre.obs{content-visibility:auto;contain-intrinsic-size:auto 300px}
.thought{color:#555;font-style:italic}mark.ev{background:#ffe066}
.ev-read{background:#ffe066}form label{margin-right:1em}.note{color:#555;font-size:.9em}
"""


class Filters:
    """The list's filters, read from the query string (unknown values simply match nothing)."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self.outcome = query.get("verdict", "")
        self.treewidth = query.get("treewidth", "")
        self.msd = query.get("msd", "")
        self.termination = query.get("termination", "")
        self.text = query.get("q", "").strip()
        self.judge = query.get("judge", "")
        try:
            self.page = max(int(query.get("page", "0")), 0)
        except ValueError:
            self.page = 0

    def keep(self, row: RunRow) -> bool:
        """Whether ``row`` passes every filter that is set."""
        return (
            (not self.outcome or row.outcome == self.outcome)
            and (not self.treewidth or str(row.treewidth) == self.treewidth)
            and (not self.msd or str(row.msd) == self.msd)
            and (not self.termination or row.termination == self.termination)
            and (
                not self.text
                or self.text.casefold() in row.question.casefold()
                or self.text.casefold() in row.id.casefold()
            )
        )

    def query(self, **changes: object) -> str:
        """The query string of these filters with ``changes``."""
        values = {
            "verdict": self.outcome,
            "treewidth": self.treewidth,
            "msd": self.msd,
            "termination": self.termination,
            "q": self.text,
            "judge": self.judge,
            "page": self.page,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 0)})


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _badge(outcome: str) -> str:
    return f'<span class="badge {esc(outcome)}">{esc(outcome)}</span>'


def index_page(manifests: Mapping[str, RunManifest], root: str, report: bool = False) -> str:
    """The runs under the viewed directory (and a link to its HTML report, if it has one)."""
    rows = []
    for name, m in manifests.items():
        link = "run?" + urlencode({"r": name})
        tools = m.agent.get("tools")
        shown = ", ".join(str(t) for t in tools) if isinstance(tools, list) else ""
        rows.append(
            f'<tr><td><a href="{esc(link)}">{esc(name)}</a></td><td>{esc(m.model)}</td>'
            f"<td>{esc(m.protocol)}</td><td>{esc(m.task_count)}</td><td>{esc(m.n_samples)}</td>"
            f"<td>{esc(shown or '–')}</td></tr>"
        )
    body = (
        f"<h1>Runs in {esc(root)}</h1><table><tr><th>run</th><th>model</th><th>protocol</th>"
        "<th>tasks</th><th>samples</th><th>tools</th></tr>" + "".join(rows) + "</table>"
    )
    if report:
        body += '<p><a href="report">the evaluation report (report.html)</a></p>'
    return _page(f"runs: {root}", body)


def _select(name: str, label: str, current: str, options: Sequence[str], unset: str = "all") -> str:
    opts = [f'<option value="">{esc(unset)}</option>'] + [
        f'<option value="{esc(o)}"{" selected" if o == current else ""}>{esc(o)}</option>'
        for o in options
    ]
    return f'<label>{esc(label)} <select name="{esc(name)}">{"".join(opts)}</select></label>'


def run_page(view: RunView, filters: Filters) -> str:
    """One run: counts, the filter form and the matching trajectories (a page at a time)."""
    kept = [row for row in view.rows if filters.keep(row)]
    counts = {k: sum(r.outcome == k for r in view.rows) for k in ("correct", "incorrect")}
    counts["unscored"] = len(view.rows) - counts["correct"] - counts["incorrect"]
    start = filters.page * PAGE_SIZE
    shown = kept[start : start + PAGE_SIZE]
    treewidths = [
        str(v) for v in sorted({r.treewidth for r in view.rows if r.treewidth is not None})
    ]
    msds = [str(v) for v in sorted({r.msd for r in view.rows if r.msd is not None})]
    terminations = sorted({r.termination for r in view.rows})
    judge = view.judge or "none"
    form = (
        '<form method="get" action="run">'
        f'<input type="hidden" name="r" value="{esc(view.name)}">'
        + _select("verdict", "verdict", filters.outcome, ["correct", "incorrect", "unscored"])
        + _select("treewidth", "treewidth", filters.treewidth, treewidths)
        + _select("msd", "MSD", filters.msd, msds)
        + _select("termination", "termination", filters.termination, terminations)
        + _select("judge", "judge", view.judge or "", view.judges, unset="default")
        + f'<label>text <input name="q" value="{esc(filters.text)}"></label>'
        '<button type="submit">filter</button></form>'
    )
    rows = []
    for row in shown:
        link = "trajectory?" + urlencode({"r": view.name, "id": row.id, "judge": judge})
        question = row.question if len(row.question) <= 200 else row.question[:200] + "…"
        rows.append(
            f'<tr><td><a href="{esc(link)}">{esc(row.id)}</a></td><td>{_badge(row.outcome)}</td>'
            f"<td>{esc(row.treewidth if row.treewidth is not None else '–')}</td>"
            f"<td>{esc(row.msd if row.msd is not None else '–')}</td><td>{esc(row.turns)}</td>"
            f"<td>{esc(row.tool_calls)}</td><td>{esc(row.termination)}</td>"
            f"<td>{esc(row.prediction if row.prediction is not None else '–')}</td>"
            f'<td class="q">{esc(question)}</td></tr>'
        )
    pager = []
    here = "run?" + urlencode({"r": view.name}) + "&"
    if filters.page > 0:
        pager.append(f'<a href="{esc(here + filters.query(page=filters.page - 1))}">previous</a>')
    if start + PAGE_SIZE < len(kept):
        pager.append(f'<a href="{esc(here + filters.query(page=filters.page + 1))}">next</a>')
    body = (
        f'<p><a href="./">runs</a></p><h1>Run {esc(view.name)}</h1>'
        f"<p>model {esc(view.manifest.model)} · judge {esc(judge)} · "
        f"{esc(len(view.rows))} trajectories: {esc(counts['correct'])} correct, "
        f"{esc(counts['incorrect'])} incorrect, {esc(counts['unscored'])} unscored</p>"
        f'<p class="note">{esc(view.tasks_note)}</p>'
        + form
        + f"<p>{esc(len(kept))} match; showing {esc(min(start + 1, len(kept)))}–"
        f"{esc(start + len(shown))}. {' '.join(pager)}</p>"
        "<table><tr><th>trajectory</th><th>verdict</th><th>treewidth</th><th>MSD</th>"
        "<th>turns</th><th>tool calls</th><th>termination</th><th>answer</th><th>question</th>"
        "</tr>" + "".join(rows) + "</table>"
    )
    return _page(f"run {view.name}", body)


def highlight(text: str, evidence: Mapping[str, str]) -> str:
    """``text`` escaped, with each URL of an evidence document marked (see the module doc)."""
    if not evidence:
        return esc(text)
    out, last = [], 0
    for match in _URL.finditer(text):
        url = match.group(0)
        doc = evidence.get(normalize_url(url))
        if doc is None:
            continue
        out.append(esc(text[last : match.start()]))
        out.append(f'<mark class="ev" title="evidence {esc(doc)}">{esc(url)}</mark>')
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def _arguments(call: ToolCallRecord) -> str:
    if isinstance(call.arguments, str):
        return call.arguments
    return json.dumps(call.arguments, ensure_ascii=False, indent=1)


def _call(call: ToolCallRecord, evidence: Mapping[str, str]) -> str:
    read = sorted({evidence[u] for u in _read_urls(call) if u in evidence}) if evidence else []
    tags = []
    if call.error:
        tags.append('<span class="badge incorrect">tool error</span>')
    if read:
        tags.append(f'<span class="badge ev-read">reads evidence {esc(", ".join(read))}</span>')
    return (
        f'<div class="call{" err" if call.error else ""}"><b>{esc(call.name)}</b> '
        f'{" ".join(tags)} <span class="note">{esc(f"{call.latency_s:.2f}")} s</span>'
        f"<pre>{highlight(_arguments(call), evidence)}</pre>"
        f"<details{' open' if read or len(call.output) <= _OPEN_CHARS else ''}>"
        f"<summary>observation ({esc(len(call.output))} chars)</summary>"
        f'<pre class="obs">{highlight(call.output, evidence)}</pre></details></div>'
    )


def _assistant(
    message: Message, turn: int, calls: Sequence[ToolCallRecord], evidence: Mapping[str, str]
) -> str:
    thoughts = [message.reasoning] if message.reasoning else []
    thoughts += [m.group(1).strip() for m in _THINK.finditer(message.content)]
    content = _THINK.sub("", message.content).strip()
    parts = [f'<div class="step assistant"><h3>turn {esc(turn)}</h3>']
    for thought in thoughts:
        parts.append(f'<pre class="thought">{highlight(thought, evidence)}</pre>')
    if content:
        parts.append(f"<pre>{highlight(content, evidence)}</pre>")
    parts += [_call(call, evidence) for call in calls]
    parts.append("</div>")
    return "".join(parts)


def _steps(opened: Opened, evidence: Mapping[str, str]) -> str:
    t = opened.trajectory
    by_turn: dict[int, list[ToolCallRecord]] = {}
    for call in t.tool_calls:
        by_turn.setdefault(call.turn, []).append(call)
    recorded = {call.id for call in t.tool_calls}
    parts = []
    for segment in t.segments:
        if len(t.segments) > 1:
            parts.append(f"<h2>Context window {esc(segment.index + 1)} ({esc(segment.end)})</h2>")
        turn = segment.first_turn
        users = 0
        for message in segment.messages:
            if message.role == "system":
                parts.append(
                    '<details class="step"><summary>system prompt</summary>'
                    f"<pre>{esc(message.content)}</pre></details>"
                )
            elif message.role == "assistant":
                parts.append(_assistant(message, turn, by_turn.get(turn, []), evidence))
                turn += 1
            elif message.role == "tool" and message.tool_call_id in recorded:
                continue  # shown with its call
            elif message.role == "user" and message.content.lstrip().startswith("<tool_response>"):
                continue  # text protocol: the observations, shown with their calls
            else:
                users += message.role == "user"
                what = "question" if message.role == "user" and users == 1 else message.role
                parts.append(
                    f'<div class="step prompt"><h3>{esc(what)}</h3>'
                    f"<pre>{highlight(message.content, evidence)}</pre></div>"
                )
    return "".join(parts)


def _verdict(opened: Opened) -> str:
    v = opened.verdict
    if v is None:
        return "<p>No verdict for this trajectory (unscored).</p>"
    outcome = "unscored" if v.correct is None else "correct" if v.correct else "incorrect"
    rows = [
        ("verdict", _badge(outcome)),
        ("judge", esc(f"{v.judge} ({v.judge_version})")),
        ("judge model", esc(v.model or "– (rule)")),
    ]
    if v.unscored_reason:
        rows.append(("unscored because", esc(v.unscored_reason)))
    if v.extracted_answer is not None:
        rows.append(("extracted answer", esc(v.extracted_answer)))
    if v.confidence is not None:
        rows.append(("confidence", esc(f"{v.confidence:.2f}")))
    if v.reasoning:
        rows.append(("judge's reasoning", f"<pre>{esc(v.reasoning)}</pre>"))
    if v.raw:
        rows.append(
            (
                "raw judge output",
                f"<details><summary>show</summary><pre>{esc(v.raw)}</pre></details>",
            )
        )
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{h}</td></tr>" for k, h in rows) + "</table>"


def _evidence(opened: Opened) -> tuple[str, dict[str, str]]:
    task, process = opened.task, opened.process
    if task is None or not task.evidence_urls:
        return "", {}
    evidence = {
        normalize_url(url): doc
        for doc, url in zip(task.evidence_documents, task.evidence_urls, strict=False)
        if url
    }
    rows = []
    for doc, url in zip(task.evidence_documents, task.evidence_urls, strict=False):
        retrieved = read = None
        if process is not None:
            retrieved = process.first_retrieved_turn.get(doc)
            read = process.first_read_turn.get(doc)
        cls = ' class="ev-read"' if read is not None else ""
        rows.append(
            f"<tr{cls}><td>{esc(doc)}</td><td>{esc(url)}</td>"
            f"<td>{esc('–' if retrieved is None else retrieved)}</td>"
            f"<td>{esc('never' if read is None else read)}</td></tr>"
        )
    table = (
        "<h2>Evidence documents</h2><table><tr><th>document</th><th>URL</th>"
        "<th>first retrieved (turn)</th><th>first read (turn)</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return table, evidence


def trajectory_page(view: RunView, opened: Opened) -> str:
    """One trajectory step by step, with its verdict, task difficulty and evidence."""
    t = opened.trajectory
    task = opened.task
    evidence_table, evidence = _evidence(opened)
    facts = [
        ("trajectory", esc(t.id)),
        ("reference answers", esc(" | ".join(t.answers) or "–")),
        ("answer", f"<b>{esc(t.prediction if t.prediction is not None else '– (none)')}</b>"),
        ("termination", esc(t.termination + (f": {t.error}" if t.error else ""))),
        ("turns / tool calls", esc(f"{t.turns} / {len(t.tool_calls)}")),
        ("model", esc(t.provenance.model)),
    ]
    if task is not None and task.treewidth is not None:
        facts.append(("treewidth / MSD", esc(f"{task.treewidth} / {task.msd}")))
    if task is not None and task.required_tools:
        facts.append(("required tools", esc(", ".join(task.required_tools))))
    back = "run?" + urlencode({"r": view.name, "judge": view.judge or ""})
    body = (
        f'<p><a href="{esc(back)}">back to run {esc(view.name)}</a></p>'
        f"<h1>{esc(t.id)}</h1><h2>Question</h2><pre>{esc(t.question)}</pre>"
        + "<table>"
        + "".join(f"<tr><th>{k}</th><td>{h}</td></tr>" for k, h in facts)
        + "</table><h2>Verdict</h2>"
        + _verdict(opened)
        + evidence_table
        + "<h2>Steps</h2>"
        + _steps(opened, evidence)
    )
    return _page(f"trajectory {t.id}", body)
