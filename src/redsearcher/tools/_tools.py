"""The agent's tools: search, visit, PythonInterpreter, google_scholar, google_maps (+ route).

One implementation serves every caller — the agent loop, the MCP server, tests — over either
kind of backend in :mod:`redsearcher.tools._backends`: an in-process
:class:`~redsearcher.env._types.SearchEnvironment` (:class:`LocalBackend`) or HTTP services
(:class:`HTTPBackend`). Backends return the services' *wire* JSON and every tool renders it with
:mod:`redsearcher.tools._render`, so an agent sees the same text whichever backend it runs on;
the toolbox's render style (:mod:`redsearcher.tools._render_styles`) says which peer's text.
This module holds what the model sees and calls; the backends module holds where the data comes
from, and its public names are re-exported here so ``redsearcher.tools._tools`` stays the one
import for callers.

Each tool is a :class:`ToolDef` registered under kind ``"tool"`` in the one registry: a pydantic
argument model whose field docstrings, with the tool's docstring, are the JSON schema the model
sees (the Qwen/Hermes schemas of Tongyi and DeepTraceHub), and an async function returning text.
Dispatch is a registry lookup, never an ``if name == …`` chain.

Two tiers of failure: :class:`ToolError` is the model's to handle (bad arguments, an unknown
place, a service that stayed down after retries) — its text goes back to the model and the
episode continues. A rejected API key is :class:`~redsearcher.errors.ConfigError`: no amount of
model retries fixes it, so it stops the run.

The per-run cache keeps what a call answered unless a service stayed down under it
(:class:`ServiceDown`, or a query or page lost to an outage inside a result): the backends note
outages in a per-call record (:mod:`redsearcher.tools._outages`) that :meth:`Toolbox.call` opens.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from redsearcher._util import AsyncClosing
from redsearcher.env import SearchEnvironment
from redsearcher.env.sandbox import render_run_result
from redsearcher.errors import ConfigError
from redsearcher.model import bad_text_error
from redsearcher.registry import lookup, register
from redsearcher.tools._backends import (
    Backend,
    CodeRunner,
    HTTPBackend,
    LocalBackend,
    ServiceDown,
    ServicesConfig,
    ServiceUnavailable,
    ToolError,
    page_from_jina_text,
    run_result_from_fusion,
    send_with_retries,
)
from redsearcher.tools._outages import Outages, note_outage, track_outages
from redsearcher.tools._render_styles import DEFAULT_RENDER_STYLE, RenderStyle, render_style
from redsearcher.tools._visit import Summarizer, VisitConfig, visit_pages

__all__ = [
    "DEFAULT_TOOLS",
    "Backend",
    "CodeRunner",
    "HTTPBackend",
    "LocalBackend",
    "MapsArgs",
    "Outages",
    "PythonArgs",
    "RouteArgs",
    "SearchArgs",
    "ServiceDown",
    "ServiceUnavailable",
    "ServicesConfig",
    "ToolDef",
    "ToolError",
    "Toolbox",
    "VisitArgs",
    "note_outage",
    "page_from_jina_text",
    "run_result_from_fusion",
    "send_with_retries",
    "tool",
    "track_outages",
]

#: The tools a :class:`Toolbox` offers unless told otherwise, in the order the model sees them.
DEFAULT_TOOLS = (
    "search",
    "visit",
    "PythonInterpreter",
    "google_scholar",
    "google_maps",
    "google_maps_route",
)


# -- tool definitions ------------------------------------------------------------------------

A = TypeVar("A", bound=BaseModel)

_ARGS_CONFIG = ConfigDict(extra="ignore", use_attribute_docstrings=True, frozen=True)


@dataclass(frozen=True)
class ToolDef(Generic[A]):
    """One tool: its name, the description and argument model the model sees, and its body."""

    name: str
    """The name the model calls."""
    description: str
    """What the model reads about the tool (the body's docstring)."""
    params: type[A]
    """Validates the arguments; its field docstrings describe them to the model."""
    run: Callable[[Toolbox, A], Awaitable[str]]
    """The body: validated arguments in, the text the model reads out."""
    cacheable: bool = True
    """Whether :class:`Toolbox`'s per-run cache may answer a repeated call."""

    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the arguments (pydantic's, without titles and the model docstring)."""
        schema: dict[str, Any] = _strip_titles(self.params.model_json_schema())
        schema.pop("description", None)
        return schema

    def openai_schema(self) -> dict[str, Any]:
        """The OpenAI ``tools[]`` entry (also what the Qwen/Hermes ``<tools>`` block lists)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
            },
        }


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            k: _strip_titles(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema


def tool(
    name: str, params: type[A], *, cacheable: bool = True
) -> Callable[[Callable[[Toolbox, A], Awaitable[str]]], ToolDef[A]]:
    """Make the decorated async function a :class:`ToolDef` and register it as tool ``name``.

    The function's docstring becomes the description the model reads (paragraphs unwrapped):
    write it for the model.
    """

    def decorate(fn: Callable[[Toolbox, A], Awaitable[str]]) -> ToolDef[A]:
        # Unwrap the docstring's paragraphs: line breaks of source code mean nothing to a model.
        paragraphs = inspect.cleandoc(fn.__doc__ or "").split("\n\n")
        description = "\n\n".join(" ".join(p.split()) for p in paragraphs)
        definition = ToolDef(name, description, params, fn, cacheable)
        return register("tool", name)(definition)

    return decorate


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class SearchArgs(BaseModel):
    """Arguments of ``search`` and ``google_scholar``."""

    model_config = _ARGS_CONFIG

    query: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    """Array of query strings. Include multiple complementary search queries in a single call."""

    _one_query = field_validator("query", mode="before")(_as_list)


class VisitArgs(BaseModel):
    """Arguments of ``visit``."""

    model_config = _ARGS_CONFIG

    url: Annotated[
        str | list[str],
        WithJsonSchema({"type": ["string", "array"], "items": {"type": "string"}, "minItems": 1}),
    ]
    """The URL(s) of the webpage(s) to visit. Can be a single URL or an array of URLs."""
    goal: str = Field(min_length=1)
    """The goal of the visit: the specific information you want from the webpage(s)."""

    @field_validator("url")
    @classmethod
    def _some_url(cls, value: str | list[str]) -> str | list[str]:
        urls = [value] if isinstance(value, str) else value
        if not urls or not all(u.strip() for u in urls):
            raise ValueError("give at least one non-empty URL")
        return value

    def urls(self) -> list[str]:
        """The URLs as a list."""
        return [self.url] if isinstance(self.url, str) else list(self.url)


class PythonArgs(BaseModel):
    """Arguments of ``PythonInterpreter``."""

    model_config = _ARGS_CONFIG

    code: str = Field(min_length=1)
    """The Python code to execute. Print every value you want to see."""


class MapsArgs(BaseModel):
    """Arguments of ``google_maps``."""

    model_config = _ARGS_CONFIG

    q: str = Field(min_length=1)
    """What to look for: a place name, a category, a city, or a combination."""
    page: int = Field(default=1, ge=1, le=10)
    """The 1-based page of results."""


class RouteArgs(BaseModel):
    """Arguments of ``google_maps_route``."""

    model_config = _ARGS_CONFIG

    origin: str = Field(min_length=1)
    """Where the route starts: a place or city name (as google_maps shows it)."""
    destination: str = Field(min_length=1)
    """Where the route ends: a place or city name."""
    mode: Literal["driving", "walking", "bicycling", "transit", "flying"] = "driving"
    """How to travel."""


async def _per_query(
    queries: Sequence[str],
    fetch: Callable[[str], Awaitable[dict[str, Any]]],
    render: Callable[[str, dict[str, Any]], str],
    join: Callable[[list[str]], str],
) -> str:
    """Run every query at once; a failed query becomes its error text unless all fail."""
    results = await asyncio.gather(*(fetch(q) for q in queries), return_exceptions=True)
    blocks = []
    for query, result in zip(queries, results, strict=True):
        if isinstance(result, ToolError):
            blocks.append(f"Search for '{query}' failed: {result}")
        elif isinstance(result, BaseException):
            raise result
        else:
            blocks.append(render(query, result))
    failed = [r for r in results if isinstance(r, ToolError)]
    if len(failed) == len(results):
        raise failed[0]
    return join(blocks)


@tool("search", SearchArgs)
async def search(box: Toolbox, args: SearchArgs) -> str:
    """Perform Google web searches and return the top results of each query.

    Accepts multiple queries. Each result has a title, a link, often a date, and a snippet; use
    visit to read a page in full.
    """
    return await _per_query(
        args.query,
        lambda q: box.backend.search(q, box.num_results),
        box.style.search,
        box.style.join,
    )


@tool("visit", VisitArgs)
async def visit(box: Toolbox, args: VisitArgs) -> str:
    """Visit webpage(s) and return the evidence and a summary of what they say about your goal."""
    outcomes = await visit_pages(
        box.backend.read,
        args.urls(),
        args.goal,
        config=box.visit_config,
        summarizer=box.summarizer,
    )
    text = box.style.join(o.render(box.style) for o in outcomes)
    if any(o.unavailable is not None for o in outcomes):
        # An outage is not a missing page: a tool error (the record's ``error``), so the SFT
        # failed-call filter sees it; the pages that were read stay in the text.
        raise ServiceDown(text)
    return text


@tool("PythonInterpreter", PythonArgs, cacheable=False)
async def python_interpreter(box: Toolbox, args: PythonArgs) -> str:
    """Execute Python code in a sandbox and return what it printed (stdout and stderr).

    Use it for calculations, date arithmetic and text processing. Only printed output is
    returned, so print() every result you need. There is no network access.
    """
    if box.files:  # only then: a backend from before attachments takes just the code
        return render_run_result(await box.backend.run_code(args.code, box.files))
    return render_run_result(await box.backend.run_code(args.code))


@tool("google_scholar", SearchArgs)
async def google_scholar(box: Toolbox, args: SearchArgs) -> str:
    """Search Google Scholar for academic publications and return the top results of each query.

    Accepts multiple queries. Results list the title, authors and venue, year and citations.
    """
    return await _per_query(
        args.query,
        lambda q: box.backend.scholar(q, box.num_results),
        box.style.scholar,
        box.style.join,
    )


@tool("google_maps", MapsArgs)
async def google_maps(box: Toolbox, args: MapsArgs) -> str:
    """Search Google Maps for places: name, category, address, rating, phone, coordinates."""
    return box.style.places(args.q, await box.backend.maps(args.q, args.page))


@tool("google_maps_route", RouteArgs)
async def google_maps_route(box: Toolbox, args: RouteArgs) -> str:
    """Find the travel distance and duration between two places or cities by name."""
    found = await box.backend.route(args.origin, args.destination, args.mode)
    if found is None:
        raise ToolError(
            f"No route from '{args.origin}' to '{args.destination}': a name did not resolve to "
            "a known place. Use names as google_maps shows them."
        )
    return box.style.route(found)


# -- the toolbox -----------------------------------------------------------------------------


class Toolbox(AsyncClosing):
    """The tools of one run over one backend: validated calls, rendered text, optional cache.

    Args:
        backend: Where the data comes from; closed by :meth:`aclose`.
        visit_config: Budgets of ``visit``.
        summarizer: ``visit``'s summarizer (default extractive); not closed by :meth:`aclose`.
        num_results: Results per ``search``/``google_scholar`` query.
        cache: Answer a repeated call (same tool, same validated arguments) from a per-toolbox
            cache; ``PythonInterpreter`` is never cached, nor a call under which a service stayed
            down (it may be back by the next call).
        tools: Names of the registered tools to offer.
        style: How results read: a registered render style's name (``tongyi``,
            ``deeptracehub``; ``AgentConfig.render_style``) or a style object.

    Raises:
        ConfigError: for a name in ``tools`` that is not a registered tool, or an unknown
            ``style`` (listing the known ones).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        visit_config: VisitConfig | None = None,
        summarizer: Summarizer | None = None,
        num_results: int = 10,
        cache: bool = False,
        tools: Sequence[str] = DEFAULT_TOOLS,
        style: str | RenderStyle = DEFAULT_RENDER_STYLE,
    ) -> None:
        self.backend = backend
        self.style: RenderStyle = render_style(style) if isinstance(style, str) else style
        self.visit_config = visit_config or VisitConfig()
        self.summarizer = summarizer
        self.num_results = num_results
        self._cache: dict[tuple[str, str], str] | None = {} if cache else None
        self.files: Mapping[str, bytes] = {}
        """Put in the working directory of every ``PythonInterpreter`` run (see
        :meth:`with_files`)."""
        self._tools: dict[str, ToolDef[Any]] = {}
        for name in tools:
            definition = lookup("tool", name)
            if not isinstance(definition, ToolDef):
                raise ConfigError(f"tool {name!r} is registered but is not a ToolDef")
            self._tools[name] = definition

    @classmethod
    def local(
        cls, env: SearchEnvironment, *, sandbox: CodeRunner | None = None, **options: Any
    ) -> Toolbox:
        """Tools over an in-process environment (options as for the constructor)."""
        return cls(LocalBackend(env, sandbox=sandbox), **options)

    @classmethod
    def http(
        cls,
        services: ServicesConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> Toolbox:
        """Tools over HTTP services (options as for the constructor)."""
        return cls(HTTPBackend(services, transport=transport), **options)

    def with_files(self, files: Mapping[str, bytes]) -> Toolbox:
        """This toolbox for one episode whose ``PythonInterpreter`` runs see ``files``.

        One toolbox serves a rollout's concurrent episodes, so a task's attachments cannot be
        state of the toolbox itself: the view shares the backend, the tools and the cache
        (``PythonInterpreter`` is never cached, so no answer leaks between tasks) and adds only
        the files, each ``name -> bytes`` written into the run's working directory. Close the
        toolbox, not the view: both hold the one backend.
        """
        view = copy.copy(self)
        view.files = dict(files)
        return view

    async def aclose(self) -> None:
        """Close the backend."""
        await self.backend.aclose()

    @property
    def tools(self) -> list[ToolDef[Any]]:
        """The offered tools, in order."""
        return list(self._tools.values())

    def openai_tools(self) -> list[dict[str, Any]]:
        """The OpenAI ``tools`` list of the offered tools."""
        return [t.openai_schema() for t in self._tools.values()]

    async def call(self, name: str, arguments: Mapping[str, Any] | str | None = None) -> str:
        """Call tool ``name`` with the model's ``arguments`` (a mapping or a JSON string).

        Returns:
            The text the model reads.

        Raises:
            ToolError: for an unknown tool, invalid arguments (text holding a lone surrogate
                included), or a failure the model can act on; its text is meant for the model.
        """
        definition = self._tools.get(name)
        if definition is None:
            raise ToolError(f"Unknown tool '{name}'. Available tools: {', '.join(self._tools)}.")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as err:
                raise ToolError(f"The arguments of {name} are not valid JSON: {err.msg}.") from err
        if not isinstance(arguments, Mapping | None):
            raise ToolError(f"The arguments of {name} must be a JSON object.")
        problem = bad_text_error(name, dict(arguments or {}))
        if problem is not None:  # a lone surrogate would crash the cache key and the services
            raise ToolError(problem)
        try:
            args = definition.params.model_validate(dict(arguments or {}))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in err.errors()
            )
            raise ToolError(f"Invalid arguments for {name}: {problems}.") from err
        key = (name, args.model_dump_json())
        if self._cache is not None and definition.cacheable and key in self._cache:
            return self._cache[key]
        with track_outages() as outages:
            text = await definition.run(self, args)
        if self._cache is not None and definition.cacheable and not outages.services:
            self._cache[key] = text
        return text

    async def search(self, query: str | list[str]) -> str:
        """The ``search`` tool."""
        return await self.call("search", {"query": query})

    async def visit(self, url: str | list[str], goal: str) -> str:
        """The ``visit`` tool."""
        return await self.call("visit", {"url": url, "goal": goal})

    async def python(self, code: str) -> str:
        """The ``PythonInterpreter`` tool."""
        return await self.call("PythonInterpreter", {"code": code})

    async def google_scholar(self, query: str | list[str]) -> str:
        """The ``google_scholar`` tool."""
        return await self.call("google_scholar", {"query": query})

    async def google_maps(self, q: str, page: int = 1) -> str:
        """The ``google_maps`` tool."""
        return await self.call("google_maps", {"q": q, "page": page})

    async def google_maps_route(self, origin: str, destination: str, mode: str = "driving") -> str:
        """The ``google_maps_route`` tool."""
        return await self.call(
            "google_maps_route", {"origin": origin, "destination": destination, "mode": mode}
        )
