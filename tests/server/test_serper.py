"""Serper twins (/search, /scholar, /maps), /route and the API key, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from server_support import Known

from redsearcher.env import LocalEnvironment
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.tools._render import render_places, render_route, render_scholar, render_search

# Tongyi's tool_search.py sends exactly this body (plus X-API-KEY) for an English query.
TONGYI = {"location": "United States", "gl": "us", "hl": "en"}


def test_search_tongyi_payload(client: httpx.Client, known: Known) -> None:
    r = client.post(
        "/search",
        content=json.dumps({"q": known.doc_title, **TONGYI}),
        headers={"X-API-KEY": "anything", "Content-Type": "application/json"},
    )
    assert r.status_code == 200
    data = r.json()
    assert data["searchParameters"]["q"] == known.doc_title
    assert data["searchParameters"]["location"] == "United States"
    organic = data["organic"]
    assert 1 <= len(organic) <= 10
    for i, page in enumerate(organic, 1):  # what Tongyi reads
        assert isinstance(page["title"], str) and page["link"].startswith("https://")
        assert isinstance(page["snippet"], str)
        assert page["position"] == i
        assert "date" not in page or isinstance(page["date"], str)
    assert known.doc_url in [p["link"] for p in organic]
    assert render_search(known.doc_title, data).startswith(
        f"A Google search for '{known.doc_title}' found"
    )


def test_search_num_page_positions(client: httpx.Client) -> None:
    first = client.post("/search", json={"q": "film", "num": 3}).json()["organic"]
    second = client.post("/search", json={"q": "film", "num": 3, "page": 2}).json()
    assert [p["position"] for p in first] == [1, 2, 3]
    assert [p["position"] for p in second["organic"]] == [4, 5, 6]
    assert second["searchParameters"]["page"] == 2
    assert {p["link"] for p in first}.isdisjoint(p["link"] for p in second["organic"])


def test_search_batch_list(client: httpx.Client, known: Known) -> None:
    r = client.post("/search", json=[{"q": known.doc_title, "num": 2}, {"q": "film", "num": 1}])
    assert r.status_code == 200
    data = r.json()
    assert isinstance(data, list) and len(data) == 2
    assert data[0]["searchParameters"]["q"] == known.doc_title
    assert len(data[1]["organic"]) == 1


def test_search_limits_name_the_field(client: httpx.Client) -> None:
    r = client.post("/search", json={"q": "film", "num": 101})
    assert r.status_code == 400 and "'num'" in r.json()["message"]
    r = client.post("/search", json=[{"q": "a", "num": 100}] * 82)
    assert r.status_code == 400 and r.json()["message"].startswith("field 'queries': ")
    assert "max_batch_results of 8192" in r.json()["message"]
    r = client.post("/search", json={"num": 3})
    assert r.status_code == 400 and r.json() == {
        "message": "field 'q': Field required",
        "statusCode": 400,
        "errors": [{"type": "missing", "loc": ["body", "single", "q"], "msg": "Field required"}],
    }
    r = client.post("/search", json=[{"q": "a"}, {"q": "b", "page": 0}])
    assert r.status_code == 400 and "'[1].page'" in r.json()["message"]


def test_a_long_serper_batch_is_answered_in_order(client: httpx.Client, known: Known) -> None:
    # Formerly refused past 32 queries; bounded by total results now (100 x 10 < 8192).
    queries = [{"q": f"{known.doc_title} {i}", "num": 10} for i in range(99)]
    queries.append({"q": known.doc_title, "num": 3})
    r = client.post("/search", json=queries)
    assert r.status_code == 200
    data = r.json()
    assert [d["searchParameters"]["q"] for d in data] == [q["q"] for q in queries]
    assert data[-1] == client.post("/search", json=queries[-1]).json()
    assert data[40] == client.post("/search", json=queries[40]).json()


def test_scholar_fields(client: httpx.Client, known: Known) -> None:
    r = client.post("/scholar", json={"q": known.paper_title})
    assert r.status_code == 200
    organic = r.json()["organic"]
    top = organic[0]
    assert top["title"] == known.paper_title
    for key in ("link", "snippet", "publicationInfo", "year", "citedBy", "id", "position"):
        assert key in top
    assert "## Scholar Results" in render_scholar(known.paper_title, r.json())


def test_maps_fields(client: httpx.Client, known: Known) -> None:
    r = client.post("/maps", json={"q": known.city_a, "page": 1})
    assert r.status_code == 200
    places = r.json()["places"]
    assert places and places[0]["title"] == known.city_a
    for key in ("title", "address", "latitude", "longitude", "category", "cid", "placeId"):
        assert key in places[0]
    assert "## Places Results" in render_places(known.city_a, r.json())


def test_route_ok_unknown_and_bad_mode(client: httpx.Client, known: Known) -> None:
    body = {"origin": known.city_a, "destination": known.city_b, "mode": "flying"}
    r = client.post("/route", json=body)
    assert r.status_code == 200
    data = r.json()
    assert data["origin"]["name"] == known.city_a and data["destination"]["name"] == known.city_b
    assert data["mode"] == "flying" and data["distance_km"] > 0 and data["duration_minutes"] > 0
    assert render_route(data).startswith(f"Route from {known.city_a}")
    r = client.post("/route", json={"origin": "Nowhere Atlantis", "destination": known.city_b})
    assert r.status_code == 404 and "Nowhere Atlantis" in r.json()["message"]
    bike = client.post("/route", json={**body, "mode": "bicycling"}).json()
    assert bike["distance_km"] > 0 and bike["duration_minutes"] > data["duration_minutes"]
    r = client.post("/route", json={**body, "mode": "teleport"})
    assert r.status_code == 400 and "'mode'" in r.json()["message"]


def test_api_key(index_dir: Path, local_env: LocalEnvironment) -> None:
    config = ServerConfig(index=index_dir, api_key="sekret", sandbox=None)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        body = {"q": "film"}
        for headers in ({}, {"X-API-KEY": "wrong"}):
            r = c.post("/search", json=body, headers=headers)
            assert r.status_code == 403
            assert r.json() == {"message": "Unauthorized.", "statusCode": 403}
        assert c.post("/search", json=body, headers={"X-API-KEY": "sekret"}).status_code == 200
        # Jina's clients send a bearer token; every twin takes either header.
        assert c.get("/www.example.com/x").status_code == 403
        r = c.get("/www.example.com/x", headers={"Authorization": "Bearer sekret"})
        assert r.status_code == 422
        assert c.post("/retrieve", json={"queries": ["film"]}).status_code == 403
        r = c.post("/retrieve", json={"queries": ["film"]}, headers={"X-API-KEY": "sekret"})
        assert r.status_code == 200
        assert c.get("/health").status_code == 200  # public by default (probes)
