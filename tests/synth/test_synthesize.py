"""Synthesis over a generated World: targets hit, every task verified, resume, CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher.errors import UserError
from redsearcher.log import read_tasks
from redsearcher.synth._config import SynthConfig, parse_range
from redsearcher.synth._pipeline import open_verifier, synthesize, verify_tasks
from redsearcher.synth._verify import Verifier
from redsearcher.world import World


@pytest.fixture(scope="module")
def verifier(default_world: World) -> Iterator[Verifier]:
    with open_verifier(default_world.path) as v:
        yield v


def test_ranges() -> None:
    assert (parse_range("3", name="t").low, parse_range("3", name="t").high) == (3, 3)
    assert parse_range("2-4", name="t").high == 4 and parse_range("3-", name="t").high is None
    assert 7 in parse_range("3-", name="t") and 2 not in parse_range("3-", name="t")
    for bad in ("", "x", "4-2", "-3"):
        with pytest.raises(UserError, match="t:"):
            parse_range(bad, name="t")


@pytest.mark.parametrize(("treewidth", "msd"), [("1", "2-"), ("2-3", "3-"), ("3", "2-")])
def test_targets_are_hit_and_every_task_passes_stages_1_to_3(
    verifier: Verifier, tmp_path: Path, treewidth: str, msd: str
) -> None:
    cfg = SynthConfig(
        n=12, seed=3, treewidth=treewidth, msd=msd, tools=["maps", "scholar", "python"]
    )
    report = asyncio.run(synthesize(verifier, cfg, tmp_path / "tasks.jsonl", progress=False))
    tasks = read_tasks(tmp_path / "tasks.jsonl")
    assert len(tasks) == report.emitted == 12
    tw, m = parse_range(treewidth, name="tw"), parse_range(msd, name="msd")
    hits = sum(t.treewidth in tw and t.msd in m for t in tasks)
    assert hits >= 0.8 * len(tasks) and report.on_target == hits
    assert sum(report.hits.values()) == len(tasks)
    for task in tasks:
        stages = {v.stage: v.passed for v in task.verification}
        assert stages["structural"] and stages["shortcut"] and stages["completeness"] is not False
        assert task.answer not in task.question
        assert len({t.id for t in tasks}) == len(tasks)
    # An independent re-verification agrees.
    _, again = asyncio.run(verify_tasks(verifier, tasks))
    assert again.passed == len(tasks)


def test_tools_are_required_and_unstated(verifier: Verifier, tmp_path: Path) -> None:
    cfg = SynthConfig(n=15, seed=5, treewidth="1-3", msd="2-", tools=["maps", "scholar", "python"])
    asyncio.run(synthesize(verifier, cfg, tmp_path / "t.jsonl", progress=False))
    tasks = read_tasks(tmp_path / "t.jsonl")
    used = {tool for t in tasks for tool in t.required_tools}
    assert used == {"maps", "scholar", "python"}
    kg = verifier.kg
    for task in tasks:
        tool_constraints = [c for c in task.constraints if c.tool]
        assert {c.tool for c in tool_constraints} == set(task.required_tools)
        checks = task.verdict("tools")
        assert checks is not None
        for check in checks.detail["checks"]:
            assert check["documents_stating"] == 0
        for c in tool_constraints:
            if c.tool in ("maps", "scholar"):  # the replaced facts are in no document
                assert all(not kg.stated_by(kg.fact_row(f)) for f in c.fact_ids)
        answers = task.verdict("completeness")
        assert answers is not None
        for c in tool_constraints:
            if c.tool != "python":  # no sandbox in-process here: python answers are skipped
                assert answers.detail["tools"][f"{c.tool}:{c.subject}"] is not None


def test_same_seed_same_tasks_and_resume_after_a_torn_line(
    verifier: Verifier, tmp_path: Path
) -> None:
    cfg = SynthConfig(n=8, seed=11, treewidth="1-2", msd="2-")
    full = tmp_path / "full.jsonl"
    asyncio.run(synthesize(verifier, cfg, full, progress=False))
    lines = full.read_text().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    asyncio.run(synthesize(verifier, cfg.model_copy(update={"n": 3}), part, progress=False))
    assert _untimed(part) == _untimed(full)[:3]
    # Pretend the run was killed mid-write of a fourth task; ask for all 8 again.
    part.write_text(part.read_text() + lines[3][:40])
    asyncio.run(synthesize(verifier, cfg, part, progress=False))
    assert _untimed(part) == _untimed(full)


def _untimed(path: Path) -> list[str]:
    """Task lines without the verifiers' wall times (everything else is deterministic)."""
    out = []
    for task in read_tasks(path):
        for verdict in task.verification:
            verdict.seconds = 0.0
        out.append(task.model_dump_json())
    return out


def test_resume_refuses_another_config(verifier: Verifier, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    asyncio.run(synthesize(verifier, SynthConfig(n=2, seed=1), out, progress=False))
    with pytest.raises(UserError, match="different config"):
        asyncio.run(synthesize(verifier, SynthConfig(n=2, seed=2), out, progress=False))


def test_cli_synth_and_verify(
    default_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tasks.jsonl"
    args = ["synth", str(default_world.path), "--n", "5", "--treewidth", "2", "--msd", "3-"]
    with pytest.raises(SystemExit) as done:
        main([*args, "--tools", "maps,python", "--out", str(out), "--quiet"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "tasks by difficulty" in text and "on target:" in text and "wrote 5 tasks" in text
    with pytest.raises(SystemExit) as done:
        main(["verify", str(out), "--world", str(default_world.path)])
    assert done.value.code == 0
    assert "5/5 tasks pass every stage" in capsys.readouterr().out
    # A task file with a broken line names the file and line.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(out.read_text().splitlines()[0] + '\n{"id": 3}\n')
    with pytest.raises(SystemExit) as done:
        main(["verify", str(bad), "--world", str(default_world.path)])
    assert done.value.code == 2
    assert "bad.jsonl:2" in capsys.readouterr().err
