"""Goal-directed visit over HTTP: the Tongyi/DeepTraceHub tool arguments and rendered text."""

from __future__ import annotations

import httpx
from server_support import Known

from redsearcher.tools._render import SEPARATOR, VISIT_FAILED_EVIDENCE


def test_visit_one_url(client: httpx.Client, known: Known) -> None:
    r = client.post("/visit", json={"url": known.doc_url, "goal": "who directed the film"})
    assert r.status_code == 200
    text = r.json()["result"]
    assert text.startswith(
        f"The useful information in {known.doc_url} for user goal who directed the film as follows"
    )
    assert "Evidence in page: \n" in text and "Summary: \n" in text
    assert "director" in text


def test_visit_list_and_unknown_page(client: httpx.Client, known: Known) -> None:
    urls = [known.doc_url, "https://www.nowhere-at-all.com/"]
    r = client.post("/visit", json={"url": urls, "goal": "director"})
    blocks = r.json()["result"].split(SEPARATOR)
    assert len(blocks) == 2
    assert VISIT_FAILED_EVIDENCE in blocks[1]


def test_visit_bad_input(client: httpx.Client) -> None:
    r = client.post("/visit", json={"url": [], "goal": "x"})
    assert r.status_code == 400 and "'url'" in r.json()["message"]
    r = client.post("/visit", json={"url": "https://a.com"})
    assert r.status_code == 400 and "'goal'" in r.json()["message"]
