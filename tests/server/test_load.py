"""A bounded loopback load test: many concurrent requests, zero errors.

Time-bounded (the test stops issuing requests after a budget) and never asserting an upper
bound on latency: the machine is shared, correctness under concurrency is what is checked.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from server_support import Known

from redsearcher.server import EnvServer

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
