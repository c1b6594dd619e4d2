"""The environment server's request-head limits, from its config.

The protocol that enforces them is shared with the MCP server over HTTP and lives in
``redsearcher._util`` (see :func:`~redsearcher._util.head_limit_options` for why: uvicorn
otherwise has no deadline and no size bound on a request head).
"""

from __future__ import annotations

from typing import Any

from redsearcher._util import head_limit_options
from redsearcher.server._config import ServerConfig

__all__ = ["uvicorn_options"]


def uvicorn_options(config: ServerConfig) -> dict[str, Any]:
    """The ``uvicorn.Config`` keyword arguments that enforce ``config``'s connection limits."""
    return head_limit_options(
        header_timeout_s=config.header_timeout_s, max_header_bytes=config.max_header_bytes
    )
