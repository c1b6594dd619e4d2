"""Seeded fault injection: what a flaky real service does, reproducibly.

Agents and rollout code must survive slow answers, 5xx errors and requests that never come
back; testing that against the real services is neither possible on demand nor repeatable.
Each endpoint draws from its own RNG stream (seeded from the config seed and the endpoint
name), so the faults one endpoint sees do not depend on traffic to the others, and a run with
the same seed and the same per-endpoint request order sees the same faults.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from redsearcher.server._config import FaultConfig

__all__ = ["Fault", "FaultInjector"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One request's draw: wait ``delay_s``, then answer ``status`` (or serve when None)."""

    delay_s: float = 0.0
    status: int | None = None
    timeout: bool = False


class FaultInjector:
    """Draws a :class:`Fault` per request from per-endpoint seeded streams (thread-safe).

    Args:
        config: Seed and per-endpoint specs.
    """

    def __init__(self, config: FaultConfig) -> None:
        self._config = config
        self._rngs: dict[str, random.Random] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether any endpoint has an active spec."""
        return any(spec.active for spec in self._config.endpoints.values())

    def draw(self, endpoint: str) -> Fault | None:
        """The fault for the next request to ``endpoint``, or None to serve it untouched."""
        spec = self._config.spec_for(endpoint)
        if spec is None:
            return None
        with self._lock:
            rng = self._rngs.get(endpoint)
            if rng is None:
                rng = self._rngs[endpoint] = random.Random(f"{self._config.seed}/{endpoint}")
            roll = rng.random()
            low, high = spec.latency_bounds
            latency = rng.uniform(low, high) if high > low else low
            status = rng.choice(spec.error_statuses)
        if roll < spec.error_rate:
            return Fault(delay_s=latency, status=status)
        if roll < spec.error_rate + spec.timeout_rate:
            return Fault(delay_s=spec.hang_s, status=504, timeout=True)
        return Fault(delay_s=latency) if latency > 0 else None
