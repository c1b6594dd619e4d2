"""Process metrics from provenance: how an agent searched, measured against what the task needs.

A synthesized task knows its evidence: the documents (``Task.evidence_documents``) that state
the facts its answer rests on, and the URLs the environment serves them under
(``Task.evidence_urls``, in the same order). A trajectory records every tool call with its
arguments and the text that came back. Together they say, per episode:

- *retrieved*: an evidence URL appeared among a ``search``/``google_scholar`` call's results
  (the rendered results link each hit as ``[title](url)``), or was read;
- *read*: a ``visit`` call asked for an evidence URL and got its page (a visit block that says
  the page could not be accessed is not a read);
- the first turn each evidence document was retrieved and read;
- whether each tool the task requires (``maps``, ``scholar``, ``python``) was called and answered
  without a tool error, and whether it *returned the deciding value*: for every constraint
  enforced with that tool, some answer of the tool states a number the constraint accepts —
  the exact day count of a ``compute`` constraint, a travel time within a ``route``
  constraint's bounds in an answer naming the place, a citation count within a ``scholar``
  constraint's bounds in an answer naming the paper;
- redundant searches: queries repeated within the episode after normalisation (case, Unicode
  form, whitespace); each query of a multi-query call counts, as each costs a search credit;
- over-search: turns that still called ``search`` or ``visit`` after the turn on which the
  last evidence document was read (the paper's §7.4.2 finding: agents keep searching once
  everything is in hand). The answering turn and calls of other tools (a required route,
  scholar look-up or computation done after reading) are not over-search.

URLs compare in the environment's normalised form (scheme, query, fragment, trailing slash and
case ignored), exactly as the environment resolves a visit. Tasks without evidence URLs (a
benchmark question, or a task synthesized without an index) have no process metrics.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from redsearcher.log import Constraint, Task, ToolCallRecord, Trajectory

__all__ = [
    "REQUIRED_TOOL_NAMES",
    "TOOL_CATEGORIES",
    "ProcessRecord",
    "process_record",
    "search_queries",
    "tool_category",
]

#: The agent tools that satisfy each required tool of a synthesized task.
REQUIRED_TOOL_NAMES: dict[str, frozenset[str]] = {
    "maps": frozenset({"google_maps", "google_maps_route"}),
    "scholar": frozenset({"google_scholar"}),
    "python": frozenset({"PythonInterpreter"}),
}
#: The category of each agent tool in reports (other names: ``other``).
TOOL_CATEGORIES: dict[str, str] = {
    "search": "search",
    "google_scholar": "scholar",
    "visit": "visit",
    "PythonInterpreter": "python",
    "google_maps": "maps",
    "google_maps_route": "maps",
}
_SEARCH_TOOLS = frozenset({"search", "google_scholar"})
# Web browsing: what over-search counts (a scholar look-up a task requires is not over-search).
_BROWSING = frozenset({"search", "visit"})
_LINK = re.compile(r"\]\((?P<url>[^)\s]+)\)|(?P<bare>https?://[^\s)\]>\"']+)")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_VISIT_HEAD = re.compile(r"The useful information in (?P<url>\S+) for user goal")


@functools.lru_cache(maxsize=1 << 16)
def normalize_url(url: str) -> str:
    """The environment's lookup key of a URL (cached: a run links the same pages many times).

    Imported on first use: the environment package pulls in pyarrow, which scoring a run
    without provenance never needs.
    """
    from redsearcher.env import normalize_url as normalize

    return normalize(url)


def _visit_texts() -> tuple[str, str]:
    """The tools' block separator and failed-visit text (imported on first use, as above)."""
    from redsearcher.tools import SEPARATOR, VISIT_FAILED_EVIDENCE

    return SEPARATOR, VISIT_FAILED_EVIDENCE


def tool_category(name: str) -> str:
    """The report category of the tool ``name``."""
    return TOOL_CATEGORIES.get(name, "other")


def _normalize_query(query: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", query).casefold().split())


def search_queries(call: ToolCallRecord) -> list[str]:
    """The queries of a ``search``/``google_scholar`` call (none for other tools)."""
    if call.name not in _SEARCH_TOOLS or not isinstance(call.arguments, dict):
        return []
    value: Any = call.arguments.get("query")
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v.strip()]


def _visit_urls(call: ToolCallRecord) -> list[str]:
    if call.name != "visit" or not isinstance(call.arguments, dict):
        return []
    value: Any = call.arguments.get("url")
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v.strip()]


def _linked_urls(text: str) -> set[str]:
    return {normalize_url(m.group("url") or m.group("bare")) for m in _LINK.finditer(text)}


def _read_urls(call: ToolCallRecord) -> set[str]:
    """Normalised URLs a visit call got a page for."""
    if call.error:
        return set()
    separator, failed = _visit_texts()
    asked = {normalize_url(u) for u in _visit_urls(call)}
    read: set[str] = set()
    heads = 0
    for block in call.output.split(separator):
        match = _VISIT_HEAD.search(block)
        if match is None:
            continue
        heads += 1
        if failed not in block:
            read.add(normalize_url(match.group("url")))
    if heads == 0 and len(asked) == 1 and failed not in call.output:
        read = set(asked)  # a render style without the standard head: one page, not failed
    return read & asked


