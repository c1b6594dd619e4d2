"""Render styles against recorded peer outputs (``tests/fixtures/render``), byte for byte.

Each fixture file holds Serper-shaped wire JSON and the exact text the peer's formatter makes of
it (see the README there); every case runs twice: through the style's methods, and through a
:class:`Toolbox` configured with the style, so the threading is tested along with the strings.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from redsearcher.env import Page
from redsearcher.errors import ConfigError
from redsearcher.registry import _REGISTRY, names
from redsearcher.tools import (
    DEFAULT_RENDER_STYLE,
    DeepTraceHubStyle,
    Extract,
    RenderStyle,
    TongyiStyle,
    Toolbox,
    VisitConfig,
    render_style,
)
from redsearcher.tools._render_deeptracehub import absolute_date

FIXTURES = Path(__file__).parents[1] / "fixtures" / "render"
TOOLS = ("search", "scholar", "maps", "route", "visit")


def load(style: str, tool: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / style / f"{tool}.json").read_text("utf-8"))
    return doc


def style_for(doc: dict[str, Any]) -> RenderStyle:
    """The fixture's style, its clock pinned to the fixture's ``now`` where it has one."""
    if doc["style"] == "deeptracehub":
        now = datetime.fromisoformat(doc["now"]) if "now" in doc else datetime(2000, 1, 1)
        return DeepTraceHubStyle(clock=lambda: now)
    return render_style(doc["style"])


CASES = [
    pytest.param(style, tool, case["name"], id=f"{style}-{tool}-{case['name']}")
    for style in sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
    for tool in TOOLS
    for case in load(style, tool)["cases"]
]


def find(style: str, tool: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    doc = load(style, tool)
    return doc, next(c for c in doc["cases"] if c["name"] == name)


def render_directly(style: RenderStyle, tool: str, inp: dict[str, Any]) -> str:
    if tool in ("search", "scholar"):
        method = style.search if tool == "search" else style.scholar
        return style.join([method(c["query"], c["response"]) for c in inp["calls"]])
    if tool == "maps":
        return style.places(inp["query"], inp["response"])
    if tool == "route":
        return style.route(inp["response"])
    return style.join(
        style.visit_failed(p["url"], inp["goal"])
        if p.get("failed")
        else style.visit(p["url"], inp["goal"], p["evidence"], p["summary"])
        for p in inp["pages"]
    )


class FixtureBackend:
    """Answers the tools with a fixture's wire JSON (and its pages), like a recorded service."""

    def __init__(self, inp: dict[str, Any]) -> None:
        self.responses = {c["query"]: c["response"] for c in inp.get("calls", [])}
        if "query" in inp:
            self.responses[inp["query"]] = inp["response"]
        self.route_response = inp.get("response")
        self.pages = {p["url"]: p for p in inp.get("pages", [])}

    async def search(self, query: str, num: int) -> dict[str, Any]:
        return dict(self.responses[query])

    scholar = search

    async def maps(self, q: str, page: int) -> dict[str, Any]:
        return dict(self.responses[q])

    async def route(self, origin: str, destination: str, mode: str) -> dict[str, Any] | None:
        return self.route_response

    async def read(self, url: str) -> Page | None:
        page = self.pages[url]
        return None if page.get("failed") else Page("D", url, "T", "page text", "web")

    async def run_code(self, code: str) -> Any:
        raise AssertionError("not used")

    async def aclose(self) -> None:
        pass


class FixtureSummarizer:
    """Gives each page the evidence and summary the fixture recorded for it."""

    def __init__(self, pages: dict[str, dict[str, Any]]) -> None:
        self.pages = pages

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        recorded = self.pages[page.url]
        return Extract(recorded["evidence"], recorded["summary"], "llm")


async def render_through_toolbox(style: RenderStyle, tool: str, inp: dict[str, Any]) -> str:
    backend = FixtureBackend(inp)
    summarizer = FixtureSummarizer(backend.pages)
    async with Toolbox(backend, style=style, summarizer=summarizer) as box:
        if tool == "search":
            return await box.search([c["query"] for c in inp["calls"]])
        if tool == "scholar":
            return await box.google_scholar([c["query"] for c in inp["calls"]])
        if tool == "maps":
            return await box.google_maps(inp["query"])
        if tool == "route":
            r = inp["response"]
            return await box.google_maps_route(
                r["origin"]["name"], r["destination"]["name"], r["mode"]
            )
        return await box.visit([p["url"] for p in inp["pages"]], inp["goal"])


@pytest.mark.parametrize(("style", "tool", "name"), CASES)
def test_style_renders_the_recorded_output_byte_for_byte(style: str, tool: str, name: str) -> None:
    doc, case = find(style, tool, name)
    text = render_directly(style_for(doc), tool, case["input"])
    assert text.encode("utf-8") == case["expected"].encode("utf-8")


