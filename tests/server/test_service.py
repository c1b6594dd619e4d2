"""/health, /metrics, /openapi.json, body limits, fault injection and the uvicorn factory."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from redsearcher.env import LocalEnvironment
from redsearcher.errors import ConfigError
from redsearcher.server import EnvServer, FaultConfig, FaultSpec, ServerConfig


def test_health(client: httpx.Client, local_env: LocalEnvironment) -> None:
    data = client.get("/health").json()
    assert data["status"] == "ok" and data["index_loaded"] is True
    assert data["documents"] == len(local_env)
    assert data["world_hash"] == local_env.manifest.world_content_hash
    assert data["sandbox"] == "ready"


def test_metrics_count_requests(client: httpx.Client) -> None:
    client.post("/search", json={"q": "film"})
    client.post("/search", json={"nope": 1})
    text = client.get("/metrics").text
    assert re.search(r'redsearcher_env_requests_total\{endpoint="search",status="200"\} \d', text)
    assert 'redsearcher_env_requests_total{endpoint="search",status="400"}' in text
    assert 'redsearcher_env_request_duration_seconds_bucket{endpoint="search",le="0.1"}' in text
    assert "redsearcher_env_in_flight_requests" in text


def test_openapi_documents_every_request_model(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
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
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for model in (
        "SerperQuery",
        "MapsQuery",
        "RouteQuery",
        "RetrieveRequest",
        "AccessRequest",
        "LocalSearchRequest",
        "CrawlRequest",
        "VisitRequest",
        "ReaderRequest",
    ):
        assert model in schemas, model
        assert all("description" in f for f in schemas[model]["properties"].values()), model
    run_code = paths["/run_code"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"code", "language", "run_timeout"} <= set(run_code["properties"])
    assert "400" in paths["/search"]["post"]["responses"]
    assert "422" not in paths["/search"]["post"]["responses"]
    assert "/route" in spec["info"]["description"]


def test_oversized_body_is_413(client: httpx.Client) -> None:
    big = "x" * (1024 * 1024 + 10)
    r = client.post("/search", json={"q": big})
    assert r.status_code == 413 and "larger than" in r.json()["message"]

    def chunks():  # no Content-Length: the limit holds while streaming too
        for _ in range(20):
            yield b"y" * 65536

    r = client.post("/retrieve", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post("/search", json={"q": "x" * 3000})
    assert r.status_code == 400 and "'q (characters)'" in r.json()["message"]


def _server(index_dir: Path, env: LocalEnvironment, **faults: FaultSpec) -> EnvServer:
    config = ServerConfig(
        index=index_dir, sandbox=None, faults=FaultConfig(seed=3, endpoints=faults)
    )
    return EnvServer(config, env=env)


def test_fault_error_rate_one(index_dir: Path, local_env: LocalEnvironment) -> None:
    spec = FaultSpec(error_rate=1.0, error_statuses=[500, 503])
    with (
        _server(index_dir, local_env, search=spec) as srv,
        httpx.Client(base_url=srv.base_url) as c,
    ):
        statuses = {c.post("/search", json={"q": "film"}).status_code for _ in range(20)}
        assert statuses == {500, 503}
        assert c.post("/retrieve", json={"queries": ["film"]}).status_code == 200
        assert (
            'redsearcher_env_injected_faults_total{endpoint="search",kind="error"} 20.0'
            in c.get("/metrics").text
        )


def test_fault_latency_lower_bound(index_dir: Path, local_env: LocalEnvironment) -> None:
    spec = FaultSpec(latency_s=(0.2, 0.3))
    with (
        _server(index_dir, local_env, **{"*": spec}) as srv,
        httpx.Client(base_url=srv.base_url) as c,
    ):
        t0 = time.perf_counter()
        assert c.post("/access", json={"urls": []}).status_code == 200
        assert time.perf_counter() - t0 >= 0.2
        t0 = time.perf_counter()
        assert c.get("/health").status_code == 200  # service endpoints are never faulted
        assert c.get("/metrics").status_code == 200


def test_fault_timeout_is_504(index_dir: Path, local_env: LocalEnvironment) -> None:
    spec = FaultSpec(timeout_rate=1.0, hang_s=0.3)
    with (
        _server(index_dir, local_env, reader=spec) as srv,
        httpx.Client(base_url=srv.base_url) as c,
    ):
        t0 = time.perf_counter()
        r = c.post("/", json={"url": "www.example.com"})
        assert r.status_code == 504 and time.perf_counter() - t0 >= 0.3
        assert "timed out" in r.json()["message"]


def test_faults_are_seeded(index_dir: Path, local_env: LocalEnvironment) -> None:
    spec = FaultSpec(error_rate=0.5)
    runs = []
    for _ in range(2):
        with (
            _server(index_dir, local_env, maps=spec) as srv,
            httpx.Client(base_url=srv.base_url) as c,
        ):
            runs.append([c.post("/maps", json={"q": "city"}).status_code for _ in range(16)])
    assert runs[0] == runs[1] and {200} < set(runs[0])


def test_fault_config_validation() -> None:
    with pytest.raises(ValueError, match="unknown endpoint"):
        FaultConfig(endpoints={"serch": FaultSpec(error_rate=1.0)})
    with pytest.raises(ValueError, match="5xx"):
        FaultSpec(error_statuses=[429])
    with pytest.raises(ValueError, match="<= 1"):
        FaultSpec(error_rate=0.6, timeout_rate=0.6)


def test_app_factory_reads_env_vars(index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from redsearcher.server import app_from_env

    monkeypatch.setenv("REDSEARCHER_SERVER__INDEX", str(index_dir))
    monkeypatch.setenv("REDSEARCHER_SERVER__API_KEY", "k")
    monkeypatch.setenv("REDSEARCHER_SERVER__SANDBOX", "null")
    app = app_from_env()
    state = app.state.server
    assert state.config.index == index_dir and state.config.api_key == "k"
    assert state.config.sandbox is None
    monkeypatch.setenv("REDSEARCHER_SERVER__MAX_NUM", "many")
    with pytest.raises(ConfigError, match="max_num"):
        app_from_env()


def test_missing_index_fails_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not a search index") as info:
        EnvServer(ServerConfig(index=tmp_path, sandbox=None)).start()
    assert info.value.__cause__ is not None
