"""The agent's tools as an MCP server, over stdio or streamable HTTP.

MCP clients (Claude Desktop, IDE agents, the OpenAI Agents SDK, inspect_ai) expect a tool server
rather than a REST API; this exposes exactly the :class:`~redsearcher.tools._tools.Toolbox` the
agent loop uses — same names, same JSON schemas, same rendered text — so a trajectory collected
through MCP reads like one collected in-process. The text is in the toolbox's render style
(``redsearcher env mcp --render-style``, ``tongyi`` by default): a client whose model was trained
on DeepTraceHub's text serves ``deeptracehub``, and an agent configured with that
``render_style`` reads the same bytes through MCP as in-process.

Built on the low-level ``mcp.server.lowlevel.Server`` (not ``MCPServer``) because the schemas
already exist as pydantic models in the tools layer: listing them verbatim keeps MCP and the
OpenAI ``tools`` list identical, where re-deriving them from function signatures could drift.
A :class:`~redsearcher.tools._tools.ToolError` becomes a result with ``isError`` set, whose text
the model reads; anything else is a protocol error.

Over HTTP the server offers ``PythonInterpreter``, which runs code on this machine, so every
request passes the same access checks as the environment server (``redsearcher._util``'s
:class:`~redsearcher._util.AccessPolicy`): the API key when one is set, the ``Host`` allow-list
and JSON-only POSTs, plus the ``Origin`` check the SDK applies on loopback. Ours replace the
SDK's DNS-rebinding settings, which only know loopback hosts and would refuse every name added
with ``allowed_hosts``. A missing or wrong key is 401 (HTTP's and MCP's meaning), where the
environment server answers 403 as Serper does. The SDK bounds bodies; the bound is set here.
Request heads get the environment server's deadline and size bound (408 and 431, from
``redsearcher._util``'s protocol), so half-sent or huge heads cannot hold connections or memory.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import mcp_types as types
from mcp.server.lowlevel import Server

import redsearcher
from redsearcher._util import (
    HEADER_TIMEOUT_S,
    MAX_HEADER_BYTES,
    AccessPolicy,
    HostPolicy,
    head_limit_options,
)
from redsearcher.tools._render_styles import DEFAULT_RENDER_STYLE, render_style
from redsearcher.tools._summarizer import LLMSummarizer, SummarizerConfig
from redsearcher.tools._tools import DEFAULT_TOOLS, CodeRunner, Toolbox, ToolError
from redsearcher.tools._visit import VisitConfig

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "MCP_MAX_BODY_BYTES",
    "McpAccess",
    "build_mcp_server",
    "mcp_http_app",
    "open_local_toolbox",
    "run_mcp",
    "serve_http",
    "serve_stdio",
]

#: Path of the streamable HTTP endpoint.
MCP_PATH = "/mcp"

#: Largest request body over HTTP, as the environment server's ``max_body_bytes`` (the SDK's
#: own default is 4 MiB; one JSON-RPC message with a tool call needs far less).
MCP_MAX_BODY_BYTES = 1024 * 1024

Transport = Literal["stdio", "http"]


def build_mcp_server(toolbox: Toolbox, *, name: str = "redsearcher") -> Server[Any]:
    """An MCP server listing ``toolbox``'s tools and answering calls with their text.

    Args:
        toolbox: The tools; the server does not close it.
        name: The server name announced to clients.
    """
    tools = {t.name: t for t in toolbox.tools}
    listing = [
        types.Tool(name=t.name, description=t.description, input_schema=t.parameters())
        for t in tools.values()
    ]

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listing)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            text = await toolbox.call(params.name, params.arguments or {})
        except ToolError as err:
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(err))], is_error=True
            )
        return types.CallToolResult(content=[types.TextContent(type="text", text=text)])

    def input_schema(tool_name: str) -> dict[str, Any] | None:
        found = tools.get(tool_name)
        return None if found is None else found.parameters()

    return Server(
        name,
        version=redsearcher.__version__,
        instructions="Deep-search tools over a local search environment: web search, goal-"
        "directed page visits, a Python sandbox, scholar search, places and routes.",
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stdio(server: Server[Any]) -> None:
    """Serve ``server`` over this process's stdin/stdout until the client closes stdin.

    While serving, the SDK points file descriptor 1 at stderr, so stray prints cannot corrupt
    the protocol stream.
    """
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def _jsonrpc_error_body(status: int, message: str) -> bytes:
    """A refusal as a JSON-RPC error (``id: null``), which MCP clients report with its message.

    The HTTP status says what went wrong; the error code is JSON-RPC's "invalid request" for all.
    """
    error = {"code": types.INVALID_REQUEST, "message": message}
    return json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode()


class McpAccess:
    """ASGI middleware that runs :class:`~redsearcher._util.AccessPolicy` before the MCP app.

    Refusals are JSON-RPC errors (``id: null``), the shape the SDK's client reads from an
    error response and reports with its message; a 401 also says ``WWW-Authenticate: Bearer``.
    Lifespan events pass through: the SDK's session manager starts there.

    Args:
        app: The SDK's streamable HTTP app.
        policy: The checks.
    """

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.policy.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        body = _jsonrpc_error_body(refusal.status, refusal.message)
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if refusal.status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="redsearcher"'))
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def mcp_http_app(
    server: Server[Any],
    *,
    host: str = "127.0.0.1",
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
    max_body_bytes: int = MCP_MAX_BODY_BYTES,
) -> ASGIApp:
    """The streamable HTTP app of ``server`` at ``/mcp``, behind :class:`McpAccess`.

    Args:
        server: The MCP server.
        host: The interface it will bind (a name is accepted in ``Host``).
        api_key: Required on every request (``X-API-KEY`` or ``Authorization: Bearer``).
        allowed_hosts: ``Host`` names answered besides IP literals, ``localhost``, ``host``
            and this machine's name (``*.example.com``: subdomains; ``*``: any name).
        max_body_bytes: Larger request bodies are answered 413 (by the SDK).

    Raises:
        ValueError: when ``api_key`` cannot travel in a header.
    """
    from mcp.server.transport_security import TransportSecuritySettings

    policy = AccessPolicy(
        HostPolicy(host, allowed_hosts),
        api_key,
        key_status=401,
        key_message="missing or wrong API key: send it as X-API-KEY or Authorization: Bearer",
        hosts_hint="the MCP server's allowed hosts (--allowed-host)",
        check_origin=True,
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=host,
        # Ours (McpAccess) checks Host and Origin; the SDK's check knows only loopback names.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=max_body_bytes,
    )
    return McpAccess(app, policy)


async def serve_http(
    server: Server[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
    max_body_bytes: int = MCP_MAX_BODY_BYTES,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    max_header_bytes: int = MAX_HEADER_BYTES,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``server`` over streamable HTTP at ``http://{host}:{port}/mcp`` until cancelled.

    Args:
        server: The MCP server.
        host: Interface to bind; the default keeps it on this machine.
        port: Port; 0 picks a free one.
        api_key: Required on every request when set (see :func:`mcp_http_app`).
        allowed_hosts: More ``Host`` names to answer (see :func:`mcp_http_app`).
        max_body_bytes: Largest request body.
        header_timeout_s: Seconds each request head may take to arrive (then 408 and close),
            as ``env serve``'s ``header_timeout_s``.
        max_header_bytes: Largest request head (larger: 431 and close), as ``env serve``'s.
        on_ready: Called with the endpoint URL once the port is bound and listening.

    Raises:
        ValueError: when ``api_key`` cannot travel in a header or a head limit is not positive.
    """
    import uvicorn

    limits = head_limit_options(
        header_timeout_s=header_timeout_s,
        max_header_bytes=max_header_bytes,
        error_body=_jsonrpc_error_body,
    )

    app = mcp_http_app(
        server,
        host=host,
        api_key=api_key,
        allowed_hosts=allowed_hosts,
        max_body_bytes=max_body_bytes,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)  # connections queue until uvicorn accepts, so on_ready can go first
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        if on_ready is not None:
            on_ready(f"http://{shown}:{bound}{MCP_PATH}")
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, log_config=None, **limits
        )
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()


