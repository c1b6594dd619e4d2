"""A trainer-side timeout in an adapter: the TRL environment's ``python`` tool is cancelled by
``asyncio.wait_for`` while the sandbox runs; the cancellation reaches the trainer, the sandboxed
run is killed (no process left) and the rollout is unscored (``None``), never rewarded 0.

Real processes: the environment server with the sandbox (bubblewrap where it works) over HTTP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from adapter_support import ANSWER

from redsearcher.env import build_index
from redsearcher.env.sandbox import Sandbox, SandboxConfig
from redsearcher.rl.adapters import judged_reward, trl_environment
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import sandbox_code_processes, tiny_world

ROW = {"id": "t1", "question": "Who is Marta Velden's sibling?", "answer": ANSWER, "aliases": []}
HANG = "import time\ntime.sleep(100)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EnvServer, Sandbox]]:
    root = tmp_path_factory.mktemp("trl-cancel")
    tiny_world(root / "world")
    build_index(root / "world", root / "world.index", progress=False)
    config = SandboxConfig(insecure=True, max_concurrency=2, timeout=100, max_timeout=100)
    with (
        Sandbox(config) as box,
        EnvServer(ServerConfig(index=root / "world.index", sandbox=config), sandbox=box) as srv,
    ):
        yield srv, box


def test_a_cancelled_tool_call_leaves_the_rollout_unscored(
    server: tuple[EnvServer, Sandbox],
) -> None:
    srv, box = server
    environment = trl_environment(srv.base_url, tools=["PythonInterpreter"])()
    environment.reset(**ROW)
    seen: list[int] = []

    async def watch() -> None:
        while not seen:
            seen.extend(sandbox_code_processes())
            await asyncio.sleep(0.05)

    async def main() -> tuple[str, list[float | None]]:
        watcher = asyncio.create_task(watch())
        with pytest.raises(TimeoutError):  # TRL's (or the user's) timeout surfaces
            await asyncio.wait_for(environment.python(code=HANG), timeout=1.5)
        watcher.cancel()
        # Even a completion that claims the right answer is not scored: its tool result was lost.
        completion = [
            {"role": "assistant", "content": "", "tool_calls": [{"type": "function"}]},
            {"role": "assistant", "content": f"<answer>{ANSWER}</answer>"},
        ]
        rewards = await judged_reward([completion], [environment])
        text = await environment.python(code="print(6 * 7)")  # the environment still works
        await environment._aclose()
        return text, rewards

    text, rewards = asyncio.run(main())
    assert seen, "the code never ran: the test would prove nothing"
    assert rewards == [None]
    assert environment.cancelled == ["PythonInterpreter"]
    assert environment.reward is not None and environment.reward.reward is None
    assert "cancelled" in (environment.reward.unscored_reason or "")
    assert "42" in text
    start = time.monotonic()
    while (sandbox_code_processes() or box.slots.busy) and time.monotonic() - start < 3.0:
        time.sleep(0.02)
    assert not sandbox_code_processes() and box.slots.busy == 0, (
        "the cancelled run outlived its call"
    )
    environment.reset(**ROW)  # a new episode starts clean
    assert environment.cancelled == []
