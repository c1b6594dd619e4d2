"""The resumable JSONL primitive and the typed reader, on their own."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import HeaderMismatch, JsonlFile, RecordError, iter_records


class Rec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    id: str
    value: int = 0


class Config(BaseModel):
    model: str
    seed: int
    note: str = ""


def recs(*ids: str) -> list[Rec]:
    return [Rec(id=i, value=n) for n, i in enumerate(ids)]


def test_append_group_commit_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "out" / "r.jsonl"  # the directory is created
    with JsonlFile.open(path) as file:
        assert (file.done, file.repaired) == (set(), 0)
        file.append(Rec(id="a"))
        file.append_many(recs("b", "c"))
        file.append_many([])
        assert file.done == {"a", "b", "c"}
    lines = path.read_bytes().splitlines(keepends=True)
    assert lines == [r.model_dump_json().encode() + b"\n" for r in [Rec(id="a"), *recs("b", "c")]]
    with JsonlFile.open(path) as file:
        assert file.done == {"a", "b", "c"} and file.repaired == 0
        file.append({"id": "d", "value": 1})  # plain JSON objects too
    assert [r.id for r in iter_records(path, Rec)] == ["a", "b", "c", "d"]


def test_a_torn_tail_is_cut_once_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with JsonlFile.open(path) as file:
        file.append_many(recs("a", "b"))
    whole = path.read_bytes()
    torn = Rec(id="c").model_dump_json().encode()[:17]
    path.write_bytes(whole + torn)
    with JsonlFile.open(path) as file:
        assert file.repaired == len(torn) and file.done == {"a", "b"}
        assert path.read_bytes() == whole
        file.append(Rec(id="c"))
    with JsonlFile.open(path) as file:
        assert file.repaired == 0 and file.done == {"a", "b", "c"}


def test_ids_only_count_once_fsynced_and_a_failed_write_is_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.jsonl"
    file = JsonlFile.open(path)
    file.append(Rec(id="a"))

    def no_disk(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", no_disk)
    with pytest.raises(OSError):
        file.append(Rec(id="b"))
    assert file.done == {"a"}  # written, but never acknowledged
    monkeypatch.undo()
    with pytest.raises(RuntimeError, match="reopen"):
        file.append(Rec(id="c"))
    file.close()

    real_write = os.write

    def half(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    file = JsonlFile.open(path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "write", half)
    with pytest.raises(OSError):
        file.append(Rec(id="c"))
    monkeypatch.undo()
    assert file.done == {"a", "b"}
    file.close()
    with JsonlFile.open(path) as file:
        assert file.repaired > 0 and path.read_bytes() == before
        assert file.done == {"a", "b"}


def test_repeated_and_missing_ids_are_refused(tmp_path: Path) -> None:
    with JsonlFile.open(tmp_path / "r.jsonl") as file:
        file.append(Rec(id="a"))
        with pytest.raises(ValueError, match="already"):
            file.append(Rec(id="a"))
        with pytest.raises(ValueError, match="already"):
            file.append_many(recs("b", "b"))
        with pytest.raises(ValueError, match="string 'id'"):
            file.append({"value": 3})
        assert file.done == {"a"}
    file.close()  # idempotent
    assert file.closed
    with pytest.raises(RuntimeError, match="closed"):
        file.append(Rec(id="z"))


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with JsonlFile.open(path), pytest.raises(UserError, match="another process"):
        JsonlFile.open(path)  # the data file itself is the lock
    lock = tmp_path / ".lock"
    with JsonlFile.open(path, lock_path=lock), pytest.raises(UserError, match="another process"):
        JsonlFile.open(path, lock_path=lock)
    JsonlFile.open(path, lock_path=lock).close()  # released on close


def test_the_header_is_pinned_and_every_differing_key_named(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    header = {"world": "w1", "config": {"seed": 1}, "n": 3}
    with JsonlFile.open(path, header=header) as file:
        file.append(Rec(id="a"))
    sidecar = JsonlFile.header_path(path)
    assert sidecar.name == "r.jsonl.meta.json"
    assert sidecar.read_text() == json.dumps(header, indent=2) + "\n"
    assert not list(tmp_path.glob("*.tmp"))  # written through a renamed temporary file
    with JsonlFile.open(path, header=dict(header)) as file:
        assert file.header == header and file.done == {"a"}
    changed = {"world": "w2", "config": {"seed": 2}, "n": 3, "extra": True}
    with pytest.raises(HeaderMismatch) as err:
        JsonlFile.open(path, header=changed, hint="use another --out")
    # Objects are compared key by key, so the message names the setting that changed.
    assert err.value.differences == [
        ("config.seed", 1, 2),
        ("extra", None, True),
        ("world", "w1", "w2"),
    ]
    text = str(err.value)
    assert "cannot resume" in text and "use another --out" in text
    assert 'world: "w1" (recorded) != "w2" (now)' in text and "n:" not in text
    assert isinstance(err.value, UserError)
    # Only identity keys are compared; the recorded header wins for the others.
    with JsonlFile.open(path, header={**header, "n": 9}, identity=["world", "config"]) as file:
        assert file.header == header


def test_a_model_header_keeps_the_recorded_one(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    header_path = tmp_path / "run.json"
    JsonlFile.open(path, header=Config(model="m", seed=1), header_path=header_path).close()
    assert json.loads(header_path.read_text()) == {"model": "m", "seed": 1, "note": ""}
    with JsonlFile.open(
        path, header=Config(model="m", seed=1, note="x"), header_path=header_path,
        identity=["model", "seed"],
    ) as file:  # fmt: skip
        assert file.header == Config(model="m", seed=1)
    with pytest.raises(HeaderMismatch, match="different seed"):
        JsonlFile.open(path, header=Config(model="m", seed=2), header_path=header_path)
    header_path.write_text('{"model": "m"}')
    with pytest.raises(InputFormatError, match=r"run\.json") as bad:
        JsonlFile.open(path, header=Config(model="m", seed=1), header_path=header_path)
    assert bad.value.field == "seed"


def test_records_without_their_header_are_not_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(Rec(id="a").model_dump_json() + "\n")
    with pytest.raises(UserError, match=r"no r\.jsonl\.meta\.json"):
        JsonlFile.open(path, header={"k": 1})
    assert not JsonlFile.header_path(path).exists()
    fresh = tmp_path / "new.jsonl"
    JsonlFile.header_path(fresh).write_text('{"k": 1}\n')
    with pytest.raises(HeaderMismatch):
        JsonlFile.open(fresh, header={"k": 2})
    assert not fresh.exists()  # a refused open leaves nothing behind


def test_ids_come_from_the_line_head_or_from_the_whole_record(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    odd = 'q"uo\\te–ü'
    path.write_text(
        Rec(id=odd).model_dump_json() + "\n"
        + json.dumps({"id": "spaced", "value": 1}) + "\n"
        + json.dumps({"value": 2, "id": "late"}) + "\n"
        + "\n"
    )  # fmt: skip
    with JsonlFile.open(path, model=Rec) as file:
        assert file.done == {odd, "spaced", "late"}
    path.write_text(path.read_text() + '{"value": 3}\n')
    with pytest.raises(InputFormatError) as err:
        JsonlFile.open(path, model=Rec)
    assert (err.value.line, err.value.field) == (5, "id")
    path.write_text(Rec(id="a").model_dump_json() + "\n" + Rec(id="a").model_dump_json() + "\n")
    with pytest.raises(InputFormatError, match="duplicate") as err:
        JsonlFile.open(path)
    assert err.value.line == 2


def test_bad_lines_are_named_by_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    good = Rec(id="a").model_dump_json().encode() + b"\n"
    cases: list[tuple[bytes, str, str | None]] = [
        (b'{"id": "b", "value": "many"}\n', "not a Rec record", "value"),
        (b'{"id": "b", "colour": 1}\n', "not a Rec record", "colour"),
        (b'{"id": "b", \n', "Invalid JSON", None),
        (b'{"id": "caf\xe9"}\n', "not UTF-8", None),
    ]
    for bad, message, field in cases:
        path.write_bytes(good + b"\n" + bad)
        with pytest.raises(InputFormatError, match=message) as err:
            list(iter_records(path, Rec))
        assert (err.value.path, err.value.line, err.value.field) == (str(path), 3, field)
        assert f"{path}:3" in str(err.value)
    path.write_bytes(good + b'{"id": "\xff\xfe"}\n')
    with pytest.raises(InputFormatError, match="not UTF-8") as err:
        JsonlFile.open(path)  # the fast id path decodes too
    assert err.value.line == 2


def test_a_torn_tail_is_skipped_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    good = Rec(id="a").model_dump_json() + "\n"
    path.write_text(good + '{"id": "b", "va')
    assert [r.id for r in iter_records(path, Rec, torn_tail=True)] == ["a"]
    with pytest.raises(InputFormatError) as err:
        list(iter_records(path, Rec))
    assert err.value.line == 2
    path.write_text(good + Rec(id="b").model_dump_json())  # a hand-written file's last line
    assert [r.id for r in iter_records(path, Rec)] == ["a", "b"]
    with pytest.raises(UserError, match="not found"):
        list(iter_records(tmp_path / "missing.jsonl", Rec))


def test_adapters_and_unique_fields(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"key": "a"}\n{"key": "b", "n": 2}\n{"key": "a"}\n')

    def adapt(row: Any) -> dict[str, Any]:
        if "key" not in row:
            raise RecordError("no key", field="key")
        return {"id": row["key"], "value": row.get("n", 0)}

    with pytest.raises(InputFormatError, match="repeats the one on line 1") as err:
        list(iter_records(path, Rec, adapt=adapt, unique="id"))
    assert (err.value.line, err.value.field) == (3, "id")
    path.write_text('{"key": "a"}\n{"other": 1}\n')
    with pytest.raises(InputFormatError, match="no key") as err:
        list(iter_records(path, Rec, adapt=adapt))
    assert (err.value.line, err.value.field) == (2, "key")
    path.write_text('{"key": "a"}\n{"key": "b", "n": "x"}\n')
    with pytest.raises(InputFormatError, match="not a row") as err:
        list(iter_records(path, Rec, adapt=adapt, what="row"))
    assert (err.value.line, err.value.field) == (2, "value")


class Note(BaseModel):
    id: str
    text: str


def test_lone_surrogates_are_written_as_replacement_characters(tmp_path: Path) -> None:
    """One record with model text UTF-8 cannot carry must not fail its whole group commit."""
    path = tmp_path / "r.jsonl"
    with JsonlFile.open(path) as file:
        file.append_many([Note(id="a", text="ok"), Note(id="b", text="x\ud800y")])
        file.append({"id": "c", "text": "\udfff"})
        assert file.done == {"a", "b", "c"}
    raw = path.read_bytes().decode("utf-8")
    assert [json.loads(line)["text"] for line in raw.splitlines()] == ["ok", "x\ufffdy", "\ufffd"]
    with JsonlFile.open(path) as file:
        assert file.done == {"a", "b", "c"}


def test_a_lone_surrogate_escape_in_an_adapted_row_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"id": "a", "value": 1}\n{"id": "b\\ud800", "value": 2}\n')
    with pytest.raises(InputFormatError) as caught:
        list(iter_records(path, Rec, adapt=lambda row: row))
    assert (caught.value.line, caught.value.field) == (2, "id")
    assert "lone surrogate" in str(caught.value)
