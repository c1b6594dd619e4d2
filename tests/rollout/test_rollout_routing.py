from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from rollout_support import fake_model, fake_models, make_manifest, make_tasks, run_async

from redsearcher.agent import AgentConfig
from redsearcher.env import LocalEnvironment
from redsearcher.log import Message, RunLog
from redsearcher.model import ModelConfig, ModelUnavailable
from redsearcher.rollout import EndpointPool, RolloutConfig, rollout
from redsearcher.testing import Script, ScriptedChatServer, ScriptedModel, Step, ToolCallSpec
from redsearcher.tools import Toolbox

ASK = [Message(role="user", content="q")]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fake(pool: EndpointPool, url: str) -> ScriptedModel:
    model = pool._endpoints[pool.urls().index(url)].model
    assert isinstance(model, ScriptedModel)
    return model


# -- unit: the two tiers ---------------------------------------------------------------------------


@run_async
async def test_a_trajectory_stays_on_its_endpoint() -> None:
    pool = EndpointPool(fake_models(3))
    model = pool.model_for("t#0")
    assert model.endpoint is None
    seen = {(await model.complete(ASK, [])).endpoint for _ in range(5)}
    assert seen == {model.endpoint} and model.endpoint is not None
    stats = {s.url: s for s in pool.stats()}
    assert stats[model.endpoint].pinned == 1 and stats[model.endpoint].requests == 5
    await model.aclose()
    assert all(s.pinned == 0 for s in pool.stats())


@run_async
async def test_sequential_trajectories_go_round_robin() -> None:
    pool = EndpointPool(fake_models(3))
    order = []
    for i in range(7):
        model = pool.model_for(f"t{i}#0")
        order.append((await model.complete(ASK, [])).endpoint)
        await model.aclose()
    assert order == ["http://s0", "http://s1", "http://s2"] * 2 + ["http://s0"]


@run_async
async def test_new_trajectories_go_to_the_fewest_outstanding_requests() -> None:
    pool = EndpointPool(fake_models(3, delay=0.05))
    busy = [pool.model_for(f"busy{i}#0") for i in range(2)]
    # Two slow requests in flight: on s0 and s1.
    running = [asyncio.create_task(m.complete(ASK, [])) for m in busy]
    await asyncio.sleep(0)
    assert [m.endpoint for m in busy] == ["http://s0", "http://s1"]
    new = pool.model_for("new#0")
    assert (await new.complete(ASK, [])).endpoint == "http://s2"
    await asyncio.gather(*running)


@run_async
async def test_concurrent_starts_spread_evenly() -> None:
    pool = EndpointPool(fake_models(3, delay=0.01))
    models = [pool.model_for(f"t{i}#0") for i in range(30)]
    done = await asyncio.gather(*(m.complete(ASK, []) for m in models))
    assert Counter(c.endpoint for c in done) == {"http://s0": 10, "http://s1": 10, "http://s2": 10}


@run_async
async def test_a_failing_endpoint_is_taken_out_and_the_trajectory_moves() -> None:
    clock = Clock()
    pool = EndpointPool(fake_models(2), cooldown_s=10.0, clock=clock)
    model = pool.model_for("t#0")
    assert (await model.complete(ASK, [])).endpoint == "http://s0"
    fake(pool, "http://s0").down = True
    assert (await model.complete(ASK, [])).endpoint == "http://s1"  # moved, request retried
    assert model.endpoint == "http://s1"
    stats = {s.url: s for s in pool.stats()}
    assert not stats["http://s0"].up and stats["http://s0"].failures == 1
    assert stats["http://s0"].pinned == 0 and stats["http://s1"].pinned == 1
    # While s0 is out, new trajectories avoid it even though it has no load.
    other = pool.model_for("u#0")
    assert (await other.complete(ASK, [])).endpoint == "http://s1"
    # After the cooldown s0 is offered again; the moved trajectory stays where it is.
    fake(pool, "http://s0").down = False
    clock.now += 10.0
    assert (await model.complete(ASK, [])).endpoint == "http://s1"
    third = pool.model_for("v#0")
    assert (await third.complete(ASK, [])).endpoint == "http://s0"


@run_async
async def test_cooldown_doubles_per_consecutive_failure_and_resets_on_success() -> None:
    clock = Clock()
    pool = EndpointPool(fake_models(2), cooldown_s=10.0, max_cooldown_s=25.0, clock=clock)
    s0 = fake(pool, "http://s0")
    s0.down = True
    for expected in (10.0, 20.0, 25.0):
        model = pool.model_for("t#0")
        model._pin(pool._endpoints[0])  # force it onto s0
        await model.complete(ASK, [])
        assert pool._endpoints[0].down_until == pytest.approx(clock.now + expected)
        clock.now = pool._endpoints[0].down_until
        await model.aclose()
    s0.down = False
    model = pool.model_for("t#1")
    model._pin(pool._endpoints[0])
    await model.complete(ASK, [])
    assert pool._endpoints[0].streak == 0


