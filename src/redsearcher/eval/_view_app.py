"""``ViewServer``: the trajectory viewer as a loopback web app (``redsearcher view RUN_DIR``).

The viewer serves run logs full of model output, so it is built to be harmless to open:

- it binds ``127.0.0.1`` only and answers only requests addressed to a loopback name (``Host``
  checked), so neither another machine nor a web page using DNS rebinding can read the runs;
- it only reads: GET routes, run names looked up among the directories found at start (a
  request never names a path; ``/report`` is the viewed directory's ``report.html``), no write
  anywhere;
- every page is escaped HTML with no script, served with a Content-Security-Policy that
  forbids scripts, frames and remote loads (:mod:`._view_html`).

It runs like the package's other servers (:class:`~redsearcher._util.ThreadedUvicorn` in a
thread; starlette and uvicorn come with the ``server`` extra and are imported on start).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from redsearcher._util import ServerHandle, ThreadedUvicorn
from redsearcher.errors import UserError
from redsearcher.eval._view import Runs
from redsearcher.eval._view_html import Filters, index_page, run_page, trajectory_page

__all__ = ["ViewServer", "create_view_app"]

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_LOOPBACK = ["127.0.0.1", "localhost"]


def create_view_app(runs: Runs) -> Any:
    """The starlette app serving ``runs``.

    The handlers are plain functions, so starlette runs them in its thread pool: indexing a
    large run (a second for 10,000 trajectories) does not stall other requests.
    """
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    def page(text: str, status: int = 200) -> Response:
        return HTMLResponse(text, status_code=status, headers=_HEADERS)

    def missing(what: str) -> Response:
        from redsearcher.eval._report_svg import esc

        return page(f'<!DOCTYPE html><p>{esc(what)}</p><p><a href="./">runs</a></p>', 404)

    report = runs.root / "report.html"

    def index(request: Request) -> Response:
        return page(index_page(runs.manifests(), str(runs.root), report.is_file()))

    def report_page(request: Request) -> Response:
        if not report.is_file():
            return missing(f"no report.html in {runs.root}")
        return page(report.read_text(encoding="utf-8"))

    def run(request: Request) -> Response:
        name = request.query_params.get("r", "")
        if name not in runs.paths:
            return missing(f"no run named {name!r}")
        view = runs.get(name, request.query_params.get("judge") or None)
        return page(run_page(view, Filters(request.query_params)))

    def trajectory(request: Request) -> Response:
        name = request.query_params.get("r", "")
        if name not in runs.paths:
            return missing(f"no run named {name!r}")
        view = runs.get(name, request.query_params.get("judge") or None)
        tid = request.query_params.get("id", "")
        if tid not in view.offsets:
            return missing(f"run {name} has no trajectory {tid!r}")
        return page(trajectory_page(view, view.open(tid)))

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/run", run, methods=["GET"]),
            Route("/trajectory", trajectory, methods=["GET"]),
            Route("/report", report_page, methods=["GET"]),
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=_LOOPBACK)],
    )


class ViewServer(ServerHandle):
    """The viewer on ``127.0.0.1`` in a background thread.

    Example::

        with ViewServer("bench/rs-v1") as viewer:
            print(viewer.base_url)

    Args:
        root: A run directory, or a directory with runs below it (a bench directory).
        port: Port to bind; 0 picks a free one.
        tasks: The task file of the runs (default: found from the run; see
            :mod:`redsearcher.eval._view`).
        judge: Whose verdicts to show (default: the only judge, else the first by name).

    Raises:
        UserError: when ``root`` holds no run or ``tasks`` does not exist.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        port: int = 0,
        tasks: str | Path | None = None,
        judge: str | None = None,
    ) -> None:
        self.runs = Runs(Path(root), Path(tasks) if tasks is not None else None, judge)
        self._port = port
        self._server: ThreadedUvicorn | None = None

    def start(self) -> ViewServer:
        """Bind loopback and serve; return once requests are accepted.

        Raises:
            UserError: when the port is taken.
        """
        if self._server is not None:
            raise RuntimeError("a ViewServer starts only once")
        server = ThreadedUvicorn(
            create_view_app(self.runs), host="127.0.0.1", port=self._port, name="viewer"
        )
        try:
            server.start()
        except OSError as err:
            raise UserError(f"cannot listen on 127.0.0.1:{self._port}: {err.strerror}") from err
        self._server = server
        return self

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``."""
        return self._started().url("/")

    def __enter__(self) -> ViewServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
