"""One ``async with`` protocol for every resource that owns connections.

Clients, toolboxes and summarizers hold HTTP connections that must be closed from the event loop
that opened them; each implements ``aclose`` and inherits ``async with`` support from here, so
the enter/exit boilerplate exists once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """Mixin: ``async with obj:`` closes ``obj`` with ``await obj.aclose()`` on the way out."""

    async def aclose(self) -> None:
        """Release the resource (subclasses override; idempotent)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
