"""``write_atomic``: whole or nothing, readable by others, no temporary left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from redsearcher._util import write_atomic


def test_text_and_lines_are_written_whole(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "a" / "summary.json", '{"ok": true}\n')
    assert path.read_text() == '{"ok": true}\n' and os.stat(path).st_mode & 0o777 == 0o644
    write_atomic(path, (f'{{"n": {i}}}' for i in range(3)))
    assert path.read_text().splitlines() == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_atomic(tmp_path / "report.html", "old")

    def lines() -> list[str]:
        raise RuntimeError("interrupted while rendering")

    with pytest.raises(RuntimeError):
        write_atomic(path, (line for line in lines()))
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
