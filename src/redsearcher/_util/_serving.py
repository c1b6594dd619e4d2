"""An ASGI app served by uvicorn in a background thread: the one way our servers run in-process.

The scripted chat server (tests) and the environment server (tests, the main job) both need to
start on a free loopback port, return once requests are accepted, and stop fast. Two details
matter and live here once:

- the socket is created with ``IPPROTO_TCP``: asyncio sets ``TCP_NODELAY`` only on sockets
  whose protocol says TCP (accepted sockets inherit it); with protocol 0 every kept-alive
  response body waits ~40 ms behind its headers (Nagle + delayed ACK);
- uvicorn polls its exit flag every 100 ms; a suite that starts a server per test pays that on
  every stop, so the server here polls every 5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any


def _quick_server_class() -> Any:
    import uvicorn

    class QuickServer(uvicorn.Server):  # type: ignore[misc]
        async def main_loop(self) -> None:
            counter = 0
            # on_tick refreshes the Date header every 10th tick and reports should_exit.
            while not await self.on_tick(counter):
                await asyncio.sleep(0.005)
                counter = (counter + 1) % 864000

    return QuickServer


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket whose accepted connections get ``TCP_NODELAY`` (module docstring).

    Inheritable, so uvicorn's worker processes can share it.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ThreadedUvicorn:
    """Serve ``app`` with uvicorn in a daemon thread.

    Args:
        app: The ASGI application.
        host: Interface to bind (loopback by default).
        port: Port to bind; 0 picks a free one.
        name: Thread name prefix (shows up in stack dumps).
        lifespan: uvicorn's ``lifespan`` setting ("on" runs the app's startup/shutdown).
        config: Further ``uvicorn.Config`` keyword arguments.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "asgi-server",
        lifespan: str = "off",
        config: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self._port = port
        self.name = name
        self.lifespan = lifespan
        self.extra = config or {}
        self.server: Any = None
        self._thread: threading.Thread | None = None

    def start(
        self, *, timeout_s: float = 60.0, why: Callable[[], BaseException | None] | None = None
    ) -> None:
        """Bind, serve, and return once the server accepts requests.

        Args:
            timeout_s: How long to wait for startup.
            why: Called when startup fails; its exception (e.g. a failed lifespan) is chained.

        Raises:
            RuntimeError: if already started or the server did not come up.
            OSError: if the port cannot be bound.
        """
        if self._thread is not None:
            raise RuntimeError(f"{self.name} starts only once")
        import uvicorn

        sock = listening_socket(self.host, self._port)
        self._port = sock.getsockname()[1]
        options: dict[str, Any] = {
            "log_config": None,  # leave the process's logging configuration alone
            "log_level": "warning",
            "access_log": False,
            "lifespan": self.lifespan,
            "timeout_graceful_shutdown": 2,
            **self.extra,
        }
        self.server = _quick_server_class()(uvicorn.Config(self.app, **options))
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"{self.name}:{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                cause = why() if why else None
                raise RuntimeError(
                    f"{self.name} on port {self._port} did not start"
                    + (f": {cause}" if cause else "")
                ) from cause
            time.sleep(0.002)

    def _serve(self, sock: socket.socket) -> None:
        # uvicorn exits the process on a failed lifespan; start() reports the cause instead.
        with contextlib.suppress(SystemExit):
            self.server.run(sockets=[sock])

    def stop(self, *, timeout_s: float = 15.0) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout_s)

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called."""
        return self._thread is not None

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        """The bound port (known after :meth:`start`)."""
        if self._thread is None:
            raise RuntimeError("the server is not started; call start() or use `with`")
        return self._port

    def url(self, path: str = "") -> str:
        """``http://host:port`` plus ``path``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"


class ServerHandle:
    """What a class serving through a :class:`ThreadedUvicorn` in ``_server`` says about it.

    The environment server and the scripted chat server both start one and answer the same
    questions (serving? which port? which URL?); one implementation keeps their errors alike.
    """

    _server: ThreadedUvicorn | None

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._server is not None and self._server.running

    @property
    def port(self) -> int:
        """The bound port (known after ``start()``)."""
        return self._started().port

    def _started(self) -> ThreadedUvicorn:
        if self._server is None:
            raise RuntimeError("the server is not started; call start() or use `with`")
        return self._server