def _open_sandbox(stack: AsyncExitStack) -> CodeRunner | None:
    """The in-process sandbox (closed with ``stack``), or ``None`` when this machine has none."""
    from redsearcher.env.sandbox import Sandbox, SandboxUnavailable

    try:
        sandbox = Sandbox()
    except SandboxUnavailable as err:
        # stderr: on the stdio transport stdout is the protocol stream.
        print(f"PythonInterpreter disabled: {err}", file=sys.stderr)
        return None
    stack.callback(sandbox.close)
    return sandbox


@asynccontextmanager
async def open_local_toolbox(
    index_dir: str | Path,
    *,
    visit_config: VisitConfig | None = None,
    summarizer: SummarizerConfig | None = None,
    sandbox: bool = True,
    cache: bool = False,
    style: str = DEFAULT_RENDER_STYLE,
) -> AsyncIterator[Toolbox]:
    """Open an index, a sandbox and a summarizer as one :class:`Toolbox`; close all on exit.

    Args:
        index_dir: An index directory (``redsearcher env index``).
        visit_config: Budgets of ``visit``.
        summarizer: An LLM summarizer for ``visit``; ``None`` is extractive.
        sandbox: Offer ``PythonInterpreter`` through the in-process sandbox (not offered when
            false or when this machine cannot isolate code).
        cache: Cache repeated calls (for one client's run, not a shared server).
        style: The render style of every tool's text (registry kind ``render_style``).

    Raises:
        ConfigError: for an unknown ``style`` (listing the known ones), before anything opens.
    """
    from redsearcher.env import LocalEnvironment

    chosen = render_style(style)
    async with AsyncExitStack() as stack:
        env = stack.enter_context(LocalEnvironment.open(index_dir))
        runner = _open_sandbox(stack) if sandbox else None
        llm = None
        if summarizer is not None:
            llm = LLMSummarizer.from_config(summarizer)
            stack.push_async_callback(llm.aclose)
        # Without a sandbox, PythonInterpreter is not offered rather than offered and failing.
        tools = [t for t in DEFAULT_TOOLS if runner is not None or t != "PythonInterpreter"]
        toolbox = Toolbox.local(
            env,
            sandbox=runner,
            visit_config=visit_config,
            summarizer=llm,
            cache=cache,
            tools=tools,
            style=chosen,
        )
        stack.push_async_callback(toolbox.aclose)
        yield toolbox


