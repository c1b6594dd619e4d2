"""Two-tier routing of rollout requests over several inference servers (§6.3 of the paper).

Deep-search episodes grow to 128K tokens, and each request resends the whole history, so a
server that already holds an episode's prefix in its KV cache answers the next turn far cheaper
than one that must recompute it. Hence two tiers:

1. **Affinity.** Every request of one trajectory goes to the server that took its first request,
   for as long as that server works.
2. **Balance.** A new trajectory goes to the server with the fewest outstanding requests right
   now ("least access"); among equally loaded servers, to the one with the fewest trajectories
   pinned to it, then in round-robin order.

A server whose request fails with :class:`~redsearcher.model.ModelUnavailable` (the client has
already retried) is taken out for a cooldown; the trajectory moves to another server (its prefix
is recomputed there once) and the request is retried there. After the cooldown the server is
offered again; each consecutive failure doubles its cooldown, a success resets it. When every
server is out the request waits for the first to come back, up to a bound, then raises
:class:`~redsearcher.model.ModelUnavailable`.

Only ``ModelUnavailable`` moves a trajectory: a refused request (context length, 4xx) is the
request's fault and would fail anywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from redsearcher.model import (
    ChatModel,
    CompletesTokens,
    Completion,
    ModelConfig,
    ModelUnavailable,
    TokenCompletion,
)

if TYPE_CHECKING:
    from redsearcher.log import Message

__all__ = ["EndpointPool", "EndpointStats", "PinnedModel"]

_T = TypeVar("_T")


@dataclass
class _Endpoint:
    url: str
    lanes: list[ChatModel]  # clients of this server; a trajectory keeps to one (see _http)
    order: int
    lane_pinned: list[int] = field(default_factory=list)
    outstanding: int = 0
    pinned: int = 0
    requests: int = 0
    failures: int = 0
    trajectories: int = 0
    streak: int = 0  # consecutive failures: the cooldown doubles with each
    down_until: float = 0.0

    def __post_init__(self) -> None:
        self.lane_pinned = [0] * len(self.lanes)

    @property
    def model(self) -> ChatModel:
        return self.lanes[0]


@dataclass(frozen=True)
class EndpointStats:
    """A snapshot of one endpoint's counters."""

    url: str
    """The endpoint's base URL."""
    outstanding: int
    """Requests in flight now."""
    pinned: int
    """Trajectories pinned to it now."""
    requests: int
    """Requests sent to it (including failed ones)."""
    failures: int
    """Requests that failed with ``ModelUnavailable``."""
    trajectories: int
    """Trajectories ever pinned to it (moves included)."""
    up: bool
    """Whether it is offered to trajectories now."""


