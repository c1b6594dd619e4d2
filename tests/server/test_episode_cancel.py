"""A trainer-side timeout during a ``PythonInterpreter`` call: the cancellation reaches the
caller, the HTTP request is closed, and the server kills the sandboxed run long before its own
wall limit — no process of it is left, and the server keeps answering.

Everything is real: the environment server with the sandbox (bubblewrap where it works), the
agent loop, our HTTP tools; only the model is scripted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox import Sandbox, SandboxConfig
from redsearcher.log import Task
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import (
    ScriptedModel,
    Step,
    sandbox_code_processes,
    text_python_call,
    wait_until,
)
from redsearcher.tools import ServicesConfig, Toolbox

#: Runs far longer than the test waits: only a kill ends it in time.
HANG = "import time\nprint('started', flush=True)\ntime.sleep(100)"
TASK = Task(id="cancel", question="How long does this take?", answer="long")


@pytest.fixture(params=["bwrap", "/nonexistent/bwrap"], ids=["isolated", "insecure"])
def sandboxed(
    request: pytest.FixtureRequest, index_dir: Path, local_env: LocalEnvironment
) -> Iterator[tuple[EnvServer, Sandbox]]:
    """A server whose sandbox lets a run last 100 s (so a kill, not the limit, must end it)."""
    config = SandboxConfig(
        bwrap_path=request.param, insecure=True, max_concurrency=2, timeout=100, max_timeout=100
    )
    box = Sandbox(config)
    with (
        box,
        EnvServer(ServerConfig(index=index_dir, sandbox=config), env=local_env, sandbox=box) as srv,
    ):
        assert box.isolated is (request.param == "bwrap")
        yield srv, box


def test_a_trainer_timeout_mid_python_call_kills_the_run(
    sandboxed: tuple[EnvServer, Sandbox],
) -> None:
    server, box = sandboxed
    # One step: the episode never gets to a second turn (the model's ledger checks it on exit).
    model = ScriptedModel([Step(content=text_python_call(HANG))], protocol="text")
    services = ServicesConfig.local(server.base_url, run_timeout_s=100.0, retries=0)
    toolbox = Toolbox.http(services, tools=["PythonInterpreter"])

    seen: list[int] = []

    async def watch() -> None:
        while not seen:
            seen.extend(sandbox_code_processes())
            await asyncio.sleep(0.05)

    async def main() -> float:
        async with model, toolbox:
            episode = run_episode(
                TASK, model=model, toolbox=toolbox, config=AgentConfig(tools=["PythonInterpreter"])
            )
            watcher = asyncio.create_task(watch())
            start = time.monotonic()
            with pytest.raises(TimeoutError):  # the trainer's wait_for: never swallowed
                await asyncio.wait_for(episode, timeout=1.5)
            took = time.monotonic() - start
            watcher.cancel()
            return took

    assert asyncio.run(main()) < 3.0
    assert seen, "the code never ran: the test would prove nothing"
    # The request was closed, so the server noticed and killed the run: well within the
    # run's own 100 s limit, and its slot is free again.
    took = wait_until(lambda: not sandbox_code_processes() and box.slots.busy == 0, timeout=3.0)
    assert took < 3.0
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        r = client.post("/run_code", json={"code": "print(6 * 7)", "language": "python"})
        assert r.json()["run_result"]["stdout"] == "42\n"
        metrics = client.get("/metrics").text
    assert 'redsearcher_env_requests_total{endpoint="run_code",status="499"} 1.0' in metrics
