"""A bounded loopback load test: many concurrent requests, zero errors.

Time-bounded (the test stops issuing requests after a budget) and never asserting an upper
bound on latency: the machine is shared, correctness under concurrency is what is checked.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import httpx
from server_support import Known

from redsearcher.env import LocalEnvironment
from redsearcher.server import EnvServer, ServerConfig

REQUESTS = 2000
CONCURRENCY = 32
BUDGET_S = 120.0


def test_load_zero_errors(server: EnvServer, known: Known) -> None:
    bodies = [
        ("POST", "/search", {"q": "film director", "num": 5}),
        ("POST", "/retrieve", {"queries": [known.doc_title], "topk": 3, "return_scores": True}),
        ("GET", f"/{known.doc_url}", None),
        ("POST", "/access", {"urls": [known.doc_url]}),
        ("POST", "/maps", {"q": known.city_a}),
    ]

    async def main() -> tuple[Counter[int], int, list[str]]:
        statuses: Counter[int] = Counter()
        problems: list[str] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(REQUESTS):
            queue.put_nowait(i)
        deadline = time.monotonic() + BUDGET_S

        async def worker() -> None:
            # One client (one kept-alive connection) per worker: a shared pool's bookkeeping
            # would make the client, not the server, the bottleneck.
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as c:
                while not queue.empty() and time.monotonic() < deadline:
                    i = queue.get_nowait()
                    method, path, body = bodies[i % len(bodies)]
                    try:
                        r = await c.request(method, path, json=body)
                        statuses[r.status_code] += 1
                        if r.status_code != 200:
                            problems.append(f"{path}: {r.status_code} {r.text[:100]}")
                    except httpx.HTTPError as err:
                        problems.append(f"{path}: {err!r}")

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return statuses, REQUESTS - queue.qsize(), problems

    statuses, issued, problems = asyncio.run(main())
    assert problems == []
    assert issued >= 200  # even a very slow machine gets through a good share in the budget
    assert statuses == Counter({200: issued})


def test_keyed_load_over_every_twin_zero_errors(
    index_dir: Path, local_env: LocalEnvironment, known: Known
) -> None:
    """The access checks under concurrency: a keyed server, both key headers, every twin."""
    key = "load-key"
    config = ServerConfig(index=index_dir, api_key=key, sandbox=None)
    bodies: list[tuple[str, str, object]] = [
        ("POST", "/search", {"q": "film director", "num": 3}),
        ("POST", "/scholar", {"q": known.paper_title}),
        ("POST", "/retrieve", {"queries": [known.doc_title], "topk": 2}),
        ("POST", "/access", {"urls": [known.doc_url]}),
        ("POST", "/local/search", {"query": known.doc_title}),
        ("POST", "/local/crawl", {"url": known.doc_url}),
        ("POST", "/visit", {"url": known.doc_url, "goal": "what is it"}),
        ("POST", "/", {"url": known.doc_url}),
        ("GET", f"/{known.doc_url}", None),
        ("GET", "/metrics", None),
    ]
    auth = [{"X-API-KEY": key}, {"Authorization": f"Bearer {key}"}]
    requests, concurrency = 600, 16

    async def main(base_url: str) -> tuple[int, list[str]]:
        problems: list[str] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(i)
        deadline = time.monotonic() + BUDGET_S

        async def worker() -> None:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as c:
                while not queue.empty() and time.monotonic() < deadline:
                    i = queue.get_nowait()
                    method, path, body = bodies[i % len(bodies)]
                    try:
                        r = await c.request(method, path, json=body, headers=auth[i % 2])
                        if r.status_code != 200:
                            problems.append(f"{path}: {r.status_code} {r.text[:100]}")
                    except httpx.HTTPError as err:
                        problems.append(f"{path}: {err!r}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return requests - queue.qsize(), problems

    with EnvServer(config, env=local_env) as srv:
        issued, problems = asyncio.run(main(srv.base_url))
    assert problems == []
    assert issued >= 100