class ProcessRecord(BaseModel):
    """One trajectory's search process against its task's evidence."""

    model_config = ConfigDict(extra="forbid")

    trajectory_id: str
    task_id: str
    evidence: int
    """Evidence documents with a URL."""
    retrieved: int
    read: int
    retrieved_recall: float
    read_recall: float
    first_retrieved_turn: dict[str, int | None]
    """Per evidence document id: the first turn it was retrieved (``None``: never)."""
    first_read_turn: dict[str, int | None]
    required_tools: dict[str, bool]
    """Per required tool: called and answered without a tool error."""
    deciding_values: dict[str, bool]
    """Per required tool: its answers stated the deciding value of every constraint it
    enforces (see the module docstring)."""
    searches: int
    """Search queries issued (each query of a call counts)."""
    redundant_searches: int
    """Queries that repeat an earlier query of the episode (normalised)."""
    over_search_turns: int | None
    """Turns that searched or visited after the last evidence document was read; ``None`` when
    not all were read."""


def process_record(trajectory: Trajectory, task: Task) -> ProcessRecord | None:
    """The process metrics of ``trajectory`` on ``task``; ``None`` without evidence URLs."""
    pairs = [
        (doc, normalize_url(url))
        for doc, url in zip(task.evidence_documents, task.evidence_urls, strict=False)
        if url
    ]
    if not pairs:
        return None
    by_url: dict[str, list[str]] = {}
    for doc, url in pairs:
        by_url.setdefault(url, []).append(doc)
    first_retrieved: dict[str, int | None] = dict.fromkeys((d for d, _ in pairs), None)
    first_read: dict[str, int | None] = dict.fromkeys((d for d, _ in pairs), None)
    seen_queries: set[str] = set()
    searches = redundant = 0
    for call in sorted(trajectory.tool_calls, key=lambda c: c.turn):
        retrieved: set[str] = set()
        read: set[str] = set()
        if call.name in _SEARCH_TOOLS:
            for query in search_queries(call):
                searches += 1
                key = _normalize_query(query)
                redundant += key in seen_queries
                seen_queries.add(key)
            if not call.error:
                retrieved = _linked_urls(call.output)
        elif call.name == "visit":
            read = _read_urls(call)
        for url in (retrieved | read) & by_url.keys():
            _first(first_retrieved, by_url[url], call.turn)
        for url in read & by_url.keys():
            _first(first_read, by_url[url], call.turn)
    evidence = len(first_read)
    got_retrieved = sum(t is not None for t in first_retrieved.values())
    got_read = sum(t is not None for t in first_read.values())
    over: int | None = None
    if got_read == evidence:
        last = max(t for t in first_read.values() if t is not None)
        over = len({c.turn for c in trajectory.tool_calls if c.turn > last and c.name in _BROWSING})
    return ProcessRecord(
        trajectory_id=trajectory.id,
        task_id=task.id,
        evidence=evidence,
        retrieved=got_retrieved,
        read=got_read,
        retrieved_recall=got_retrieved / evidence,
        read_recall=got_read / evidence,
        first_retrieved_turn=first_retrieved,
        first_read_turn=first_read,
        required_tools=_required(task, trajectory.tool_calls),
        deciding_values=_deciding(task, trajectory.tool_calls),
        searches=searches,
        redundant_searches=redundant,
        over_search_turns=over,
    )


def _first(turns: dict[str, int | None], docs: Iterable[str], turn: int) -> None:
    for doc in docs:
        if turns[doc] is None:
            turns[doc] = turn


def _required(task: Task, calls: list[ToolCallRecord]) -> dict[str, bool]:
    answered = {c.name for c in calls if not c.error}
    return {
        tool: bool(REQUIRED_TOOL_NAMES.get(tool, frozenset()) & answered)
        for tool in task.required_tools
    }


def _numbers(text: str) -> list[float]:
    values = []
    for match in _NUMBER.finditer(text):
        try:
            values.append(float(match.group().replace(",", "")))
        except ValueError:
            continue
    return values


def _states(constraint: Constraint, labels: dict[str, str], output: str) -> bool:
    """Whether a tool answer states the value that decides ``constraint``."""
    condition = constraint.condition
    if condition is None or condition.low is None:
        return False
    low, high = condition.low, condition.high if condition.high is not None else condition.low
    if constraint.kind in ("route", "scholar"):
        label = labels.get(constraint.subject, "")
        if not label or label.casefold() not in output.casefold():
            return False
    return any(low <= value <= high for value in _numbers(output))


def _deciding(task: Task, calls: list[ToolCallRecord]) -> dict[str, bool]:
    labels = {node.var: node.label for node in task.nodes}
    result: dict[str, bool] = {}
    for tool in task.required_tools:
        names = REQUIRED_TOOL_NAMES.get(tool, frozenset())
        outputs = [c.output for c in calls if c.name in names and not c.error]
        enforced = [c for c in task.constraints if c.tool == tool]
        result[tool] = bool(enforced) and all(
            any(_states(constraint, labels, output) for output in outputs)
            for constraint in enforced
        )
    return result
