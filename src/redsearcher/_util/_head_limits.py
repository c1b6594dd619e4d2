"""The uvicorn options that bound request heads in time and size, for every server of ours.

The protocol that enforces them (:mod:`._head_protocol`) needs uvicorn and httptools, which
only the ``server`` extra installs, while everything imports ``redsearcher._util``; so this
module holds the defaults and the options, and imports the protocol only when asked for them.

uvicorn builds its protocol by calling ``Config.http`` with keyword arguments, so the options
carry a ``functools.partial`` of the protocol class with the limits; a partial of a module-level
class (and of a module-level ``error_body`` function) pickles, which uvicorn's worker
processes need.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["HEADER_TIMEOUT_S", "MAX_HEADER_BYTES", "head_limit_options", "status_error_body"]

#: Seconds a request head may take to arrive: generous for any real client, short enough
#: that half-sent requests cannot pile up.
HEADER_TIMEOUT_S = 10.0

#: Largest request head in bytes: browsers and HTTP clients send a few KiB at most.
MAX_HEADER_BYTES = 64 * 1024


def status_error_body(status: int, message: str) -> bytes:
    """The environment server's error shape, ``{"message": ..., "statusCode": ...}``."""
    return json.dumps({"message": message, "statusCode": status}).encode()


def head_limit_options(
    *,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    max_header_bytes: int = MAX_HEADER_BYTES,
    error_body: Callable[[int, str], bytes] = status_error_body,
) -> dict[str, Any]:
    """The ``uvicorn.Config`` keyword arguments that enforce these request-head limits.

    Args:
        header_timeout_s: Seconds each request head may take (408 and close after).
        max_header_bytes: Largest request head (431 and close above).
        error_body: The JSON body of a 408 or 431, from its status and message; a module-level
            function, so that the options pickle.

    Raises:
        ValueError: when a limit is not a positive number.
    """
    if not (math.isfinite(header_timeout_s) and header_timeout_s > 0):
        raise ValueError(f"header_timeout_s must be a positive number, got {header_timeout_s!r}")
    if isinstance(max_header_bytes, bool) or max_header_bytes < 1:
        raise ValueError(f"max_header_bytes must be a positive integer, got {max_header_bytes!r}")
    from redsearcher._util._head_protocol import HeadLimitedProtocol

    protocol = functools.partial(
        HeadLimitedProtocol,
        header_timeout_s=header_timeout_s,
        max_header_bytes=max_header_bytes,
        error_body=error_body,
    )
    # h11 (when httptools is missing) has its own bound on an incomplete head; same limit.
    return {"http": protocol, "h11_max_incomplete_event_size": max_header_bytes}
