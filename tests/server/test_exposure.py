"""A server safe to expose: the key on every endpoint, the Host allow-list, JSON-only POSTs,
and connections that cannot be held open by half-sent or huge request heads."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redsearcher.env import LocalEnvironment
from redsearcher.server import EnvServer, ServerConfig, create_app
from redsearcher.testing import closed_within

KEY = "k3y-for-tests"

#: One valid request per endpoint (method, path, JSON body): what a client of each twin sends.
REQUESTS: list[tuple[str, str, object]] = [
    ("POST", "/search", {"q": "film"}),
    ("POST", "/scholar", {"q": "learning"}),
    ("POST", "/maps", {"q": "museum"}),
    ("POST", "/route", {"origin": "a", "destination": "b"}),
    ("POST", "/", {"url": "www.example.com/x"}),
    ("GET", "/www.example.com/x", None),
    ("POST", "/retrieve", {"queries": ["film"]}),
    ("POST", "/access", {"urls": ["www.example.com/x"]}),
    ("POST", "/local/search", {"query": "film"}),
    ("POST", "/local/crawl", {"url": "www.example.com/x"}),
    ("POST", "/run_code", {"code": "print(1)", "language": "python"}),
    ("POST", "/visit", {"url": "www.example.com/x", "goal": "anything"}),
    ("GET", "/metrics", None),
    ("GET", "/openapi.json", None),
    ("GET", "/no/such/route", None),
]


def test_every_path_of_the_spec_is_covered() -> None:
    spec_paths = set(create_app(ServerConfig()).openapi()["paths"])
    covered = {p for _, p, _ in REQUESTS} | {"/health", "/{url}", "/{path}"}
    assert spec_paths <= covered, spec_paths - covered


@pytest.fixture(scope="module")
def keyed(index_dir: Path, local_env: LocalEnvironment) -> Iterator[str]:
    config = ServerConfig(index=index_dir, api_key=KEY, sandbox=None)
    with EnvServer(config, env=local_env) as srv:
        yield srv.base_url


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS, ids=[r[1] for r in REQUESTS])
def test_key_is_required_on_every_endpoint(
    keyed: str, method: str, path: str, body: object
) -> None:
    with httpx.Client(base_url=keyed) as c:
        for headers in ({}, {"X-API-KEY": "wrong"}, {"Authorization": "Bearer wrong"}):
            r = c.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (headers, r.text)
            assert r.json() == {"message": "Unauthorized.", "statusCode": 403}
        for headers in ({"X-API-KEY": KEY}, {"Authorization": f"Bearer {KEY}"}):
            r = c.request(method, path, json=body, headers=headers)
            assert r.status_code != 403, (headers, r.text)
        # /health is public by default: probes and supervisors poll it without secrets.
        assert c.get("/health").status_code == 200


def test_public_endpoints_opt_out(index_dir: Path, local_env: LocalEnvironment) -> None:
    config = ServerConfig(
        index=index_dir, api_key=KEY, sandbox=None, public_endpoints=["retrieve", "metrics"]
    )
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert c.post("/retrieve", json={"queries": ["film"]}).status_code == 200
        assert c.get("/metrics").status_code == 200
        assert c.get("/health").status_code == 403  # no longer in the list
        assert c.post("/search", json={"q": "film"}).status_code == 403


def test_public_endpoints_names_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown endpoint name"):
        ServerConfig(public_endpoints=["helth"])


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("[::1]", True),
        ("10.1.2.3", True),  # an IP literal cannot be a rebound name
        ("search.internal", True),  # allowed_hosts
        ("a.corp.example", True),  # allowed_hosts: *.corp.example
        ("evil.example", False),  # a rebound attacker's name
        ("corp.example.evil", False),
    ],
)
def test_host_allow_list(
    index_dir: Path, local_env: LocalEnvironment, host: str, allowed: bool
) -> None:
    config = ServerConfig(
        index=index_dir, sandbox=None, allowed_hosts=["search.internal", "*.corp.example"]
    )
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.post("/search", json={"q": "film"}, headers={"Host": f"{host}:{srv.port}"})
        assert (r.status_code == 200) is allowed, r.text
        if not allowed:
            assert r.status_code == 421 and "allowed_hosts" in r.json()["message"]
            assert c.get("/health", headers={"Host": host}).status_code == 421


def test_host_check_can_be_turned_off(index_dir: Path, local_env: LocalEnvironment) -> None:
    config = ServerConfig(index=index_dir, sandbox=None, allowed_hosts=["*"])
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert c.get("/health", headers={"Host": "evil.example"}).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"],
)
@pytest.mark.parametrize("path", ["/run_code", "/search", "/retrieve", "/"])
def test_post_needs_a_json_content_type(
    client: httpx.Client, path: str, content_type: str | None
) -> None:
    # What a web page may send cross-origin without a preflight: it must not start a run.
    body = b'{"code": "print(1)", "language": "python", "q": "film", "queries": ["film"]}'
    headers = {} if content_type is None else {"Content-Type": content_type}
    r = client.post(path, content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["message"]
    ok = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert ok.status_code != 415


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


@pytest.fixture(scope="module")
def strict(index_dir: Path, local_env: LocalEnvironment) -> Iterator[EnvServer]:
    config = ServerConfig(
        index=index_dir,
        sandbox=None,
        header_timeout_s=1.0,
        max_header_bytes=16 * 1024,
        request_timeout_s=1.0,
    )
    with EnvServer(config, env=local_env) as srv:
        yield srv


def test_half_sent_requests_are_closed_within_the_header_timeout(strict: EnvServer) -> None:
    socks = [_connect(strict.port) for _ in range(20)]
    try:
        for i, sock in enumerate(socks):
            if i % 4 == 0:
                continue  # connected, never sends a byte
            sock.sendall(b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        answers = [closed_within(sock, 5.0) for sock in socks]
        assert all(a is not None for a in answers), "a half-sent request was kept open"
        assert time.monotonic() - started < 4.0  # 1 s timeout, generous for a busy machine
        assert all(b" 408 " in a for a in answers if a)
        # The server still serves.
        with httpx.Client(base_url=strict.base_url) as c:
            assert c.get("/health").status_code == 200
    finally:
        for sock in socks:
            sock.close()


def test_half_sent_bodies_are_answered_408_and_closed(strict: EnvServer) -> None:
    socks = [_connect(strict.port) for _ in range(10)]
    try:
        for sock in socks:
            sock.sendall(
                b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"q": '
            )
        started = time.monotonic()
        answers = [closed_within(sock, 5.0) for sock in socks]
        assert all(a is not None and b" 408 " in a for a in answers), answers
        assert time.monotonic() - started < 4.0  # the 1 s request deadline, generously
    finally:
        for sock in socks:
            sock.close()


def test_slow_but_steady_head_is_cut_at_the_timeout(strict: EnvServer) -> None:
    sock = _connect(strict.port)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        deadline = time.monotonic() + 5.0
        closed = False
        while time.monotonic() < deadline:  # one header every 0.2 s: each byte resets nothing
            try:
                sock.sendall(b"X-Drip: 1\r\n")
            except OSError:
                closed = True
                break
            time.sleep(0.2)
        assert closed or closed_within(sock, 1.0) is not None
    finally:
        sock.close()


def test_a_keep_alive_connection_serves_several_requests(strict: EnvServer) -> None:
    with httpx.Client(base_url=strict.base_url) as c:
        for _ in range(3):
            assert c.get("/health").status_code == 200
            time.sleep(0.6)  # idle between requests: the head timer does not run while idle


def test_huge_header_is_refused(strict: EnvServer) -> None:
    sock = _connect(strict.port)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        chunk = b"a" * 65536
        try:
            while sent < 20 * 2**20:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection mid-header: refused
        assert sent < 20 * 2**20, "a 20 MB header was read to the end"
        answer = closed_within(sock, 5.0)
        assert answer is not None
        assert answer == b"" or b" 431 " in answer
    finally:
        sock.close()
    with httpx.Client(base_url=strict.base_url) as c:  # headers under the limit are fine
        assert c.get("/health", headers={"X-Big": "a" * 8000}).status_code == 200
