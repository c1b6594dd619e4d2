"""A whole rollout from a tasks file to a run directory: what ``redsearcher rollout`` calls.

:func:`rollout` runs episodes given open resources; :func:`run_rollout` makes them from
configuration — reads the tasks, asks the environment server which World it serves, builds the
shared :class:`~redsearcher.tools.Toolbox` and the :class:`EndpointPool`, opens (or resumes) the
run log with a manifest that pins the run's identity — and closes them all afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redsearcher.agent import AgentConfig
from redsearcher.errors import UserError
from redsearcher.log import MANIFEST_FILE, RunLog, RunManifest, Task, read_manifest
from redsearcher.model import ModelConfig
from redsearcher.rollout._display import RolloutDisplay
from redsearcher.rollout._http import ShardedTransport
from redsearcher.rollout._routing import EndpointPool
from redsearcher.rollout._runner import EpisodeFn, RolloutConfig, RolloutSummary, rollout
from redsearcher.rollout._tasks import load_tasks, tasks_digest

if TYPE_CHECKING:
    from redsearcher.tools import ServicesConfig

__all__ = ["environment_world_hash", "run_rollout"]

#: Connections per small pool, to model servers and to the environment server.
_LANE_CONNECTIONS = 4


async def environment_world_hash(env_url: str, *, timeout_s: float = 10.0) -> str | None:
    """The World hash the environment server at ``env_url`` reports on ``/health``.

    Returns:
        The hash, or ``None`` when the server does not report one (a server in front of real
        services).

    Raises:
        UserError: when the server cannot be reached or does not answer ``/health`` with JSON.
    """
    import httpx

    url = env_url.rstrip("/") + "/health"
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.get(url)
            response.raise_for_status()
            info = response.json()
    except (httpx.HTTPError, ValueError) as err:
        raise UserError(f"the environment server is not reachable at {url}: {err}") from err
    value = info.get("world_hash") if isinstance(info, dict) else None
    return value if isinstance(value, str) else None


def _agent_identity(agent: AgentConfig, out: str | Path) -> dict[str, Any]:
    """The agent config as the run's manifest pins it, for a run written by an older version.

    A setting added to :class:`AgentConfig` after a run was written (``render_style``, say) is
    missing from its ``run.json``; that run ran with the setting's default. So a key the recorded
    manifest lacks is left out of the new one while its value is the default — resuming then
    compares like with like — and kept (a refused resume, naming it) when it was changed.
    """
    dump = agent.model_dump(mode="json")
    if not (Path(out) / MANIFEST_FILE).is_file():
        return dump
    recorded = read_manifest(out).agent
    defaults = AgentConfig().model_dump(mode="json")
    return {k: v for k, v in dump.items() if k in recorded or k not in defaults or v != defaults[k]}


def _check_world(tasks: Sequence[Task], world_hash: str | None) -> None:
    """Refuse tasks synthesized from another World than the environment serves."""
    if world_hash is None:
        return
    other = sorted({h for t in tasks if (h := t.world_hash) is not None and h != world_hash})
    if other:
        raise UserError(
            f"the tasks were synthesized from World(s) {', '.join(other)} but the environment "
            f"serves World {world_hash}: their answers cannot be found there "
            "(pass allow_world_mismatch / --allow-world-mismatch to run anyway)"
        )


async def run_rollout(
    tasks: str | Path | Sequence[Task],
    *,
    out: str | Path,
    env_url: str | None = None,
    model: ModelConfig,
    base_urls: Sequence[str] | None = None,
    agent: AgentConfig | None = None,
    config: RolloutConfig | None = None,
    display: RolloutDisplay | None = None,
    episode: EpisodeFn | None = None,
    allow_world_mismatch: bool = False,
    pool_options: dict[str, Any] | None = None,
    services: ServicesConfig | None = None,
    pool: EndpointPool | None = None,
) -> RolloutSummary:
    """Run (or resume) a rollout into the run directory ``out``.

    Args:
        tasks: A tasks JSONL file (see :func:`load_tasks`) or the tasks themselves.
        out: The run directory; an existing run with the same identity is resumed.
        env_url: Base URL of the environment server (``redsearcher env serve``): its ``/health``
            names the World, and the tools use it unless ``services`` says otherwise. May be
            omitted when ``services`` points the tools elsewhere (the real web: no World, no
            World check).
        model: Model name, protocol, sampling, retries (``base_url`` is the default server).
        base_urls: Inference servers to spread episodes over (default: ``model.base_url``).
        agent: The agent configuration (defaults when omitted).
        config: Samples, concurrency, failure bounds (defaults when omitted).
        display: Progress display (none when omitted).
        episode: The episode function (default :func:`redsearcher.agent.run_episode`).
        allow_world_mismatch: Run tasks synthesized from another World than the environment's.
        pool_options: Further keyword arguments of :class:`EndpointPool` (they win over
            ``config``'s cooldown and wait).
        services: Where the tools' services are (real Serper, Jina, SandboxFusion, fallbacks,
            keys); default every service at ``env_url`` without a key. The manifest records
            their URLs, never their keys.
        pool: Models to run the episodes with, instead of the pool built from ``model`` and
            ``base_urls`` (``model`` still names them in the manifest): an in-process model,
            such as the main job's oracle replay. The caller keeps ownership.

    Returns:
        The invocation's summary.

    Raises:
        UserError: for unreadable tasks, an unreachable environment, a World mismatch, or a
            run directory holding a run with other settings.
        ModelUnavailable: when the model servers stayed down (finished episodes are kept).
    """
    from redsearcher.tools import ServicesConfig, Toolbox

    if services is None:
        if env_url is None:
            raise UserError("a rollout needs an environment server URL or a services config")
        services = ServicesConfig.local(env_url)
    if services.search_url is None and services.reader_url is None and services.sandbox_url is None:
        raise UserError(
            "no tool service is configured: give an environment server URL (--env) or "
            "search_url / reader_url / sandbox_url in the services section"
        )
    agent = agent or AgentConfig()
    config = config or RolloutConfig()
    loaded = list(tasks) if not isinstance(tasks, str | Path) else load_tasks(tasks)
    world_hash = None if env_url is None else await environment_world_hash(env_url)
    if not allow_world_mismatch:
        _check_world(loaded, world_hash)
    urls = list(base_urls or [model.base_url])
    # Many small connection pools to the services (see _http; fallbacks share them): one pool
    # of hundreds of connections would cost more CPU per tool call than the call itself.
    shards = max(1, -(-config.concurrency // _LANE_CONNECTIONS))
    toolbox = Toolbox.http(
        services,
        transport=ShardedTransport(shards, _LANE_CONNECTIONS),
        cache=config.tool_cache,
        tools=agent.tools,
        style=agent.render_style,
    )
    manifest = RunManifest(
        model=model.name,
        protocol=model.protocol,
        tasks=str(tasks) if isinstance(tasks, str | Path) else "",
        tasks_digest=tasks_digest(loaded),
        task_count=len(loaded),
        n_samples=config.n_samples,
        world_hash=world_hash,
        agent=_agent_identity(agent, out),
        sampling=model.sampling.model_dump(mode="json"),
        tools=toolbox.openai_tools(),
        endpoints=urls,
        environment=env_url,
        services=services.endpoints(),
    )
    options: dict[str, Any] = {
        "cooldown_s": config.endpoint_cooldown_s,
        "max_wait_s": config.endpoint_wait_s,
        **(pool_options or {}),
    }
    own_pool = pool is None
    if pool is None:
        pool = EndpointPool.from_config(
            model,
            urls,
            connections=config.concurrency,
            lane_connections=_LANE_CONNECTIONS,
            **options,
        )
    try:
        with RunLog.open(out, manifest, fsync=config.fsync) as log:
            return await rollout(
                loaded,
                config=config,
                pool=pool,
                toolbox=toolbox,
                agent_config=agent,
                log=log,
                episode=episode,
                world_hash=world_hash,
                display=display,
            )
    finally:
        if own_pool:
            await pool.aclose()
        await toolbox.aclose()
