"""Where the agent's tools get their data: an in-process environment or HTTP services.

Split from :mod:`redsearcher.env._tools` so that the tools themselves (argument models, schemas,
rendering, the :class:`~redsearcher.env._tools.Toolbox`) stay separate from the transport under
them. A :class:`Backend` answers the services' *wire* JSON whichever way it gets it:
:class:`LocalBackend` builds it from a :class:`~redsearcher.env._types.SearchEnvironment` in
threads; :class:`HTTPBackend` asks HTTP services, either our own server or the real ones it
imitates (Serper, Jina Reader, SandboxFusion), retrying infrastructure failures with
:func:`send_with_retries`. The tools render that JSON the same way for both, so an agent sees the
same text on either backend.

:class:`ToolError` lives here because backends are where most model-actionable failures start (a
disabled service, one that stayed down after retries, a sandbox that failed);
:mod:`redsearcher.env._tools` re-exports it, and this module never imports that one, so there is
no import cycle. A rejected API key is :class:`~redsearcher.errors.ConfigError` instead: no amount
of model retries fixes it, so it stops the run.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from redsearcher._util import _retry
from redsearcher.env._types import Page, RunResult, SearchEnvironment
from redsearcher.env._wire import route_json, serper_maps, serper_scholar, serper_search
from redsearcher.env.sandbox import SandboxError, SandboxRequestError
from redsearcher.errors import ConfigError, RedsearcherError

__all__ = [
    "Backend",
    "CodeRunner",
    "HTTPBackend",
    "LocalBackend",
    "ServiceUnavailable",
    "ServicesConfig",
    "ToolError",
    "page_from_jina_text",
    "run_result_from_fusion",
    "send_with_retries",
]

logger = logging.getLogger(__name__)


class ToolError(RedsearcherError):
    """A tool call failed in a way the model can act on; ``str(error)`` goes back to it."""


class ServiceUnavailable(RedsearcherError):
    """An HTTP service stayed unreachable, 5xx or 429 through every retry."""


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
    return await _retry.send_with_retries(
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

    async def arun(self, code: str) -> RunResult:
        """Run ``code`` and return its outcome."""
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
        """The page at ``url``, or ``None`` when it cannot be read."""
        ...

    async def run_code(self, code: str) -> RunResult:
        """Run Python ``code`` in a sandbox."""
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

    async def run_code(self, code: str) -> RunResult:
        """Run ``code`` in the sandbox."""
        if self.sandbox is None:
            raise ToolError("PythonInterpreter is not available in this environment.")
        try:
            return await self.sandbox.arun(code)
        except SandboxRequestError as err:
            raise ToolError(f"The code was not run: {err}.") from err
        except SandboxError as err:
            raise ToolError(f"The Python sandbox failed: {err}") from err

    async def aclose(self) -> None:
        """Nothing to release: the environment and sandbox belong to the caller."""


class ServicesConfig(BaseModel):
    """HTTP services behind :class:`HTTPBackend` (section ``services`` of the layered config).

    Point all three at our server (:meth:`local`) or at the real services (:meth:`real`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    search_url: str | None = None
    """Serper-compatible base: ``POST {base}/search``, ``/scholar``, ``/maps``, and our
    ``/route``; ``None`` disables search, scholar and maps."""
    search_api_key: SecretStr | None = None
    """Sent as ``X-API-KEY`` to the search base."""
    reader_url: str | None = None
    """Jina-Reader-compatible base: ``GET {base}/{url}``; ``None`` disables visit."""
    reader_api_key: SecretStr | None = None
    """Sent as ``Authorization: Bearer`` to the reader."""
    sandbox_url: str | None = None
    """SandboxFusion-compatible base: ``POST {base}/run_code``; ``None`` disables Python."""
    run_timeout_s: float = Field(default=30.0, gt=0.0)
    """SandboxFusion ``run_timeout`` of each code run."""
    timeout_s: float = Field(default=60.0, gt=0.0)
    """Timeout of one HTTP request."""
    retries: int = Field(default=3, ge=0)
    """Retries after a connection error, 408, 429 or 5xx."""
    backoff_s: float = Field(default=0.5, ge=0.0)
    """First retry delay, doubled per retry (``Retry-After`` headers win)."""

    @classmethod
    def local(cls, base_url: str, *, api_key: str | None = None, **options: Any) -> ServicesConfig:
        """Every service at our server's ``base_url`` (``redsearcher env serve``)."""
        key = SecretStr(api_key) if api_key else None
        return cls(
            search_url=base_url,
            search_api_key=key,
            reader_url=base_url,
            reader_api_key=key,
            sandbox_url=base_url,
            **options,
        )

    @classmethod
    def real(
        cls,
        *,
        serper_api_key: str,
        jina_api_key: str | None = None,
        sandbox_url: str | None = None,
        **options: Any,
    ) -> ServicesConfig:
        """Serper and Jina Reader at their public bases, and a SandboxFusion deployment."""
        return cls(
            search_url="https://google.serper.dev",
            search_api_key=SecretStr(serper_api_key),
            reader_url="https://r.jina.ai",
            reader_api_key=SecretStr(jina_api_key) if jina_api_key else None,
            sandbox_url=sandbox_url,
            **options,
        )


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


class HTTPBackend:
    """Tools over HTTP services: our server, or Serper + Jina Reader + SandboxFusion.

    The ``httpx.AsyncClient`` is made on first use and closed by :meth:`aclose`.

    Args:
        services: Where the services are and how to retry them.
        transport: An ``httpx`` transport (tests, proxies).
    """

    def __init__(
        self, services: ServicesConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.services = services
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._urls: dict[str, httpx.URL] = {}  # parsed once: httpx re-parses a str each time

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
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
        return await send_with_retries(
            self._client, request, retries=s.retries, backoff_s=s.backoff_s
        )

    async def _serper(self, path: str, body: dict[str, Any]) -> httpx.Response:
        base = self.services.search_url
        if base is None:
            raise ToolError("Search is not available in this environment.")
        key = self.services.search_api_key
        headers = {"X-API-KEY": key.get_secret_value()} if key else {}
        try:
            response = await self._send("POST", base.rstrip("/") + path, json=body, headers=headers)
        except ServiceUnavailable as err:
            raise ToolError(f"The search service is unavailable ({err}); try again later.") from err
        if response.status_code in (401, 403):
            raise ConfigError(f"{base}{path} rejected the API key (HTTP {response.status_code})")
        return response

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
        return self._json(await self._serper("/search", {"q": query, "num": num}))

    async def scholar(self, query: str, num: int) -> dict[str, Any]:
        """``POST {search_url}/scholar``."""
        return self._json(await self._serper("/scholar", {"q": query, "num": num}))

    async def maps(self, q: str, page: int) -> dict[str, Any]:
        """``POST {search_url}/maps``."""
        return self._json(await self._serper("/maps", {"q": q, "page": page}))

    async def route(self, origin: str, destination: str, mode: str) -> dict[str, Any] | None:
        """``POST {search_url}/route``; a 404 means a place did not resolve."""
        body = {"origin": origin, "destination": destination, "mode": mode}
        response = await self._serper("/route", body)
        return None if response.status_code == 404 else self._json(response)

    async def read(self, url: str) -> Page | None:
        """``GET {reader_url}/{url}`` parsed from Jina's text; ``None`` when it fails."""
        base = self.services.reader_url
        if base is None:
            raise ToolError("Visiting pages is not available in this environment.")
        key = self.services.reader_api_key
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}
        try:
            response = await self._send("GET", f"{base.rstrip('/')}/{url}", headers=headers)
        except ServiceUnavailable as err:
            logger.warning("reading %s failed: %s", url, err)
            return None
        if response.status_code in (401, 403):
            raise ConfigError(f"{base} rejected the API key (HTTP {response.status_code})")
        if response.status_code != 200:
            return None
        return page_from_jina_text(url, response.text)

    async def run_code(self, code: str) -> RunResult:
        """``POST {sandbox_url}/run_code`` (SandboxFusion)."""
        base = self.services.sandbox_url
        if base is None:
            raise ToolError("PythonInterpreter is not available in this environment.")
        body = {
            "code": code,
            "language": "python",
            "compile_timeout": 10.0,
            "run_timeout": self.services.run_timeout_s,
        }
        try:
            response = await self._send("POST", base.rstrip("/") + "/run_code", json=body)
        except ServiceUnavailable as err:
            raise ToolError(f"The Python sandbox is unavailable ({err}); try again later.") from err
        if response.status_code != 200:
            raise ToolError(f"The Python sandbox refused the code: {_message(response)}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ToolError("The Python sandbox answered in an unexpected format.")
        return run_result_from_fusion(data)

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent)."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    message = data.get("message") if isinstance(data, dict) else None
    return f"HTTP {response.status_code}: {message or response.text[:200]}"
