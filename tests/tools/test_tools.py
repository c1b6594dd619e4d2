"""The tools layer: schemas, validation, rendering, caching, and both backends (local, HTTP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.env._types import Page, RunResult, SearchHit
from redsearcher.env._wire import jina_text, route_json, serper_maps, serper_scholar, serper_search
from redsearcher.env.sandbox import (
    SandboxBusy,
    SandboxError,
    SandboxRequestError,
    render_run_result,
)
from redsearcher.errors import ConfigError
from redsearcher.registry import lookup, names
from redsearcher.testing import tiny_world
from redsearcher.tools._render import (
    join_blocks,
    render_places,
    render_route,
    render_scholar,
    render_search,
    render_visit_failed,
)
from redsearcher.tools._tools import (
    DEFAULT_TOOLS,
    LocalBackend,
    ServiceDown,
    ServicesConfig,
    Toolbox,
    ToolDef,
    ToolError,
    page_from_jina_text,
    run_result_from_fusion,
)
from redsearcher.tools._visit import goal_visit

GOAL = "Who is the child of Marta Velden?"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    root = tmp_path_factory.mktemp("tools")
    tiny_world(root / "w")
    build_index(root / "w", root / "idx", progress=False)
    with LocalEnvironment.open(root / "idx") as opened:
        yield opened


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def using(box: Toolbox, fn: Callable[[Toolbox], Any]) -> Any:
    async with box:
        return await fn(box)


# -- schemas ---------------------------------------------------------------------------------


def test_tools_are_registered_with_the_peers_schemas() -> None:
    assert set(DEFAULT_TOOLS) <= set(names("tool"))
    search = lookup("tool", "search")
    assert isinstance(search, ToolDef)
    assert search.parameters() == {
        "type": "object",
        "properties": {
            "query": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "description": "Array of query strings. Include multiple complementary search "
                "queries in a single call.",
            }
        },
        "required": ["query"],
    }
    visit = lookup("tool", "visit").parameters()
    assert visit["required"] == ["url", "goal"]
    assert visit["properties"]["url"]["type"] == ["string", "array"]
    assert visit["properties"]["url"]["items"] == {"type": "string"}
    assert visit["properties"]["goal"]["type"] == "string"
    assert lookup("tool", "PythonInterpreter").parameters()["required"] == ["code"]
    assert lookup("tool", "google_scholar").parameters() == search.parameters()
    maps = lookup("tool", "google_maps").parameters()
    assert maps["required"] == ["q"] and maps["properties"]["page"]["default"] == 1
    route = lookup("tool", "google_maps_route").parameters()
    assert route["required"] == ["origin", "destination"]
    assert route["properties"]["mode"]["enum"] == [
        "driving",
        "walking",
        "bicycling",
        "transit",
        "flying",
    ]


def test_openai_tools_list(env: LocalEnvironment) -> None:
    tools = Toolbox.local(env).openai_tools()
    assert [t["function"]["name"] for t in tools] == list(DEFAULT_TOOLS)
    for entry in tools:
        assert entry["type"] == "function"
        description = entry["function"]["description"]
        assert description and "Args:" not in description
        assert all("\n" not in paragraph for paragraph in description.split("\n\n"))
        assert "title" not in json.dumps(entry["function"]["parameters"])
    assert [t["function"]["name"] for t in Toolbox.local(env, tools=["visit"]).openai_tools()] == [
        "visit"
    ]
    with pytest.raises(ConfigError, match="unknown tool 'nope'"):
        Toolbox.local(env, tools=["nope"])


# -- local backend ---------------------------------------------------------------------------


def test_search_renders_each_query(env: LocalEnvironment) -> None:
    queries = ["Marta Velden daughter", "Quiet Harbor cast"]
    text = run(using(Toolbox.local(env), lambda b: b.search(queries)))
    expected = join_blocks(render_search(q, serper_search(q, env.search(q, 10))) for q in queries)
    assert text == expected
    assert "A Google search for 'Quiet Harbor cast' found" in text
    one = run(using(Toolbox.local(env), lambda b: b.search("Quiet Harbor cast")))
    assert one == render_search(
        "Quiet Harbor cast", serper_search("Quiet Harbor cast", env.search("Quiet Harbor cast"))
    )


def test_visit_is_goal_visit(env: LocalEnvironment) -> None:
    url = env.search("Velden family child", k=1)[0].url
    urls = [url, "https://nowhere.example/page"]
    text = run(using(Toolbox.local(env), lambda b: b.visit(urls, GOAL)))
    assert text == run(goal_visit(env, urls, GOAL))
    assert "Ilse Velden is a child of Marta Velden." in text
    single = run(using(Toolbox.local(env), lambda b: b.visit(url, GOAL)))
    assert single == run(goal_visit(env, [url], GOAL))


def test_scholar_maps_and_route(env: LocalEnvironment) -> None:
    box = Toolbox.local(env)
    scholar = run(box.google_scholar(["Quiet Harbor"]))
    assert scholar == render_scholar(
        "Quiet Harbor", serper_scholar("Quiet Harbor", env.scholar("Quiet Harbor"))
    )
    maps = run(box.google_maps("Harwick"))
    assert maps == render_places("Harwick", serper_maps("Harwick", env.places("Harwick")))
    assert "**Harwick**" in maps
    found = env.route("Harwick", "Harwick", "walking")
    assert found is not None
    route = run(box.google_maps_route("Harwick", "Harwick", "walking"))
    assert route == render_route(route_json(found))
    with pytest.raises(ToolError, match="No route from 'Atlantis' to 'Harwick'"):
        run(box.google_maps_route("Atlantis", "Harwick"))


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("search", {}, "Invalid arguments for search: query: Field required."),
        ("search", {"query": []}, "query: List should have at least 1 item"),
        ("visit", {"url": [], "goal": "g"}, "url: Value error, give at least one non-empty URL"),
        ("visit", {"url": "u"}, "goal: Field required"),
        ("google_maps", {"q": "x", "page": 0}, "page: Input should be greater than or equal to 1"),
        ("google_maps_route", {"origin": "a", "destination": "b", "mode": "rocket"}, "mode:"),
        ("nope", {}, "Unknown tool 'nope'. Available tools: search, visit, PythonInterpreter"),
        ("search", "{not json", "The arguments of search are not valid JSON"),
        ("search", "[1]", "must be a JSON object"),
        # Lone surrogates: the cache key (visit) or the service would fail to encode them.
        ("visit", {"url": "http://x/\ud800", "goal": "g"}, "The argument 'url' of visit"),
        ("search", '{"query": ["a", "\\udfff"]}', "The argument 'query.1' of search is not"),
        ("google_maps", {"q": "ok", "\ud800": 1}, "The argument '\\ud800' of google_maps"),
    ],
)
def test_invalid_calls_are_tool_errors(
    env: LocalEnvironment, name: str, arguments: Any, message: str
) -> None:
    with pytest.raises(ToolError) as caught:
        run(Toolbox.local(env).call(name, arguments))
    assert message in str(caught.value)


def test_json_string_arguments_and_extra_fields(env: LocalEnvironment) -> None:
    box = Toolbox.local(env)
    direct = run(box.search(["Harwick"]))
    assert run(box.call("search", json.dumps({"query": ["Harwick"], "extra": 1}))) == direct


class CountingBackend(LocalBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    async def search(self, query: str, num: int) -> dict[str, Any]:
        self.calls.append(f"search:{query}")
        return await super().search(query, num)

    async def run_code(self, code: str) -> RunResult:
        self.calls.append("run_code")
        return RunResult("Finished", 0, "4\n", "", 0.01)


@pytest.mark.parametrize("cache", [True, False])
def test_per_run_cache(env: LocalEnvironment, cache: bool) -> None:
    backend = CountingBackend(env)
    box = Toolbox(backend, cache=cache)
    first = run(box.search(["Harwick", "Caldora"]))
    assert run(box.call("search", {"query": ["Harwick", "Caldora"]})) == first
    run(box.python("print(2 + 2)"))
    run(box.python("print(2 + 2)"))
    searches = [c for c in backend.calls if c.startswith("search")]
    assert len(searches) == (2 if cache else 4)
    assert backend.calls.count("run_code") == 2  # never cached


def test_python_without_a_sandbox(env: LocalEnvironment) -> None:
    with pytest.raises(ToolError, match="PythonInterpreter is not available"):
        run(Toolbox.local(env).python("print(1)"))


def test_python_renders_the_run_result(env: LocalEnvironment) -> None:
    result = RunResult("Finished", 0, "4\n", "", 0.01)

    class Runner:
        async def arun(self, code: str) -> RunResult:
            assert code == "print(2 + 2)"
            return result

    text = run(Toolbox.local(env, sandbox=Runner()).python("print(2 + 2)"))
    assert text == render_run_result(result) == "stdout:\n4\n"


class FailingRunner:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def arun(self, code: str) -> RunResult:
        raise self.error


def test_sandbox_failures_are_tool_errors(env: LocalEnvironment) -> None:
    refused = Toolbox.local(env, sandbox=FailingRunner(SandboxRequestError("code", "too long")))
    with pytest.raises(ToolError, match="The code was not run: code: too long"):
        run(refused.python("x"))
    broken = Toolbox.local(env, sandbox=FailingRunner(SandboxError("no runtime")))
    with pytest.raises(ToolError, match="The Python sandbox failed: no runtime"):
        run(broken.python("x"))
    busy = Toolbox.local(env, sandbox=FailingRunner(SandboxBusy("every run slot stayed busy")))
    with pytest.raises(ToolError, match="The Python sandbox is busy: every run slot"):
        run(busy.python("x"))


def test_partial_query_failure_keeps_the_other_results(env: LocalEnvironment) -> None:
    class HalfBroken(LocalBackend):
        async def search(self, query: str, num: int) -> dict[str, Any]:
            if query == "bad":
                raise ToolError("The search service is unavailable; try again later.")
            return await super().search(query, num)

    box = Toolbox(HalfBroken(env))
    text = run(box.search(["bad", "Harwick"]))
    blocks = text.split("\n=======\n")
    assert (
        blocks[0] == "Search for 'bad' failed: The search service is unavailable; try again later."
    )
    assert blocks[1].startswith("A Google search for 'Harwick'")
    with pytest.raises(ToolError, match="unavailable"):
        run(box.search(["bad", "bad"]))


# -- HTTP backend against a mock transport ---------------------------------------------------


def mock_box(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Toolbox:
    services = ServicesConfig(
        search_url="http://serper.test",
        search_api_key=SecretStr("k-search"),
        reader_url="http://reader.test/",
        reader_api_key=SecretStr("k-read"),
        sandbox_url="http://fusion.test",
        backoff_s=0.0,
        **options,
    )
    return Toolbox.http(services, transport=httpx.MockTransport(handler))


SERPER = serper_search("q", [])


def test_http_search_sends_serper_requests_and_retries() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            raise httpx.ConnectError("refused")
        if len(seen) == 2:
            return httpx.Response(503, json={"message": "busy"})
        if len(seen) == 3:
            return httpx.Response(429, headers={"retry-after-ms": "1"}, json={})
        return httpx.Response(200, json=serper_search("q", []))

    text = run(using(mock_box(handler), lambda b: b.search("q")))
    assert text == render_search("q", SERPER)
    assert len(seen) == 4
    last = seen[-1]
    assert (last.method, str(last.url)) == ("POST", "http://serper.test/search")
    assert last.headers["x-api-key"] == "k-search"
    assert json.loads(last.content) == {"q": "q", "num": 10}


def test_http_service_down_is_a_tool_error() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(502)

    with pytest.raises(ToolError, match=r"search service is unavailable .*HTTP 502 after 3 tries"):
        run(using(mock_box(handler, retries=2), lambda b: b.search("q")))
    assert calls == 3


def test_http_rejected_key_is_a_config_error() -> None:
    box = mock_box(lambda r: httpx.Response(403, json={"message": "Unauthorized."}))
    with pytest.raises(ConfigError, match="rejected the API key"):
        run(using(box, lambda b: b.google_maps("x")))
    with pytest.raises(ConfigError, match=r"http://fusion\.test rejected the API key \(HTTP 403"):
        run(box.python("print(1)"))


def test_http_bad_request_is_a_tool_error_with_the_message() -> None:
    box = mock_box(lambda r: httpx.Response(400, json={"message": "field 'q': too long"}))
    with pytest.raises(ToolError, match="refused the request: HTTP 400: field 'q': too long"):
        run(using(box, lambda b: b.google_scholar("x")))


def test_http_unexpected_answers_are_tool_errors() -> None:
    box = mock_box(lambda r: httpx.Response(200, text="<html>captcha</html>"))
    with pytest.raises(ToolError, match="search service answered in an unexpected format"):
        run(box.search("q"))
    with pytest.raises(ToolError, match="sandbox answered in an unexpected format"):
        run(box.python("print(1)"))


def test_http_route_404_is_unresolved() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"origin": "a", "destination": "b", "mode": "transit"}
        return httpx.Response(404, json={"message": "no route"})

    with pytest.raises(ToolError, match="No route from 'a' to 'b'"):
        run(using(mock_box(handler), lambda b: b.google_maps_route("a", "b", "transit")))


def test_http_visit_reads_jina_and_summarizes_locally() -> None:
    page = Page("", "https://site.test/a", "Velden family", "Ilse Velden is a child of Marta Velden.",
                "web", "2001-05-06")  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer k-read"
        if str(request.url) == "http://reader.test/https://site.test/a":
            return httpx.Response(200, text=jina_text(page))
        return httpx.Response(422, json={"code": 422})

    urls = ["https://site.test/a", "https://site.test/missing"]
    text = run(using(mock_box(handler), lambda b: b.visit(urls, GOAL)))

    class OnePage:
        def visit(self, url: str) -> Page | None:
            return page if url == page.url else None

    assert text == run(goal_visit(OnePage(), urls, GOAL))  # type: ignore[arg-type]
    assert text.endswith(render_visit_failed(urls[1], GOAL))


def test_http_python_uses_sandboxfusion() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert str(request.url) == "http://fusion.test/run_code"
        assert (body["code"], body["language"], body["run_timeout"]) == ("print(1)", "python", 30.0)
        return httpx.Response(200, json={
            "status": "Success", "message": "",
            "run_result": {"status": "Finished", "execution_time": 0.02, "return_code": 0,
                           "stdout": "1\n", "stderr": ""},
        })  # fmt: skip

    backend = mock_box(handler).backend
    result = run(backend.run_code("print(1)"))
    assert result == RunResult("Finished", 0, "1\n", "", 0.02)


def test_run_result_from_fusion() -> None:
    timeout = run_result_from_fusion({
        "status": "Failed", "message": "",
        "run_result": {"status": "TimeLimitExceeded", "execution_time": 30.0, "return_code": None,
                       "stdout": "partial", "stderr": ""},
    })  # fmt: skip
    assert (timeout.status, timeout.return_code, timeout.stdout) == (
        "TimeLimitExceeded",
        None,
        "partial",
    )
    compile_error = run_result_from_fusion({"status": "Failed", "message": "compile error",
                                            "compile_result": {"stderr": "SyntaxError"}})  # fmt: skip
    assert (compile_error.status, compile_error.stderr, compile_error.notes) == (
        "Error", "SyntaxError", ("compile error",))  # fmt: skip
    with pytest.raises(ToolError, match="sandbox failed: no worker"):
        run_result_from_fusion({"status": "SandboxError", "message": "no worker"})


def test_page_from_jina_text() -> None:
    page = Page("", "https://a.test/x", "T", "body\n\nmore", "web", "2020-01-01")
    parsed = page_from_jina_text("https://a.test/x", jina_text(page))
    assert (parsed.title, parsed.url, parsed.text, parsed.published) == (
        "T", "https://a.test/x", "body\n\nmore", "2020-01-01")  # fmt: skip
    no_date = page_from_jina_text("u", "Title: T\n\nURL Source: v\n\nMarkdown Content:\nx")
    assert (no_date.url, no_date.published, no_date.text) == ("v", None, "x")
    assert page_from_jina_text("u", "plain text").text == "plain text"


def test_disabled_services_are_tool_errors() -> None:
    box = Toolbox.http(ServicesConfig())
    with pytest.raises(ToolError, match="Search is not available"):
        run(box.search("q"))
    with pytest.raises(ToolError, match="PythonInterpreter is not available"):
        run(box.python("1"))
    with pytest.raises(ToolError, match="Visiting pages is not available"):
        run(box.visit("u", "g"))


def test_services_presets() -> None:
    local = ServicesConfig.local("http://127.0.0.1:9", api_key="k")
    assert local.search_url == local.reader_url == local.sandbox_url == "http://127.0.0.1:9"
    assert local.search_api_key == local.reader_api_key == local.sandbox_api_key == SecretStr("k")
    real = ServicesConfig.real(serper_api_key="s", sandbox_url="http://fusion")
    assert real.search_url == "https://google.serper.dev" and real.reader_url == "https://r.jina.ai"
    assert real.search_api_key is not None and real.search_api_key.get_secret_value() == "s"
    assert "s" not in repr(real.search_api_key)


# -- HTTP backend against our own server -----------------------------------------------------


def test_http_backend_on_our_server_reads_like_the_local_one(env: LocalEnvironment) -> None:
    server_mod = pytest.importorskip("redsearcher.server")
    url = env.search("Velden family child", k=1)[0].url
    calls: list[tuple[str, dict[str, Any]]] = [
        ("search", {"query": ["Marta Velden daughter", "Harwick"]}),
        ("google_scholar", {"query": ["Quiet Harbor"]}),
        ("google_maps", {"q": "Harwick"}),
        ("google_maps_route", {"origin": "Harwick", "destination": "Harwick"}),
        ("visit", {"url": [url, "https://nowhere.example/x"], "goal": GOAL}),
    ]

    async def texts(box: Toolbox) -> list[str]:
        async with box:
            return [await box.call(name, args) for name, args in calls]

    config = server_mod.ServerConfig(sandbox=None)
    with server_mod.EnvServer(config, env=env) as server:
        remote = run(texts(Toolbox.http(ServicesConfig.local(server.base_url))))
    local = run(texts(Toolbox.local(env)))
    assert remote == local


# -- outages are not cached; fallbacks --------------------------------------------------------

PAGE = Page("", "https://site.test/a", "Velden family", "Ilse Velden is a child of Marta Velden.",
            "web", "2001-05-06")  # fmt: skip
FUSION_OK = {
    "status": "Success", "message": "",
    "run_result": {"status": "Finished", "execution_time": 0.02, "return_code": 0,
                   "stdout": "1\n", "stderr": ""},
}  # fmt: skip


class Services:
    """Serper, Jina and SandboxFusion stand-ins on any host; ``down`` hosts refuse connections."""

    def __init__(self, *down: str) -> None:
        self.down = set(down)
        self.seen: list[httpx.Request] = []
        self.refuse: set[str] = set()  # query strings answered 400

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.host in self.down:
            raise httpx.ConnectError("connection refused")
        if request.url.path == "/run_code":
            return httpx.Response(200, json=FUSION_OK)
        if request.method == "GET":
            return httpx.Response(200, text=jina_text(PAGE))
        query = json.loads(request.content)["q"]
        if query in self.refuse:
            return httpx.Response(400, json={"message": "bad query"})
        return httpx.Response(200, json=serper_answer(query, request.url.host))

    def hits(self, host: str) -> int:
        return sum(r.url.host == host for r in self.seen)


def services_at(host: str, *, key: str = "k", **options: Any) -> ServicesConfig:
    base = f"http://{host}"
    return ServicesConfig(
        search_url=base, search_api_key=SecretStr(key), reader_url=base,
        reader_api_key=SecretStr(key), sandbox_url=base, sandbox_api_key=SecretStr(key),
        backoff_s=0.0, retries=1, **options,
    )  # fmt: skip


def serper_answer(query: str, host: str) -> dict[str, Any]:
    """A one-result answer whose title names the host that gave it."""
    hit = SearchHit("", f"https://{host}/{query}", f"{query} from {host}", "", 1.0, "web")
    return serper_search(query, [hit])


def found(query: str, host: str) -> str:
    return render_search(query, serper_answer(query, host))


def test_an_outage_under_a_result_is_not_cached_and_answers_are() -> None:
    services = Services()
    flaky = True  # while set, the query 'y' and the reader cannot be reached

    def handler(request: httpx.Request) -> httpx.Response:
        lost = request.method == "GET" or json.loads(request.content)["q"] == "y"
        if flaky and lost:
            services.seen.append(request)
            raise httpx.ConnectError("connection refused")
        return services(request)

    async def calls(box: Toolbox) -> list[str]:
        nonlocal flaky
        texts = [await box.search(["x", "y"])]
        try:
            await box.visit(PAGE.url, GOAL)
        except ToolError as err:  # an outage is a tool error, not a missing page
            texts.append(f"ToolError: {err}")
        flaky = False
        for _ in range(2):
            texts += [await box.search(["x", "y"]), await box.visit(PAGE.url, GOAL)]
        return texts

    box = Toolbox.http(services_at("a.test"), transport=httpx.MockTransport(handler), cache=True)
    down_search, down_visit, up_search, up_visit, cached_search, cached_visit = run(calls(box))
    assert down_search.startswith(found("x", "a.test"))
    assert "Search for 'y' failed: The search service is unavailable" in down_search
    assert down_visit == (
        f"ToolError: The page {PAGE.url} was not read: the page reader is unavailable "
        "(ConnectError: connection refused after 2 tries); try again later."
    )
    assert up_search == join_blocks([found("x", "a.test"), found("y", "a.test")])
    assert "Ilse Velden is a child of Marta Velden." in up_visit
    assert (cached_search, cached_visit) == (up_search, up_visit)
    # Down: x once, y and the page twice each (one retry); up: x, y, the page; cached: none.
    assert len(services.seen) == 5 + 3


def test_a_refusal_is_cached() -> None:
    services = Services()
    services.refuse = {"y"}
    box = Toolbox.http(services_at("a.test"), transport=httpx.MockTransport(services), cache=True)
    first = run(box.search(["x", "y"]))
    assert "Search for 'y' failed: The search service refused the request" in first
    services.refuse = set()
    assert run(box.search(["x", "y"])) == first
    assert len(services.seen) == 2


def test_a_primary_that_stays_down_is_answered_by_the_fallback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = Services("primary.test")
    config = services_at("primary.test", fallback=services_at("fallback.test", key="k2"))

    async def calls(box: Toolbox) -> list[str]:
        async with box:
            return [await box.search("q"), await box.search("r"), await box.visit(PAGE.url, GOAL),
                    await box.python("print(1)"), await box.search("q")]  # fmt: skip

    box = Toolbox.http(config, transport=httpx.MockTransport(services), cache=True)
    with caplog.at_level("WARNING", logger="redsearcher.tools._backends"):
        search_q, search_r, visit, python, cached = run(calls(box))
    assert (search_q, search_r) == (found("q", "fallback.test"), found("r", "fallback.test"))
    assert cached == search_q and "q from fallback.test" in search_q
    assert "Ilse Velden is a child of Marta Velden." in visit
    assert python == "stdout:\n1\n"
    # The first call of each service tried the primary (2 tries) before the fallback; the
    # second search went straight to the fallback (held); the cached one asked neither.
    assert services.hits("primary.test") == 2 * 3 and services.hits("fallback.test") == 4
    keys = {r.headers.get("x-api-key") or r.headers.get("authorization") for r in services.seen
            if r.url.host == "fallback.test"}  # fmt: skip
    assert keys == {"k2", "Bearer k2"}  # the fallback's own keys
    switches = [r.getMessage() for r in caplog.records if "asking the fallback" in r.message]
    assert len(switches) == 3  # once per service switched, though search switched twice
    assert "the search service is down" in switches[0] and "http://fallback.test" in switches[0]


def test_the_primary_is_tried_again_once_the_hold_is_over(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from redsearcher.tools import _backends

    now = [100.0]
    monkeypatch.setattr(_backends, "_clock", lambda: now[0])
    services = Services("primary.test")
    config = services_at("primary.test", fallback=services_at("fallback.test"), fallback_hold_s=30)
    box = Toolbox.http(config, transport=httpx.MockTransport(services))

    def search(query: str, at: float) -> tuple[str, int, int]:
        now[0] = at
        text = run(box.search(query))
        return text, services.hits("primary.test"), services.hits("fallback.test")

    assert search("a", 100.0) == (found("a", "fallback.test"), 2, 1)  # down: switched
    assert search("b", 129.9) == (found("b", "fallback.test"), 2, 2)  # held: primary skipped
    assert search("c", 130.0) == (found("c", "fallback.test"), 4, 3)  # probed, still down
    assert search("d", 159.0) == (found("d", "fallback.test"), 4, 4)  # held from the probe
    services.down.clear()
    with caplog.at_level("INFO", logger="redsearcher.tools._backends"):
        assert search("e", 160.0) == (found("e", "primary.test"), 5, 4)  # back on the primary
        assert search("f", 160.0) == (found("f", "primary.test"), 6, 4)
    back = [r.getMessage() for r in caplog.records if r.levelname == "INFO"]
    assert back == ["the search service at http://primary.test answers again"]


def test_with_no_hold_every_call_tries_the_primary_first() -> None:
    services = Services("primary.test")
    config = services_at("primary.test", fallback=services_at("fallback.test"), fallback_hold_s=0)
    box = Toolbox.http(config, transport=httpx.MockTransport(services))
    for query in ("a", "b", "c"):
        assert run(box.search(query)) == found(query, "fallback.test")
    assert services.hits("primary.test") == 2 * 3 and services.hits("fallback.test") == 3


def test_without_a_fallback_for_the_service_the_outage_is_a_tool_error() -> None:
    services = Services("primary.test")
    only_search = ServicesConfig(search_url="http://fallback.test", backoff_s=0.0)
    box = Toolbox.http(
        services_at("primary.test", fallback=only_search), transport=httpx.MockTransport(services)
    )
    with pytest.raises(ToolError, match=r"Python sandbox is unavailable .*ConnectError"):
        run(box.python("print(1)"))
    assert run(box.search("q")) == found("q", "fallback.test")


def test_a_fallback_down_too_is_a_tool_error_and_nothing_is_cached() -> None:
    services = Services("primary.test", "fallback.test")
    config = services_at("primary.test", fallback=services_at("fallback.test"))
    box = Toolbox.http(config, transport=httpx.MockTransport(services), cache=True)
    for _ in range(2):
        with pytest.raises(ToolError, match=r"search service is unavailable \(ConnectError"):
            run(box.search("q"))
        with pytest.raises(ServiceDown) as caught:
            run(box.visit(PAGE.url, GOAL))
        assert "the page reader is unavailable" in str(caught.value)
        assert render_visit_failed(PAGE.url, GOAL) not in str(caught.value)
    assert services.hits("primary.test") == services.hits("fallback.test") == 2 * 2 * 2
    services.down = set()
    assert run(box.search("q")) == found("q", "primary.test")


def test_a_key_the_fallback_rejects_stops_the_run() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "primary.test":
            return httpx.Response(503)
        return httpx.Response(401, json={"message": "Unauthorized."})

    config = services_at("primary.test", fallback=services_at("fallback.test"))
    with pytest.raises(ConfigError, match=r"http://fallback\.test/search rejected the API key"):
        run(Toolbox.http(config, transport=httpx.MockTransport(handler)).search("q"))


def test_aclose_closes_the_fallbacks_client_too() -> None:
    class Counting(httpx.MockTransport):
        closed = 0

        async def aclose(self) -> None:
            Counting.closed += 1

    config = services_at("primary.test", fallback=services_at("fallback.test"))
    box = Toolbox.http(config, transport=Counting(Services("primary.test")))
    run(using(box, lambda b: b.search("q")))
    assert Counting.closed == 2  # the primary's client and the fallback's


def test_services_with_key_for_and_endpoints() -> None:
    config = ServicesConfig(
        search_url="https://google.serper.dev", search_api_key=SecretStr("serper"),
        reader_url="http://env:8000/", sandbox_url="http://env:8000",
        fallback=ServicesConfig.local("http://env:8000"),
    )  # fmt: skip
    keyed = config.with_key_for("http://env:8000", "env-key")
    assert keyed.search_api_key == SecretStr("serper")  # never replaced, never sent elsewhere
    assert keyed.reader_api_key == keyed.sandbox_api_key == SecretStr("env-key")
    assert keyed.fallback is not None and keyed.fallback.search_api_key == SecretStr("env-key")
    assert config.with_key_for("http://env:8000", None) is config
    assert keyed.endpoints() == {
        "search": "https://google.serper.dev", "reader": "http://env:8000/",
        "sandbox": "http://env:8000",
        "fallback": {"search": "http://env:8000", "reader": "http://env:8000",
                     "sandbox": "http://env:8000", "fallback": None},
    }  # fmt: skip
    assert "key" not in json.dumps(keyed.endpoints())
