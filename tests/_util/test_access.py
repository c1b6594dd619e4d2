"""The shared access policy: the parts the servers' HTTP tests cannot reach (which hosts count
as loopback, Origin parsing, key validation, the order of the checks)."""

from __future__ import annotations

import pytest

from redsearcher._util import (
    AccessPolicy,
    HostPolicy,
    bearer_token,
    check_api_key,
    is_json_type,
    is_loopback,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("myhost.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("http://localhost:6274", True),
        ("http://app.localhost", True),
        ("http://[::1]:80", True),
        ("http://127.0.0.1", True),
        ("http://192.168.1.5:9000", True),  # the bound address
        ("https://search.internal", True),  # allowed_hosts
        ("http://10.0.0.9", False),  # some other machine's page
        ("https://evil.example", False),
        ("null", False),
        ("http://[::1", False),  # unparsable
        ("", False),
    ],
)
def test_allows_origin(origin: str | None, allowed: bool) -> None:
    hosts = HostPolicy("192.168.1.5", ["search.internal"])
    assert hosts.allows_origin(origin) is allowed
    assert HostPolicy("192.168.1.5", ["*"]).allows_origin(origin)


def test_host_verdicts_are_cached_in_bounded_space() -> None:
    hosts = HostPolicy("127.0.0.1")
    for i in range(3000):
        assert not hosts.allows(f"evil{i}.example")
    assert len(hosts._seen) == 1024
    assert hosts.allows("localhost:80") and not hosts.allows("evil0.example")


@pytest.mark.parametrize("key", ["", "  ", "k\u00e9y", "a\tb", "line\n"])
def test_keys_that_cannot_travel_in_a_header_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        check_api_key(key)
    with pytest.raises(ValueError, match="printable ASCII"):
        AccessPolicy(HostPolicy("127.0.0.1"), key)
    assert check_api_key("ok-key") == "ok-key" and check_api_key(None) is None


def test_header_parsing() -> None:
    assert bearer_token("Bearer abc") == bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None and bearer_token("Bearer ") is None
    assert is_json_type("application/json; charset=utf-8") and is_json_type("application/x+json")
    assert not is_json_type("text/json") and not is_json_type(None)


def _status(policy: AccessPolicy, method: str = "POST", **kwargs: str | bool) -> int | None:
    """The status ``policy`` refuses a request with (headers as keywords), None if it passes."""
    flags = {k: bool(v) for k, v in kwargs.items() if k in ("key", "json")}
    headers = [
        (k.replace("_", "-").encode(), str(v).encode())
        for k, v in kwargs.items()
        if k not in ("key", "json")
    ]
    refusal = policy.refusal({"type": "http", "method": method, "headers": headers}, **flags)
    return None if refusal is None else refusal.status


def test_checks_run_in_order_and_each_can_be_waived() -> None:
    policy = AccessPolicy(HostPolicy("127.0.0.1"), "k", key_status=401, check_origin=True)
    evil = "http://evil.example"
    assert _status(policy, host="evil.example", origin=evil, content_type="text/plain") == 421
    assert _status(policy, origin=evil, content_type="text/plain") == 403
    assert _status(policy, content_type="text/plain") == 401
    assert _status(policy, x_api_key="wrong", authorization="Bearer wrong") == 401
    assert _status(policy, content_type="text/plain", key=False) == 415
    assert _status(policy, content_type="text/plain", key=False, json=False) is None
    assert _status(policy, "GET", x_api_key="k") is None  # a GET has no body to declare
    assert _status(policy, authorization="Bearer k", content_type="application/json") is None
    # Without check_origin (the environment server: its twins' clients are not browsers).
    assert _status(AccessPolicy(HostPolicy("127.0.0.1")), origin=evil) == 415
    assert _status(AccessPolicy(HostPolicy("127.0.0.1")), "GET", origin=evil) is None
