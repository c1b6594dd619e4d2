"""The fast lane: the routes' bytes, the key checked first, answers cached and shared."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from server_support import Known

from redsearcher.env import LocalEnvironment
from redsearcher.env._types import SearchEnvironment, SearchHit
from redsearcher.errors import UserError
from redsearcher.server import EnvServer, ServerConfig

KEY = "sekret"


@pytest.fixture(scope="module")
def keyed(index_dir: Path, local_env: LocalEnvironment) -> Iterator[httpx.Client]:
    config = ServerConfig(index=index_dir, api_key=KEY, sandbox=None)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        yield c


def _cache_count(client: httpx.Client, endpoint: str, result: str) -> float:
    prefix = f'redsearcher_env_response_cache_total{{endpoint="{endpoint}",result="{result}"}} '
    # The keyed server wants its key on /metrics too (a key covers every endpoint but /health).
    for line in client.get("/metrics", headers={"X-API-KEY": KEY}).text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/search", {"q": "film director", "num": 5, "location": "United States"}),
        ("/search", [{"q": "film", "num": 2}, {"q": "river", "page": 2}]),
        ("/scholar", {"q": "learning", "num": 3}),
        ("/maps", {"q": "museum"}),
        ("/search", {"q": "film", "num": 1000}),  # over max_num: the answer's own 400
    ],
)
def test_lane_and_route_give_the_same_bytes(keyed: httpx.Client, path: str, body: object) -> None:
    data = json.dumps(body)
    endpoint = path.lstrip("/")
    before = _cache_count(keyed, endpoint, "miss") + _cache_count(keyed, endpoint, "hit")
    # application/json takes the lane; another JSON type (+json) goes through FastAPI's route.
    lane = keyed.post(
        path, content=data, headers={"X-API-KEY": KEY, "Content-Type": "application/json"}
    )
    route = keyed.post(
        path,
        content=data,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/vnd.api+json"},
    )
    # Only the lane consults the cache: one lookup for the two requests.
    after = _cache_count(keyed, endpoint, "miss") + _cache_count(keyed, endpoint, "hit")
    assert after == before + 1
    assert lane.status_code == route.status_code
    assert lane.content == route.content
    assert lane.headers["content-type"] == route.headers["content-type"] == "application/json"


def test_key_is_checked_before_the_cache(keyed: httpx.Client) -> None:
    body = {"q": "film director cached", "num": 3}
    assert keyed.post("/search", json=body, headers={"X-API-KEY": KEY}).status_code == 200
    for headers in ({"X-API-KEY": "wrong"}, {}):
        r = keyed.post("/search", json=body, headers=headers)
        assert r.status_code == 403 and r.json()["message"] == "Unauthorized."


def test_repeated_body_is_a_cache_hit(client: httpx.Client, known: Known) -> None:
    body = json.dumps({"q": f"{known.doc_title} cache probe", "num": 4}).encode()
    hits, misses = _cache_count(client, "search", "hit"), _cache_count(client, "search", "miss")
    json_type = {"Content-Type": "application/json"}
    first = client.post("/search", content=body, headers=json_type)
    second = client.post("/search", content=body, headers=json_type)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert _cache_count(client, "search", "miss") == misses + 1
    assert _cache_count(client, "search", "hit") == hits + 1
    other = client.post(
        "/search", content=body.replace(b'"num": 4', b'"num": 3'), headers=json_type
    )
    assert len(other.json()["organic"]) == 3  # another body is another answer


def test_errors_are_not_cached(client: httpx.Client) -> None:
    before = {k: _cache_count(client, "search", k) for k in ("hit", "shared", "miss")}
    for _ in range(2):  # invalid: FastAPI answers, the cache never sees it
        r = client.post("/search", json={"q": "film", "num": 0})
        assert r.status_code == 400 and "num" in r.json()["message"]
    assert {k: _cache_count(client, "search", k) for k in before} == before
    for _ in range(2):  # valid but refused by the answer (over max_num): computed each time
        r = client.post("/search", json={"q": "film", "num": 1000})
        assert r.status_code == 400 and "num" in r.json()["message"]
    assert _cache_count(client, "search", "miss") == before["miss"] + 2
    assert _cache_count(client, "search", "hit") == before["hit"]


def test_cache_off(index_dir: Path, local_env: LocalEnvironment) -> None:
    config = ServerConfig(index=index_dir, response_cache_mb=0, sandbox=None)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        for _ in range(2):
            assert c.post("/search", json={"q": "film"}).status_code == 200
        assert _cache_count(c, "search", "hit") == 0


class _SlowSearch:
    """The session's environment, with a ``search`` that counts its calls and waits for
    ``release`` (so a test decides when the first answer is done, whatever the machine's load).

    The first ``fail_first`` calls raise a ``UserError`` (a 400), as a bad query would.
    """

    def __init__(self, env: LocalEnvironment, fail_first: int = 0) -> None:
        self._env = env
        self.calls = 0
        self._fail = fail_first
        self.release = threading.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._env, name)

    def search(self, query: str, k: int = 10, page: int = 1) -> list[SearchHit]:
        self.calls += 1
        assert self.release.wait(30), "the test never released the search"
        if self.calls <= self._fail:
            raise UserError("refused on purpose")
        return self._env.search(query, k, page)


def _in_flight(text: str) -> float:
    prefix = 'redsearcher_env_in_flight_requests{endpoint="search"} '
    return next(
        (float(x.removeprefix(prefix)) for x in text.splitlines() if x.startswith(prefix)), 0
    )


async def _concurrent(
    base_url: str, body: dict[str, object], n: int, slow: _SlowSearch
) -> list[httpx.Response]:
    """``n`` identical searches at once; the search is released once all ``n`` are in flight."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as c:
        sent = [asyncio.create_task(c.post("/search", json=body)) for _ in range(n)]
        while _in_flight((await c.get("/metrics")).text) < n:
            await asyncio.sleep(0.01)
        slow.release.set()
        return await asyncio.gather(*sent)


def test_identical_requests_in_flight_share_one_answer(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    slow = _SlowSearch(local_env)
    config = ServerConfig(index=index_dir, sandbox=None)
    with EnvServer(config, env=cast(SearchEnvironment, slow)) as srv:
        replies = asyncio.run(_concurrent(srv.base_url, {"q": "film director"}, 6, slow))
        with httpx.Client(base_url=srv.base_url) as c:
            shared = _cache_count(c, "search", "shared")
            misses = _cache_count(c, "search", "miss")
    assert [r.status_code for r in replies] == [200] * 6
    assert len({r.content for r in replies}) == 1
    assert slow.calls == 1 and misses == 1 and shared == 5


def test_waiters_compute_their_own_when_the_shared_answer_fails(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    slow = _SlowSearch(local_env, fail_first=1)
    config = ServerConfig(index=index_dir, sandbox=None)
    with EnvServer(config, env=cast(SearchEnvironment, slow)) as srv:
        replies = asyncio.run(_concurrent(srv.base_url, {"q": "film director"}, 4, slow))
    assert sorted(r.status_code for r in replies) == [200, 200, 200, 400]
    assert slow.calls == 4  # the failed answer was not handed to the waiters: each computed


def test_a_search_past_the_deadline_leaves_no_one_waiting(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    slow = _SlowSearch(local_env)  # never released until the end: the guard's deadline fires
    config = ServerConfig(index=index_dir, sandbox=None, request_timeout_s=1.0)
    with EnvServer(config, env=cast(SearchEnvironment, slow)) as srv:

        async def two() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=srv.base_url, timeout=30) as c:
                body = {"q": "film director"}
                return await asyncio.gather(*(c.post("/search", json=body) for _ in range(2)))

        replies = asyncio.run(two())
        assert [r.status_code for r in replies] == [504, 504]
        slow.release.set()
        with httpx.Client(base_url=srv.base_url, timeout=30) as c:
            # One or two misses: a waiter whose own deadline has not yet fired when the
            # leader's does computes its own answer (which depends on the machine's speed).
            misses = _cache_count(c, "search", "miss")
            assert misses in (1, 2)
            again = c.post("/search", json={"q": "film director"})
            counts = {k: _cache_count(c, "search", k) for k in ("hit", "shared", "miss")}
    # A 200, not a 504 from joining a stale wait, and computed afresh: nothing was cached.
    assert again.status_code == 200 and again.json()["organic"]
    assert counts == {"hit": 0, "shared": 0, "miss": misses + 1}
