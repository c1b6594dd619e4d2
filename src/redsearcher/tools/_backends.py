"""Where the agent's tools get their data: an in-process environment or HTTP services.

Split from :mod:`redsearcher.tools._tools` so that the tools themselves (argument models, schemas,
rendering, the :class:`~redsearcher.tools._tools.Toolbox`) stay separate from the transport under
them. A :class:`Backend` answers the services' *wire* JSON whichever way it gets it:
:class:`LocalBackend` builds it from a :class:`~redsearcher.env._types.SearchEnvironment` in
threads; :class:`HTTPBackend` asks HTTP services, either our own server or the real ones it
imitates (Serper, Jina Reader, SandboxFusion), retrying infrastructure failures with
:func:`send_with_retries`. The tools render that JSON the same way for both, so an agent sees the
same text on either backend.

:class:`ToolError` lives here because backends are where most model-actionable failures start (a
disabled service, one that stayed down after retries, a sandbox that failed);
:mod:`redsearcher.tools._tools` re-exports it, and this module never imports that one, so there is
no import cycle. A rejected API key is :class:`~redsearcher.errors.ConfigError` instead: no amount
of model retries fixes it, so it stops the run.

A service that stays down through its retries is asked no more for that call: the same request
goes to ``ServicesConfig.fallback`` when that has the service (real Serper first and our server
after, or a second provider). Only when no fallback answers does the outage reach the model, and
then it is also *noted* (:mod:`redsearcher.tools._outages`): the text the model gets may still be
a result (a search whose other queries succeeded, a visit whose other pages were read), and the
per-run tool cache must not keep that text once the service is back. A refusal (4xx, a bad
query) is not an outage: asking again gets the same answer, so caching it is right. A reader
outage raises :class:`ServiceDown` from ``read`` like the others (never "no such page"), so a
visit it hit is a tool error in the trajectory, not a page that looked missing.

The texts the model reads never carry a service's URL: the request line of an outage is cut
(``HTTP 502 after 3 tries`` remains) and URLs in a refusal's message become "the search
service", because those texts go into trajectories and from there into training data.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn, Protocol, TypeVar

import httpx

from redsearcher import _util
from redsearcher.env import (
    Page,
    RunResult,
    SearchEnvironment,
    route_json,
    serper_maps,
    serper_scholar,
    serper_search,
)
from redsearcher.env.sandbox import SandboxBusy, SandboxError, SandboxRequestError
from redsearcher.errors import ConfigError, RedsearcherError
from redsearcher.tools._outages import note_outage
from redsearcher.tools._services import Service, ServicesConfig

__all__ = [
    "Backend",
    "CodeRunner",
    "HTTPBackend",
    "LocalBackend",
    "ServiceDown",
    "ServiceUnavailable",
    "ServicesConfig",
    "ToolError",
    "page_from_jina_text",
    "run_result_from_fusion",
    "send_with_retries",
]

logger = logging.getLogger(__name__)

#: The clock of the fallback hold; tests replace it to move time without waiting.
_clock = time.monotonic


class ToolError(RedsearcherError):
    """A tool call failed in a way the model can act on; ``str(error)`` goes back to it."""


class ServiceUnavailable(RedsearcherError):
    """An HTTP service stayed unreachable, 5xx or 429 through every retry."""


class ServiceDown(ToolError):
    """A service (and its fallbacks) stayed down through every retry: the model may try later.

    A :class:`ToolError`, so the episode goes on; raised only after
    :func:`~redsearcher.tools._outages.note_outage`, so the per-run cache does not keep the answer.
    """


# -- HTTP with retries -----------------------------------------------------------------------


async def send_with_retries(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    retries: int,
    backoff_s: float,
    max_delay_s: float = 30.0,
) -> httpx.Response:
    """Send ``request`` with ``redsearcher._util.send_with_retries`` (no jitter).

    Raises:
        ServiceUnavailable: when the last attempt still failed at the transport level or with a
            retried status (408, 429, 5xx).
    """
    return await _util.send_with_retries(
        client,
        request,
        retries=retries,
        backoff_s=backoff_s,
        max_delay_s=max_delay_s,
        exhausted=ServiceUnavailable,
    )


# -- backends --------------------------------------------------------------------------------


class CodeRunner(Protocol):
    """Runs model-written Python: ``redsearcher.env.sandbox.Sandbox`` satisfies it."""

    async def arun(self, code: str, *, files: Mapping[str, bytes] | None = None) -> RunResult:
        """Run ``code`` (with ``files`` in its working directory) and return its outcome."""
        ...


class Backend(Protocol):
    """Where the tools get their data; search-like calls answer the services' wire JSON."""

    async def search(self, query: str, num: int) -> dict[str, Any]:
        """A Serper ``/search`` response."""
        ...

    async def scholar(self, query: str, num: int) -> dict[str, Any]:
        """A Serper ``/scholar`` response."""
        ...

    async def maps(self, q: str, page: int) -> dict[str, Any]:
        """A Serper ``/maps`` response."""
        ...

    async def route(self, origin: str, destination: str, mode: str) -> dict[str, Any] | None:
        """Our ``/route`` response, or ``None`` when a place does not resolve."""
        ...

    async def read(self, url: str) -> Page | None:
        """The page at ``url``; ``None`` when there is none, ``ServiceDown`` when it is down."""
        ...

    async def run_code(self, code: str, files: Mapping[str, bytes] | None = None) -> RunResult:
        """Run Python ``code`` in a sandbox, with ``files`` (name -> bytes) in its directory.

        Callers pass ``files`` only when there are some, so a backend written before
        attachments existed still serves every task without them.
        """
        ...

    async def aclose(self) -> None:
        """Release what the backend holds."""
        ...


