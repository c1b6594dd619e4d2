"""The agent's tools over MCP (stdio or streamable HTTP); needs the ``env`` extra (``mcp``).

A public face of its own, apart from ``redsearcher.tools``, so that importing the tools does not
import the MCP SDK.
"""

from redsearcher.tools._mcp import (
    MCP_MAX_BODY_BYTES,
    McpAccess,
    build_mcp_server,
    mcp_http_app,
    open_local_toolbox,
    run_mcp,
    serve_http,
    serve_stdio,
)

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
