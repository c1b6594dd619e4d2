from __future__ import annotations

import json
import math
import pickle

import pytest

from redsearcher._util import (
    HEADER_TIMEOUT_S,
    MAX_HEADER_BYTES,
    head_limit_options,
    status_error_body,
)
from redsearcher.server import ServerConfig, uvicorn_options


def test_options_carry_the_limits_and_pickle_for_worker_processes() -> None:
    options = head_limit_options(header_timeout_s=2.5, max_header_bytes=2048)
    assert options["h11_max_incomplete_event_size"] == 2048
    protocol = pickle.loads(pickle.dumps(options["http"]))
    assert protocol.keywords == {
        "header_timeout_s": 2.5,
        "max_header_bytes": 2048,
        "error_body": status_error_body,
    }


def test_env_serve_and_the_defaults_agree() -> None:
    config = ServerConfig()
    assert (config.header_timeout_s, config.max_header_bytes) == (10.0, 64 * 1024)
    assert uvicorn_options(config)["http"].keywords == head_limit_options()["http"].keywords
    assert (HEADER_TIMEOUT_S, MAX_HEADER_BYTES) == (10.0, 64 * 1024)


@pytest.mark.parametrize("timeout", [0.0, -1.0, math.inf, math.nan])
def test_timeout_must_be_positive_and_finite(timeout: float) -> None:
    with pytest.raises(ValueError, match="header_timeout_s must be a positive number"):
        head_limit_options(header_timeout_s=timeout)


@pytest.mark.parametrize("size", [0, -5, True])
def test_size_must_be_a_positive_integer(size: int) -> None:
    with pytest.raises(ValueError, match="max_header_bytes must be a positive integer"):
        head_limit_options(max_header_bytes=size)


def test_status_error_body_is_the_environment_servers_shape() -> None:
    body = json.loads(status_error_body(408, "too slow"))
    assert body == {"message": "too slow", "statusCode": 408}