@run_async
async def test_all_endpoints_down_raises_after_the_wait() -> None:
    pool = EndpointPool(fake_models(2), cooldown_s=60.0, max_wait_s=0.05)
    for url in pool.urls():
        fake(pool, url).down = True
    model = pool.model_for("t#0")
    with pytest.raises(ModelUnavailable, match="every inference endpoint"):
        await model.complete(ASK, [])
    assert sum(s.failures for s in pool.stats()) == 2
    assert all(s.outstanding == 0 for s in pool.stats())


@run_async
async def test_all_down_waits_for_the_first_to_come_back() -> None:
    pool = EndpointPool(fake_models(1), cooldown_s=0.05, max_wait_s=5.0)
    model = pool.model_for("t#0")
    s0 = fake(pool, "http://s0")
    s0.down = True

    async def recover() -> None:
        await asyncio.sleep(0.02)
        s0.down = False

    asyncio.get_running_loop().create_task(recover())
    assert (await model.complete(ASK, [])).endpoint == "http://s0"


@run_async
async def test_other_errors_do_not_move_the_trajectory() -> None:
    refusing = fake_model("http://a")
    refusing.fail_with = ValueError("a bug")
    pool = EndpointPool({"http://a": refusing, "http://b": fake_model("http://b")})
    model = pool.model_for("t#0")
    with pytest.raises(ValueError):
        await model.complete(ASK, [])
    assert [s.failures for s in pool.stats()] == [0, 0] and all(s.up for s in pool.stats())
    assert all(s.outstanding == 0 for s in pool.stats())


@run_async
async def test_closed_model_and_pool() -> None:
    pool = EndpointPool(fake_models(2))
    model = pool.model_for("t#0")
    await model.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await model.complete(ASK, [])
    await pool.aclose()
    assert all(fake(pool, url).closed for url in pool.urls())


def test_pool_validation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EndpointPool({})
    with pytest.raises(ValueError, match="one model"):
        EndpointPool({"a": fake_model("a", name="x"), "b": fake_model("b", name="y")})


# -- acceptance: three scripted servers, the real client and the real agent loop -----------------


def scripts(n: int) -> list[Script]:
    """Per task: two searches, then the answer (three requests per trajectory)."""
    search = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])
    return [
        Script(
            match=f"Question number {i}?",
            steps=[search, search, Step(content=f"<answer>A{i}</answer>")],
        )
        for i in range(n)
    ]


def first_user(body: Any) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


async def run_three_servers(
    servers: list[ScriptedChatServer], tmp_path: Path, env: LocalEnvironment, n: int, concurrency: int,
    **pool_options: Any,
) -> Any:  # fmt: skip
    config = ModelConfig(name="scripted", base_url=servers[0].base_url, max_retries=0)
    pool = EndpointPool.from_config(config, [s.base_url for s in servers], **pool_options)
    agent = AgentConfig(tools=["search"])
    tasks = make_tasks(n)
    manifest = make_manifest(n_samples=1)
    try:
        with RunLog.open(tmp_path / "run", manifest) as log:
            async with Toolbox.local(env, tools=["search"]) as toolbox:
                summary = await rollout(
                    tasks, config=RolloutConfig(concurrency=concurrency), pool=pool,
                    toolbox=toolbox, agent_config=agent, log=log,
                )  # fmt: skip
            return summary, list(log.trajectories())
    finally:
        await pool.aclose()


def served_by(servers: list[ScriptedChatServer]) -> dict[str, set[int]]:
    """First user message -> indexes of the servers that answered it successfully."""
    out: dict[str, set[int]] = defaultdict(set)
    for index, server in enumerate(servers):
        for request in server.chat_requests:
            if request.status == 200:
                out[first_user(request.body)].add(index)
    return out


@pytest.mark.parametrize("concurrency", [30, 1])
def test_three_servers_affinity_holds_and_load_spreads(
    tmp_path: Path, tiny_env: LocalEnvironment, concurrency: int
) -> None:
    n = 30 if concurrency > 1 else 9
    servers = [ScriptedChatServer(scripts(n), latency_s=0.03).start() for _ in range(3)]
    try:
        summary, trajectories = asyncio.run(
            run_three_servers(servers, tmp_path, tiny_env, n, concurrency)
        )
    finally:
        for server in servers:
            server.stop()
    assert summary.completed == n and summary.correct == n
    by_question = served_by(servers)
    assert len(by_question) == n
    # Affinity: every request of a trajectory went to one server, the one its record names.
    assert all(len(s) == 1 for s in by_question.values())
    urls = [s.base_url for s in servers]
    for t in trajectories:
        assert urls[next(iter(by_question[t.question]))] == t.provenance.endpoint
        assert t.usage.model_calls == 3
    # Load spread: trajectories per server.
    per_server = Counter(next(iter(s)) for s in by_question.values())
    if concurrency == 1:
        assert per_server == {0: 3, 1: 3, 2: 3}  # round-robin, exactly
    else:
        assert sorted(per_server) == [0, 1, 2] and min(per_server.values()) >= 7
    for server in servers:
        assert not server.failures


