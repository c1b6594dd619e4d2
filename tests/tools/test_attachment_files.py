"""Reading a task's attachments: bounded, named as the sandbox will name them, errors that say
which task and which file; and the per-episode toolbox view that carries them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from redsearcher.env import LocalEnvironment
from redsearcher.tools import (
    DEFAULT_MAX_ATTACHMENT_BYTES,
    AttachmentError,
    Toolbox,
    as_files,
    read_attachments,
)


def test_files_are_read_under_their_base_names_with_size_and_digest(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x,y\n1,2\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_bytes(b"print(1)\n")
    found = read_attachments("t1", [str(tmp_path / "a.csv"), str(tmp_path / "sub" / "b.py")])
    assert as_files(found) == {"a.csv": b"x,y\n1,2\n", "b.py": b"print(1)\n"}
    record = found[0].record()
    assert (record.name, record.size) == ("a.csv", 8)
    assert record.sha256 == hashlib.sha256(b"x,y\n1,2\n").hexdigest()


def test_the_default_bound_is_what_the_default_sandbox_takes_in_one_run() -> None:
    assert DEFAULT_MAX_ATTACHMENT_BYTES == 8 * 1024 * 1024


def test_the_bound_holds_for_the_files_together(tmp_path: Path) -> None:
    for name in ("a.bin", "b.bin"):
        (tmp_path / name).write_bytes(b"0" * 60)
    paths = [str(tmp_path / "a.bin"), str(tmp_path / "b.bin")]
    assert len(read_attachments("t", paths, max_bytes=120)) == 2
    with pytest.raises(AttachmentError, match=r"task 't': attachment '.*b\.bin': 60 bytes, more"):
        read_attachments("t", paths, max_bytes=119)


@pytest.mark.parametrize(
    ("names", "problem"),
    [
        (["gone.csv"], "file not found"),
        (["main.py"], "the sandbox's own script"),
        (["x/a.csv", "y/a.csv"], "also named 'a.csv'"),
        (["bad\nname.csv"], "is not a usable file name"),
    ],
)
def test_bad_attachments_name_the_task_and_the_file(
    tmp_path: Path, names: list[str], problem: str
) -> None:
    paths = []
    for name in names:
        path = tmp_path / name
        if name != "gone.csv":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"1")
        paths.append(str(path))
    with pytest.raises(AttachmentError, match=problem) as caught:
        read_attachments("gaia-7", paths)
    assert "task 'gaia-7'" in str(caught.value) and repr(paths[-1]) in str(caught.value)


def test_a_directory_is_not_an_attachment(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="file not found"):
        read_attachments("t", [str(tmp_path)])


def test_the_episode_view_shares_the_backend_but_not_the_files(tiny_env: LocalEnvironment) -> None:
    box = Toolbox.local(tiny_env, cache=True)
    view = box.with_files({"a.csv": b"1"})
    assert view.files == {"a.csv": b"1"} and box.files == {}
    assert view.backend is box.backend and view.tools == box.tools
    assert view.with_files({}).files == {}
