"""Search-R1 /retrieve, ASearcher /access, DeepTraceHub /local/search and /local/crawl."""

from __future__ import annotations

from pathlib import Path

import httpx
from server_support import Known

from redsearcher.env import LocalEnvironment, Page
from redsearcher.server import EnvServer, RetrieveConfig, ServerConfig
from redsearcher.server._passages import word_windows


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


# -- Search-R1 batches (issue 10: its client sends every active trajectory's query at once) --


def _trajectory_queries(local_env: LocalEnvironment, n: int) -> list[str]:
    """``n`` distinct queries as a Search-R1 batch holds them: one per active trajectory."""
    store = local_env.store
    titles = [store.doc(row).title for row in range(len(store))]
    return [f"who is {titles[i % len(titles)]} {i}" for i in range(n)]


def test_search_r1_batch_of_400_queries(client: httpx.Client, local_env: LocalEnvironment) -> None:
    # search_r1/llm_agent/generation.py `_batch_search`, then `batch_search` reads ['result'].
    queries = _trajectory_queries(local_env, 400)
    r = client.post("/retrieve", json={"queries": queries, "topk": 3, "return_scores": True})
    assert r.status_code == 200, r.text[:300]
    result = r.json()["result"]
    assert len(result) == 400
    for per_query in result:
        assert 1 <= len(per_query) <= 3
        for item in per_query:
            assert set(item) == {"document", "score"} and isinstance(item["score"], float)
            assert {"id", "contents"} <= set(item["document"])
            assert item["document"]["contents"].startswith('"')
        assert _verl_render(per_query).startswith("Doc 1(Title: ")
    # The batch runs in chunks: every answer is still its own query's, in order.
    for i in (0, 15, 16, 17, 250, 399):
        alone = client.post(
            "/retrieve", json={"queries": [queries[i]], "topk": 3, "return_scores": True}
        )
        assert alone.json()["result"][0] == result[i], i


def test_retrieve_batch_over_budget_names_the_bound(client: httpx.Client) -> None:
    r = client.post("/retrieve", json={"queries": ["film"] * 400, "topk": 50})
    assert r.status_code == 400
    message = r.json()["message"]
    assert message.startswith("field 'queries': ")
    assert "20000 results" in message and "max_batch_results of 8192" in message
    r = client.post("/retrieve", json={"queries": ["film " * 400] * 300})
    assert r.status_code == 400
    message = r.json()["message"]
    assert "'queries'" in message and "600000 bytes" in message
    assert "max_batch_query_bytes of 524288" in message


def test_max_queries_caps_the_count_when_set(index_dir: Path, local_env: LocalEnvironment) -> None:
    config = ServerConfig(index=index_dir, sandbox=None, max_queries=32)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert c.post("/retrieve", json={"queries": ["film"] * 32}).status_code == 200
        r = c.post("/retrieve", json={"queries": ["film"] * 33})
        assert r.status_code == 400 and r.json()["message"] == (
            "field 'queries': must be <= 32 on this server, got 33"
        )


# -- passage mode: wiki-18-style word windows ----------------------------------------------


def _windowed(index_dir: Path, words: int) -> ServerConfig:
    retrieve = RetrieveConfig(passages="words", passage_words=words)
    return ServerConfig(index=index_dir, sandbox=None, retrieve=retrieve)


def test_passage_mode_returns_wiki18_windows(
    index_dir: Path, local_env: LocalEnvironment, known: Known
) -> None:
    queries = ["film director", "university founded", known.doc_title]
    body = {"queries": queries, "topk": 5, "return_scores": True}
    for words in (100, 20):
        with (
            EnvServer(_windowed(index_dir, words), env=local_env) as srv,
            httpx.Client(base_url=srv.base_url) as c,
        ):
            result = c.post("/retrieve", json=body).json()["result"]
        assert len(result) == 3 and all(result)
        for per_query in result:
            for item in per_query:
                doc = item["document"]
                title, sep, text = doc["contents"].partition("\n")
                page = local_env.visit(doc["url"])
                assert page is not None and sep == "\n"
                assert title == f'"{page.title}"'
                assert "\n" not in text and 0 < len(text.split()) <= words
                doc_id, index = doc["id"].rsplit("#", 1)
                assert doc_id == page.doc_id
                tokens = page.text.split()
                start = int(index) * words
                assert text == " ".join(tokens[start : start + words])


def _window_query(local_env: LocalEnvironment) -> tuple[Page, str]:
    """A page with a fourth 20-word window, and a query of words found only in that window
    (so BM25 over the page's windows can only pick it), that still finds the page."""
    store = local_env.store
    for row in range(len(store)):
        page = local_env.get(store.doc(row).doc_id)
        assert page is not None
        windows = [set(w.lower().split()) for w in word_windows(page.text, 20)]
        if len(windows) < 4:
            continue
        others = set().union(*windows[:3], *windows[4:])
        unique = sorted(w for w in windows[3] if w.isalpha() and len(w) > 3 and w not in others)
        query = " ".join(unique[:6])
        if len(unique) >= 2 and page.url in [h.url for h in local_env.search(query, 10)]:
            return page, query
    raise AssertionError("no page with a findable fourth window in this World")


def test_passage_mode_picks_the_window_that_matches(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    page, query = _window_query(local_env)
    with (
        EnvServer(_windowed(index_dir, 20), env=local_env) as srv,
        httpx.Client(base_url=srv.base_url) as c,
    ):
        per_query = c.post("/retrieve", json={"queries": [query], "topk": 10}).json()["result"][0]
    mine = next(item for item in per_query if item["url"] == page.url)
    assert mine["id"] == f"{page.doc_id}#3"
    assert mine["contents"] == f'"{page.title}"\n' + " ".join(page.text.split()[60:80])


def test_passage_mode_off_keeps_the_page_text(client: httpx.Client, known: Known) -> None:
    r = client.post("/retrieve", json={"queries": [known.doc_title], "topk": 10})
    mine = next(item for item in r.json()["result"][0] if item["url"] == known.doc_url)
    assert mine["contents"] == f'"{known.doc_title}"\n{known.doc_text[:2000]}'
    assert "#" not in mine["id"]
