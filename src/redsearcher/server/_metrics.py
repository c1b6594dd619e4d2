"""Prometheus metrics of the environment server: requests, latency, in-flight, cache, faults.

Each app owns its own ``CollectorRegistry`` so several servers in one process (tests, a main
job that starts one per World) never collide on metric names. With several uvicorn workers the
numbers live in separate processes; ``redsearcher env serve --workers N`` therefore sets
``PROMETHEUS_MULTIPROC_DIR`` before the workers start, and ``/metrics`` then aggregates every
worker's files (prometheus-client's multiprocess mode). Without that variable each worker
reports only its own requests.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

__all__ = ["MULTIPROC_ENV", "Metrics"]

#: The environment variable that switches prometheus-client to multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The server's metric families, registered on a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "redsearcher_env_requests",
            "Requests answered, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "redsearcher_env_request_duration_seconds",
            "Time from receiving a request to its last response byte, by endpoint.",
            ["endpoint"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "redsearcher_env_in_flight_requests",
            "Requests being served now, by endpoint.",
            ["endpoint"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.cache = Counter(
            "redsearcher_env_response_cache",
            "Search answers by cache result: hit, shared (joined an identical request), miss.",
            ["endpoint", "result"],
            registry=self.registry,
        )
        self.faults = Counter(
            "redsearcher_env_injected_faults",
            "Faults injected, by endpoint and kind (latency, error, timeout).",
            ["endpoint", "kind"],
            registry=self.registry,
        )

    @staticmethod
    def multiprocess() -> bool:
        """Whether prometheus-client runs in multiprocess mode (several workers)."""
        return bool(os.environ.get(MULTIPROC_ENV))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type; all workers' metrics in multiprocess mode."""
        if self.multiprocess():
            registry = CollectorRegistry()
            _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    @staticmethod
    def worker_exited(pid: int) -> None:
        """Drop a finished worker's live gauges (multiprocess mode only)."""
        if MULTIPROC_ENV in os.environ:
            _multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
