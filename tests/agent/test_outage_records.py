"""An environment outage is a failed tool call in the trajectory, and leaks no internal URL.

The environment server is "down": its address is a loopback port nobody listens on. Before the
fix a visit hit by the outage read as a page that does not exist (``error=false``, the
not-found block), so the SFT post-filter kept the trajectory as if the model had asked for a
bad page; and the search error named ``http://127.0.0.1:PORT``, which went into training data.
"""

from __future__ import annotations

import asyncio
import socket

from redsearcher.agent import AgentConfig, run_episode
from redsearcher.export import SFTFilterConfig, sft_filter
from redsearcher.log import Task, Trajectory
from redsearcher.testing import ScriptedModel, Step, ToolCallSpec, text_answer
from redsearcher.tools import ServicesConfig, Toolbox
from redsearcher.tools._render import render_visit_failed

URL = "https://example.org/page"
GOAL = "who directed it"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connections are refused


def run_with_env_down() -> tuple[Trajectory, str]:
    base = f"http://127.0.0.1:{closed_port()}"
    services = ServicesConfig.local(base, retries=1, backoff_s=0.0, timeout_s=2.0)
    steps = [
        Step(
            tool_calls=[
                ToolCallSpec(name="visit", arguments={"url": URL, "goal": GOAL}),
                ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]}),
            ]
        ),
        Step(content=text_answer("Ilse Velden")),
    ]
    task = Task(id="t", question="Who?", answer="Ilse Velden")

    async def go() -> Trajectory:
        async with Toolbox.http(services, cache=True) as box:
            with ScriptedModel(steps) as model:
                return await run_episode(
                    task, model=model, toolbox=box, config=AgentConfig(tools=["search", "visit"])
                )

    return asyncio.run(go()), base


def test_an_outage_hit_visit_is_a_failed_call_without_the_env_url() -> None:
    trajectory, base = run_with_env_down()
    visit, search = trajectory.tool_calls
    assert visit.name == "visit" and visit.error
    assert render_visit_failed(URL, GOAL) not in visit.output  # not "the page does not exist"
    assert f"The page {URL} was not read: the page reader is unavailable" in visit.output
    assert search.error and "The search service is unavailable" in search.output
    for call in trajectory.tool_calls:
        assert base not in call.output and "127.0.0.1" not in call.output
    for message in trajectory.messages:
        assert "127.0.0.1" not in message.content
    # The SFT post-filter now sees the outage: two failed calls of two drop the trajectory.
    result = sft_filter([trajectory], SFTFilterConfig(require_correct=False))
    assert not result.kept and result.dropped["failed_tool_calls"] == 1
