"""The response cache: least recently used goes first, bounded in bytes."""

from __future__ import annotations

from redsearcher.server._cache import ResponseCache


def test_get_put_and_lru_eviction() -> None:
    cache = ResponseCache(max_bytes=16 * 30)  # answers up to 30 bytes are kept
    cache.put(("/search", b"a"), b"x" * 29)  # 30 bytes each: 16 fit
    assert cache.get(("/search", b"a")) == b"x" * 29
    assert cache.get(("/scholar", b"a")) is None  # the path is part of the key
    for i in range(15):
        cache.put(("/search", b"%c" % (ord("b") + i)), b"y" * 29)
    assert len(cache) == 16 and cache.size == 16 * 30
    cache.get(("/search", b"a"))  # now the most recently used
    cache.put(("/search", b"z"), b"z" * 29)  # evicts "b", the least recently used
    assert cache.get(("/search", b"b")) is None
    assert cache.get(("/search", b"a")) == b"x" * 29
    assert cache.size <= cache.max_bytes


def test_large_answers_and_repeats_are_not_kept_twice() -> None:
    cache = ResponseCache(max_bytes=1600)
    cache.put(("/search", b"big"), b"x" * 100)  # 103 bytes > 1600 // 16
    assert cache.get(("/search", b"big")) is None and cache.size == 0
    cache.put(("/search", b"q"), b"first")
    cache.put(("/search", b"q"), b"again")
    assert cache.get(("/search", b"q")) == b"first" and cache.size == len(b"q" + b"first")