def test_a_failing_server_is_taken_out_and_its_trajectories_finish_elsewhere(
    tmp_path: Path, tiny_env: LocalEnvironment
) -> None:
    n = 12
    servers = [
        ScriptedChatServer(scripts(n), latency_s=0.02).start(),
        ScriptedChatServer(
            scripts(n), latency_s=0.02, error_rate=1.0, error_statuses=[503]
        ).start(),
        ScriptedChatServer(scripts(n), latency_s=0.02).start(),
    ]
    try:
        summary, trajectories = asyncio.run(
            run_three_servers(servers, tmp_path, tiny_env, n, 12, cooldown_s=60.0)
        )
    finally:
        for server in servers:
            server.stop()
    assert summary.completed == n and summary.correct == n and summary.unavailable == 0
    bad = servers[1]
    assert bad.chat_requests and all(r.status == 503 for r in bad.chat_requests)
    stats = {e["url"]: e for e in summary.endpoints}
    assert stats[bad.base_url]["failures"] >= 1 and not stats[bad.base_url]["up"]
    # Everything that succeeded did so on one good server per trajectory.
    by_question = served_by(servers)
    assert len(by_question) == n and all(len(s) == 1 and 1 not in s for s in by_question.values())
    assert {t.provenance.endpoint for t in trajectories} <= {
        servers[0].base_url,
        servers[2].base_url,
    }


# -- lanes: several small client pools per server --------------------------------------------------


@run_async
async def test_concurrent_trajectories_of_one_server_use_different_lanes() -> None:
    lanes = [fake_model("http://s0"), fake_model("http://s0")]
    pool = EndpointPool({"http://s0": lanes})
    first, second = pool.model_for("a#0"), pool.model_for("b#0")
    await first.complete(ASK, [])
    await second.complete(ASK, [])
    await first.complete(ASK, [])
    assert [len(m.calls) for m in lanes] == [2, 1]
    await first.aclose()
    third = pool.model_for("c#0")  # lane 0 is free again
    await third.complete(ASK, [])
    assert [len(m.calls) for m in lanes] == [3, 1]


@run_async
async def test_from_config_sizes_lanes_to_the_concurrency() -> None:
    config = ModelConfig(name="m", base_url="http://unused/v1")
    pool = EndpointPool.from_config(
        config, ["http://a/v1/", "http://b/v1", "http://a/v1"], connections=10
    )
    assert pool.urls() == ["http://a/v1", "http://b/v1"]
    assert [len(e.lanes) for e in pool._endpoints] == [3, 3]
    assert {getattr(m, "endpoint", None) for m in pool._endpoints[1].lanes} == {"http://b/v1"}
    await pool.aclose()
    single = EndpointPool.from_config(config, ["http://a/v1"])
    assert len(single._endpoints[0].lanes) == 1
    await single.aclose()


def test_sharded_transport_deals_requests_round_robin() -> None:
    import httpx

    from redsearcher.rollout._http import ShardedTransport

    async def go(url: str) -> list[int]:
        transport = ShardedTransport(3, 2)
        sent: list[int] = []
        for i, shard in enumerate(transport._shards):
            original = shard.handle_async_request

            async def spy(
                request: httpx.Request, i: int = i, original: Any = original
            ) -> httpx.Response:
                sent.append(i)
                return await original(request)

            shard.handle_async_request = spy  # type: ignore[method-assign]
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(5):
                assert (await client.get(url + "/models")).status_code == 200
        return sent

    server = ScriptedChatServer([Step(content="never asked")]).start()  # only GET /v1/models
    try:
        assert asyncio.run(go(server.base_url)) == [0, 1, 2, 0, 1]
    finally:
        server.stop()


def test_a_long_failure_streak_keeps_the_cooldown_capped() -> None:
    # 2 ** 1024 overflows a float: a streak that long must still give the capped cooldown.
    pool = EndpointPool(fake_models(1), cooldown_s=0.0, max_cooldown_s=5.0, clock=lambda: 100.0)
    [endpoint] = pool._endpoints
    for _ in range(1100):
        pool._failed(endpoint)
    assert endpoint.streak == 1100 and endpoint.down_until == 100.0
    pool = EndpointPool(fake_models(1), cooldown_s=1.0, max_cooldown_s=5.0, clock=lambda: 100.0)
    [endpoint] = pool._endpoints
    endpoint.streak = 5000
    pool._failed(endpoint)
    assert endpoint.down_until == 105.0
