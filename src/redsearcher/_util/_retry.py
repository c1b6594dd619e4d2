"""One retry loop for every HTTP client of ours: the model client and the environment's tools.

Both talk to services that fail transiently (an inference server restarting, a rate-limited
search API), and both must tell those failures from answers the caller has to handle itself.
Retried: transport errors (connect, read, write, timeouts), 408, 429 and 5xx. The delay is
``backoff_s * 2**attempt``, times a jitter factor in [0.5, 1.5) when a random generator is
given (many rollout clients that failed together should not retry together), or the server's
``retry-after-ms`` / ``Retry-After`` when it sends one; capped at ``max_delay_s``.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final

import httpx

__all__ = ["RETRY_STATUSES", "retry_after", "send_with_retries"]

logger = logging.getLogger(__name__)

RETRY_STATUSES: Final = frozenset({408, 429}) | frozenset(range(500, 600))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks to wait (``retry-after-ms``, then ``Retry-After``), or None."""
    ms = response.headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _status(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}"


async def send_with_retries(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    retries: int,
    backoff_s: float,
    max_delay_s: float = 30.0,
    exhausted: Callable[[str], Exception],
    jitter: random.Random | None = None,
    describe: Callable[[httpx.Response], str] = _status,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> httpx.Response:
    """Send ``request``; return the first answer whose status is not retried.

    Args:
        client: The client to send with.
        request: The request (sent again as is on each attempt).
        retries: Attempts after the first.
        backoff_s: The first delay; it doubles per attempt.
        max_delay_s: Cap on any one delay.
        exhausted: Makes the exception raised after the last attempt from its message
            (``"METHOD URL: problem after N tries"``).
        jitter: Random generator for the jitter factor; None for none.
        describe: How a retried answer is named in logs and the final message.
        sleep: The sleep function (tests replace it).

    Raises:
        Exception: ``exhausted(message)`` when the last attempt failed too.
    """
    problem = "no attempt"
    for attempt in range(retries + 1):
        delay = backoff_s * 2**attempt * (jitter.uniform(0.5, 1.5) if jitter else 1.0)
        try:
            response = await client.send(request)
        except httpx.TransportError as err:
            problem = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            problem = describe(response)
            told = retry_after(response)
            delay = delay if told is None else told
            await response.aclose()
        if attempt < retries:
            logger.info(
                "%s %s: %s; retry %d of %d", request.method, request.url, problem, attempt + 1,
                retries,
            )  # fmt: skip
            await sleep(min(delay, max_delay_s))
    raise exhausted(f"{request.method} {request.url}: {problem} after {retries + 1} tries")
