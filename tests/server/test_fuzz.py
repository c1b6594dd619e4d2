"""Property-based fuzz of the OpenAPI spec: no input, valid or not, gets a 5xx.

Request bodies are drawn by hypothesis from the spec the server publishes (every operation's
JSON schema, ``$ref``s resolved), then mixed with schema-breaking variants: random JSON values,
valid objects with a field replaced by junk, and raw bytes. Injected faults are off, so any
5xx is a bug. (A small schema-to-strategy converter instead of schemathesis: no extra
dependency, and the bodies that matter here are small.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.server import EnvServer, ServerConfig, create_app

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for a (FastAPI-generated) JSON schema; numeric maxima are left open."""
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[1]]
        return st.deferred(lambda: from_schema(target, defs))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, defs) for s in schema[key]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        values = schema.get("additionalProperties")
        if not props and isinstance(values, dict):
            return st.dictionaries(st.text(max_size=8), from_schema(values, defs), max_size=3)
        return st.fixed_dictionaries(
            {k: from_schema(v, defs) for k, v in props.items() if k in required},
            optional={k: from_schema(v, defs) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs), max_size=4)
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=30)
    if kind == "integer":
        low = schema.get("minimum")
        return st.integers(min_value=None if low is None else int(low))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum"), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return JSON


def _with_junk(value: Any, key: str, junk: Any) -> Any:
    return {**value, key: junk} if isinstance(value, dict) else value


def body_strategy(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[bytes]:
    valid = from_schema(schema, defs)
    keys = sorted(
        defs.get(schema.get("$ref", "#/x").rsplit("/", 1)[1], schema).get("properties", {})
    )
    broken = st.builds(_with_junk, valid, st.sampled_from(keys or ["x"]), JSON)
    as_json = st.one_of(valid, valid, broken, JSON).map(lambda v: json.dumps(v).encode())
    return st.one_of(as_json, st.binary(max_size=40))


SPEC = create_app(ServerConfig()).openapi()
DEFS = SPEC["components"]["schemas"]
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in SPEC["paths"].items()
    for method, op in item.items()
    if path not in ("/metrics",)
]


def request_strategy() -> st.SearchStrategy[tuple[str, str, bytes | None]]:
    choices = []
    for method, path, op in OPERATIONS:
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "{url}" in path:
            choices.append(
                st.tuples(
                    st.just(method),
                    (
                        st.text(max_size=40) | st.builds("{}.com/{}".format, st.text(), st.text())
                    ).map(lambda t: "/" + quote(t, safe="/:")),
                    st.none(),
                )
            )
        elif "schema" in schema:
            choices.append(
                st.tuples(st.just(method), st.just(path), body_strategy(schema["schema"], DEFS))
            )
        else:
            choices.append(st.tuples(st.just(method), st.just(path), st.none()))
    return st.one_of(choices)


@pytest.fixture(scope="module")
def fuzz_client(index_dir: Path, local_env: LocalEnvironment) -> Iterator[httpx.Client]:
    sandbox = SandboxConfig(timeout=1.0, max_timeout=1.0, insecure=True)
    config = ServerConfig(index=index_dir, sandbox=sandbox)
    with (
        EnvServer(config, env=local_env) as srv,
        httpx.Client(base_url=srv.base_url, timeout=30) as c,
    ):
        yield c


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=request_strategy())
def test_no_5xx_from_any_input(
    fuzz_client: httpx.Client, request: tuple[str, str, bytes | None]
) -> None:
    method, path, body = request
    headers = {"Content-Type": "application/json"} if body is not None else {}
    r = fuzz_client.request(method, path, content=body, headers=headers)
    assert r.status_code < 500, (method, path, body, r.status_code, r.text[:300])
    if 400 <= r.status_code < 500 and r.headers.get("content-type", "").startswith(
        "application/json"
    ):
        data = r.json()
        assert "message" in data, data


def test_every_operation_is_fuzzed() -> None:
    paths = {path for _, path, _ in OPERATIONS}
    assert {
        "/search",
        "/scholar",
        "/maps",
        "/route",
        "/retrieve",
        "/access",
        "/local/search",
        "/local/crawl",
        "/run_code",
        "/visit",
        "/",
        "/{url}",
        "/health",
    } <= paths
