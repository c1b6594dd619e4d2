"""Who may talk to the server: the API key, the ``Host`` allow-list, JSON-only POSTs.

Three checks the guard runs on every request before anything else, because each closes a way
in that does not need the attacker to reach the machine's port directly:

- **The API key** (``ServerConfig.api_key``), when one is set, is required on *every*
  endpoint except those named in ``public_endpoints`` (``/health`` by default, so probes and
  supervisors need no secret). ``/run_code`` runs code: with ``--host 0.0.0.0`` and only the
  Serper twins keyed, anyone on the network could run programs. A key is accepted from
  Serper's ``X-API-KEY`` header and from ``Authorization: Bearer`` (Jina's clients, and any
  HTTP client's usual way), on every endpoint alike.
- **The Host header** must name this server (:class:`HostPolicy`). A web page a user opens can
  point its own domain name at 127.0.0.1 ("DNS rebinding") and then read every loopback
  service as same-origin; its requests carry the attacker's name in ``Host``, which no client
  of this server ever sends.
- **POST bodies must be declared JSON.** A page in any browser may send a cross-origin POST
  without asking first when its content type is ``text/plain`` or a form (a "simple request");
  every twin here takes JSON, so refusing other types (415) makes such a request from a page
  unable to start a ``/run_code`` run, key or no key.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import socket
from collections.abc import Iterable

from redsearcher.server._config import ServerConfig

__all__ = ["HostPolicy", "bearer_token", "is_json_type", "key_accepted"]

#: Names that always mean this machine (RFC 6761 reserves ``localhost`` and its subdomains).
_LOOPBACK_NAMES = ("localhost",)


def _matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def key_accepted(config: ServerConfig, key: str | None, bearer: str | None) -> bool:
    """Whether a request's ``X-API-KEY`` or bearer token passes ``config.api_key``.

    Always True when no key is configured. Compared in constant time.
    """
    expected = config.api_key
    return expected is None or _matches(expected, key) or _matches(expected, bearer)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header (scheme case-insensitive)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def is_json_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` declares JSON (``application/json`` or ``...+json``)."""
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _hostname(host_header: str) -> str:
    """The name part of a ``Host`` value: no port, no IPv6 brackets, lowercased, no final dot."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """Which ``Host`` header values the server answers (the DNS-rebinding defence).

    Accepted: any IP literal (a rebinding page's requests carry its own *name*, and a page whose
    origin is an IP address can only reach that address anyway), ``localhost`` and its
    subdomains, the bound host, this machine's host name, and every name in
    ``config.allowed_hosts`` (``*.example.com`` matches subdomains; ``*`` turns the check
    off). A request without a ``Host`` header (HTTP/1.0) is accepted: browsers always send one.

    Args:
        config: Holds ``host`` and ``allowed_hosts``.
        extra: More names to accept (tests; the machine's names are found here otherwise).
    """

    def __init__(self, config: ServerConfig, extra: Iterable[str] = ()) -> None:
        names = {*_LOOPBACK_NAMES, *(n.lower().rstrip(".") for n in extra)}
        bound = config.host.lower().strip("[]")
        if not _is_ip(bound):
            names.add(bound)
        with contextlib.suppress(OSError):  # no host name at all
            names.add(socket.gethostname().lower())
        suffixes = [".localhost"]
        self.any = False
        for entry in config.allowed_hosts:
            entry = entry.strip().lower().rstrip(".")
            if entry == "*":
                self.any = True
            elif entry.startswith("*."):
                suffixes.append(entry[1:])
            else:
                names.add(entry)
        self.names = frozenset(names)
        self.suffixes = tuple(suffixes)

        # Answers by header value: clients send the same few values again and again.
        self._seen: dict[str, bool] = {}

    def allows(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server."""
        if self.any or host_header is None:
            return True
        known = self._seen.get(host_header)
        if known is not None:
            return known
        name = _hostname(host_header)
        ok = name in self.names or name.endswith(self.suffixes) or _is_ip(name)
        if len(self._seen) < 1024:  # bounded: a client may send endless distinct values
            self._seen[host_header] = ok
        return ok
