from __future__ import annotations

import json
from pathlib import Path

import pytest

from records_support import make_manifest, make_trajectory
from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import (
    MANIFEST_FILE,
    TRAJECTORIES_FILE,
    RunLog,
    read_manifest,
    read_trajectories,
)


def test_create_append_and_read_back(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLog.open(run, make_manifest()) as log:
        assert log.done == set()
        log.append(make_trajectory("t1", 0))
        log.append_many([make_trajectory("t1", 1), make_trajectory("t2", 0)])
        assert log.done == {"t1#0", "t1#1", "t2#0"}
    assert [t.id for t in read_trajectories(run)] == ["t1#0", "t1#1", "t2#0"]
    manifest = read_manifest(run)
    assert manifest.model == "m" and manifest.created_at.endswith("Z")
    lines = (run / TRAJECTORIES_FILE).read_bytes().splitlines(keepends=True)
    assert len(lines) == 3 and all(line.endswith(b"\n") for line in lines)


def test_resume_sees_done_ids_and_keeps_the_manifest(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLog.open(run, make_manifest()) as log:
        log.append(make_trajectory("t1", 0))
    created = read_manifest(run).created_at
    with RunLog.open(run, make_manifest(endpoints=["http://other/v1"])) as log:
        assert log.done == {"t1#0"} and log.repaired == 0
        assert log.manifest.created_at == created
        log.append(make_trajectory("t1", 1))
    assert [t.id for t in read_trajectories(run)] == ["t1#0", "t1#1"]


def test_the_services_are_informational_and_old_runs_without_them_resume(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run"
    local = {"search": "http://env", "reader": "http://env", "sandbox": "http://env",
             "fallback": None}  # fmt: skip
    with RunLog.open(run, make_manifest(environment="http://env", services=local)) as log:
        log.append(make_trajectory("t1", 0))
    serper = {**local, "search": "https://google.serper.dev"}
    with RunLog.open(run, make_manifest(environment="http://other", services=serper)) as log:
        assert log.manifest.services == local  # as recorded by the first invocation
        log.append(make_trajectory("t1", 1))
    old = json.loads((run / MANIFEST_FILE).read_text())
    del old["services"]  # a run made before the field existed
    (run / MANIFEST_FILE).write_text(json.dumps(old))
    with RunLog.open(run, make_manifest(services=serper)) as log:
        assert log.manifest.services is None and log.done == {"t1#0", "t1#1"}


def test_a_torn_last_line_is_cut_and_the_episode_is_not_done(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLog.open(run, make_manifest()) as log:
        log.append_many([make_trajectory("t1", 0), make_trajectory("t2", 0)])
    path = run / TRAJECTORIES_FILE
    whole = path.read_bytes()
    torn = make_trajectory("t3", 0).model_dump_json().encode()[:57]
    path.write_bytes(whole + torn)
    assert [t.id for t in read_trajectories(run)] == ["t1#0", "t2#0"]  # readers skip it too
    with RunLog.open(run, make_manifest()) as log:
        assert log.done == {"t1#0", "t2#0"} and log.repaired == len(torn)
        assert path.read_bytes() == whole
        log.append(make_trajectory("t3", 0))
    assert [t.id for t in read_trajectories(run)] == ["t1#0", "t2#0", "t3#0"]


def test_resume_with_other_settings_names_every_difference(tmp_path: Path) -> None:
    run = tmp_path / "run"
    RunLog.open(run, make_manifest()).close()
    changed = make_manifest(model="other", n_samples=4, agent={"max_turns": 9})
    with pytest.raises(UserError) as err:
        RunLog.open(run, changed)
    text = str(err.value)
    assert "cannot resume" in text
    for name in ("model", "n_samples", "agent.max_turns"):
        assert f"{name}:" in text
    assert "tasks_digest" not in text


def test_appending_a_done_id_is_refused(tmp_path: Path) -> None:
    with RunLog.open(tmp_path / "run", make_manifest()) as log:
        log.append(make_trajectory("t1", 0))
        with pytest.raises(ValueError, match="already"):
            log.append(make_trajectory("t1", 0))
        with pytest.raises(ValueError, match="already"):
            log.append_many([make_trajectory("t2", 0), make_trajectory("t2", 0)])
        assert log.done == {"t1#0"}


def test_a_second_writer_is_refused_while_the_first_holds_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = RunLog.open(run, make_manifest())
    with pytest.raises(UserError, match="another process"):
        RunLog.open(run, make_manifest())
    first.close()
    RunLog.open(run, make_manifest()).close()


def test_a_closed_log_refuses_appends(tmp_path: Path) -> None:
    log = RunLog.open(tmp_path / "run", make_manifest())
    log.close()
    log.close()
    assert log.closed
    with pytest.raises(RuntimeError, match="closed"):
        log.append(make_trajectory())


def test_not_a_run_directory(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(UserError, match="not a run"):
        RunLog.open(tmp_path / "busy", make_manifest())
    with pytest.raises(UserError, match="not a run directory"):
        read_manifest(tmp_path / "busy")
    with pytest.raises(UserError, match="not a run directory"):
        list(read_trajectories(tmp_path / "busy"))


def test_corrupt_complete_line_names_file_and_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLog.open(run, make_manifest()) as log:
        log.append(make_trajectory("t1", 0))
    path = run / TRAJECTORIES_FILE
    path.write_bytes(path.read_bytes() + b'{"id": 3}\n')
    with pytest.raises(InputFormatError) as err:
        RunLog.open(run, make_manifest())
    assert err.value.line == 2 and str(path) in str(err.value)


def test_duplicate_ids_in_the_file_are_reported(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with RunLog.open(run, make_manifest()) as log:
        log.append(make_trajectory("t1", 0))
    path = run / TRAJECTORIES_FILE
    path.write_bytes(path.read_bytes() * 2)
    with pytest.raises(InputFormatError, match="duplicate"):
        RunLog.open(run, make_manifest())


def test_ids_are_read_without_parsing_whole_records(tmp_path: Path) -> None:
    # The fast path reads ids from the line head; an id with quotes and unicode must survive.
    run = tmp_path / "run"
    odd = make_trajectory('q"uo\\te–ü', 0)
    with RunLog.open(run, make_manifest(), fsync=False) as log:
        log.append(odd)
    with RunLog.open(run, make_manifest()) as log:
        assert log.done == {odd.id}


def test_manifest_file_is_json(tmp_path: Path) -> None:
    RunLog.open(tmp_path / "run", make_manifest(tools=[{"type": "function"}])).close()
    data = json.loads((tmp_path / "run" / MANIFEST_FILE).read_text())
    assert data["tools"] == [{"type": "function"}] and data["schema_version"] == 1
