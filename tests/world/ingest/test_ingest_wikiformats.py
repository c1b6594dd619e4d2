"""Wikipedia inputs in their real formats: detection, join, redirects, anchors, bad input.

The fixtures (``tests/fixtures/wikiformats``, see its README) hold the same six real lead
summaries in each format; the Wikidata slice has five of their items with sitelinks and Q5
(Human) without one, so Human joins only where the format names the item.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from redsearcher._cli import app
from redsearcher.errors import ConfigError, InputFormatError
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig
from redsearcher.world.ingest import _wikipedia as wikipedia_module
from redsearcher.world.ingest._scratch import Scratch
from redsearcher.world.ingest._statements import LinkedEntity
from redsearcher.world.ingest._wiki_formats import detect_format
from redsearcher.world.ingest._wiki_markup import parsoid_text, split_extractor_links
from redsearcher.world.ingest._wiki_page import WikiLink

HERE = Path(__file__).resolve().parents[2] / "fixtures" / "wikiformats"
WIKIDATA = HERE / "wikidata.json"
INPUTS = {
    "wikiextractor": HERE / "wikiextractor" / "AA" / "wiki_00",
    "cirrus": HERE / "cirrus" / "enwiki-20240101-cirrussearch-content.json",
    "enterprise": HERE / "enterprise" / "enwiki-NS0-20240101-ENTERPRISE-HTML.json.tar.gz",
    "parquet": HERE / "parquet" / "train-00000-of-00001.parquet",
}
SUMMARIES = {
    row["title"]: row for row in pq.read_table(INPUTS["parquet"]).to_pylist()
}  # the real lead summaries, verbatim
BY_SITELINK = {
    "Arnold Schwarzenegger": "Q2685",
    "Bodybuilding": None,
    "Austria": "Q40",
    "Actor": "Q33999",
    "Catholic Church": "Q9592",
    "Human": None,  # Q5 has no sitelink in the slice
}
BY_ITEM = {**BY_SITELINK, "Human": "Q5"}
NAMES_ITEMS = {"cirrus", "enterprise"}


def _ingest(tmp_path: Path, wikipedia: Path | list[Path], **config: Any) -> World:
    from redsearcher.world.ingest import ingest_world

    out = tmp_path / f"world{len(list(tmp_path.glob('world*')))}"
    settings = IngestConfig(kb_pages=False, **config)
    ingest_world(out, wikidata=WIKIDATA, wikipedia=wikipedia, config=settings, progress=False)
    return World.open(out)


def _docs(world: World) -> dict[str, Any]:
    return {d.title: d for d in world.documents()}


def _links(world: World) -> set[tuple[str, str | None]]:
    return {(f.subject, f.object) for f in world.facts() if f.predicate == "links_to"}


# -- detection ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(INPUTS))
def test_each_fixture_is_detected_by_content(fmt: str, tmp_path: Path) -> None:
    assert detect_format(INPUTS[fmt]) == fmt
    renamed = tmp_path / "pages.data"  # the name says nothing
    shutil.copy(INPUTS[fmt], renamed)
    assert detect_format(renamed) == fmt
    assert detect_format(HERE.parent / "realkb" / "enwiki.jsonl") == "jsonl"


# -- join --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", sorted(INPUTS))
def test_each_format_joins_pages_to_items(fmt: str, tmp_path: Path) -> None:
    world = _ingest(tmp_path, INPUTS[fmt])
    docs = _docs(world)
    expected = BY_ITEM if fmt in NAMES_ITEMS else BY_SITELINK
    assert {title: d.about for title, d in docs.items()} == expected
    for title, doc in docs.items():
        assert doc.text == SUMMARIES[title]["text"]  # markup gone, text verbatim (no-break spaces)
        assert doc.kind == "encyclopedia"
    counts = world.manifest.report["counts"]
    assert counts["wikipedia_documents"] == 6
    assert counts.get("joined_by_item", 0) == (5 if fmt in NAMES_ITEMS else 0)
    assert counts.get("joined_by_sitelink", 0) == (0 if fmt in NAMES_ITEMS else 4)
    assert world.manifest.report["unjoined"] == (1 if fmt in NAMES_ITEMS else 2)
    assert counts[f"wikipedia_format_{fmt}"] == 1


def test_source_urls_follow_the_format(tmp_path: Path) -> None:
    extractor = _docs(_ingest(tmp_path, INPUTS["wikiextractor"]))["Austria"]
    cirrus = _docs(_ingest(tmp_path, INPUTS["cirrus"]))["Catholic Church"]  # no url field
    assert extractor.source_url == "https://en.wikipedia.org/wiki?curid=1003"
    assert cirrus.source_url == "https://en.wikipedia.org/wiki/Catholic_Church"


# -- redirects, hyperlinks, anchors ------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["cirrus", "enterprise"])
def test_links_resolve_through_redirects_listed_on_later_pages(fmt: str, tmp_path: Path) -> None:
    world = _ingest(tmp_path, INPUTS[fmt])
    docs = _docs(world)
    # Arnold's page links "Republic of Austria", a redirect that only the Austria page (after
    # it in the file) lists; "Actress" on the Actor page redirects to the page itself.
    assert docs["Arnold Schwarzenegger"].mentions == ("Q2685", "Q40", "Q33999")
    assert docs["Actor"].mentions == ("Q33999",)
    assert _links(world) == {("Q2685", "Q40"), ("Q2685", "Q33999")}
    counts = world.manifest.report["counts"]
    assert counts["links_via_redirect"] == 2  # Republic of Austria, Actress
    assert counts["wikipedia_redirects"] == 10  # of joined pages (Bodybuilding has no item)


def test_links_to_other_namespaces_are_not_entities(tmp_path: Path) -> None:
    rows = INPUTS["cirrus"].read_text(encoding="utf-8").splitlines()
    doc = json.loads(rows[1])
    doc["outgoing_link"] = ["Category:Actors", "File:Arnold.jpg", "User_talk:X", "Actor"]
    path = tmp_path / "cirrus.json"
    path.write_text("\n".join([rows[0], json.dumps(doc)]) + "\n", encoding="utf-8")
    world = _ingest(tmp_path, path)
    assert _docs(world)["Arnold Schwarzenegger"].mentions == ("Q2685", "Q33999")
    counts = world.manifest.report["counts"]
    assert counts["links_other_namespace"] == 3
    assert "links_unresolved" not in counts


def test_without_redirect_lists_a_redirect_link_stays_unresolved(tmp_path: Path) -> None:
    world = _ingest(tmp_path, INPUTS["wikiextractor"])
    assert _docs(world)["Arnold Schwarzenegger"].mentions == ("Q2685", "Q33999")
    assert _links(world) == {("Q2685", "Q33999")}
    assert world.manifest.report["counts"]["links_unresolved"] == 17  # 18 links, 1 resolves


def test_links_off_keeps_mentions_but_writes_no_links_to(tmp_path: Path) -> None:
    world = _ingest(tmp_path, INPUTS["enterprise"], links=False)
    assert _docs(world)["Arnold Schwarzenegger"].mentions == ("Q2685", "Q40", "Q33999")
    assert _links(world) == set()


@pytest.mark.parametrize(
    ("fmt", "arnold"),
    [
        ("wikiextractor", [LinkedEntity("Q33999", ("actor",))]),
        ("cirrus", [LinkedEntity("Q40"), LinkedEntity("Q33999")]),  # outgoing_link: no anchors
        (
            "enterprise",
            [LinkedEntity("Q40", ("Austrian",)), LinkedEntity("Q33999", ("actor",))],
        ),
    ],
)
def test_anchor_texts_reach_fact_detection(
    fmt: str, arnold: list[LinkedEntity], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: dict[str, tuple[str | None, list[LinkedEntity]]] = {}
    real = wikipedia_module.page_statements

    def spy(scratch: Scratch, text: str, about: str | None, linked: Any) -> list[int]:
        calls[text] = (about, list(linked))
        return real(scratch, text, about, linked)

    monkeypatch.setattr(wikipedia_module, "page_statements", spy)
    world = _ingest(tmp_path, INPUTS[fmt])
    assert calls[SUMMARIES["Arnold Schwarzenegger"]["text"]] == ("Q2685", arnold)
    stated = {link.fact_id for link in world.provenance()}
    link_ids = {f.id for f in world.facts() if f.predicate == "links_to"}
    assert link_ids and link_ids <= stated  # a page states the links_to facts it made


def test_anchors_of_one_entity_are_collected_in_order() -> None:
    text, links = split_extractor_links(
        'The <a href="Actor">actor</a> and <a href="Actress">actress</a>, an '
        '<a href="Actor">actor</a> again, <a href="Actor#Career">career</a>.'
    )
    assert text == "The actor and actress, an actor again, career."
    assert links == (
        WikiLink("Actor", "actor"),
        WikiLink("Actress", "actress"),
        WikiLink("Actor", "actor"),
        WikiLink("Actor", "career"),
    )


# -- markup ------------------------------------------------------------------------------------
def test_wikiextractor_escaped_links_entities_and_external_links() -> None:
    text, links = split_extractor_links(
        'Fish &amp; chips &lt;3, &lt;a href="Fish%20and%20chips"&gt;a dish&lt;/a&gt;; '
        '<a href="http%3A//example.com">a site</a>, <a href="%23Notes">notes</a>.'
    )
    assert text == "Fish & chips <3, a dish; a site, notes."
    assert links == (WikiLink("Fish and chips", "a dish"),)


def test_parsoid_html_keeps_prose_and_drops_the_apparatus() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        '<section data-mw-section-id="0"><div class="hatnote">Not to be confused.</div>'
        '<table class="infobox"><tr><td><a rel="mw:WikiLink" href="./Infobox_link">x</a>'
        "</td></tr></table>"
        '<p>It covers 83,879\u00a0km2 in <a rel="mw:WikiLink" href="./Central_Europe#East" '
        'title="Central Europe">Central<br/> Europe</a>.<sup class="mw-ref reference" '
        'typeof="mw:Extension/ref"><a href="./T#cite_note-1">[1]</a></sup></p>'
        "<ul><li>One</li><li>Two &amp; <i>three</i></li></ul>"
        '<figure><figcaption>A caption <a rel="mw:WikiLink" href="./Map">map</a></figcaption>'
        "</figure></section>"
        '<section data-mw-section-id="1"><h2 id="History">History</h2><p>Old.</p>'
        '<section data-mw-section-id="2"><h3>Notes</h3><p>A note.</p></section>'
        "<p>Still history.</p></section>"
        '<section data-mw-section-id="3"><h2>See also</h2><ul><li>'
        '<a rel="mw:WikiLink" href="./Other">Other</a></li></ul></section>'
        '<div role="navigation" class="navbox"><a rel="mw:WikiLink" href="./Nav">Nav</a></div>'
        '<a rel="mw:WikiLink" href="./Red?action=edit&amp;redlink=1" class="new">red</a>'
        "</body></html>"
    )
    text, links = parsoid_text(html)
    assert text.split("\n") == [
        "It covers 83,879\u00a0km2 in Central",
        "Europe.",
        "One",
        "Two & three",
        "History",
        "Old.",
        "Still history.",
        "red",
    ]
    assert links == (WikiLink("Central_Europe", "Central Europe"), WikiLink("Red", "red"))


# -- compression and containers ----------------------------------------------------------------
def test_compressed_inputs_read_the_same(tmp_path: Path) -> None:
    plain = _docs(_ingest(tmp_path, INPUTS["cirrus"]))
    gz = tmp_path / "enwiki-cirrussearch-content.json.gz"
    gz.write_bytes(gzip.compress(INPUTS["cirrus"].read_bytes()))
    extractor_bz2 = tmp_path / "wiki_00.bz2"  # what WikiExtractor --compress writes
    extractor_bz2.write_bytes(bz2.compress(INPUTS["wikiextractor"].read_bytes()))
    assert {t: d.about for t, d in _docs(_ingest(tmp_path, gz)).items()} == {
        t: d.about for t, d in plain.items()
    }
    assert {t: d.about for t, d in _docs(_ingest(tmp_path, extractor_bz2)).items()} == BY_SITELINK


def test_enterprise_as_plain_tar_or_bare_ndjson(tmp_path: Path) -> None:
    tar = gzip.decompress(INPUTS["enterprise"].read_bytes())
    plain_tar = tmp_path / "enwiki-NS0-ENTERPRISE-HTML.json.tar"
    plain_tar.write_bytes(tar)
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        member = archive.extractfile("enwiki_namespace_0_0.ndjson")
        assert member is not None
        ndjson = tmp_path / "enwiki_namespace_0_0.ndjson"
        ndjson.write_bytes(member.read())
    for path in (plain_tar, ndjson):
        assert detect_format(path) == "enterprise"
        assert {t: d.about for t, d in _docs(_ingest(tmp_path, path)).items()} == BY_ITEM


def test_mixed_formats_in_one_ingest(tmp_path: Path) -> None:
    # Enterprise knows the redirects; the WikiExtractor page of the same title is a duplicate.
    world = _ingest(tmp_path, [INPUTS["wikiextractor"], INPUTS["enterprise"]])
    assert world.manifest.report["skipped"]["duplicate_title"] == 6
    assert _docs(world)["Arnold Schwarzenegger"].mentions == ("Q2685", "Q40", "Q33999")


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("forced", "fixture", "field"),
    [
        ("cirrus", "wikiextractor", "index"),
        ("enterprise", "cirrus", "article_body"),
        ("wikiextractor", "cirrus", "revid"),
    ],
)
def test_a_forced_format_that_does_not_fit_names_file_line_and_field(
    forced: str, fixture: str, field: str, tmp_path: Path
) -> None:
    with pytest.raises(InputFormatError) as err:
        _ingest(tmp_path, INPUTS[fixture], wikipedia_format=forced)
    assert err.value.path == str(INPUTS[fixture])
    assert err.value.line == 1
    assert err.value.field == field
    assert f"not a {forced} file" in str(err.value)
    assert not list(tmp_path.glob("world*"))  # nothing written


def test_parquet_forced_on_json_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="not a readable Parquet file"):
        _ingest(tmp_path, INPUTS["cirrus"], wikipedia_format="parquet")


def test_bad_cirrus_records_are_skipped_with_file_line_and_field(tmp_path: Path) -> None:
    lines = INPUTS["cirrus"].read_text(encoding="utf-8").splitlines()
    action = '{"index":{"_id":"9"}}'
    bad = [
        action,
        json.dumps({"namespace": 0, "title": 5, "text": "x"}),  # line 2
        action,
        '{"namespace": 0, "title": "Broken',  # line 4
        action,
        json.dumps({"namespace": 0, "title": "Odd", "text": "x", "wikibase_item": "Human"}),
        action,
        json.dumps({"namespace": 14, "title": "Austrian film actors", "text": "x"}),
        action,
        json.dumps({"namespace": 0, "title": "No text"}),  # line 10
        action,
        json.dumps({"namespace": 0, "title": "Bad redirects", "text": "x", "redirect": ["R"]}),
    ]
    path = tmp_path / "cirrus.json"
    path.write_text("\n".join(bad + lines) + "\n", encoding="utf-8")
    world = _ingest(tmp_path, path)
    report = world.manifest.report
    problems = [(p["line"], p["reason"], p["detail"]) for p in report["problems"]]
    assert problems == [
        (2, "wrong_type", "title is a int, not a string"),
        (4, "bad_json", problems[1][2]),
        (6, "wrong_type", "wikibase_item is 'Human', not a Wikidata item id (Q123)"),
        (10, "missing_field", "text"),
        (12, "wrong_type", "redirect is not a list of objects"),
    ]
    assert all(p["file"] == str(path) for p in report["problems"])  # reported once, not twice
    assert report["skipped"]["other_namespace"] == 1
    assert {t: d.about for t, d in _docs(world).items()} == BY_ITEM


def test_bad_enterprise_records_name_the_archive_member(tmp_path: Path) -> None:
    good = {"name": "Stub", "namespace": {"identifier": 0}, "article_body": {"html": "<p>x</p>"}}
    rows = [
        json.dumps({"name": "No body", "namespace": {"identifier": 0}, "article_body": {}}),
        json.dumps({**good, "main_entity": "Q5"}),
        json.dumps({**good, "redirects": [{"url": "https://en.wikipedia.org/wiki/R"}]}),
        json.dumps(good),
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w:gz") as archive:
        info = tarfile.TarInfo("enwiki_namespace_0_7.ndjson")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    path = tmp_path / "enterprise.json.tar.gz"
    path.write_bytes(tar_bytes.getvalue())
    world = _ingest(tmp_path, path)
    problems = [(p["file"], p["line"], p["detail"]) for p in world.manifest.report["problems"]]
    member = f"{path}/enwiki_namespace_0_7.ndjson"
    assert problems == [
        (member, 1, "article_body.html"),
        (member, 2, "main_entity is a str, not an object"),
        (member, 3, "redirects.name is not a string"),
    ]
    assert [d.title for d in world.documents()] == ["Stub"]


def test_truncated_enterprise_archive_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "enwiki-NS0-ENTERPRISE-HTML.json.tar.gz"
    path.write_bytes(INPUTS["enterprise"].read_bytes()[:-200])
    with pytest.raises(InputFormatError) as err:
        _ingest(tmp_path, path, wikipedia_format="enterprise")
    assert err.value.path == str(path)


# -- the scratch table -------------------------------------------------------------------------
def test_a_page_title_wins_over_a_redirect_of_the_same_title(tmp_path: Path) -> None:
    with Scratch(tmp_path, "w") as scratch:
        assert scratch.wiki_title_item("Austria") is None  # nothing recorded yet
        scratch.add_wiki_titles([("Austria", "Q1", True), ("Vienna", "Q2", True)])
        scratch.add_wiki_titles([("Austria", "Q40", False), ("Vienna", "Q3", True)])
        scratch.add_wiki_titles([("Austria", "Q9", True)])
        assert scratch.wiki_title_item("Austria") == ("Q40", False)
        assert scratch.wiki_title_item("Vienna") == ("Q2", True)  # first redirect row wins


# -- command line ------------------------------------------------------------------------------
def test_cli_wikipedia_format_flag(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["world", "ingest", "--wikidata", str(WIKIDATA), "--no-kb-pages", "--quiet"]
    out = tmp_path / "cli"
    args = [*base, "--wikipedia", str(INPUTS["cirrus"]), "--out", str(out)]
    result = runner.invoke(app, [*args, "--wikipedia-format", "cirrus"])
    assert result.exit_code == 0, result.output
    world = World.open(out)
    assert world.manifest.source["config"]["wikipedia_format"] == "cirrus"
    assert _docs(world)["Human"].about == "Q5"
    bogus_out = str(tmp_path / "b")
    bogus_args = [*base, "--wikipedia", str(INPUTS["cirrus"]), "--out", bogus_out]
    bogus = runner.invoke(app, [*bogus_args, "--wikipedia-format", "xml"])
    assert isinstance(bogus.exception, ConfigError)  # main() turns it into exit code 2
    assert "wikipedia_format" in str(bogus.exception)
    assert "'cirrus' or 'enterprise'" in str(bogus.exception)  # the choices are named
    assert not (tmp_path / "b").exists()
