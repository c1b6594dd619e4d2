"""``ServerState.call_chunks``: a long batch in ordered chunks on at most half the threads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from redsearcher.errors import UserError
from redsearcher.server import ServerConfig
from redsearcher.server._faults import FaultInjector
from redsearcher.server._metrics import Metrics
from redsearcher.server._state import ApiError, ServerState


def _state(threads: int) -> ServerState:
    config = ServerConfig(sandbox=None, threads=threads)
    return ServerState(config, Metrics(), FaultInjector(config.faults))


class _Probe:
    """A chunk answerer that records the chunks it saw and how many ran at once."""

    def __init__(self, delay: float = 0.0, fail_on: int | None = None) -> None:
        self.delay, self.fail_on = delay, fail_on
        self.chunks: list[list[int]] = []
        self.running = self.most = 0
        self.lock = threading.Lock()

    def __call__(self, chunk: Sequence[int]) -> list[int]:
        with self.lock:
            self.chunks.append(list(chunk))
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.delay)
            if self.fail_on is not None and self.fail_on in chunk:
                raise UserError(f"bad item {self.fail_on}")
            return [x * 10 for x in chunk]
        finally:
            with self.lock:
                self.running -= 1


def test_a_short_batch_is_one_hop() -> None:
    probe = _Probe()
    assert asyncio.run(_state(16).call_chunks(probe, list(range(16)))) == [
        x * 10 for x in range(16)
    ]
    assert probe.chunks == [list(range(16))]


def test_a_long_batch_runs_in_ordered_chunks_on_half_the_threads() -> None:
    probe = _Probe(delay=0.05)
    items = list(range(100))
    out = asyncio.run(_state(8).call_chunks(probe, items, chunk=7))
    assert out == [x * 10 for x in items]
    assert sorted(probe.chunks) == [items[i : i + 7] for i in range(0, 100, 7)]
    assert probe.most == 4  # 8 threads: a batch takes at most 4, the rest serve others


def test_a_failing_chunk_stops_the_chunks_not_yet_started() -> None:
    probe = _Probe(delay=0.05, fail_on=0)
    with pytest.raises(ApiError, match="bad item 0") as caught:
        asyncio.run(_state(2).call_chunks(probe, list(range(40)), chunk=4))
    assert caught.value.status == 400
    time.sleep(0.2)  # had the others been left queued, they would run now
    assert probe.chunks == [[0, 1, 2, 3]]