class LocalBackend:
    """Tools over an in-process environment (and sandbox); blocking calls run in threads.

    Args:
        env: The environment; not closed by :meth:`aclose`.
        sandbox: Runs ``PythonInterpreter`` code; without one that tool answers a ToolError.
    """

    def __init__(self, env: SearchEnvironment, *, sandbox: CodeRunner | None = None) -> None:
        self.env = env
        self.sandbox = sandbox

    async def search(self, query: str, num: int) -> dict[str, Any]:
        """A Serper ``/search`` response built from ``env.search``."""
        return serper_search(query, await asyncio.to_thread(self.env.search, query, num), num=num)

    async def scholar(self, query: str, num: int) -> dict[str, Any]:
        """A Serper ``/scholar`` response built from ``env.scholar``."""
        papers = await asyncio.to_thread(self.env.scholar, query, num)
        return serper_scholar(query, papers, num=num)

    async def maps(self, q: str, page: int) -> dict[str, Any]:
        """A Serper ``/maps`` response built from ``env.places``."""
        places = await asyncio.to_thread(self.env.places, q, 10, page)
        return serper_maps(q, places, page=page)

    async def route(self, origin: str, destination: str, mode: str) -> dict[str, Any] | None:
        """Our routing response built from ``env.route``."""
        found = await asyncio.to_thread(self.env.route, origin, destination, mode)
        return None if found is None else route_json(found)

    async def read(self, url: str) -> Page | None:
        """``env.visit(url)``."""
        return await asyncio.to_thread(self.env.visit, url)

    async def run_code(self, code: str, files: Mapping[str, bytes] | None = None) -> RunResult:
        """Run ``code`` in the sandbox, with ``files`` in its working directory."""
        if self.sandbox is None:
            raise ToolError("PythonInterpreter is not available in this environment.")
        try:
            if files:
                return await self.sandbox.arun(code, files=files)
            return await self.sandbox.arun(code)
        except SandboxRequestError as err:
            raise ToolError(f"The code was not run: {err}.") from err
        except SandboxBusy as err:  # a full sandbox is the model's to retry, not a crash
            raise ToolError(f"The Python sandbox is busy: {err}.") from err
        except SandboxError as err:
            raise ToolError(f"The Python sandbox failed: {err}") from err

    async def aclose(self) -> None:
        """Nothing to release: the environment and sandbox belong to the caller."""


