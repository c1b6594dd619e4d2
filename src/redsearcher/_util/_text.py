r"""Lone surrogates: text that Python holds but UTF-8 cannot carry.

Why this exists: JSON may spell a UTF-16 surrogate on its own (``"\ud800"``) and Python's
``json`` decodes it into a ``str`` holding code point U+D800 — a string that every UTF-8 encoder
then refuses (``surrogates not allowed``). Model output is untrusted input, and a model can write
that escape in its tool-call arguments or its answer. Left alone, such a string crashes whatever
encodes it next: the request back to the model, the tool's cache key, the run log's JSON line.
So the layers that take text from outside find it (:func:`surrogate_path`, to name the bad
argument to the model) or replace it with U+FFFD (:func:`replace_surrogates`, to keep a record
writable), instead of each meeting a ``UnicodeEncodeError`` somewhere deeper.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

__all__ = ["REPLACEMENT", "has_surrogates", "replace_surrogates", "surrogate_path"]

#: What a lone surrogate becomes: U+FFFD REPLACEMENT CHARACTER, as a lenient UTF-8 decoder does.
REPLACEMENT = "\ufffd"

_SURROGATE = re.compile("[\ud800-\udfff]")

T = TypeVar("T")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a code point UTF-8 cannot encode (U+D800–U+DFFF)."""
    return _SURROGATE.search(text) is not None


def surrogate_path(value: Any, path: str = "") -> str | None:
    """Where the first lone surrogate in a JSON-like ``value`` sits, or ``None`` when none does.

    The path is dotted as pydantic names fields (``query.0``, ``filters.site``); a surrogate in a
    mapping *key* names the key itself. ``""`` means ``value`` is itself the bad string.
    """
    if isinstance(value, str):
        return path if has_surrogates(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and has_surrogates(key):
                return where
            found = surrogate_path(item, where)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = surrogate_path(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


def replace_surrogates(value: T) -> tuple[T, int]:
    """``value`` with every lone surrogate replaced by U+FFFD, and how many were replaced.

    Walks strings, lists, tuples and dicts (keys included); other values are returned as they
    are. Nothing is copied when nothing needs replacing, so the common case costs one scan.
    """
    if isinstance(value, str):
        fixed, count = _SURROGATE.subn(REPLACEMENT, value)
        return (fixed, count) if count else (value, 0)  # type: ignore[return-value]
    if isinstance(value, dict):
        total = 0
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, n_key = replace_surrogates(key)
            new_item, n_item = replace_surrogates(item)
            total += n_key + n_item
            out[new_key] = new_item
        return (out, total) if total else (value, 0)  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        items = []
        total = 0
        for item in value:
            new_item, n = replace_surrogates(item)
            items.append(new_item)
            total += n
        if not total:
            return value, 0
        return (items if isinstance(value, list) else type(value)(items)), total  # type: ignore[return-value]
    return value, 0
