"""The shared HTTP retry loop (``redsearcher._util._retry``)."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from redsearcher._util._retry import retry_after, send_with_retries


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "15"}, 0.015),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "-5"}, 0.0),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(httpx.Response(429, headers=headers)) == seconds


class Exhausted(Exception):
    pass


def _client(answers: list[int | Exception]) -> tuple[httpx.AsyncClient, list[int]]:
    seen: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(len(seen))
        answer = answers[min(len(seen) - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, json={"error": {"message": f"status {answer}"}})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), seen


async def _asend(
    answers: list[int | Exception], retries: int, **kwargs: object
) -> tuple[httpx.Response | Exception, list[int], list[float]]:
    client, seen = _client(answers)
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    request = client.build_request("POST", "http://svc/x", json={})
    try:
        out: httpx.Response | Exception = await send_with_retries(
            client, request, retries=retries, backoff_s=1.0, max_delay_s=3.0,
            exhausted=Exhausted, sleep=sleep, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
    except Exhausted as err:
        out = err
    await client.aclose()
    return out, seen, delays


def _send(
    answers: list[int | Exception], retries: int, **kwargs: object
) -> tuple[httpx.Response | Exception, list[int], list[float]]:
    return asyncio.run(_asend(answers, retries, **kwargs))


def test_retried_statuses_back_off_and_the_first_other_answer_returns() -> None:
    out, seen, delays = _send([503, 429, httpx.ConnectError("refused"), 400], retries=5)
    assert isinstance(out, httpx.Response) and out.status_code == 400  # not retried: returned
    assert len(seen) == 4
    assert delays == [1.0, 2.0, 3.0]  # doubling, capped at max_delay_s


def test_the_last_failure_names_the_request_and_the_problem() -> None:
    out, seen, _ = _send(
        [500], retries=2, describe=lambda r: f"HTTP {r.status_code}: {r.json()['error']['message']}"
    )
    assert isinstance(out, Exhausted)
    assert str(out) == "POST http://svc/x: HTTP 500: status 500 after 3 tries"
    assert len(seen) == 3


def test_jitter_scales_each_delay_by_half_to_one_and_a_half() -> None:
    _, _, delays = _send([502], retries=3, jitter=random.Random(0))
    rng = random.Random(0)
    want = [min(2**i * rng.uniform(0.5, 1.5), 3.0) for i in range(3)]
    assert delays == want
    assert delays != [1.0, 2.0, 3.0]
