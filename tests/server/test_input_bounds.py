"""Hostile but small inputs: bodies nested too deeply to parse, URLs far too long.

Both fit under the 1 MiB body limit, so the guard's 413 does not catch them: each route must
answer 400 in the server's error shape, name the problem, and keep serving.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from server_support import Known

from redsearcher.server._state import MAX_URL_CHARS

DEEP = "[" * 50_000 + "]" * 50_000  # 100 KB: Python's decoder runs out of recursion


def _json_endpoints(client: httpx.Client) -> list[str]:
    """Every POST route whose body is JSON, from the spec the server publishes."""
    paths = client.get("/openapi.json").json()["paths"]
    found = [
        path
        for path, ops in paths.items()
        if "application/json" in ops.get("post", {}).get("requestBody", {}).get("content", {})
    ]
    assert "/run_code" in found and "/search" in found and "/" in found
    return found


def _assert_error(r: httpx.Response, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) >= {"message", "statusCode"} and body["statusCode"] == status
    message: str = body["message"]
    for word in words:
        assert word in message, message
    return message


def test_deeply_nested_body_is_400_everywhere(client: httpx.Client, known: Known) -> None:
    headers = {"Content-Type": "application/json"}
    for path in _json_endpoints(client):
        r = client.post(path, content=DEEP, headers=headers)
        _assert_error(r, 400, "malformed JSON body", "nested too deeply")
    # Still serving, the sandbox route included.
    assert client.get("/health").json()["index_loaded"]
    assert client.post("/search", json={"q": known.doc_title}).status_code == 200
    ran = client.post("/run_code", json={"code": "print(6 * 7)", "language": "python"})
    assert ran.status_code == 200 and ran.json()["run_result"]["stdout"] == "42\n"


LONG = "https://example.com/" + "a" * 400_000


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/visit", {"url": LONG, "goal": "g"}, "'url'"),
        ("/visit", {"url": ["https://example.com/", LONG], "goal": "g"}, "'url[1]'"),
        ("/access", {"urls": ["https://example.com/", LONG]}, "'urls[1]'"),
        ("/", {"url": LONG}, "'url'"),
        ("/local/crawl", {"url": LONG}, "'url'"),
    ],
)
def test_overlong_url_is_400_naming_the_field(
    client: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    r = client.post(path, json=body)
    message = _assert_error(r, 400, field, str(MAX_URL_CHARS))
    assert len(r.content) < 1000, "the URL must not be echoed back"
    assert "aaaa" not in message


def test_overlong_reader_path_is_400(client: httpx.Client) -> None:
    path = "/https://example.com/" + "a" * (MAX_URL_CHARS + 1)
    _assert_error(client.get(path), 400, "'url'", str(MAX_URL_CHARS))


def test_url_at_the_bound_is_looked_up(client: httpx.Client) -> None:
    url = "https://example.com/" + "a" * (MAX_URL_CHARS - len("https://example.com/"))
    assert len(url) == MAX_URL_CHARS
    r = client.post("/access", json={"urls": [url]})
    assert r.status_code == 200 and r.json() == {"result": [None]}
    crawl = client.post("/local/crawl", json={"url": url})
    assert crawl.status_code == 200 and crawl.json()["success"] is False
