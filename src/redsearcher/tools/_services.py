"""Where the HTTP tools' services are: :class:`ServicesConfig` (section ``services``).

Split from :mod:`redsearcher.tools._backends` because it is configuration, layered from YAML,
environment variables and flags (``redsearcher rollout``), and recorded in run manifests
(:meth:`ServicesConfig.endpoints`, never keys), while the backend is transport.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["SERVICES", "Service", "ServicesConfig"]

Service = Literal["search", "reader", "sandbox"]
"""A service: search (Serper: search, scholar, maps; our route), reader (Jina), sandbox."""

#: Every service, in the order the config lists them.
SERVICES: tuple[Service, ...] = ("search", "reader", "sandbox")


class ServicesConfig(BaseModel):
    """HTTP services behind ``HTTPBackend`` (section ``services`` of the layered config).

    Point all three at our server (:meth:`local`) or at the real services (:meth:`real`), or mix
    them, with another :class:`ServicesConfig` as ``fallback`` for when they stay down.
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
    sandbox_api_key: SecretStr | None = None
    """Sent as ``X-API-KEY`` to the sandbox: SandboxFusion has no keys, but our server asks for
    one on every endpoint when it has a key."""
    run_timeout_s: float = Field(default=30.0, gt=0.0)
    """SandboxFusion ``run_timeout`` of each code run."""
    timeout_s: float = Field(default=60.0, gt=0.0)
    """Timeout of one HTTP request."""
    retries: int = Field(default=3, ge=0)
    """Retries after a connection error, 408, 429 or 5xx."""
    backoff_s: float = Field(default=0.5, ge=0.0)
    """First retry delay, doubled per retry (``Retry-After`` headers win)."""
    fallback: ServicesConfig | None = None
    """Services asked when these stay down through their retries, service by service (only those
    it configures): e.g. real Serper here and our environment server as the fallback, or a second
    provider. It has its own keys, timeouts, retries, and maybe a fallback of its own. Its answers
    are normal results (cached as any); a key it rejects stops the run as here."""
    fallback_hold_s: float = Field(default=30.0, ge=0.0)
    """Once a service has stayed down and switched to the fallback, its calls go straight to the
    fallback for this many seconds; then the primary is tried again (0: every call tries the
    primary first, paying its retries while it is down)."""

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
            sandbox_api_key=key,
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

    def url(self, service: Service) -> str | None:
        """The base URL of ``service`` (``None`` when it is disabled here)."""
        urls = {"search": self.search_url, "reader": self.reader_url, "sandbox": self.sandbox_url}
        return urls[service]

    def with_key_for(self, base_url: str, api_key: str | None) -> ServicesConfig:
        """These services with ``api_key`` for each one at ``base_url`` that has no key of its own.

        Fallbacks included. Why per service: a key meant for our server must not be sent to
        Serper or Jina when only some services point there.
        """
        if not api_key:
            return self
        base = base_url.rstrip("/")
        keys = {
            "search": self.search_api_key,
            "reader": self.reader_api_key,
            "sandbox": self.sandbox_api_key,
        }
        update: dict[str, Any] = {
            f"{service}_api_key": SecretStr(api_key)
            for service in SERVICES
            if (url := self.url(service)) is not None
            and url.rstrip("/") == base
            and keys[service] is None
        }
        if self.fallback is not None:
            update["fallback"] = self.fallback.with_key_for(base_url, api_key)
        return self.model_copy(update=update)

    def endpoints(self) -> dict[str, Any]:
        """Where each service is, fallbacks nested: what a run manifest records. Never keys."""
        return {
            "search": self.search_url,
            "reader": self.reader_url,
            "sandbox": self.sandbox_url,
            "fallback": None if self.fallback is None else self.fallback.endpoints(),
        }
