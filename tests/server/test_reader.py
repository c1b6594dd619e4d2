"""Jina Reader twin: GET /{url} and POST /, text and JSON, not-found shapes, unknown routes."""

from __future__ import annotations

import httpx
from server_support import Known

from redsearcher.env import LocalEnvironment


def test_get_text_with_and_without_scheme(client: httpx.Client, known: Known) -> None:
    for path in (known.doc_url, known.doc_url.removeprefix("https://")):
        r = client.get(f"/{path}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text.startswith(f"Title: {known.doc_title}\n\nURL Source: {known.doc_url}\n\n")
        assert "\nMarkdown Content:\n" in r.text
        assert r.text.endswith(known.doc_text)


def test_post_and_json(client: httpx.Client, known: Known) -> None:
    r = client.post("/", json={"url": known.doc_url})
    assert r.status_code == 200 and r.text.startswith("Title: ")
    r = client.post("/", json={"url": known.doc_url}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    data = r.json()
    assert data["code"] == 200 and data["status"] == 20000
    assert data["data"]["title"] == known.doc_title
    assert data["data"]["url"] == known.doc_url
    assert data["data"]["content"] == known.doc_text
    assert data["data"]["usage"]["tokens"] > 0
    assert data["data"]["description"] == known.doc_text[:200]
    assert set(data["data"]) - {"publishedTime"} == {
        "title",
        "description",
        "url",
        "content",
        "usage",
    }
    r = client.get(f"/{known.doc_url}", headers={"Accept": "application/json"})
    assert r.json()["data"]["content"] == known.doc_text


def test_a_dated_page_has_its_published_time(
    client: httpx.Client, local_env: LocalEnvironment
) -> None:
    store = local_env.store
    dated = next(d for d in map(store.doc, range(len(store))) if d.published)
    undated = next(d for d in map(store.doc, range(len(store))) if not d.published)
    data = client.get(f"/{dated.url}", headers={"Accept": "application/json"}).json()["data"]
    assert data["publishedTime"] == dated.published
    text = client.get(f"/{dated.url}").text
    assert f"\n\nPublished Time: {dated.published}\n\nMarkdown Content:\n" in text
    data = client.get(f"/{undated.url}", headers={"Accept": "application/json"}).json()["data"]
    assert "publishedTime" not in data
    assert "Published Time:" not in client.get(f"/{undated.url}").text


def test_unknown_url_is_jina_422(client: httpx.Client) -> None:
    r = client.get("/https://www.nowhere-at-all.com/x", headers={"Accept": "application/json"})
    assert r.status_code == 422
    data = r.json()
    assert data["code"] == 422 and data["status"] == 42206 and data["data"] is None
    assert "nowhere-at-all.com" in data["message"]
    assert data["readableMessage"].startswith("AssertionFailureError: ")
    r = client.post("/", json={"url": "www.nowhere-at-all.com/x"})
    assert r.status_code == 422 and r.text.startswith("AssertionFailureError: Failed to goto")


def test_bad_reader_input(client: httpx.Client) -> None:
    r = client.post("/", json={"link": "x"})
    assert r.status_code == 400 and "'url'" in r.json()["message"]
    r = client.post("/", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["message"]


def test_unknown_routes_are_404(client: httpx.Client) -> None:
    for method, path in (
        ("GET", "/foo"),
        ("POST", "/foo"),
        ("POST", "/v1/search"),
        ("GET", "/search"),
    ):
        r = client.request(method, path, json={})
        assert r.status_code == 404, (method, path)
        assert r.json()["statusCode"] == 404
    assert client.get("/").status_code == 200