class EndpointPool:
    """Route trajectories over several endpoints of one model (see the module docstring).

    Args:
        endpoints: Base URL -> the model client of that server, or several clients ("lanes",
            each with its own small connection pool; a trajectory keeps to one). All serve the
            same model with the same protocol. The pool closes them in :meth:`aclose`.
        cooldown_s: How long a failing endpoint is left out (doubled per consecutive failure,
            capped at ``max_cooldown_s``).
        max_cooldown_s: Upper bound of one cooldown.
        max_wait_s: How long a request waits for an endpoint when all are out, before
            :class:`~redsearcher.model.ModelUnavailable`.
        clock: Monotonic clock (tests pass a fake one).

    Raises:
        ValueError: for no endpoints, or endpoints that disagree on model name or protocol.
    """

    def __init__(
        self,
        endpoints: Mapping[str, ChatModel | Sequence[ChatModel]],
        *,
        cooldown_s: float = 30.0,
        max_cooldown_s: float = 600.0,
        max_wait_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not endpoints:
            raise ValueError("an EndpointPool needs at least one endpoint")
        lanes = {url: [m] if isinstance(m, ChatModel) else list(m) for url, m in endpoints.items()}
        models = [m for group in lanes.values() for m in group]
        if not all(lanes.values()):
            raise ValueError("every endpoint needs at least one model client")
        if len({(m.name, m.protocol) for m in models}) != 1:
            raise ValueError("all endpoints of a pool must serve one model with one protocol")
        self._endpoints = [_Endpoint(url, group, i) for i, (url, group) in enumerate(lanes.items())]
        self.name = models[0].name
        self.protocol = models[0].protocol
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.max_wait_s = max_wait_s
        self._clock = clock
        self._last = -1  # order of the endpoint chosen last (round-robin among ties)
        self._clients: list[Any] = []  # HTTP clients made by from_config, closed by aclose

    @classmethod
    def from_config(
        cls,
        config: ModelConfig,
        base_urls: Sequence[str],
        *,
        connections: int | None = None,
        lane_connections: int = 4,
        **options: Any,
    ) -> EndpointPool:
        """:class:`~redsearcher.model.OpenAIChatModel` clients per base URL from one config.

        Args:
            config: Name, protocol, sampling, retries; its ``base_url`` is replaced per server.
            base_urls: The servers' OpenAI base URLs (duplicates are dropped).
            connections: Requests a server may have in flight (the rollout's concurrency).
                Each server then gets ``ceil(connections / lane_connections)`` clients of
                ``lane_connections`` kept-alive ``TCP_NODELAY`` connections, and a trajectory
                keeps to one (many small pools: see :mod:`redsearcher.rollout._http`).
                ``None``: one client per server with httpx's default pool.
            lane_connections: Connections per client when ``connections`` is given.
            **options: Keyword arguments of the constructor.

        Raises:
            ValueError: for no base URL.
        """
        import httpx

        from redsearcher.model import OpenAIChatModel
        from redsearcher.rollout._http import lane_transport

        urls = list(dict.fromkeys(u.strip().rstrip("/") for u in base_urls if u.strip()))
        timeout = httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s)
        lanes = 1 if connections is None else max(1, -(-connections // lane_connections))
        models: dict[str, list[ChatModel]] = {}
        clients: list[httpx.AsyncClient] = []
        for url in urls:
            endpoint_config = config.model_copy(update={"base_url": url})
            models[url] = []
            for _ in range(lanes):
                client = None
                if connections is not None:
                    transport = lane_transport(lane_connections)
                    client = httpx.AsyncClient(transport=transport, timeout=timeout)
                    clients.append(client)
                model = OpenAIChatModel(endpoint_config, client=client)
                models[url].append(model)
        pool = cls(models, **options)
        pool._clients = clients
        return pool

    # -- routing ---------------------------------------------------------------------------

    def model_for(self, trajectory_id: str) -> PinnedModel:
        """A :class:`ChatModel` for one trajectory: its requests stay on one endpoint.

        The endpoint is chosen at the first request (the load then is what matters). Close the
        returned model (:meth:`PinnedModel.aclose`) when the episode ends, to unpin it.
        """
        return PinnedModel(self, trajectory_id)

    def urls(self) -> list[str]:
        """The endpoints' base URLs, in the order given."""
        return [e.url for e in self._endpoints]

    def stats(self) -> list[EndpointStats]:
        """Counters of every endpoint, in the order given."""
        now = self._clock()
        return [
            EndpointStats(
                url=e.url,
                outstanding=e.outstanding,
                pinned=e.pinned,
                requests=e.requests,
                failures=e.failures,
                trajectories=e.trajectories,
                up=e.down_until <= now,
            )
            for e in self._endpoints
        ]

    def _choose(self, exclude: _Endpoint | None = None) -> _Endpoint | None:
        now = self._clock()
        up = [e for e in self._endpoints if e.down_until <= now and e is not exclude]
        if not up:
            return None
        low = min((e.outstanding, e.pinned) for e in up)
        tied = [e for e in up if (e.outstanding, e.pinned) == low]
        # Round-robin among ties: the first one after the last endpoint chosen, cyclically.
        n = len(self._endpoints)
        chosen = min(tied, key=lambda e: (e.order - self._last - 1) % n)
        self._last = chosen.order
        return chosen

    async def _acquire(self, exclude: _Endpoint | None) -> _Endpoint:
        """An endpoint that is up, waiting (bounded) for one when all are out."""
        deadline = self._clock() + self.max_wait_s
        while True:
            endpoint = self._choose(exclude)
            if endpoint is None and exclude is not None:
                endpoint = self._choose()  # the only other candidates are down: retry here
            if endpoint is not None:
                return endpoint
            now = self._clock()
            back = min(e.down_until for e in self._endpoints)
            if back > deadline:
                urls = ", ".join(e.url for e in self._endpoints)
                raise ModelUnavailable(f"every inference endpoint is unavailable ({urls})")
            await asyncio.sleep(max(back - now, 0.0) + 0.01)

    def _failed(self, endpoint: _Endpoint) -> None:
        endpoint.failures += 1
        endpoint.streak += 1
        # Cap the exponent first: 2.0 ** 1024 overflows a float after a long failure streak.
        doubling = 2.0 ** min(endpoint.streak - 1, 60)
        cooldown = min(self.cooldown_s * doubling, self.max_cooldown_s)
        endpoint.down_until = max(endpoint.down_until, self._clock() + cooldown)

    async def aclose(self) -> None:
        """Close every endpoint's model clients."""
        for endpoint in self._endpoints:
            for model in endpoint.lanes:
                await model.aclose()
        for client in self._clients:
            await client.aclose()
        self._clients = []


class PinnedModel:
    """The :class:`~redsearcher.model.ChatModel` of one trajectory in an :class:`EndpointPool`.

    Args:
        pool: The pool.
        trajectory_id: The trajectory it serves (for messages and tests).
    """

    def __init__(self, pool: EndpointPool, trajectory_id: str) -> None:
        self.pool = pool
        self.trajectory_id = trajectory_id
        self.name = pool.name
        self.protocol = pool.protocol
        self._endpoint: _Endpoint | None = None
        self._lane = 0
        self._closed = False

    @property
    def endpoint(self) -> str | None:
        """The base URL the trajectory is pinned to (None before its first request)."""
        return None if self._endpoint is None else self._endpoint.url

    def _pin(self, endpoint: _Endpoint) -> None:
        if self._endpoint is endpoint:
            return
        self._unpin()
        endpoint.pinned += 1
        endpoint.trajectories += 1
        loads = endpoint.lane_pinned
        self._lane = loads.index(min(loads))
        loads[self._lane] += 1
        self._endpoint = endpoint

    def _unpin(self) -> None:
        if self._endpoint is not None:
            self._endpoint.pinned -= 1
            self._endpoint.lane_pinned[self._lane] -= 1
            self._endpoint = None

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]
    ) -> Completion:
        """Send the request to the pinned endpoint; move to another one if it is unavailable.

        Raises:
            ModelUnavailable: when every endpoint stayed unavailable past the pool's wait.
            RuntimeError: after :meth:`aclose`.
        """
        return await self._send(lambda model: model.complete(messages, tools))

    @property
    def chat_template(self) -> Any:
        """The endpoints' chat template when they serve token-exact episodes, else ``None``.

        Forwarded so that a rollout through the pool runs token-exact episodes exactly as a
        single client does (``ModelConfig.tokens``); every endpoint serves the same model.
        """
        return getattr(self.pool._endpoints[0].model, "chat_template", None)

    async def complete_ids(self, prompt_ids: Sequence[int]) -> TokenCompletion:
        """Sample after a token-id prompt, pinned and failing over like :meth:`complete`."""

        async def send(model: ChatModel) -> TokenCompletion:
            if not isinstance(model, CompletesTokens):
                raise TypeError(f"model {self.name!r} cannot answer token-id prompts")
            return await model.complete_ids(prompt_ids)

        return await self._send(send)

    async def _send(self, call: Callable[[ChatModel], Awaitable[_T]]) -> _T:
        if self._closed:
            raise RuntimeError(f"the model of trajectory {self.trajectory_id!r} is closed")
        pool = self.pool
        endpoint = self._endpoint
        if endpoint is None or endpoint.down_until > pool._clock():
            endpoint = await pool._acquire(None)
        while True:
            self._pin(endpoint)
            endpoint.outstanding += 1
            endpoint.requests += 1
            try:
                completion = await call(endpoint.lanes[self._lane])
            except ModelUnavailable:
                failed = endpoint
                failed.outstanding -= 1
                pool._failed(failed)
                endpoint = await pool._acquire(failed)
                continue
            except BaseException:
                endpoint.outstanding -= 1
                raise
            endpoint.outstanding -= 1
            endpoint.streak = 0
            return completion

    def count_tokens(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> int:
        """Prompt tokens as the endpoints' model counts them (its own count, else the estimate)."""
        model = self.pool._endpoints[0].model
        counter = getattr(model, "count_tokens", None)
        if counter is not None:
            return int(counter(messages, tools))
        from redsearcher.model import count_tokens

        return count_tokens(messages, tools)

    def settings(self) -> dict[str, Any]:
        """The endpoints' sampling settings (for provenance), without the base URL."""
        model = self.pool._endpoints[0].model
        describe = getattr(model, "settings", None)
        settings: dict[str, Any] = (
            dict(describe()) if describe is not None else {"model": self.name}
        )
        settings.pop("base_url", None)
        settings["protocol"] = self.protocol
        return settings

    async def aclose(self) -> None:
        """Unpin the trajectory; the endpoint clients stay open (the pool owns them)."""
        self._unpin()
        self._closed = True
