"""The run slots of one ``Sandbox``: at most ``max_concurrency`` runs, a bounded, fair wait.

A plain semaphore is not enough: ``arun`` callers wait on an event loop and ``run`` callers
block a thread, both for the same slots, and a waiter must give up after ``queue_timeout`` with
a clear ``SandboxBusy`` rather than queue for ever behind a burst (eight 120 s runs would
otherwise hold every later request until its HTTP deadline). Waiters are served first come,
first served, so a steady stream of requests cannot starve an early one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

from redsearcher.env.sandbox._errors import SandboxBusy


class Slots:
    """``capacity`` run slots shared by threads and event loops.

    Args:
        capacity: Runs at once.
        queue_timeout: Longest wait for a slot, in seconds, before ``SandboxBusy``.
    """

    def __init__(self, capacity: int, queue_timeout: float) -> None:
        self.capacity = capacity
        self.queue_timeout = queue_timeout
        self._lock = threading.Lock()
        self._free = capacity
        self._waiters: deque[Callable[[], bool]] = deque()

    @property
    def busy(self) -> int:
        """Slots taken now."""
        with self._lock:
            return self.capacity - self._free

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now."""
        with self._lock:
            return len(self._waiters)

    def _busy_error(self) -> SandboxBusy:
        return SandboxBusy(
            f"all {self.capacity} sandbox slots stayed busy for {self.queue_timeout:g} s; "
            "retry later"
        )

    def acquire(self) -> None:
        """Take a slot, blocking this thread up to ``queue_timeout``.

        Raises:
            SandboxBusy: No slot came free in time.
        """
        granted = threading.Event()

        def wake() -> bool:
            granted.set()
            return True

        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            self._waiters.append(wake)
        if granted.wait(self.queue_timeout):
            return
        with self._lock:
            if not granted.is_set():
                self._waiters.remove(wake)
                raise self._busy_error()

    async def aacquire(self) -> None:
        """Take a slot without blocking the event loop, waiting up to ``queue_timeout``.

        Raises:
            SandboxBusy: No slot came free in time.
            asyncio.CancelledError: The caller was cancelled (no slot is held then).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def grant() -> None:
            if not future.done():
                future.set_result(None)

        def wake() -> bool:
            if loop.is_closed():
                return False
            loop.call_soon_threadsafe(grant)
            return True

        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return
            self._waiters.append(wake)
        try:
            await asyncio.wait_for(asyncio.shield(future), self.queue_timeout)
        except (TimeoutError, asyncio.CancelledError) as err:
            with self._lock:
                if wake in self._waiters:
                    self._waiters.remove(wake)
                    if isinstance(err, TimeoutError):
                        raise self._busy_error() from None
                    raise
            # The slot was handed over while we gave up: pass it on.
            self.release()
            if isinstance(err, TimeoutError):
                raise self._busy_error() from None
            raise

    def release(self) -> None:
        """Give a slot back: to the longest waiter, else to the pool."""
        with self._lock:
            while self._waiters:
                if self._waiters.popleft()():
                    return
            self._free += 1

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no slot is taken (tests, shutdown); whether it happened in time."""
        deadline = time.monotonic() + timeout
        while self.busy:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True
