"""A per-worker cache of rendered search answers, keyed by endpoint and request body.

Why: in RL the same query arrives many times. A GRPO group samples K trajectories of one task,
and they open with the same few searches; evaluation reruns the same tasks. The index is opened
read-only and never reloads while served, so an answer is a pure function of the endpoint and
the request body, and keeping its bytes is exact. The cache is bounded in bytes (least recently
used goes first), an answer larger than a sixteenth of the bound is not kept (one big batch must
not flush everything), and only successful answers are stored.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["ResponseCache"]

#: The cache key: request path and raw body bytes.
Key = tuple[str, bytes]


class ResponseCache:
    """An LRU map from ``(path, body)`` to answer bytes, bounded by ``max_bytes``.

    Only the event loop thread touches it (the fast lane), so it takes no lock.

    Args:
        max_bytes: Bound on the sum of the keys' bodies and the answers kept.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes held now (request bodies plus answers)."""
        return self._size

    def get(self, key: Key) -> bytes | None:
        """The answer stored for ``key`` (now the most recently used), or None."""
        answer = self._entries.get(key)
        if answer is not None:
            self._entries.move_to_end(key)
        return answer

    def put(self, key: Key, answer: bytes) -> None:
        """Keep ``answer`` for ``key``, evicting the least recently used to stay in bound."""
        cost = len(key[1]) + len(answer)
        if cost > self.max_bytes // 16 or key in self._entries:
            return
        self._entries[key] = answer
        self._size += cost
        while self._size > self.max_bytes:
            (_, body), old = self._entries.popitem(last=False)
            self._size -= len(body) + len(old)
