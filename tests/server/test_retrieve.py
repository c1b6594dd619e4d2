"""Search-R1 /retrieve, ASearcher /access, DeepTraceHub /local/search and /local/crawl."""

from __future__ import annotations

import httpx
from server_support import Known


def _verl_render(result: list[dict]) -> str:
    """verl SearchTool's ``_passages2string``: title from the first line of ``contents``."""
    out = ""
    for i, item in enumerate(result):
        content = item["document"]["contents"]
        title, text = content.split("\n")[0], "\n".join(content.split("\n")[1:])
        out += f"Doc {i + 1}(Title: {title}) {text}\n"
    return out


def test_retrieve_verl_with_scores(client: httpx.Client, known: Known) -> None:
    body = {"queries": [known.doc_title, "film director"], "topk": 3, "return_scores": True}
    r = client.post("/retrieve", json=body)
    assert r.status_code == 200
    result = r.json()["result"]
    assert len(result) == 2 and all(len(per_query) == 3 for per_query in result)
    for item in result[0]:
        assert set(item) == {"document", "score"}
        assert isinstance(item["score"], float)
        assert {"id", "contents"} <= set(item["document"])
    scores = [item["score"] for item in result[0]]
    assert scores == sorted(scores, reverse=True)
    top = result[0][0]["document"]["contents"]
    assert top.split("\n")[0] == f'"{known.doc_title}"'
    assert _verl_render(result[0]).startswith(f'Doc 1(Title: "{known.doc_title}") ')


def test_retrieve_without_scores_and_defaults(client: httpx.Client) -> None:
    r = client.post("/retrieve", json={"queries": ["film"]})
    items = r.json()["result"][0]
    assert len(items) == 3 and {"id", "contents"} <= set(items[0]) and "score" not in items[0]
    r = client.post("/retrieve", json={"queries": ["film"], "topk": None, "return_scores": False})
    assert len(r.json()["result"][0]) == 3
    assert client.post("/retrieve", json={"queries": []}).json() == {"result": []}
    assert client.post("/retrieve", json={"queries": ["  "]}).json() == {"result": [[]]}


def test_retrieve_bounds(client: httpx.Client) -> None:
    r = client.post("/retrieve", json={"queries": ["a"], "topk": 51})
    assert r.status_code == 400 and "'topk'" in r.json()["message"]
    r = client.post("/retrieve", json={"queries": ["a"] * 33})
    assert r.status_code == 400 and "'queries'" in r.json()["message"]
    r = client.post("/retrieve", json={"queries": "film"})
    assert r.status_code == 400 and "'queries'" in r.json()["message"]


def test_access_asearcher(client: httpx.Client, known: Known) -> None:
    r = client.post("/access", json={"urls": [known.doc_url, "https://www.nowhere-at-all.com/"]})
    assert r.status_code == 200
    result = r.json()["result"]
    assert result[1] is None
    assert result[0]["url"] == known.doc_url
    assert result[0]["title"] == known.doc_title
    assert result[0]["contents"] == known.doc_text
    r = client.post("/access", json={"urls": ["x"] * 17})
    assert r.status_code == 400 and "'urls'" in r.json()["message"]


def test_local_search_deeptracehub(client: httpx.Client, known: Known) -> None:
    r = client.post("/local/search", json={"query": known.doc_title, "k": 5})
    assert r.status_code == 200
    items = r.json()
    assert isinstance(items, list) and 1 <= len(items) <= 5
    for item in items:
        assert {"title", "text", "abstract", "synthesis_url"} <= set(item)
    assert known.doc_url in [i["synthesis_url"] for i in items]
    snippet = " ".join(items[0]["abstract"].split()[:40])  # what the client shows
    assert snippet


def test_local_crawl_deeptracehub(client: httpx.Client, known: Known) -> None:
    r = client.post("/local/crawl", json={"url": known.doc_url})
    assert r.status_code == 200
    data = r.json()
    assert data["success"] is True
    assert data["result"]["url"] == known.doc_url and data["result"]["content"] == known.doc_text
    assert {"title", "snippet"} <= set(data["result"])
    r = client.post("/local/crawl", json={"url": "https://www.nowhere-at-all.com/"})
    assert r.status_code == 200 and r.json()["success"] is False and r.json()["result"] is None