async def run_mcp(
    index_dir: str | Path,
    *,
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8765,
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
    visit_config: VisitConfig | None = None,
    summarizer: SummarizerConfig | None = None,
    sandbox: bool = True,
    render_style: str = DEFAULT_RENDER_STYLE,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    max_header_bytes: int = MAX_HEADER_BYTES,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the tools of the index at ``index_dir`` over MCP until the client or a signal ends it.

    Args:
        index_dir: An index directory.
        transport: ``stdio`` (one client, this process's stdin/stdout) or ``http``
            (streamable HTTP at ``/mcp``).
        host: HTTP interface.
        port: HTTP port; 0 picks a free one.
        api_key: HTTP only: required on every request when set.
        allowed_hosts: HTTP only: more ``Host`` names to answer.
        visit_config: Budgets of ``visit``.
        summarizer: An LLM summarizer for ``visit``; ``None`` is extractive.
        sandbox: Offer ``PythonInterpreter``.
        render_style: The render style of the tools' text (``tongyi``, ``deeptracehub``).
        header_timeout_s: HTTP only: seconds each request head may take (then 408).
        max_header_bytes: HTTP only: largest request head (larger: 431).
        on_ready: HTTP only: called with the endpoint URL once listening.

    Raises:
        ConfigError: for an unknown ``render_style`` (listing the known ones).
    """
    async with open_local_toolbox(
        index_dir,
        visit_config=visit_config,
        summarizer=summarizer,
        sandbox=sandbox,
        style=render_style,
    ) as toolbox:
        server = build_mcp_server(toolbox)
        if transport == "stdio":
            await serve_stdio(server)
        else:
            await serve_http(
                server,
                host=host,
                port=port,
                api_key=api_key,
                allowed_hosts=allowed_hosts,
                header_timeout_s=header_timeout_s,
                max_header_bytes=max_header_bytes,
                on_ready=on_ready,
            )
