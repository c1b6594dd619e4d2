"""schemathesis over the published OpenAPI spec against a real server: never a 5xx.

Complements ``test_fuzz`` (our own schema-to-strategy fuzzer, which mixes in raw bytes and junk
fields): schemathesis derives its cases from the spec with its own rules, covering boundary
values of every documented constraint (its coverage phase) and then random bodies. Bounded so
the whole run takes well under a minute on two cores: a few examples per operation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox import SandboxConfig
from redsearcher.server import EnvServer, ServerConfig, create_app

SCHEMA = schemathesis.openapi.from_dict(create_app(ServerConfig()).openapi())


@pytest.fixture(scope="module")
def base_url(index_dir: Path, local_env: LocalEnvironment) -> Iterator[str]:
    sandbox = SandboxConfig(timeout=1.0, max_timeout=1.0, insecure=True)
    with EnvServer(ServerConfig(index=index_dir, sandbox=sandbox), env=local_env) as srv:
        yield srv.base_url


@SCHEMA.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_5xx(case: schemathesis.Case, base_url: str) -> None:
    response = case.call(base_url=base_url, timeout=30)
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        case.body,
        response.status_code,
        response.text[:300],
    )
