"""The one registry of extension points (tools, judges, search backends, model providers, ...).

Plug-ins register with a decorator under a *kind* and a *name*; configuration refers to them by
name, never by evaluating a string. Lookups of unknown names fail with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from redsearcher.errors import ConfigError

T = TypeVar("T")

_REGISTRY: dict[str, dict[str, Any]] = {}


def register(kind: str, name: str) -> Callable[[T], T]:
    """Register the decorated object as ``name`` of ``kind``.

    Raises:
        ValueError: if ``name`` is already registered for ``kind`` (two plug-ins fighting).
    """

    def decorate(obj: T) -> T:
        entries = _REGISTRY.setdefault(kind, {})
        if name in entries and entries[name] is not obj:
            raise ValueError(f"{kind} {name!r} is already registered")
        entries[name] = obj
        return obj

    return decorate


def lookup(kind: str, name: str) -> Any:
    """Return the object registered as ``name`` of ``kind``.

    Raises:
        ConfigError: for an unknown name, listing the known ones.
    """
    entries = _REGISTRY.get(kind, {})
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"unknown {kind} {name!r}; known: {known}")
    return entries[name]


def names(kind: str) -> list[str]:
    """All names registered for ``kind``, sorted."""
    return sorted(_REGISTRY.get(kind, {}))