@pytest.mark.parametrize(("style", "tool", "name"), CASES)
def test_toolbox_tools_render_in_their_style(style: str, tool: str, name: str) -> None:
    doc, case = find(style, tool, name)
    text = asyncio.run(render_through_toolbox(style_for(doc), tool, case["input"]))
    assert text == case["expected"]


def test_every_registered_style_has_a_fixture_for_every_tool() -> None:
    assert set(names("render_style")) >= {"tongyi", "deeptracehub"}
    for style in names("render_style"):
        for tool in TOOLS:
            doc = load(style, tool)
            assert (doc["style"], doc["tool"]) == (style, tool)
            assert doc["source"] and doc["cases"]
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == names("render_style")


def test_edge_cases_are_recorded() -> None:
    """Zero results, several queries and non-ASCII text, in every style's search and scholar."""
    for style in names("render_style"):
        for tool in ("search", "scholar"):
            cases = {c["name"]: c for c in load(style, tool)["cases"]}
            assert {"zero_results", "several_queries", "non_ascii"} <= set(cases)
            assert len(cases["several_queries"]["input"]["calls"]) > 1
            assert not cases["non_ascii"]["expected"].isascii()
        search = {c["name"] for c in load(style, "search")["cases"]}
        assert {"missing_snippet", "dated_undated_and_sourced"} <= search


def test_recorded_divergences_from_the_peer_are_real_and_explained() -> None:
    """Only ``tongyi`` differs from its peer, where it keeps the pre-styles output."""
    for style in names("render_style"):
        for tool in TOOLS:
            for case in load(style, tool)["cases"]:
                if "peer" in case:
                    assert style == "tongyi", (tool, case["name"])
                    assert case["peer"] != case["expected"] and case["divergence"]


def test_deeptracehub_differs_where_the_issue_says() -> None:
    _, search = find("deeptracehub", "search", "dated_undated_and_sourced")
    _, tongyi_search = find("tongyi", "search", "dated_undated_and_sourced")
    assert "\n0. [Marta Velden" in search["expected"]
    assert "\n1. [Marta Velden" in tongyi_search["expected"]
    _, scholar = find("deeptracehub", "scholar", "full_partial_and_bare")
    assert scholar["expected"].startswith("A Google Scholar search for 'tree decompositions'")
    assert (
        "\nPublication Info: " in scholar["expected"] and "\nCited by: 1203" in scholar["expected"]
    )
    _, maps = find("deeptracehub", "maps", "full_sparse_and_zero_counts")
    assert "found 3 places:" in maps["expected"]
    assert "\n   Coordinates: (51.2, 4.4)" in maps["expected"]


def test_the_default_style_is_tongyi_and_unknown_names_list_the_known() -> None:
    backend = FixtureBackend({})
    assert DEFAULT_RENDER_STYLE == "tongyi"
    assert isinstance(Toolbox(backend).style, TongyiStyle)
    assert isinstance(Toolbox(backend, style="deeptracehub").style, DeepTraceHubStyle)
    with pytest.raises(ConfigError, match=r"unknown render_style 'nope'; known: .*deeptracehub"):
        Toolbox(backend, style="nope")


def test_a_registered_object_that_is_not_a_style_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(_REGISTRY["render_style"], "not-a-style", object())
    with pytest.raises(ConfigError, match="not a RenderStyle"):
        render_style("not-a-style")


def test_fallbacks_name_registered_styles_and_render_as_they_do() -> None:
    _, case = find("deeptracehub", "route", "driving")
    assert DeepTraceHubStyle.fallback == {"route": "tongyi"}
    for name in names("render_style"):
        style = render_style(name)
        for method, other in style.fallback.items():
            assert method == "route"  # the only tool a peer lacks today
            assert style.route(case["input"]["response"]) == render_style(other).route(
                case["input"]["response"]
            )


def test_no_results_texts() -> None:
    assert render_style("tongyi").no_results("q") == (
        "No results found for 'q'. Try with a more general query."
    )
    assert render_style("deeptracehub").no_results("q") == (
        "No results found for 'q'. Try with a more general query."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 month ago", "Dec, 2024"),
        ("12 months ago", "Jan, 2024"),
        ("13 MONTHS ago", "Dec, 2023"),
        ("3 hours ago", "Jan 15, 2025"),
        ("11 hours ago", "Jan 14, 2025"),
        ("1 year ago", "2024"),
        ("  Jan 3, 2025 ", "Jan 3, 2025"),
        ("an hour ago", "an hour ago"),
        ("99999999999 days ago", "99999999999 days ago"),
        ("", ""),
        (None, None),
        (2021, 2021),
    ],
)
def test_absolute_date(text: Any, expected: Any) -> None:
    assert absolute_date(text, datetime(2025, 1, 15, 10, 0)) == expected
