"""uvicorn's HTTP/1.1 protocol with a deadline and a size bound on each request head.

Why: uvicorn (0.29 to 0.55 at least) starts no timer when a connection opens and none while a
request head is arriving; its keep-alive timeout runs only *between* requests. A client that
connects and sends half a request line, or one header byte a second ("slowloris"), holds a
connection, its buffers and a file descriptor forever; a hundred of them outlived the 60 s
request deadline, which starts only once the head is complete. And the httptools parser
(llhttp) has no header size limit: a 20 MB header was read into memory and accepted.

:class:`HeadLimitedProtocol` is uvicorn's httptools protocol plus two rules:

- each request head must be complete ``header_timeout_s`` after its first byte, and the first
  request's within ``header_timeout_s`` of connecting; otherwise the server answers 408 and
  closes the connection;
- a head larger than ``max_header_bytes`` is answered 431 and the connection closed, once that
  many bytes have arrived (memory stays bounded by the limit plus one read).

Bodies are each server's own bound (the environment server's guard, the MCP SDK's limit).

Both servers that face clients use it: the environment server (``redsearcher env serve``,
``EnvServer``) and the MCP server over HTTP (``redsearcher env mcp --transport http``), so it
lives below both layers. This module imports uvicorn and httptools (the ``server`` extra), so
``redsearcher._util`` reaches it only through :func:`~redsearcher._util.head_limit_options`,
which imports it when called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HeadLimitedProtocol"]

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class HeadLimitedProtocol(HttpToolsProtocol):  # type: ignore[misc]
    """uvicorn's httptools protocol with the head deadline and size bound described above.

    Args:
        *args: uvicorn's protocol arguments.
        header_timeout_s: Seconds a request head may take to arrive.
        max_header_bytes: Largest request head accepted.
        error_body: The JSON body of a refusal, from its status and message (each server
            answers in its own error shape).
        **kwargs: uvicorn's protocol keyword arguments (``config``, ``server_state``, ...).
    """

    def __init__(
        self,
        *args: Any,
        header_timeout_s: float,
        max_header_bytes: int,
        error_body: Callable[[int, str], bytes],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.max_header_bytes = max_header_bytes
        self.error_body = error_body
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_open = False  # between a request's first byte and its last header
        self._head_bytes = 0

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` in the server's JSON error shape and close the connection."""
        self._disarm_head_timer()
        if self.transport.is_closing():
            return
        body = self.error_body(status, message)
        head = (
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body))
        )
        self.transport.write(head + body)
        self.transport.close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.cycle is not None and not self.cycle.response_complete and not self._head_open:
            return  # a request is being answered; its own deadline applies
        self._refuse(408, f"request head not received within {self.header_timeout_s:g} s")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a connection that never sends a byte is a slowloris too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_open and self.parser is not None and not self.transport.is_closing():
            # Counted only while a head stays incomplete after this read: the read that ends
            # a head (and may carry a body) resets the count in on_headers_complete.
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(431, f"request head larger than {self.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_bytes = 0
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._head_bytes = 0
        self._disarm_head_timer()
        super().on_headers_complete()
