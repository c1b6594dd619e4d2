"""Text that UTF-8 cannot encode (a lone surrogate, as a JSON ``"\\ud800"`` decodes) reaching
the engine directly, not through the server's check: a miss or a search of the rest, never an
exception out of tantivy or the URL map."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.testing import small_world


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    root = tmp_path_factory.mktemp("unencodable")
    small_world(root / "w", entities=80)
    build_index(root / "w", root / "i", progress=False)
    with LocalEnvironment.open(root / "i") as opened:
        yield opened


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\udc80"])
def test_search_with_a_lone_surrogate_searches_the_rest(env: LocalEnvironment, bad: str) -> None:
    hit = env.search("film", 1)[0]
    title = hit.title
    assert [h.url for h in env.search(f"{title}{bad}", 5)] == [
        h.url for h in env.search(f"{title}?", 5)
    ]
    assert env.search(bad, 5) == []
    assert isinstance(env.scholar(bad, 3), list)
    assert isinstance(env.places(f"museum {bad}", 3), list)


@pytest.mark.parametrize("bad", ["\ud800", "https://x.example/\ud800", "www.\udcff.com/a"])
def test_visit_of_a_lone_surrogate_url_is_a_miss(env: LocalEnvironment, bad: str) -> None:
    assert env.visit(bad) is None
    url = env.search("film", 1)[0].url
    assert env.visit(url + "\ud800") is None
    assert env.visit(url) is not None
