"""Serper ``date`` in Google's display form ("Sep 1, 2025", "3 days ago"), or ISO by setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from redsearcher.env import LocalEnvironment, SearchHit
from redsearcher.env._wire import google_date, serper_date, serper_search
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.tools._render import render_search

NOW = datetime(2025, 9, 4, 12, 0)  # naive: UTC
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        ("2025-09-01", "Sep 1, 2025"),
        ("2001-05-06", "May 6, 2001"),
        ("1999-12-31", "Dec 31, 1999"),
        ("2025-09-19T03:15:00", "Sep 19, 2025"),
        ("2025-09-19T23:15:00-05:00", "Sep 19, 2025"),  # the date as written, not UTC's
        ("2025-09-19T03:15:00Z", "Sep 19, 2025"),
        ("Tue, 02 Sep 2025 10:00:00 GMT", "Sep 2, 2025"),  # a Jina publishedTime
        ("2025-09", "Sep 2025"),
        ("2014", "2014"),  # a paper's year: nothing to add
        ("Sep 1, 2025", "Sep 1, 2025"),  # already Google's (a recorded Serper answer)
        ("3 days ago", "3 days ago"),
        ("sometime in spring", "sometime in spring"),
        ("2025-13", "2025-13"),
    ],
)
def test_google_form_is_byte_exact(published: str, shown: str) -> None:
    assert google_date(published) == shown


def test_month_abbreviations_are_googles_whatever_the_locale() -> None:
    months = [google_date(f"2020-{m:02d}-15") for m in range(1, 13)]
    assert months == [
        "Jan 15, 2020",
        "Feb 15, 2020",
        "Mar 15, 2020",
        "Apr 15, 2020",
        "May 15, 2020",
        "Jun 15, 2020",
        "Jul 15, 2020",
        "Aug 15, 2020",
        "Sep 15, 2020",
        "Oct 15, 2020",
        "Nov 15, 2020",
        "Dec 15, 2020",
    ]


@pytest.mark.parametrize(
    ("published", "shown"),
    [
        ("2025-09-04T11:59:30", "1 minute ago"),  # under a minute still says 1
        ("2025-09-04T11:58:00", "2 minutes ago"),
        ("2025-09-04T11:00:00", "1 hour ago"),
        ("2025-09-04T09:00:00Z", "3 hours ago"),
        ("2025-09-04T14:00:00+03:00", "1 hour ago"),  # 11:00 UTC
        ("2025-09-04", "12 hours ago"),  # a date counts from the start of its day
        ("2025-09-03", "1 day ago"),
        ("2025-09-01", "3 days ago"),
        ("2025-08-29", "6 days ago"),
        ("2025-08-28T12:00:01", "6 days ago"),
        ("2025-08-28T12:00:00", "Aug 28, 2025"),  # 7 days: absolute again
        ("2025-08-01", "Aug 1, 2025"),
        ("2025-09-05", "Sep 5, 2025"),  # after "now": never "ago"
        ("2025", "2025"),
        ("2025-09", "Sep 2025"),
    ],
)
def test_relative_forms_need_a_reference_now(published: str, shown: str) -> None:
    assert google_date(published, NOW) == shown
    assert google_date(published, NOW.replace(tzinfo=UTC)) == shown
    assert "ago" not in google_date(published)


def test_reference_now_with_a_timezone() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert google_date("2025-09-04", datetime(2025, 9, 4, 21, 0, tzinfo=tokyo)) == "12 hours ago"


def test_iso_style_keeps_the_worlds_value() -> None:
    assert serper_date("2025-09-01", "iso", NOW) == "2025-09-01"
    assert serper_date("2025-09-01", "google") == "Sep 1, 2025"
    assert serper_date("2025-09-01", "google", NOW) == "3 days ago"


# -- over HTTP ------------------------------------------------------------------------------


def _dated_title(local_env: LocalEnvironment) -> tuple[str, str, str]:
    """(title, url, published) of a page with a full date that its title finds."""
    store = local_env.store
    for row in range(len(store)):
        doc = store.doc(row)
        dated = doc.published is not None and len(doc.published) == 10
        if dated and doc.url in [h.url for h in local_env.search(doc.title, 10)]:
            assert doc.published is not None
            return doc.title, doc.url, doc.published
    raise AssertionError("no dated page in this World")


def _date_of(c: httpx.Client, title: str, url: str) -> str:
    organic = c.post("/search", json={"q": title}).json()["organic"]
    date: str = next(item["date"] for item in organic if item["link"] == url)
    return date


def _google(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{MONTH_NAMES[int(month) - 1]} {int(day)}, {year}"


def test_the_server_answers_googles_form_by_default(
    client: httpx.Client, local_env: LocalEnvironment
) -> None:
    title, url, published = _dated_title(local_env)
    assert ServerConfig().serper_dates == "google" and ServerConfig().serper_now is None
    shown = _date_of(client, title, url)
    assert shown == _google(published)
    data = client.post("/search", json={"q": title}).json()
    assert f"\nDate published: {shown}\n" in render_search(title, data)


def test_iso_and_relative_dates_by_setting(index_dir: Path, local_env: LocalEnvironment) -> None:
    title, url, published = _dated_title(local_env)
    iso = ServerConfig(index=index_dir, sandbox=None, serper_dates="iso")
    with EnvServer(iso, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert _date_of(c, title, url) == published
        data = c.post("/search", json={"q": title}).json()
        assert f"\nDate published: {published}\n" in render_search(title, data)
    now = datetime.fromisoformat(published) + timedelta(days=3, hours=5)
    relative = ServerConfig(index=index_dir, sandbox=None, serper_now=now)
    with EnvServer(relative, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        assert _date_of(c, title, url) == "3 days ago"
        batch = c.post("/search", json=[{"q": title}, {"q": "film"}]).json()
        assert next(i["date"] for i in batch[0]["organic"] if i["link"] == url) == "3 days ago"


def test_the_in_process_answers_use_the_servers_default() -> None:
    # Toolbox.local builds its answers with serper_search's defaults: they must read like the
    # HTTP server's (tests/agent compares the two renderings).
    hit = SearchHit("D1", "https://a.example/x", "T", "s", 1.0, "news", "2001-05-06")
    assert serper_search("q", [hit])["organic"][0]["date"] == "May 6, 2001"
    assert serper_search("q", [hit], date_style="iso")["organic"][0]["date"] == "2001-05-06"