_JINA_HEAD = re.compile(
    r"Title: (?P<title>.*?)\n\nURL Source: (?P<url>.*?)\n\n"
    r"(?:Published Time: (?P<published>.*?)\n\n)?Markdown Content:\n",
    re.DOTALL,
)


def page_from_jina_text(url: str, text: str) -> Page:
    """A :class:`Page` from Jina Reader's text response (the whole text when it has no header)."""
    match = _JINA_HEAD.match(text)
    if match is None:
        return Page(doc_id="", url=url, title="", text=text, kind="web")
    return Page(
        doc_id="",
        url=match["url"] or url,
        title=match["title"],
        text=text[match.end() :],
        kind="web",
        published=match["published"],
    )


def run_result_from_fusion(data: Mapping[str, Any]) -> RunResult:
    """A :class:`RunResult` from a SandboxFusion ``/run_code`` response.

    Raises:
        ToolError: when the sandbox itself failed (``status == "SandboxError"``).
    """
    if data.get("status") == "SandboxError":
        raise ToolError(f"The Python sandbox failed: {data.get('message') or 'unknown error'}")
    run = data.get("run_result") or {}
    compiled = data.get("compile_result") or {}
    message = str(data.get("message") or "")
    return RunResult(
        status=str(run.get("status") or "Error"),
        return_code=run.get("return_code"),
        stdout=str(run.get("stdout") or ""),
        stderr=str(run.get("stderr") or compiled.get("stderr") or ""),
        execution_time=float(run.get("execution_time") or 0.0),
        notes=(message,) if message else (),
    )


T = TypeVar("T")


