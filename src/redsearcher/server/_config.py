"""The environment server's configuration: one typed model, layered like every other section.

Why bounds live here and not in the request models: the same server runs a laptop demo and a
training cluster's rollouts, so batch sizes and ``num``/``topk`` ceilings are settings. The
request models carry only the hard limits no deployment should lift (``num >= 1``); handlers
check the configured ceilings and answer 400 naming the field.

Fault injection is configured per endpoint *name* (the names in :data:`ENDPOINTS`), so a test
or a robustness run can slow down the reader while search stays fast.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redsearcher._util import HEADER_TIMEOUT_S, MAX_HEADER_BYTES, check_api_key
from redsearcher.env.sandbox import SandboxConfig
from redsearcher.errors import ConfigError
from redsearcher.tools import (
    DEFAULT_RENDER_STYLE,
    SummarizerConfig,
    VisitConfig,
    render_style,
)

__all__ = [
    "ENDPOINTS",
    "PUBLIC_ENDPOINT_NAMES",
    "SECTION",
    "FaultConfig",
    "FaultSpec",
    "RetrieveConfig",
    "ServerConfig",
]

#: Config section: YAML key and env-var prefix ``REDSEARCHER_SERVER__*``.
SECTION = "server"

#: Endpoint names used by fault injection and by the metrics' ``endpoint`` label.
ENDPOINTS: tuple[str, ...] = (
    "search",
    "scholar",
    "maps",
    "route",
    "reader",
    "retrieve",
    "access",
    "local_search",
    "local_crawl",
    "run_code",
    "visit",
)


#: Names ``public_endpoints`` may hold: the twins, plus the service pages.
PUBLIC_ENDPOINT_NAMES: tuple[str, ...] = (*ENDPOINTS, "health", "metrics", "openapi", "docs")


class FaultSpec(BaseModel):
    """Faults injected into one endpoint's requests (all off by default).

    Each request draws once from the endpoint's seeded RNG: with probability ``error_rate`` it is
    answered with one of ``error_statuses``; with probability ``timeout_rate`` it hangs for
    ``hang_s`` and is then answered 504; otherwise it waits ``latency_s`` and is served.
    """

    model_config = ConfigDict(extra="forbid")

    latency_s: float | tuple[float, float] = 0.0
    """Delay before serving: seconds, or a ``[min, max]`` range drawn uniformly."""
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability that a request is answered with an injected 5xx error."""
    error_statuses: list[int] = Field(default_factory=lambda: [500, 503])
    """Statuses injected errors are drawn from (each 500-599)."""
    timeout_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability that a request hangs ``hang_s`` seconds and then gets 504."""
    hang_s: float = Field(default=30.0, ge=0.0, le=3600.0)
    """How long a request chosen by ``timeout_rate`` hangs before its 504."""

    @field_validator("latency_s")
    @classmethod
    def _check_latency(cls, v: float | tuple[float, float]) -> float | tuple[float, float]:
        low, high = v if isinstance(v, tuple) else (v, v)
        if not 0.0 <= low <= high <= 3600.0:
            raise ValueError(f"latency_s must be >= 0 with min <= max, got {v!r}")
        return v

    @field_validator("error_statuses")
    @classmethod
    def _check_statuses(cls, v: list[int]) -> list[int]:
        if not v or any(not 500 <= s <= 599 for s in v):
            raise ValueError(f"error_statuses must be non-empty 5xx codes, got {v!r}")
        return v

    @model_validator(mode="after")
    def _check_rates(self) -> FaultSpec:
        if self.error_rate + self.timeout_rate > 1.0:
            raise ValueError("error_rate + timeout_rate must be <= 1")
        return self

    @property
    def active(self) -> bool:
        """Whether this spec injects anything at all."""
        return bool(self.error_rate or self.timeout_rate or self.latency_bounds[1])

    @property
    def latency_bounds(self) -> tuple[float, float]:
        """``latency_s`` as a ``(min, max)`` pair."""
        v = self.latency_s
        return (float(v[0]), float(v[1])) if isinstance(v, tuple) else (float(v), float(v))


class FaultConfig(BaseModel):
    """Fault injection: a seed and a :class:`FaultSpec` per endpoint name."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    """Seed of the per-endpoint RNGs (each endpoint draws from its own stream)."""
    endpoints: dict[str, FaultSpec] = Field(default_factory=dict)
    """Specs keyed by endpoint name (see ``ENDPOINTS``); ``"*"`` applies to every endpoint
    without a spec of its own."""

    @field_validator("endpoints")
    @classmethod
    def _check_names(cls, v: dict[str, FaultSpec]) -> dict[str, FaultSpec]:
        unknown = sorted(set(v) - {*ENDPOINTS, "*"})
        if unknown:
            raise ValueError(
                f"unknown endpoint name(s) {unknown}; expected '*' or one of {list(ENDPOINTS)}"
            )
        return v

    def spec_for(self, endpoint: str) -> FaultSpec | None:
        """The active spec for ``endpoint`` (its own, else ``"*"``), or None."""
        spec = self.endpoints.get(endpoint) or self.endpoints.get("*")
        return spec if spec is not None and spec.active else None


class RetrieveConfig(BaseModel):
    r"""How ``/retrieve`` (Search-R1) cuts a matched page into the passage it returns.

    Search-R1's corpus, wiki-18, is made of single-line windows of about 100 words, each
    ``"Title"\ntext``; a model trained on it expects passages of that shape. Off by default,
    which keeps the whole page text (cut to ``passage_chars``) as before.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    passages: Literal["off", "words"] = "off"
    """``off``: ``contents`` is the page text (blank lines kept) cut to ``passage_chars``.
    ``words``: the page is cut into fixed windows of ``passage_words`` words (in page order,
    the last one shorter) and the window that scores best for the query (BM25 over the page's
    windows; the first window when none matches) is returned on one line, wiki-18 style."""
    passage_words: int = Field(default=100, ge=10, le=10_000)
    """Words per window in ``words`` mode (wiki-18: 100)."""


