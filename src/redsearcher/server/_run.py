"""Running the environment server: in a background thread, or as a multi-worker service.

The thread is for tests and the main job, the service for the CLI.

:class:`EnvServer` follows ``redsearcher.testing.ScriptedChatServer``: bind a free port first,
run ``uvicorn.Server`` in a daemon thread with a 5 ms exit poll, return once it accepts
requests, and stop fast. Unlike the chat server, the lifespan is on: that is where the index and
the sandbox are opened, and a failure there is re-raised from :meth:`EnvServer.start`.

:func:`serve` is the CLI's path. With one worker it serves the app in-process; with several it
hands uvicorn the :func:`~redsearcher.server.app_from_env` factory and passes the resolved
configuration as a JSON file named by ``REDSEARCHER_SERVER_CONFIG`` (workers are fresh
processes) and sets ``PROMETHEUS_MULTIPROC_DIR`` so ``/metrics`` adds up all workers.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from redsearcher._util import ServerHandle, ThreadedUvicorn, listening_socket
from redsearcher.env import SearchEnvironment
from redsearcher.server._app import CONFIG_FILE_ENV, create_app
from redsearcher.server._config import ServerConfig
from redsearcher.server._http import uvicorn_options
from redsearcher.server._metrics import MULTIPROC_ENV

__all__ = ["EnvServer", "serve"]

_FACTORY = "redsearcher.server:app_from_env"


class EnvServer(ServerHandle):
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
        self._server: ThreadedUvicorn | None = None

    def start(self) -> EnvServer:
        """Bind, open the environment (lifespan) and serve; return once requests are accepted.

        Raises:
            RuntimeError: if already started or the server did not come up; the lifespan's own
                exception (a missing index, say) is chained as the cause.
        """
        if self._server is not None:
            raise RuntimeError("an EnvServer starts only once")
        self._server = ThreadedUvicorn(
            self.app,
            host=self.host,
            port=self._port,
            name="the environment server",
            lifespan="on",
            config={"limit_concurrency": None, "backlog": 1024, **uvicorn_options(self.config)},
        )
        self._server.start(
            timeout_s=60.0, why=lambda: getattr(self.app.state, "startup_error", None)
        )
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent); closes what the lifespan opened."""
        if self._server is not None:
            self._server.stop(timeout_s=15.0)

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
    def base_url(self) -> str:
        """The base URL every twin hangs off, e.g. ``http://127.0.0.1:54321``."""
        return self._started().url("")


def _run_workers(config: Any, sock: socket.socket) -> None:
    """Run uvicorn's multi-process supervisor over ``sock`` (as ``uvicorn.run`` would)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    kwargs: dict[str, Any] = {}
    if "target" in inspect.signature(Multiprocess).parameters:  # older uvicorn releases want it
        kwargs["target"] = uvicorn.Server(config=config).run
    Multiprocess(config, sockets=[sock], **kwargs).run()


def serve(config: ServerConfig) -> None:
    """Serve ``config.index`` on ``config.host:config.port`` until interrupted.

    One worker serves in this process; several are uvicorn worker processes built by the
    ``app_from_env`` factory from a config file this function writes (and removes after).
    Either way the listening socket is bound here (:func:`listening_socket`), and uvicorn uses
    uvloop and httptools when they are installed.

    Args:
        config: The resolved configuration (``index`` must be set).
    """
    import uvicorn

    common: dict[str, Any] = {
        "log_level": "info",
        "access_log": config.access_log,
        "lifespan": "on",
        "timeout_graceful_shutdown": 5,
        "backlog": 2048,
        **uvicorn_options(config),  # head deadline and size bound (slow or huge requests)
    }
    sock = listening_socket(config.host, config.port)
    try:
        if config.workers > 1:
            _serve_workers(config, common, sock)
            return
        server = uvicorn.Server(uvicorn.Config(create_app(config), **common))
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
        if not server.started:
            raise SystemExit(3)  # uvicorn's STARTUP_FAILURE: the lifespan failed
    finally:
        sock.close()


def _serve_workers(config: ServerConfig, common: dict[str, Any], sock: socket.socket) -> None:
    import uvicorn

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
        worker_config = uvicorn.Config(_FACTORY, factory=True, workers=config.workers, **common)
        with contextlib.suppress(KeyboardInterrupt):
            _run_workers(worker_config, sock)
    finally:
        os.environ.pop(CONFIG_FILE_ENV, None)
        os.environ.update(saved)
        if saved_multiproc is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = saved_multiproc
        shutil.rmtree(scratch, ignore_errors=True)
