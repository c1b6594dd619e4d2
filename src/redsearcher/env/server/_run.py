"""Running the environment server: in a background thread, or as a multi-worker service.

The thread is for tests and the main job, the service for the CLI.

:class:`EnvServer` follows ``redsearcher.testing.ScriptedChatServer``: bind a free port first,
run ``uvicorn.Server`` in a daemon thread with a 5 ms exit poll, return once it accepts
requests, and stop fast. Unlike the chat server, the lifespan is on: that is where the index and
the sandbox are opened, and a failure there is re-raised from :meth:`EnvServer.start`.

:func:`serve` is the CLI's path. With one worker it serves the app in-process; with several it
hands uvicorn the :func:`~redsearcher.env.server.app_from_env` factory and passes the resolved
configuration as a JSON file named by ``REDSEARCHER_SERVER_CONFIG`` (workers are fresh
processes) and sets ``PROMETHEUS_MULTIPROC_DIR`` so ``/metrics`` adds up all workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from redsearcher.env._types import SearchEnvironment
from redsearcher.env.server._app import CONFIG_FILE_ENV, create_app
from redsearcher.env.server._config import ServerConfig
from redsearcher.env.server._metrics import MULTIPROC_ENV

__all__ = ["EnvServer", "serve"]

_FACTORY = "redsearcher.env.server:app_from_env"


def _quick_server_class() -> Any:
    """``uvicorn.Server`` polling its exit flag every 5 ms instead of 100 ms."""
    import uvicorn

    class QuickServer(uvicorn.Server):  # type: ignore[misc]
        async def main_loop(self) -> None:
            counter = 0
            while not await self.on_tick(counter):
                await asyncio.sleep(0.005)
                counter = (counter + 1) % 864000

    return QuickServer


class EnvServer:
    """The environment server on ``127.0.0.1`` in a background thread.

    Example::

        with EnvServer(ServerConfig(index="idx")) as server:
            httpx.post(f"{server.base_url}/search", json={"q": "Marta Velden"})

    Args:
        config: Server configuration (``host`` is honoured; ``port``, ``workers`` are not:
            see ``port``).
        env: An opened environment to serve instead of ``config.index`` (the caller keeps
            ownership).
        sandbox: A started sandbox for ``/run_code`` (the caller keeps ownership).
        port: Port to bind; 0 (the default) picks a free one.
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        env: SearchEnvironment | None = None,
        sandbox: Any = None,
        port: int = 0,
    ) -> None:
        self.config = config or ServerConfig()
        self.app = create_app(self.config, env=env, sandbox=sandbox)
        self.host = self.config.host
        self._port = port
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> EnvServer:
        """Bind, open the environment (lifespan) and serve; return once requests are accepted.

        Raises:
            RuntimeError: if already started or the server did not come up; the lifespan's own
                exception (a missing index, say) is chained as the cause.
        """
        if self._thread is not None:
            raise RuntimeError("an EnvServer starts only once")
        import uvicorn

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says
        # TCP, and accepted sockets inherit it. With proto 0, every kept-alive response body
        # waits ~40 ms behind its headers (Nagle + delayed ACK).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            limit_concurrency=None,
            backlog=1024,
        )
        self._uvicorn = _quick_server_class()(config)
        self._thread = threading.Thread(
            target=self._serve,
            args=(sock,),
            name=f"env-server:{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 60.0
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                cause = getattr(self.app.state, "startup_error", None)
                raise RuntimeError(
                    f"the environment server on port {self._port} did not start"
                    + (f": {cause}" if cause else "")
                ) from cause
            time.sleep(0.002)
        return self

    def _serve(self, sock: socket.socket) -> None:
        # uvicorn exits on a failed lifespan; start() reports the cause.
        with contextlib.suppress(SystemExit):
            self._uvicorn.run(sockets=[sock])

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent); closes what the lifespan opened."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=15.0)

    def __enter__(self) -> EnvServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

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

    @property
    def base_url(self) -> str:
        """The base URL every twin hangs off, e.g. ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def serve(config: ServerConfig) -> None:
    """Serve ``config.index`` on ``config.host:config.port`` until interrupted.

    One worker serves in this process; several are uvicorn worker processes built by the
    ``app_from_env`` factory from a config file this function writes (and removes after).

    Args:
        config: The resolved configuration (``index`` must be set).
    """
    import uvicorn

    common: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": "info",
        "lifespan": "on",
        "timeout_graceful_shutdown": 5,
    }
    if config.workers == 1:
        uvicorn.run(create_app(config), **common)
        return
    scratch = Path(tempfile.mkdtemp(prefix="redsearcher-serve-"))
    saved = {k: v for k, v in os.environ.items() if k.startswith("REDSEARCHER_SERVER")}
    saved_multiproc = os.environ.get(MULTIPROC_ENV)
    try:
        config_file = scratch / "server.json"
        config_file.write_text(json.dumps(config.model_dump(mode="json")), encoding="utf-8")
        metrics_dir = scratch / "metrics"
        metrics_dir.mkdir()
        # The file holds every layer already; stale variables would override it in workers.
        for name in saved:
            del os.environ[name]
        os.environ[CONFIG_FILE_ENV] = str(config_file)
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
        uvicorn.run(_FACTORY, factory=True, workers=config.workers, **common)
    finally:
        os.environ.pop(CONFIG_FILE_ENV, None)
        os.environ.update(saved)
        if saved_multiproc is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = saved_multiproc
        shutil.rmtree(scratch, ignore_errors=True)
