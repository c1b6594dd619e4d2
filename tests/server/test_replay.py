"""Record-and-replay served: the Serper and Jina twins answer as the recorded engine did.

A World ingested from the committed recordings (``tests/fixtures/ingest/replay``) is indexed
and served over real HTTP. Expected lists come from the World's ``recorded_searches`` rows and
expected page text from its documents, never restated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pyarrow import feather

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.env._recorded import URL_ALIASES_FILE
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.world import World
from redsearcher.world.ingest import ingest_world, url_doc_id

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ingest" / "replay"
QUERY = "douglas adams birthplace"
BRITANNICA = "https://www.britannica.com/biography/Douglas-Adams"


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay-server")
    ingest_world(root / "world", replay=[FIXTURES])
    build_index(root / "world", root / "world.index", progress=False)
    return root / "world"


@pytest.fixture(scope="module")
def client(world_dir: Path) -> Iterator[httpx.Client]:
    config = ServerConfig(index=world_dir.parent / "world.index", sandbox=None)
    with (
        EnvServer(config) as server,
        httpx.Client(base_url=server.base_url, timeout=30.0) as http,
    ):
        yield http


def recorded_organic(world_dir: Path, query: str) -> list[dict[str, object]]:
    """The recorded results of ``query`` as Serper ``organic`` items (link: the page's URL)."""
    world = World.open(world_dir)
    urls = {d.id: d.source_url for d in world.documents()}
    rows = sorted(
        (r.position, r.title, urls[r.doc_id], r.snippet)
        for r in world.iter_records("recorded_searches")
        if r.query == query and r.search_type == "search"
    )
    return [
        {"title": title, "link": link, "snippet": snippet, "position": position}
        for position, title, link, snippet in rows
    ]


def without_dates(organic: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in item.items() if k != "date"} for item in organic]


def test_search_answers_a_recorded_query_with_the_recorded_list(
    client: httpx.Client, world_dir: Path
) -> None:
    want = recorded_organic(world_dir, QUERY)
    assert len(want) == 3
    response = client.post("/search", json={"q": "Douglas Adams  Birthplace", "num": 10})
    assert response.status_code == 200
    organic = response.json()["organic"]
    assert without_dates(organic) == want
    # The Britannica page was read by Jina with a publishedTime: its date is shown.
    assert organic[1]["date"] == "Mar 7, 2024"


def test_batch_and_page_windows_use_recorded_positions(
    client: httpx.Client, world_dir: Path
) -> None:
    want = recorded_organic(world_dir, QUERY)
    body = [{"q": QUERY, "num": 2}, {"q": QUERY, "num": 2, "page": 2}, {"q": QUERY, "page": 2}]
    first, second, beyond = client.post("/search", json=body).json()
    assert without_dates(first["organic"]) == want[:2]
    assert without_dates(second["organic"]) == want[2:]
    assert beyond["organic"] == []


def test_an_unrecorded_query_falls_back_to_the_index(client: httpx.Client) -> None:
    organic = client.post("/search", json={"q": "towel day fans"}).json()["organic"]
    assert organic
    assert [item["position"] for item in organic] == list(range(1, len(organic) + 1))
    assert organic[0]["link"] == "https://apnews.com/article/towel-day-douglas-adams"


@pytest.mark.parametrize("url", [BRITANNICA, "https://arxiv.org/abs/1706.03762"])
def test_a_recorded_url_reads_back_its_recorded_text(
    client: httpx.Client, world_dir: Path, url: str
) -> None:
    text = next(d.text for d in World.open(world_dir).documents() if d.id == url_doc_id(url))
    got = client.get(f"/{url}", headers={"Accept": "application/json"})
    assert got.status_code == 200, got.text
    assert got.json()["data"]["content"] == text
    assert got.json()["data"]["url"] == url
    posted = client.post("/", json={"url": url})
    assert posted.status_code == 200 and posted.text.endswith(text)
    bare = client.get("/" + url.removeprefix("https://"))
    assert bare.status_code == 200 and f"URL Source: {url}" in bare.text
    visited = client.post("/visit", json={"url": url, "goal": "what the page says"})
    result = visited.json()["result"]
    assert visited.status_code == 200 and text[:40] in result
    assert "could not be accessed" not in result


def test_a_recorded_result_link_reads_back_through_the_reader(client: httpx.Client) -> None:
    organic = client.post("/search", json={"q": QUERY}).json()["organic"]
    for item in organic:
        page = client.post("/", json={"url": item["link"]}, headers={"Accept": "application/json"})
        assert page.status_code == 200, item["link"]


def test_an_unknown_url_still_gets_jina_422(client: httpx.Client) -> None:
    got = client.get("/https://www.britannica.com/biography/Someone-Else")
    assert got.status_code == 422


def test_a_recorded_page_also_reads_at_its_obfuscated_url(
    client: httpx.Client, world_dir: Path
) -> None:
    index = world_dir.parent / "world.index"
    rows = feather.read_table(index / URL_ALIASES_FILE).to_pylist()
    with LocalEnvironment.open(index) as env:
        alias = next(
            r["url"] for r in rows if env.store.value(r["row"], "doc_id") == url_doc_id(BRITANNICA)
        )
    got = client.get(f"/{alias}", headers={"Accept": "application/json"})
    assert got.status_code == 200
    assert got.json()["data"]["url"] == BRITANNICA  # the page's own (recorded) address
