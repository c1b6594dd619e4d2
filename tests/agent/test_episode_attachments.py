"""A task's attachment in the Python tool's working directory: GAIA's CSV task, end to end.

The fixture is in GAIA's own layout (``metadata.jsonl`` with a ``file_name`` column, the file
beside it). The scripted model can only answer right if the tool output it reads holds the
CSV's content: its answering step expects the printed total, so a run without the file fails.
The sandbox is the real bubblewrap one (skipped without bwrap, failed under CI).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox import Sandbox, SandboxConfig, SandboxUnavailable
from redsearcher.eval import exact_match, load_benchmark
from redsearcher.log import Task, Trajectory
from redsearcher.testing import (
    Expect,
    ScriptedModel,
    Step,
    ToolCallSpec,
    text_answer,
    text_python_call,
)
from redsearcher.tools import Toolbox

GAIA = Path(__file__).parents[1] / "fixtures" / "benchmarks" / "gaia-csv"
CSV_TASK = "7bd855d8-463d-4ed5-93ca-5fe35145f733"
CSV_NAME = f"{CSV_TASK}.csv"
TOTAL = "39619.00"
CODE = (
    "import csv\n"
    f"rows = list(csv.DictReader(open({CSV_NAME!r})))\n"
    "print(rows[0]['Location'])\n"
    "food = sum(int(v) for r in rows for k, v in r.items() if k not in ('Location', 'Soda'))\n"
    "print(f'{food:.2f}')"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """The isolated sandbox, or a skip (a failure under CI, as the sandbox tests do)."""
    try:
        box = Sandbox(SandboxConfig(timeout=10.0, max_timeout=10.0))
        box.start()
    except SandboxUnavailable as err:
        if os.environ.get("CI"):
            pytest.fail(f"bubblewrap is required under CI: {err}")
        pytest.skip(f"bubblewrap unavailable: {err}")
    yield box
    box.close()


def gaia_task(folder: Path = GAIA) -> Task:
    """The CSV task as ``redsearcher bench gaia`` loads it."""
    tasks = load_benchmark("gaia", folder / "metadata.jsonl").tasks
    return next(t for t in tasks if t.id == CSV_TASK)


def solving_steps(protocol: str) -> list[Step]:
    """Read the CSV with Python, then answer only if the tool output showed the total."""
    if protocol == "native":
        call = Step(content=None, tool_calls=[ToolCallSpec(name="PythonInterpreter",
                                                           arguments={"code": CODE})])  # fmt: skip
    else:
        call = Step(content=text_python_call(CODE))
    expect = Expect(last_message_contains=f"stdout:\nPinebrook\n{TOTAL}")
    return [call, Step(content=text_answer(TOTAL), expect=expect)]


def run(task: Task, model: ScriptedModel, toolbox: Toolbox, **config: object) -> Trajectory:
    async def main() -> Trajectory:
        async with toolbox:
            return await run_episode(
                task, model=model, toolbox=toolbox, config=AgentConfig.model_validate(config)
            )

    return asyncio.run(main())


@pytest.mark.parametrize("protocol", ["native", "text"])
def test_the_agent_reads_the_attached_csv_and_answers_from_it(
    tiny_env: LocalEnvironment, sandbox: Sandbox, protocol: str
) -> None:
    task = gaia_task()
    model = ScriptedModel(solving_steps(protocol), protocol=protocol)  # type: ignore[arg-type]
    traj = run(task, model, Toolbox.local(tiny_env, sandbox=sandbox))
    model.assert_all_used()
    assert traj.termination == "answer", traj.error
    assert exact_match(traj.prediction, traj.answers)  # the exact judge's verdict: correct
    (call,) = traj.tool_calls
    assert not call.error and call.output == f"stdout:\nPinebrook\n{TOTAL}\n"
    # The question names the file once; the trajectory keeps the task's own question.
    shown = traj.messages[1].content
    assert shown == (
        f"{task.question}\n\nAttached file: `{CSV_NAME}` (in the Python tool's working directory)."
    )
    assert traj.question == task.question
    data = (GAIA / CSV_NAME).read_bytes()
    (record,) = traj.attachments
    assert (record.name, record.size) == (CSV_NAME, len(data))
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    line = traj.model_dump_json()
    assert "Marztep" not in line  # the bytes never go into the trajectory (only tool output)
    assert Trajectory.model_validate_json(line) == traj


def test_runs_without_attachments_see_no_files_and_records_stay_as_before(
    tiny_env: LocalEnvironment, sandbox: Sandbox
) -> None:
    task = gaia_task().model_copy(update={"attachments": []})
    code = "import os\nprint(sorted(os.listdir('.')))"
    steps = [Step(content=text_python_call(code)), Step(content=text_answer("x"))]
    model = ScriptedModel(steps, protocol="text")
    traj = run(task, model, Toolbox.local(tiny_env, sandbox=sandbox))
    assert traj.tool_calls[0].output == "stdout:\n['main.py']\n"
    assert traj.messages[1].content == task.question
    assert traj.attachments == [] and "attachments" not in traj.model_dump(mode="json")


def test_a_missing_attachment_ends_the_episode_with_an_error_naming_task_and_file(
    tiny_env: LocalEnvironment, tmp_path: Path
) -> None:
    for name in ("metadata.jsonl", CSV_NAME):
        shutil.copy(GAIA / name, tmp_path / name)
    task = gaia_task(tmp_path)
    (tmp_path / CSV_NAME).unlink()  # gone between loading and the run
    model = ScriptedModel([], default=None)
    traj = run(task, model, Toolbox.local(tiny_env))
    assert traj.termination == "error" and model.calls == []
    assert traj.error is not None
    assert f"task {CSV_TASK!r}" in traj.error and CSV_NAME in traj.error
    assert "file not found" in traj.error
    assert traj.prediction is None and traj.attachments == []


def test_an_oversized_attachment_ends_the_episode_with_an_error(
    tiny_env: LocalEnvironment,
) -> None:
    model = ScriptedModel([], default=None)
    size = (GAIA / CSV_NAME).stat().st_size
    traj = run(gaia_task(), model, Toolbox.local(tiny_env), max_attachment_bytes=size - 1)
    assert traj.termination == "error" and model.calls == []
    assert traj.error is not None
    assert f"task {CSV_TASK!r}" in traj.error and CSV_NAME in traj.error
    assert f"{size} bytes, more than the sandbox's limit of {size - 1}" in traj.error


def test_an_episode_without_the_python_tool_gets_the_question_alone(
    tiny_env: LocalEnvironment,
) -> None:
    """The tool-free regime: no file it could not open, no line about one, no error."""
    task = gaia_task().model_copy(update={"attachments": ["/nowhere/gone.csv"]})
    model = ScriptedModel([Step(content=text_answer("0"))], protocol="text")
    traj = run(task, model, Toolbox.local(tiny_env), tools=[])
    assert traj.termination == "answer" and traj.attachments == []
    assert traj.messages[1].content == task.question
