"""Every string field of every JSON endpoint refuses text it cannot carry, on a kept connection.

The fields are found by walking the OpenAPI spec the server publishes (``$ref``s, unions,
lists and maps), so a field added later is covered without touching this test. Into each one
hypothesis puts a lone surrogate escape (``"\\ud800"``: valid JSON, not encodable), raw bytes
that are not UTF-8, or a control character; the answer must be a 4xx naming the field, and the
same keep-alive connection must then answer a good request.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redsearcher.server import EnvServer, ServerConfig, create_app

Path = tuple[str | int, ...]

SPEC = create_app(ServerConfig()).openapi()
DEFS = SPEC["components"]["schemas"]

#: Endpoints whose strings are program text or raw input: control characters are allowed.
FREE_TEXT = {"/run_code"}

CONTROLS = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)]
#: Byte sequences that are not UTF-8 (a lone continuation byte, an overlong form, an encoded
#: surrogate, a truncated sequence, bytes UTF-8 never uses).
BAD_UTF8 = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xff", b"\xfe\xfe"]
PLACEHOLDER = "@@BAD@@"


def string_paths(schema: dict[str, Any], path: Path = (), depth: int = 0) -> list[Path]:
    """Paths of every string a body valid for ``schema`` may hold (``0`` stands for any index,
    ``"key"`` for any map key)."""
    if depth > 8:
        return []
    if "$ref" in schema:
        return string_paths(DEFS[schema["$ref"].rsplit("/", 1)[1]], path, depth + 1)
    found: list[Path] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for alternative in schema.get(key, []):
            found += string_paths(alternative, path, depth + 1)
    kind = schema.get("type")
    if kind == "string":
        found.append(path)
    if kind == "array" and "items" in schema:
        found += string_paths(schema["items"], (*path, 0), depth + 1)
    for name, sub in schema.get("properties", {}).items():
        found += string_paths(sub, (*path, name), depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found += string_paths(extra, (*path, "key"), depth + 1)
    return list(dict.fromkeys(found))


def field_name(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def body_with(path: Path, value: str) -> Any:
    """The smallest JSON value that holds ``value`` at ``path``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    inner = body_with(rest, value)
    return [inner] if isinstance(head, int) else {head: inner}


FIELDS: list[tuple[str, Path]] = sorted(
    {
        (route, field)
        for route, item in SPEC["paths"].items()
        for method, op in item.items()
        if method == "post"
        for field in string_paths(
            op.get("requestBody", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
        )
        if field  # a bare-string body is not a field
    },
    key=repr,
)


def test_the_walk_finds_the_fields_the_issue_names() -> None:
    found = set(FIELDS)
    for expected in [
        ("/retrieve", ("queries", 0)),
        ("/local/search", ("query",)),
        ("/access", ("urls", 0)),
        ("/local/crawl", ("url",)),
        ("/visit", ("url",)),
        ("/visit", ("url", 0)),
        ("/search", ("gl",)),
        ("/search", ("location",)),
        ("/search", (0, "q")),
        ("/run_code", ("code",)),
        ("/", ("url",)),
    ]:
        assert expected in found, expected


@pytest.fixture(scope="module")
def connection(server: EnvServer) -> Iterator[http.client.HTTPConnection]:
    parts = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    yield conn
    conn.close()


def _post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, str]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read().decode("utf-8", "replace")


@st.composite
def bad_requests(draw: st.DrawFn) -> tuple[str, Path, bytes, str]:
    route, path = draw(st.sampled_from(FIELDS))
    kinds = ["surrogate", "bytes"] + ([] if route in FREE_TEXT else ["control"])
    kind = draw(st.sampled_from(kinds))
    around = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=8)
    before, after = draw(around), draw(around)
    if kind == "surrogate":
        bad = chr(draw(st.integers(0xD800, 0xDFFF)))
        raw = json.dumps(body_with(path, before + bad + after)).encode()
    elif kind == "control":
        bad = draw(st.sampled_from(CONTROLS))
        ascii_only = draw(st.booleans())  # DEL also arrives raw, unescaped
        raw = json.dumps(body_with(path, before + bad + after), ensure_ascii=ascii_only).encode()
    else:
        template = json.dumps(body_with(path, before + PLACEHOLDER + after), ensure_ascii=False)
        raw = template.encode().replace(PLACEHOLDER.encode(), draw(st.sampled_from(BAD_UTF8)))
    return route, path, raw, kind


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=bad_requests())
def test_bad_text_in_any_field_is_a_4xx_naming_it(
    connection: http.client.HTTPConnection, request: tuple[str, Path, bytes, str]
) -> None:
    route, path, raw, kind = request
    status, text = _post(connection, route, raw)
    assert 400 <= status < 500, (route, raw, kind, status, text[:300])
    message = json.loads(text)["message"]
    assert f"field '{field_name(path)}'" in message, (route, raw, message)
    sock = connection.sock
    assert sock is not None, "the server closed the connection after a 4xx"
    ok, answer = _post(connection, "/search", b'{"q": "film"}')
    assert ok == 200, answer[:300]
    assert connection.sock is sock  # the same keep-alive connection served it


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32"])
def test_a_lone_surrogate_in_another_json_encoding_is_refused(
    connection: http.client.HTTPConnection, encoding: str
) -> None:
    # json.loads(bytes) reads UTF-16 and UTF-32 too, and keeps their lone surrogates.
    raw = '{"queries": ["a\ud800"]}'.encode(encoding, "surrogatepass")
    status, text = _post(connection, "/retrieve", raw)
    assert status == 400 and "field 'queries[0]'" in text, text[:300]


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/search", {"q": "tab\tnew\nline\r"}),
        ("/retrieve", {"queries": ["caf\u00e9 \u4e2d\u6587 \U0001f600"]}),
        ("/run_code", {"code": "print('\\x00')\x00", "language": "python", "stdin": "\x1b"}),
    ],
)
def test_valid_text_is_not_refused(
    connection: http.client.HTTPConnection, route: str, body: object
) -> None:
    status, text = _post(connection, route, json.dumps(body).encode())
    assert status == 200, text[:300]
