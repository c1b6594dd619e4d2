"""Who may talk to our HTTP servers: the API key, the ``Host`` allow-list, JSON-only POSTs.

One policy for both servers that can run code on this machine: the environment server
(``redsearcher env serve``, whose guard adds metrics, deadlines and faults around it) and the
MCP server over streamable HTTP (``redsearcher env mcp --transport http``). It lives this low
so that both layers import it; a copy in each would drift. Each check closes a way in that does
not need the attacker to reach the machine's port directly:

- **The API key**, when one is set, is required on every request (the environment server
  exempts its ``public_endpoints``). It is accepted from Serper's ``X-API-KEY`` header and from
  ``Authorization: Bearer`` (Jina's clients, MCP clients, any HTTP client's usual way).
- **The Host header** must name this server (:class:`HostPolicy`). A web page a user opens can
  point its own domain name at 127.0.0.1 ("DNS rebinding") and then read every loopback
  service as same-origin; its requests carry the attacker's name in ``Host``, which no client
  of ours ever sends.
- **POST bodies must be declared JSON.** A page in any browser may send a cross-origin POST
  without asking first when its content type is ``text/plain`` or a form (a "simple request");
  every endpoint here takes JSON, so refusing other types (415) keeps such a request from
  starting a code run, key or no key.
- Optionally, **the Origin header** (sent by browsers only) must name this server too: the MCP
  SDK checks it on loopback, and the MCP server keeps that check when it replaces the SDK's.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "AccessPolicy",
    "HostPolicy",
    "Refusal",
    "bearer_token",
    "check_api_key",
    "is_json_type",
    "is_loopback",
    "key_accepted",
    "request_headers",
]

#: Names that always mean this machine (RFC 6761 reserves ``localhost`` and its subdomains).
_LOOPBACK_NAMES = ("localhost",)

#: The request headers the checks read.
_WANTED = (b"host", b"origin", b"x-api-key", b"authorization", b"content-type")


def check_api_key(key: str | None) -> str | None:
    """``key`` when it can travel in an HTTP header (non-empty printable ASCII), else ValueError.

    Raises:
        ValueError: naming the rule; callers add where the key came from.
    """
    if key is not None and (not key.strip() or not key.isprintable() or not key.isascii()):
        raise ValueError("api_key must be non-empty printable ASCII (it travels in an HTTP header)")
    return key


def _matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def key_accepted(expected: str | None, key: str | None, bearer: str | None) -> bool:
    """Whether a request's ``X-API-KEY`` (``key``) or bearer token matches ``expected``.

    Always True when no key is expected. Compared in constant time.
    """
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


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps a server on this machine (``localhost``, 127.x, ``::1``)."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(host_header: str) -> str:
    """The name part of a ``Host`` value: no port, no IPv6 brackets, lowercased, no final dot."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class HostPolicy:
    """Which ``Host`` header values a server answers (the DNS-rebinding defence).

    Accepted: any IP literal (a rebinding page's requests carry its own *name*, and a page whose
    origin is an IP address can only reach that address anyway), ``localhost`` and its
    subdomains, the bound host, this machine's host name, and every name in ``allowed_hosts``
    (``*.example.com`` matches subdomains; ``*`` turns the check off). A request without a
    ``Host`` header (HTTP/1.0) is accepted: browsers always send one.

    Args:
        host: The interface the server binds (a name is accepted in ``Host``).
        allowed_hosts: More names, as the server's ``allowed_hosts`` field or ``--allowed-host``.
        extra: More names to accept (tests; the machine's names are found here otherwise).
    """

    def __init__(self, host: str, allowed_hosts: Iterable[str] = (), extra: Iterable[str] = ()):
        names = {*_LOOPBACK_NAMES, *(n.lower().rstrip(".") for n in extra)}
        self._bound = host.lower().strip("[]")
        if not _is_ip(self._bound):
            names.add(self._bound)
        with contextlib.suppress(OSError):  # no host name at all
            names.add(socket.gethostname().lower())
        suffixes = [".localhost"]
        self.any = False
        for entry in allowed_hosts:
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

    def _named(self, name: str) -> bool:
        return name in self.names or name.endswith(self.suffixes)

    def allows(self, host_header: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server."""
        if self.any or host_header is None:
            return True
        known = self._seen.get(host_header)
        if known is not None:
            return known
        name = _hostname(host_header)
        ok = self._named(name) or _is_ip(name)
        if len(self._seen) < 1024:  # bounded: a client may send endless distinct values
            self._seen[host_header] = ok
        return ok

    def allows_origin(self, origin: str | None) -> bool:
        """Whether a browser page at ``origin`` (the ``Origin`` header) may call this server.

        Absent (not a browser, or same-origin GET): yes. Otherwise its host must be a name
        :meth:`allows` takes, a loopback address, the bound address or an ``allowed_hosts``
        entry: unlike in ``Host``, any IP literal is not enough here, since the page at
        ``http://10.0.0.9`` is someone else's site calling this one. ``null`` (sandboxed
        frames, ``file:`` pages) is refused.
        """
        if self.any or origin is None:
            return True
        try:
            name = (urlsplit(origin.strip()).hostname or "").rstrip(".")
        except ValueError:
            return False
        if not name:
            return False
        if _is_ip(name):
            return is_loopback(name) or name == self._bound or name in self.names
        return self._named(name)


def request_headers(scope: Mapping[str, Any]) -> dict[bytes, str]:
    """The headers the checks read from an ASGI ``scope`` (the last value of each wins)."""
    return {
        name: bytes(value).decode("latin-1")
        for name, value in scope.get("headers", ())
        if name in _WANTED
    }


class Refusal(NamedTuple):
    """Why a request is refused: the HTTP status and a message for the client."""

    status: int
    message: str


class AccessPolicy:
    """The checks of the module docstring, in order: Host (421), Origin (403), key, type (415).

    Args:
        hosts: The ``Host`` allow-list.
        api_key: The key every checked request must carry; None asks for none.
        key_status: Status for a missing or wrong key: 403 where a twin must answer as its
            original does (Serper), 401 where HTTP's own meaning is wanted (MCP).
        key_message: The message that goes with it.
        hosts_hint: Where a refused host name can be added, for the 421 message.
        check_origin: Also refuse browser pages of foreign origins (403).
    """

    def __init__(
        self,
        hosts: HostPolicy,
        api_key: str | None = None,
        *,
        key_status: int = 403,
        key_message: str = "Unauthorized.",
        hosts_hint: str = "the server's allowed_hosts",
        check_origin: bool = False,
    ) -> None:
        self.hosts = hosts
        self.api_key = check_api_key(api_key)
        self.key_status = key_status
        self.key_message = key_message
        self.hosts_hint = hosts_hint
        self.check_origin = check_origin

    def refusal(
        self, scope: Mapping[str, Any], *, key: bool = True, json: bool = True
    ) -> Refusal | None:
        """Why the request of ``scope`` is refused, or None when it may go on.

        Args:
            scope: The ASGI HTTP scope (its method and headers are read).
            key: Whether this request needs the key (False: a public endpoint).
            json: Whether a POST here must declare a JSON body.
        """
        headers = request_headers(scope)
        host = headers.get(b"host")
        if not self.hosts.allows(host):
            return Refusal(
                421,
                f"this server does not answer for host {(host or '')[:200]!r}; add it to "
                f"{self.hosts_hint} if it is yours",
            )
        origin = headers.get(b"origin")
        if self.check_origin and not self.hosts.allows_origin(origin):
            return Refusal(403, f"requests from pages at {(origin or '')[:200]!r} are refused")
        if self.api_key is not None and key:
            bearer = bearer_token(headers.get(b"authorization"))
            if not key_accepted(self.api_key, headers.get(b"x-api-key"), bearer):
                return Refusal(self.key_status, self.key_message)
        if json and scope.get("method") == "POST":
            content_type = headers.get(b"content-type")
            if not is_json_type(content_type):
                got = "none" if content_type is None else repr(content_type[:200])
                return Refusal(415, f"Content-Type must be application/json, got {got}")
        return None
