"""Bounds on whole runs (issue 11): memory of all a run's processes together, concurrent runs,
cancellation, and an unisolated run that leaves no process and no file behind."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sandbox_helpers import assert_no_own_leftovers, open_isolated, own_runs, small_config

from redsearcher.env.sandbox import Sandbox, SandboxBusy, SandboxConfig

MiB = 1 << 20

# Four processes of 120 MiB each: every one is far under its 512 MiB address-space cap, together
# they are over the 300 MiB budget of the run. Each one stays alive long enough to be seen.
BOMB = """
import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(120 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(4)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("all four held their memory")
"""


def bounded(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "memory_bytes": 512 * MiB,
        "run_memory_bytes": 300 * MiB,
        "timeout": 8.0,
    }
    fields.update(overrides)
    return fields


@pytest.fixture(scope="module", params=["isolated", "insecure"])
def budget_box(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A sandbox with a 300 MiB budget per run, with and without bubblewrap."""
    if request.param == "isolated":
        box = open_isolated(small_config(**bounded()))
    else:
        box = Sandbox(small_config(**bounded(bwrap_path="/nonexistent/bwrap", insecure=True)))
    yield box
    box.close()


def test_a_memory_bomb_across_processes_is_killed_at_the_run_budget(budget_box: Sandbox) -> None:
    started = time.monotonic()
    result = budget_box.run(BOMB)
    assert result.status == "Error" and result.return_code is None, result
    assert "all four" not in result.stdout
    assert result.notes[0] == (
        "The run used more than its memory budget of 300 MiB (all its processes together), "
        "so it was killed."
    )
    assert time.monotonic() - started < 4  # killed when over, not at the deadline
    assert_no_own_leftovers()


def test_one_process_under_the_budget_runs(budget_box: Sandbox) -> None:
    code = "block = bytearray(200 * 1024 * 1024)\nblock[::4096] = b'x' * len(block[::4096])\n"
    result = budget_box.run(code + "print(len(block) // 2**20)")
    assert (result.status, result.stdout) == ("Finished", "200\n"), result


# -- concurrent runs -------------------------------------------------------------------------


def test_runs_beyond_the_slots_wait_then_get_busy(insecure: Sandbox) -> None:
    box = Sandbox(insecure.config.model_copy(update={"max_concurrency": 2, "queue_timeout": 0.5}))
    results: list[str] = []

    def long_run() -> None:
        results.append(box.run("import time\ntime.sleep(2.5)\nprint('done')").stdout)

    threads = [threading.Thread(target=long_run) for _ in range(2)]
    with box:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while box.slots.busy < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert box.slots.busy == 2
        waited = time.monotonic()
        with pytest.raises(SandboxBusy, match=r"all 2 sandbox slots stayed busy for 0\.5 s"):
            box.run("print(1)")
        assert 0.4 < time.monotonic() - waited < 1.5
        for thread in threads:
            thread.join()
        assert results == ["done\n", "done\n"]
        assert box.slots.busy == 0 and box.run("print(1)").stdout == "1\n"


def test_a_waiting_run_gets_the_next_free_slot(insecure: Sandbox) -> None:
    box = Sandbox(insecure.config.model_copy(update={"max_concurrency": 1, "queue_timeout": 5}))

    async def main() -> tuple[str, str]:
        first = asyncio.create_task(box.arun("import time\ntime.sleep(1)\nprint('first')"))
        await asyncio.sleep(0.2)
        assert box.slots.busy == 1
        second = asyncio.create_task(box.arun("print('second')"))
        await asyncio.sleep(0.1)
        assert box.slots.waiting == 1 and not second.done()
        return (await first).stdout, (await second).stdout

    with box:
        assert asyncio.run(main()) == ("first\n", "second\n")
        assert box.slots.busy == 0 and box.slots.waiting == 0


def test_slots_are_first_come_first_served() -> None:
    from redsearcher.env.sandbox._slots import Slots

    slots = Slots(1, queue_timeout=5)
    slots.acquire()
    order: list[str] = []

    def waiter(name: str) -> None:
        slots.acquire()
        order.append(name)
        slots.release()

    threads = []
    for name in "abc":
        threads.append(threading.Thread(target=waiter, args=(name,)))
        threads[-1].start()
        while slots.waiting < len(threads):
            time.sleep(0.005)
    slots.release()
    for thread in threads:
        thread.join()
    assert order == ["a", "b", "c"] and slots.busy == 0


def test_cancelling_a_waiting_arun_takes_no_slot() -> None:
    from redsearcher.env.sandbox._slots import Slots

    slots = Slots(1, queue_timeout=5)

    async def main() -> None:
        slots.acquire()
        waiting = asyncio.create_task(slots.aacquire())
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        slots.release()

    asyncio.run(main())
    assert slots.busy == 0 and slots.waiting == 0


@pytest.mark.parametrize("mode", ["isolated", "insecure"])
def test_a_cancelled_arun_is_killed_and_frees_its_slot_within_a_second(
    mode: str, request: pytest.FixtureRequest
) -> None:
    box: Sandbox = request.getfixturevalue("sandbox" if mode == "isolated" else "insecure")
    box.start()

    async def main() -> float:
        run = asyncio.create_task(box.arun("import time\ntime.sleep(30)", timeout=10))
        deadline = time.monotonic() + 5
        while not (own_runs() and box.slots.busy == 1) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert own_runs() and box.slots.busy == 1
        run.cancel()
        cancelled = time.monotonic()
        while (own_runs() or box.slots.busy) and time.monotonic() < cancelled + 5:
            await asyncio.sleep(0.01)
        return time.monotonic() - cancelled

    assert asyncio.run(main()) < 1.0
    assert box.slots.busy == 0 and not own_runs()


# -- an unisolated run leaves nothing behind -------------------------------------------------

DETACHED = """
import os, subprocess, sys, tempfile
sleeper = "import time; time.sleep(60)"
detached = subprocess.Popen([sys.executable, "-c", sleeper], start_new_session=True)
if os.fork() == 0:  # a double fork: the grandchild is orphaned at once
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", sleeper])
    os._exit(0)
os.wait()
with open(os.path.join(tempfile.gettempdir(), "left.txt"), "w") as f:
    f.write("scratch")
print(detached.pid, tempfile.gettempdir())
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _sleepers() -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if "import time; time.sleep(60)" in " ".join(proc.info["cmdline"] or []):
            found.append(proc.pid)
    return found


@pytest.mark.parametrize("kill_supervisor", [False, True])
def test_insecure_run_leaves_no_detached_process_and_no_file(
    insecure: Sandbox, kill_supervisor: bool
) -> None:
    # Killing the supervisor first takes away the subreaper: the run's marker still finds them.
    code = DETACHED + ("import signal\nos.kill(os.getppid(), signal.SIGKILL)\n" * kill_supervisor)
    result = insecure.run(code)
    assert result.stdout, result
    pid, tmpdir = result.stdout.split()
    assert Path(tmpdir).name == "work" and Path(tmpdir).parent.name.startswith("redsearcher-")
    assert not _alive(int(pid)), "the detached process outlived its run"
    assert not _sleepers(), "a double-forked process outlived its run"
    assert not Path(tmpdir).exists(), "the run's temporary directory was left on the host"


def test_isolated_run_leaves_no_detached_process(sandbox: Sandbox) -> None:
    result = sandbox.run(DETACHED)
    assert result.status == "Finished" and result.return_code == 0, result
    assert not _sleepers()


def test_marker_is_set_only_without_isolation(sandbox: Sandbox, insecure: Sandbox) -> None:
    code = "import os\nprint(os.environ.get('REDSEARCHER_SANDBOX_RUN', 'none'))"
    assert sandbox.run(code).stdout == "none\n"
    first, second = (insecure.run(code).stdout.strip() for _ in range(2))
    assert len(first) == 32 and first != second  # one per run, so runs never kill each other


def test_default_budget_bounds_eight_runs() -> None:
    config = SandboxConfig()
    assert config.run_memory_bytes * config.max_concurrency <= 16 * 1024 * MiB
    assert config.run_memory_bytes < config.max_processes * config.memory_bytes


def test_unrelated_processes_survive_a_run(insecure: Sandbox) -> None:
    bystander = psutil.Popen(["sleep", "30"], start_new_session=True)
    try:
        insecure.run("import os\nos.system('true')")
        assert bystander.is_running() and bystander.status() != psutil.STATUS_ZOMBIE
    finally:
        bystander.kill()
        bystander.wait()
