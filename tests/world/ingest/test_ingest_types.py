"""Types from P31 + the P279 closure and properties named from labels, on a real Wikidata slice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from redsearcher.errors import ConfigError, InputFormatError
from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world

SLICE = Path(__file__).resolve().parents[2] / "fixtures" / "realdata" / "wikidata-types-slice.json"
_ID = re.compile(r"^[PQ][0-9]+$")


def _types(world: World) -> dict[str, str]:
    return {e.id: e.type for e in world.entities()}


def _strings(world: World, subject: str, predicate: str) -> list[str | None]:
    return [f.string for f in world.facts() if f.subject == subject and f.predicate == predicate]


def test_types_follow_the_subclass_closure(ingest: Callable[..., World]) -> None:
    world = ingest(wikidata=SLICE)
    types = _types(world)
    assert types["Q2685"] == "person"
    assert types["Q30"] == "country"  # P31 sovereign state / country: mapped directly
    assert types["Q223"] == "country"  # Greenland: island nation P279 country
    assert types["Q1209"] == "city"  # Bremen: city-state P279 city
    assert types["Q24871"] == "film"  # Avatar: 3D film P279 film
    assert types["Q43406"] == "university"  # national university P279 university
    assert types["Q3950"] == "place"  # villa: house P279 building (two steps)
    assert types["Q548"] == "river"  # no mapped ancestor: the class's English label
    assert types["Q2288207"] == "fictional human"  # not a person
    assert types["Q19"] == "breaking of rules to gain advantage"  # no P31: its description
    assert not [t for t in types.values() if _ID.match(t)]
    counts = world.manifest.report["counts"]
    assert counts["types_mapped"] + counts["types_class_label"] + counts["types_description"] == (
        len(types)
    )


def test_type_map_and_class_file_extend_the_table(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    class_file = tmp_path / "classes.csv"
    class_file.write_text("class_id,parent_id\n# rivers are places\nQ4022,Q2221906\n")
    config = IngestConfig(
        type_map={"Q133442": "city-state", "Q15632617": "fictional character"},
        class_file=class_file,
    )
    types = _types(ingest(wikidata=SLICE, config=config))
    assert types["Q1209"] == "city-state"  # the nearest mapped class wins over city
    assert types["Q2288207"] == "fictional character"
    assert types["Q548"] == "place"  # through the class file's edge
    assert types["Q24871"] == "film"


def test_bad_class_file_names_file_and_line(tmp_path: Path) -> None:
    class_file = tmp_path / "classes.csv"
    class_file.write_text("Q4022,Q2221906\nriver,place\n")
    with pytest.raises(InputFormatError, match="two Q-ids") as err:
        ingest_world(
            tmp_path / "w",
            wikidata=SLICE,
            config=IngestConfig(class_file=class_file),
            progress=False,
        )
    assert err.value.path == str(class_file)
    assert err.value.line == 2
    assert not (tmp_path / "w").exists()


def test_item_values_of_a_string_predicate_become_labels(ingest: Callable[..., World]) -> None:
    world = ingest(wikidata=SLICE, config=IngestConfig(property_map={"P106": "occupation"}))
    # Q2685 has 10 occupations; the slice holds the items of three of them.
    assert _strings(world, "Q2685", "occupation") == ["film director", "actor", "politician"]
    skipped = world.manifest.report["skipped"]
    assert "value_kind_mismatch" not in skipped
    assert skipped["item_without_label"] == 7 + 1  # + Ivan Drago's occupation
    assert world.manifest.report["predicates"]["P106"] == ["occupation"]


def test_all_properties_are_named_from_english_labels(ingest: Callable[..., World]) -> None:
    world = ingest(wikidata=SLICE, config=IngestConfig(all_properties=True))
    predicates = {f.predicate for f in world.facts()}
    assert {"nickname", "social_media_followers", "country", "occupation"} <= predicates
    assert not [p for p in predicates if _ID.match(p)]
    assert not {"instance_of", "subclass_of", "commons_category"} & predicates
    assert _strings(world, "Q2685", "nickname") == [  # P1449, monolingual text
        "Arnie",
        "Governator",
        "The Styrian Oak",
        "The Austrian Oak",
    ]
    assert _strings(world, "Q2685", "occupation")[:2] == ["film director", "actor"]
    report = world.manifest.report
    assert report["predicates"]["P1449"] == ["nickname"]
    assert report["skipped"]["unlabelled_property"] >= 1  # P6872: no label anywhere
    assert report["skipped"]["identifier_property"] >= 1  # P373 Commons category
    assert "P6872" not in report["predicates"]


def test_property_entities_in_the_dump_name_properties(
    ingest: Callable[..., World], tmp_path: Path
) -> None:
    lines = SLICE.read_text().splitlines()
    props = [
        {
            "type": "property",
            "id": pid,
            "datatype": datatype,
            "labels": {"en": {"language": "en", "value": label}},
        }
        for pid, datatype, label in (
            ("P6872", "wikibase-item", "has written for"),
            ("P1449", "monolingualtext", "also known as"),  # the dump beats the bundled table
        )
    ]
    # Property entities after the items that use them: names are decided at the end.
    dump = tmp_path / "dump.json"
    body = [*lines[1:-1], *(json.dumps(p) + "," for p in props)]
    body[-1] = body[-1].rstrip(",")
    dump.write_text("\n".join(["[", *body, "]"]) + "\n")
    config = IngestConfig(properties=["P6872", "P1449"])
    world = ingest(wikidata=dump, config=config)
    assert {f.predicate for f in world.facts()} == {"also_known_as"}
    # Q2685's P6872 object is not in the slice: the relation is named, then dropped as dangling.
    assert world.manifest.report["predicates"]["P6872"] == ["has_written_for"]
    assert world.manifest.report["dangling"] == 1


def test_cli_type_flags(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from redsearcher._cli import app

    class_file = tmp_path / "classes.csv"
    class_file.write_text("Q4022,Q2221906\n")
    out = tmp_path / "world"
    base = ["world", "ingest", "--wikidata", str(SLICE), "--out", str(out), "--quiet"]
    flags = ["--type", "Q133442=city-state", "--class-file", str(class_file), "--all-properties"]
    result = CliRunner().invoke(app, [*base, *flags])
    assert result.exit_code == 0, result.output
    world = World.open(out)
    config = world.manifest.source["config"]
    assert config["type_map"] == {"Q133442": "city-state"}
    assert config["all_properties"] is True
    assert _types(world)["Q548"] == "place"
    assert "nickname" in {f.predicate for f in world.facts()}
    bad = CliRunner().invoke(app, [*base, "--overwrite", "--type", "Q133442"])
    assert isinstance(bad.exception, ConfigError)
    assert "Q123=type word" in str(bad.exception)


def test_cli_bare_property_is_named_from_its_label(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from redsearcher._cli import app

    out = tmp_path / "world"
    base = ["world", "ingest", "--wikidata", str(SLICE), "--out", str(out), "--quiet"]
    args = [*base, "--property", "P1449", "--property", "P106=occupation"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    world = World.open(out)
    predicates = {f.predicate for f in world.facts()}
    assert {"nickname", "occupation", "citizen_of", "date_of_birth"} <= predicates
    assert "social_media_followers" not in predicates  # only the named extra property
    bad = CliRunner().invoke(app, [*base, "--overwrite", "--property", "X1449"])
    assert isinstance(bad.exception, ConfigError)
    assert "X1449" in str(bad.exception)
