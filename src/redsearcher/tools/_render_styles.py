"""Render styles: which peer harness's text a run's tools produce (registry kind ``render_style``).

A model trained on one harness's trajectories has learnt that harness's rendering — numbering
base, labels, indentation — so evaluating it, or building SFT data to compare with a peer's,
needs the same bytes. A style is one object with a method per tool result; the
:class:`~redsearcher.tools.Toolbox` of a run holds one (``AgentConfig.render_style`` picks it by
name, so the run manifest records it). Both styles read the same Serper-shaped wire JSON, so any
backend works with any style.

- ``tongyi`` (default): Tongyi DeepResearch's formatters, :mod:`redsearcher.tools._render`
  (exactly the text the package rendered before styles existed).
- ``deeptracehub``: DeepTraceHub's, :mod:`redsearcher.tools._render_deeptracehub`.

Where a peer has no formatter for a tool, its style says so in :attr:`RenderStyle.fallback` and
uses the named style's rendering. Both styles are registered here, explicitly; a plug-in
registers its own with ``register("render_style", name)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

from redsearcher.errors import ConfigError
from redsearcher.registry import lookup, register
from redsearcher.tools import _render as tongyi
from redsearcher.tools import _render_deeptracehub as dth

__all__ = [
    "DEFAULT_RENDER_STYLE",
    "DeepTraceHubStyle",
    "RenderStyle",
    "TongyiStyle",
    "render_style",
]

#: The style of a run unless configured otherwise.
DEFAULT_RENDER_STYLE = "tongyi"


@runtime_checkable
class RenderStyle(Protocol):
    """Turns the services' wire JSON into the text a model reads, one method per tool result."""

    name: ClassVar[str]
    """The registered name."""
    fallback: ClassVar[Mapping[str, str]]
    """Methods (by name) the peer has no formatter for, each mapped to the style it reuses."""

    def search(self, query: str, response: Mapping[str, Any]) -> str:
        """One query's Serper ``/search`` response (``no hits`` included)."""
        ...

    def scholar(self, query: str, response: Mapping[str, Any]) -> str:
        """One query's Serper ``/scholar`` response."""
        ...

    def places(self, query: str, response: Mapping[str, Any]) -> str:
        """A Serper ``/maps`` response."""
        ...

    def route(self, response: Mapping[str, Any]) -> str:
        """Our routing endpoint's response."""
        ...

    def visit(self, url: str, goal: str, evidence: str, summary: str) -> str:
        """One URL's goal-directed visit result."""
        ...

    def visit_failed(self, url: str, goal: str) -> str:
        """One URL that could not be read."""
        ...

    def no_results(self, query: str) -> str:
        """The style's text for a search with nothing to show."""
        ...

    def join(self, blocks: Iterable[str]) -> str:
        """Several queries' (or URLs') blocks as one tool result."""
        ...


@dataclass(frozen=True)
class TongyiStyle:
    """Tongyi DeepResearch's rendering (``inference/tool_search.py``, ``tool_scholar.py``, ...).

    Tongyi has no maps or routing tool: ``places`` and ``route`` are this package's own
    renderings in Tongyi's manner, listed in :attr:`fallback` as the style's own.
    """

    name: ClassVar[str] = "tongyi"
    fallback: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def search(self, query: str, response: Mapping[str, Any]) -> str:
        """Numbered from 1; no hits: "No results found for '…'"."""
        return tongyi.render_search(query, response)

    def scholar(self, query: str, response: Mapping[str, Any]) -> str:
        """Numbered from 1, ``publicationInfo:`` / ``citedBy:`` labels, the pdf link only."""
        return tongyi.render_scholar(query, response)

    def places(self, query: str, response: Mapping[str, Any]) -> str:
        """This package's own (Tongyi has no maps tool): unindented fields."""
        return tongyi.render_places(query, response)

    def route(self, response: Mapping[str, Any]) -> str:
        """This package's own one line (no peer has a routing tool)."""
        return tongyi.render_route(response)

    def visit(self, url: str, goal: str, evidence: str, summary: str) -> str:
        """Tongyi's "The useful information in … Evidence in page … Summary" block."""
        return tongyi.render_visit(url, goal, evidence, summary)

    def visit_failed(self, url: str, goal: str) -> str:
        """Tongyi's fixed "could not be accessed" block."""
        return tongyi.render_visit_failed(url, goal)

    def no_results(self, query: str) -> str:
        """Tongyi's "Try with a more general query" line."""
        return tongyi.no_results(query)

    def join(self, blocks: Iterable[str]) -> str:
        """Joined by the ``=======`` line."""
        return tongyi.join_blocks(blocks)


@dataclass(frozen=True)
class DeepTraceHubStyle:
    """DeepTraceHub's rendering (``tools/scholar.py``, ``tools/map.py``, ``src/agents/react.py``).

    Args:
        clock: The local time relative Serper dates ("3 days ago") count from; tests pin it.
    """

    name: ClassVar[str] = "deeptracehub"
    fallback: ClassVar[Mapping[str, str]] = MappingProxyType({"route": "tongyi"})

    clock: Callable[[], datetime] = field(default=datetime.now)

    def search(self, query: str, response: Mapping[str, Any]) -> str:
        """Numbered from 0, relative dates made absolute; no hits still give the header."""
        return dth.render_search(query, response, now=self.clock())

    def scholar(self, query: str, response: Mapping[str, Any]) -> str:
        """``Publication Info:`` / ``Cited by:`` / ``Snippet:``; the pdf link, else the link."""
        return dth.render_scholar(query, response)

    def places(self, query: str, response: Mapping[str, Any]) -> str:
        """Says "found N places"; fields indented three spaces; ``Coordinates: (lat, lon)``."""
        return dth.render_places(query, response)

    def route(self, response: Mapping[str, Any]) -> str:
        """DeepTraceHub has no routing tool: ``tongyi``'s line (see :attr:`fallback`)."""
        return TongyiStyle().route(response)

    def visit(self, url: str, goal: str, evidence: str, summary: str) -> str:
        """The same block as Tongyi's (DeepTraceHub's ``tools/summarizer.py``)."""
        return tongyi.render_visit(url, goal, evidence, summary)

    def visit_failed(self, url: str, goal: str) -> str:
        """The same fixed block as Tongyi's."""
        return tongyi.render_visit_failed(url, goal)

    def no_results(self, query: str) -> str:
        """Its scholar's "Try with a more general query" line."""
        return dth.no_results(query)

    def join(self, blocks: Iterable[str]) -> str:
        """Joined by the ``=======`` line, then stripped (a visit loses its final blank lines)."""
        return dth.join_blocks(blocks)


register("render_style", TongyiStyle.name)(TongyiStyle())
register("render_style", DeepTraceHubStyle.name)(DeepTraceHubStyle())


def render_style(name: str) -> RenderStyle:
    """The render style registered as ``name``.

    Raises:
        ConfigError: for an unknown name (listing the known ones), or a registered object that
            is not a style.
    """
    style = lookup("render_style", name)
    if not isinstance(style, RenderStyle):
        raise ConfigError(f"render_style {name!r} is registered but is not a RenderStyle")
    return style
