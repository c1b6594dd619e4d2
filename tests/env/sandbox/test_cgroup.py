"""Per-run cgroups: detection, the limits written, and a run entering its cgroup through the gate.

The kernel's enforcement needs a delegated cgroup v2, which a test machine rarely has, so these
tests drive the same code against a directory laid out like one: they check what the sandbox
writes and that the run's launcher is moved in before it starts, not what the kernel does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import assert_no_own_leftovers, open_isolated, small_config

from redsearcher.env.sandbox import Sandbox
from redsearcher.env.sandbox._cgroup import RunCgroup, find_cgroup
from redsearcher.errors import ConfigError

MiB = 1 << 20


def fake_cgroup(root: Path, controllers: str = "cpu io memory pids", enabled: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text(enabled + "\n")
    return root


def test_off_and_unusable_paths(tmp_path: Path) -> None:
    assert find_cgroup("off") is None
    with pytest.raises(ConfigError, match=r"sandbox\.cgroup: .*plain is not a cgroup v2"):
        find_cgroup(tmp_path / "plain")
    no_pids = fake_cgroup(tmp_path / "no-pids", controllers="cpu memory")
    with pytest.raises(ConfigError, match=r"no-pids lacks the pids controller"):
        find_cgroup(no_pids)


def test_a_delegated_cgroup_gets_its_controllers_enabled(tmp_path: Path) -> None:
    base = fake_cgroup(tmp_path / "delegated")
    assert find_cgroup(base) == base
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert [p.name for p in base.iterdir() if p.is_dir()] == []  # the probe was removed


def test_auto_never_fails(tmp_path: Path) -> None:
    found = find_cgroup("auto")  # whatever this host has: a usable directory or None
    assert found is None or (found / "cgroup.controllers").exists()


def test_run_cgroup_limits_and_oom_verdict(tmp_path: Path) -> None:
    group = RunCgroup(fake_cgroup(tmp_path / "base"), memory=300 * MiB, pids=40)
    assert group.path.parent == tmp_path / "base"
    assert (group.path / "memory.max").read_text() == str(300 * MiB)
    assert (group.path / "pids.max").read_text() == "40"
    assert not group.oom_killed()
    (group.path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.oom_killed()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, str]]]:
    """Every run cgroup's files as the run left them (a fake directory cannot be rmdir'ed)."""
    seen: list[dict[str, str]] = []

    def remove(self: RunCgroup) -> None:
        seen.append({p.name: p.read_text() for p in self.path.iterdir()})
        shutil.rmtree(self.path)

    monkeypatch.setattr(RunCgroup, "remove", remove)
    yield seen


@pytest.mark.parametrize("mode", ["isolated", "insecure"])
def test_a_run_enters_its_cgroup_before_it_starts(
    mode: str, tmp_path: Path, recorded: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fake_cgroup(tmp_path / "base", enabled="memory pids")
    overrides: dict[str, object] = {"cgroup": base, "run_memory_bytes": 300 * MiB}
    if mode == "isolated":
        box = open_isolated(small_config(**overrides))
    else:
        overrides.update(bwrap_path="/nonexistent/bwrap", insecure=True)
        box = Sandbox(small_config(**overrides))
    with box:
        assert box.memory_bound == "cgroup"
        result = box.run("print('inside')")
        assert (result.status, result.stdout) == ("Finished", "inside\n"), result
        files = recorded[-1]
        assert files["memory.max"] == str(300 * MiB)
        assert files["pids.max"] == str(box.config.max_processes + 8)
        assert files["cgroup.procs"].isdigit()  # the gate's pid, written before it opened
        monkeypatch.setattr(RunCgroup, "oom_killed", lambda self: True)
        killed = box.run("print('x')")
    assert killed.status == "Error" and killed.notes[0].startswith(
        "The run used more than its memory budget of 300 MiB"
    )
    assert sorted(p.name for p in base.iterdir()) == [
        "cgroup.controllers",
        "cgroup.subtree_control",
    ]
    assert_no_own_leftovers()
