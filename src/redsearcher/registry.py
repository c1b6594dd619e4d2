"""The one registry of extension points (tools, protocols, scorers, formats, ...).

Plug-ins register with a decorator under a *kind* and a *name*; configuration refers to them by
name, never by evaluating a string. Lookups of unknown names fail with the list of known ones.

Kinds are a closed, typed set (:data:`Kind`): a misspelt kind is a type error, not an empty
lookup at run time. Registration is explicit: :data:`BUILTINS` names, per kind, the modules that
define the package's own entries, and the first lookup of a kind imports them. So no caller has to
import a module "to register" something, the registry never depends on what happened to be
imported before, and the layering holds (the registry sits at the bottom; the modules it names
are imported by path only when an entry of their kind is asked for). Third-party plug-ins call
:func:`register` themselves, as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Final, Literal, TypeVar, get_args

from redsearcher.errors import ConfigError

__all__ = ["BUILTINS", "KINDS", "Kind", "lookup", "names", "register"]

T = TypeVar("T")

Kind = Literal[
    "tool",
    "protocol",
    "context_strategy",
    "scorer",
    "render_style",
    "sft_format",
    "rl_format",
]
"""Every kind of extension point the package looks things up by."""

KINDS: Final[tuple[str, ...]] = get_args(Kind)

#: The modules defining each kind's built-in entries (imported on the first lookup of the kind).
BUILTINS: Final[dict[str, tuple[str, ...]]] = {
    "tool": ("redsearcher.tools._tools",),
    "protocol": ("redsearcher.model._protocols",),
    "context_strategy": ("redsearcher.agent._context",),
    "scorer": ("redsearcher.eval._scorers", "redsearcher.eval._llm_judges"),
    "render_style": ("redsearcher.tools._render_styles",),
    "sft_format": ("redsearcher.export._sft",),
    "rl_format": ("redsearcher.export._rl",),
}

_REGISTRY: dict[str, dict[str, Any]] = {}
_LOADED: set[str] = set()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}; kinds: {', '.join(KINDS)}")


def _load_builtins(kind: str) -> None:
    if kind in _LOADED:
        return
    _LOADED.add(kind)
    for module in BUILTINS.get(kind, ()):
        importlib.import_module(module)


def register(kind: Kind, name: str) -> Callable[[T], T]:
    """Register the decorated object as ``name`` of ``kind``.

    Raises:
        ValueError: for a kind outside :data:`Kind`, or if ``name`` is already registered for
            ``kind`` as another object (two plug-ins fighting).
    """
    _check_kind(kind)

    def decorate(obj: T) -> T:
        entries = _REGISTRY.setdefault(kind, {})
        if name in entries and entries[name] is not obj:
            raise ValueError(f"{kind} {name!r} is already registered")
        entries[name] = obj
        return obj

    return decorate


def lookup(kind: Kind, name: str) -> Any:
    """Return the object registered as ``name`` of ``kind`` (built-ins loaded first).

    Raises:
        ConfigError: for an unknown name, listing the known ones.
    """
    _check_kind(kind)
    _load_builtins(kind)
    entries = _REGISTRY.get(kind, {})
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ConfigError(f"unknown {kind} {name!r}; known: {known}")
    return entries[name]


def names(kind: Kind) -> list[str]:
    """All names registered for ``kind`` (built-ins included), sorted."""
    _check_kind(kind)
    _load_builtins(kind)
    return sorted(_REGISTRY.get(kind, {}))