class ServerConfig(BaseModel):
    """Configuration of the environment HTTP server (section ``server``).

    Layered by ``redsearcher.config.load_config``: defaults < YAML < ``REDSEARCHER_SERVER__*``
    environment variables < command-line flags.
    """

    model_config = ConfigDict(extra="forbid")

    index: Path | None = None
    """Index directory to serve (built by ``redsearcher env index``). Required unless an
    environment object is passed to ``create_app`` directly."""
    host: str = "127.0.0.1"
    """Interface to bind. The default keeps the server unreachable from other machines; bind
    anything else only on purpose (``--host``)."""
    port: int = Field(default=8000, ge=0, le=65535)
    """Port to bind; 0 picks a free one."""
    workers: int = Field(default=1, ge=1, le=256)
    """uvicorn worker processes. One here, for ``serve`` called as a library; the
    ``redsearcher env serve`` command uses one per core when no layer sets it (the issue's
    "one worker per core"). ``EnvServer`` (tests, ``redsearcher run``) always runs one."""
    threads: int = Field(default=16, ge=1, le=1024)
    """Per-worker thread pool bound for index look-ups (search, visit run off the event loop)."""
    access_log: bool = False
    """Log one line per request (uvicorn's access log). Off by default: at a thousand requests
    a second the log line costs more than a visit; ``/metrics`` counts requests instead."""
    api_key: str | None = Field(default=None, repr=False)
    """When set, every endpoint requires this key (``X-API-KEY``, or ``Authorization: Bearer``)
    except those named in ``public_endpoints``; wrong or missing keys get 403. Unset (the
    default): no key is asked for, which is safe only while the server is reachable from this
    machine alone. ``redsearcher env serve`` reads it from ``REDSEARCHER_ENV_API_KEY`` or
    ``--api-key-file`` so it stays out of the process list."""
    api_key_everywhere: bool = False
    """Deprecated, no effect: a configured key is now required on every endpoint (the
    open-source twins included, since ``/run_code`` runs code). Kept so old configs load."""
    public_endpoints: list[str] = Field(default_factory=lambda: ["health"])
    """Endpoint names answered without the key even when one is set (see
    ``PUBLIC_ENDPOINT_NAMES``). ``health`` by default: load balancers, probes and supervisors
    poll it without secrets, and it tells only whether the index is loaded (and its size and
    hash). ``metrics`` is not public by default (Prometheus can send a bearer token)."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names (``Host`` header) answered besides the defaults: IP literals, ``localhost``,
    the bound host and this machine's host name. ``*.example.com`` matches its subdomains;
    ``*`` accepts any name (turns off the DNS-rebinding defence). Others get 421."""
    header_timeout_s: float = Field(default=HEADER_TIMEOUT_S, gt=0.0, le=3600.0)
    """A connection must deliver each request's complete head (request line and headers)
    within this many seconds of its first byte (or of connecting), else it is closed (408):
    half-sent requests ("slowloris") otherwise hold a connection forever."""
    max_header_bytes: int = Field(default=MAX_HEADER_BYTES, ge=1024, le=16 * 1024 * 1024)
    """Largest request head (request line and headers) in bytes; larger ones get 431 and the
    connection is closed. Bodies have their own bound, ``max_body_bytes``."""
    request_timeout_s: float = Field(default=60.0, gt=0.0, le=3600.0)
    """A request still running after this long is answered 504 (``/run_code``: see
    ``run_code_timeout_s``)."""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=256 * 1024 * 1024)
    """Larger request bodies are answered 413 (``/run_code``: see ``run_code_body_bytes``)."""
    max_num: int = Field(default=100, ge=1, le=1000)
    """Largest Serper ``num`` and local-search ``k``."""
    max_page: int = Field(default=100, ge=1, le=10_000)
    """Largest Serper ``page``."""
    max_topk: int = Field(default=50, ge=1, le=1000)
    """Largest Search-R1 ``topk``."""
    max_queries: int | None = Field(default=None, ge=1, le=1_000_000)
    """Optional cap on the number of queries in one batch (Search-R1 ``queries``, Serper query
    lists). None (the default): no count cap, because Search-R1 sends every active
    trajectory's query in one call (batch size x rollouts, 512 and more); batches are bounded
    by ``max_batch_query_bytes`` and ``max_batch_results`` instead."""
    max_batch_query_bytes: int = Field(default=512 * 1024, ge=1024, le=256 * 1024 * 1024)
    """Total UTF-8 bytes of the query texts of one request (a batch's every ``q``/query): the
    look-up work grows with the query terms, whatever their number."""
    max_batch_results: int = Field(default=8192, ge=1, le=1_000_000)
    """Total results one request may ask for: the sum over its queries of ``topk``
    (Search-R1) or ``num`` (Serper). 8192 covers 2,560 queries at ``topk`` 3 (a GRPO batch of
    512 x 5) and bounds the answer (at most 8192 passages of ``passage_chars``)."""
    max_urls: int = Field(default=16, ge=1, le=1024)
    """Largest ``urls`` list (ASearcher access) and ``url`` list (visit)."""
    max_query_chars: int = Field(default=2048, ge=16, le=1_000_000)
    """Longest query string accepted (URLs have their own fixed bound, ``MAX_URL_CHARS``)."""
    response_cache_mb: float = Field(default=64.0, ge=0.0, le=65536.0)
    """Per worker: answers of ``/search``, ``/scholar`` and ``/maps`` kept by request body
    (least recently used goes first); 0 disables. Exact, because the index is read-only while
    served; worth it in RL, where a task's K samples repeat the same queries."""
    passage_chars: int = Field(default=2000, ge=100, le=1_000_000)
    """Search-R1 ``contents`` and local-search ``text`` are cut to this many characters."""
    retrieve: RetrieveConfig = Field(default_factory=RetrieveConfig)
    """``/retrieve`` passages: whole page text (default) or wiki-18-style word windows."""
    serper_dates: Literal["google", "iso"] = "google"
    """Form of the Serper twins' ``date``. ``google``: what real Serper returns, Google's
    display form (``Sep 1, 2025``; relative forms such as ``3 days ago`` only when
    ``serper_now`` is set). ``iso``: the World's own value (``2025-09-01``) unchanged."""
    serper_now: datetime | None = None
    """The reference "now" of ``google`` dates (a World has no clock). When set, a page
    published less than 7 days before it is dated ``N minutes/hours/days ago``, as Google
    does; when None (the default) every date is absolute. A value without a timezone is UTC."""
    sandbox: SandboxConfig | None = Field(default_factory=SandboxConfig)
    """Limits of the Python sandbox behind ``/run_code`` (``run_timeout`` is capped by its
    ``max_timeout``, 120 s by default); None disables ``/run_code``. When the sandbox cannot
    start (no bubblewrap), ``/run_code`` answers SandboxFusion's ``SandboxError`` shape and
    every other endpoint keeps serving; ``{insecure: true}`` runs code without isolation
    instead — only on machines you trust."""
    run_timeout_above_max: Literal["clamp", "refuse"] = "clamp"
    """What ``/run_code`` does with a ``run_timeout`` above the sandbox's ``max_timeout``.
    ``clamp`` (default): run with ``max_timeout`` and say so (field ``run_timeout_clamped``
    and header ``X-Run-Timeout-Clamped``), as SandboxFusion itself accepts any timeout and its
    clients read a 400 as a failed tool call. ``refuse``: answer 400 naming the field."""
    run_code_timeout_s: float | None = Field(default=None, gt=0.0, le=7200.0)
    """Deadline of a ``/run_code`` request (504 past it). None: ``request_timeout_s``, raised
    to twice the sandbox's ``max_timeout`` (one run's wait for a free slot plus its own run)
    when that is longer, so a run the sandbox accepts is never cut short by the server."""
    visit: VisitConfig = Field(default_factory=VisitConfig)
    """Budgets of the goal-directed visit (``/visit``)."""
    render_style: str = DEFAULT_RENDER_STYLE
    """The render style (registry kind ``render_style``: ``tongyi``, ``deeptracehub``) of the
    endpoints that answer with the text a model reads, i.e. ``/visit``; a request may name
    another in its ``render_style`` field. Serve the style your agents were trained on. The
    twins of real services (Serper, Jina, Search-R1, ...) answer in their wire formats and do
    not depend on it."""
    summarizer: SummarizerConfig | None = None
    """An OpenAI-compatible model that summarizes visited pages (``base_url``, ``model``, ...);
    None means the offline extractive visit."""
    faults: FaultConfig = Field(default_factory=FaultConfig)
    """Fault injection per endpoint; off by default."""

    @field_validator("public_endpoints")
    @classmethod
    def _check_public(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(PUBLIC_ENDPOINT_NAMES))
        if unknown:
            raise ValueError(
                f"unknown endpoint name(s) {unknown}; expected names from "
                f"{list(PUBLIC_ENDPOINT_NAMES)}"
            )
        return v

    @field_validator("render_style")
    @classmethod
    def _check_render_style(cls, v: str) -> str:
        try:
            render_style(v)
        except ConfigError as err:  # pydantic reports a ValueError with the field's name
            raise ValueError(str(err)) from None
        return v

    @field_validator("api_key")
    @classmethod
    def _check_key(cls, v: str | None) -> str | None:
        return check_api_key(v)

    @property
    def run_code_body_bytes(self) -> int:
        """The body bound of ``/run_code``: at least what the sandbox's own limits accept.

        A SandboxFusion client sends its input files base64-encoded in the JSON body, so a run
        the sandbox takes (``max_files_bytes`` of files, ``max_stdin_bytes``, ``max_code_bytes``
        of code) needs a body of about 4/3 of that; below it, a GAIA attachment the sandbox
        would accept came back as 413. Code is counted twice (JSON escapes), plus 64 KiB for
        names and keys.
        """
        if self.sandbox is None:
            return self.max_body_bytes
        box = self.sandbox
        needed = -(-4 * (box.max_files_bytes + box.max_stdin_bytes) // 3)
        return max(self.max_body_bytes, needed + 2 * box.max_code_bytes + 64 * 1024)

    @property
    def run_code_deadline_s(self) -> float:
        """The deadline of a ``/run_code`` request, as ``run_code_timeout_s`` describes."""
        if self.run_code_timeout_s is not None:
            return self.run_code_timeout_s
        if self.sandbox is None:
            return self.request_timeout_s
        return max(self.request_timeout_s, 2.0 * self.sandbox.max_timeout)