class HTTPBackend:
    """Tools over HTTP services: our server, or Serper + Jina Reader + SandboxFusion.

    The ``httpx.AsyncClient`` is made on first use and closed by :meth:`aclose`. A service that
    stays down through its retries is asked of ``services.fallback`` (another backend, made
    here, sending through the same transport) when that configures it; otherwise, or when the
    fallback is down too, the outage is noted (``note_outage``) and the model reads a
    :class:`ServiceDown` (for visit too: an outage is not a missing page).

    Args:
        services: Where the services are, how to retry them, and their fallback.
        transport: An ``httpx`` transport (tests, proxies), used by the fallback too.
    """

    def __init__(
        self, services: ServicesConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.services = services
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._urls: dict[str, httpx.URL] = {}  # parsed once: httpx re-parses a str each time
        self._fallback = (
            None
            if services.fallback is None
            else HTTPBackend(services.fallback, transport=transport)
        )
        self._switched: set[Service] = set()  # the fallback answers for these (logged once)
        self._held: dict[Service, float] = {}  # when the primary last stayed down, if held
        self._gave_up: set[Service] = set()  # the last call found no answer, fallbacks included

    async def _send(self, service: Service, method: str, url: str, **kwargs: Any) -> httpx.Response:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self.services.timeout_s
            )
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = httpx.URL(url)
            if len(self._urls) < 16:  # the fixed endpoints, not every page the reader visits
                self._urls[url] = parsed
        request = self._client.build_request(method, parsed, **kwargs)
        s = self.services
        response = await send_with_retries(
            self._client, request, retries=s.retries, backoff_s=s.backoff_s
        )
        self._gave_up.discard(service)
        self._held.pop(service, None)
        if service in self._switched:
            self._switched.discard(service)
            logger.info("the %s service at %s answers again", service, s.url(service))
        return response

    async def _or_fallback(
        self,
        service: Service,
        primary: Callable[[], Awaitable[T]],
        again: Callable[[HTTPBackend], Awaitable[T]],
        down: Callable[[ServiceUnavailable], T],
    ) -> T:
        """``primary()``; when its service stays down, ``again(fallback)`` or else ``down(err)``.

        ``down`` raises :class:`ServiceDown`; the outage is noted first, so the call's text is
        not cached. Once the fallback has answered for a service, calls go straight to it for
        ``fallback_hold_s``: an outage would otherwise cost every call the primary's whole retry
        schedule first. While the fallback is down too, nothing is held, so the first of the two
        to come back answers.
        """
        fallback = self._fallback
        held = self._held.get(service)
        if (
            fallback is not None
            and held is not None
            and _clock() - held < self.services.fallback_hold_s
        ):
            return await self._ask(fallback, service, again)
        try:
            return await primary()
        except ServiceUnavailable as err:
            if fallback is None or fallback.services.url(service) is None:
                self._gave_up.add(service)
                note_outage(f"{service}: {err}")
                return down(err)
            if service not in self._switched:
                self._switched.add(service)
                logger.warning(
                    "the %s service is down (%s); asking the fallback at %s until it answers",
                    service, err, fallback.services.url(service),
                )  # fmt: skip
            self._held[service] = _clock()
        return await self._ask(fallback, service, again)

    async def _ask(
        self, fallback: HTTPBackend, service: Service, again: Callable[[HTTPBackend], Awaitable[T]]
    ) -> T:
        """``again(fallback)``; if the fallback found no answer either, hold nothing."""
        try:
            return await again(fallback)
        finally:
            if service in fallback._gave_up:
                self._gave_up.add(service)
                self._held.pop(service, None)
            else:
                self._gave_up.discard(service)

    async def _serper(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """``POST {search_url}{path}``; raises :class:`ServiceUnavailable` when it stays down."""
        base = self.services.search_url
        if base is None:
            raise ToolError("Search is not available in this environment.")
        key = self.services.search_api_key
        headers = {"X-API-KEY": key.get_secret_value()} if key else {}
        response = await self._send(
            "search", "POST", base.rstrip("/") + path, json=body, headers=headers
        )
        if response.status_code in (401, 403):
            raise ConfigError(f"{base}{path} rejected the API key (HTTP {response.status_code})")
        return response

    async def _search_json(
        self,
        path: str,
        body: dict[str, Any],
        again: Callable[[HTTPBackend], Awaitable[dict[str, Any]]],
    ) -> dict[str, Any]:
        async def primary() -> dict[str, Any]:
            return self._json(await self._serper(path, body))

        return await self._or_fallback("search", primary, again, _search_down)

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise ToolError(f"The search service refused the request: {_message(response)}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ToolError("The search service answered in an unexpected format.")
        return data

    async def search(self, query: str, num: int) -> dict[str, Any]:
        """``POST {search_url}/search``."""
        return await self._search_json(
            "/search", {"q": query, "num": num}, lambda f: f.search(query, num)
        )

    async def scholar(self, query: str, num: int) -> dict[str, Any]:
        """``POST {search_url}/scholar``."""
        return await self._search_json(
            "/scholar", {"q": query, "num": num}, lambda f: f.scholar(query, num)
        )

    async def maps(self, q: str, page: int) -> dict[str, Any]:
        """``POST {search_url}/maps``."""
        return await self._search_json("/maps", {"q": q, "page": page}, lambda f: f.maps(q, page))

    async def route(self, origin: str, destination: str, mode: str) -> dict[str, Any] | None:
        """``POST {search_url}/route``; a 404 means a place did not resolve."""
        body = {"origin": origin, "destination": destination, "mode": mode}

        async def primary() -> dict[str, Any] | None:
            response = await self._serper("/route", body)
            return None if response.status_code == 404 else self._json(response)

        return await self._or_fallback(
            "search", primary, lambda f: f.route(origin, destination, mode), _search_down
        )

    async def read(self, url: str) -> Page | None:
        """``GET {reader_url}/{url}`` parsed from Jina's text; ``None`` when it fails.

        Raises:
            ServiceDown: when the reader (and any fallback) stayed down: an outage is not a
                missing page.
        """
        base = self.services.reader_url
        if base is None:
            raise ToolError("Visiting pages is not available in this environment.")
        key = self.services.reader_api_key
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

        async def primary() -> Page | None:
            response = await self._send(
                "reader", "GET", f"{base.rstrip('/')}/{url}", headers=headers
            )
            if response.status_code in (401, 403):
                raise ConfigError(f"{base} rejected the API key (HTTP {response.status_code})")
            if response.status_code != 200:
                return None
            return page_from_jina_text(url, response.text)

        def down(err: ServiceUnavailable) -> NoReturn:
            logger.warning("reading %s failed: %s", url, err)
            raise ServiceDown(
                f"the page reader is unavailable ({_detail(err)}); try again later."
            ) from err

        return await self._or_fallback("reader", primary, lambda f: f.read(url), down)

    async def run_code(self, code: str, files: Mapping[str, bytes] | None = None) -> RunResult:
        """``POST {sandbox_url}/run_code`` (SandboxFusion; ``files`` go base64, as it takes them).

        Our server bounds a request body by ``max_body_bytes`` (1 MiB by default): larger files
        come back as the sandbox's refusal (HTTP 413), for the model to read.
        """
        base = self.services.sandbox_url
        if base is None:
            raise ToolError("PythonInterpreter is not available in this environment.")
        body: dict[str, Any] = {
            "code": code,
            "language": "python",
            "compile_timeout": 10.0,
            "run_timeout": self.services.run_timeout_s,
        }
        if files:
            body["files"] = {
                name: base64.b64encode(data).decode("ascii") for name, data in files.items()
            }
        key = self.services.sandbox_api_key
        headers = {"X-API-KEY": key.get_secret_value()} if key else {}

        async def primary() -> RunResult:
            response = await self._send(
                "sandbox", "POST", base.rstrip("/") + "/run_code", json=body, headers=headers
            )
            if response.status_code in (401, 403):
                raise ConfigError(f"{base} rejected the API key (HTTP {response.status_code})")
            if response.status_code != 200:
                raise ToolError(f"The Python sandbox refused the code: {_message(response)}")
            try:
                data = response.json()
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise ToolError("The Python sandbox answered in an unexpected format.")
            return run_result_from_fusion(data)

        def down(err: ServiceUnavailable) -> NoReturn:
            raise ServiceDown(
                f"The Python sandbox is unavailable ({_detail(err)}); try again later."
            ) from err

        return await self._or_fallback("sandbox", primary, lambda f: f.run_code(code, files), down)

    async def aclose(self) -> None:
        """Close the HTTP client and the fallback's (idempotent)."""
        try:
            if self._client is not None:
                await self._client.aclose()
                self._client = None
        finally:
            if self._fallback is not None:
                await self._fallback.aclose()


def _search_down(err: ServiceUnavailable) -> NoReturn:
    raise ServiceDown(
        f"The search service is unavailable ({_detail(err)}); try again later."
    ) from err


_REQUEST_PREFIX = re.compile(r"^[A-Z]+ \S+: ")
_URL = re.compile(r"https?://[^\s'\"<>)]+")


def _detail(err: ServiceUnavailable) -> str:
    """What went wrong, without the request line: ``HTTP 502 after 3 tries``.

    The request line names the service's internal URL (``http://127.0.0.1:PORT/search``);
    tool texts end up in trajectories and training data, where it has no business.
    """
    return _REQUEST_PREFIX.sub("", str(err))


def _scrub(text: str) -> str:
    """``text`` with every URL in it replaced by "the search service" (a service's reply)."""
    return _URL.sub("the search service", text)


def _message(response: httpx.Response) -> str:
    """A refusal's status and message for the model (URLs in it scrubbed, see :func:`_detail`)."""
    try:
        data = response.json()
    except ValueError:
        return _scrub(f"HTTP {response.status_code}: {response.text[:200]}")
    message = data.get("message") if isinstance(data, dict) else None
    return _scrub(f"HTTP {response.status_code}: {message or response.text[:200]}")
