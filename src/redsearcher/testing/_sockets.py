"""``closed_within``: whether a server closed a raw connection, and what it said first.

The request-head limits (a deadline and a size bound on each request head, ``_util``'s
``HeadLimitedProtocol``) are only visible on a raw socket: an HTTP client would send a complete
request. Both servers that use the limits (``env serve`` and ``env mcp --transport http``) are
tested with this one helper.
"""

from __future__ import annotations

import socket

__all__ = ["closed_within"]


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None when it kept the connection open."""
    sock.settimeout(seconds)
    got = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return got
            got += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return got
