"""One ``with`` / ``async with`` protocol for every resource that must be released.

Clients, toolboxes and summarizers hold HTTP connections that must be closed from the event loop
that opened them; each implements ``aclose`` and inherits ``async with`` support from
:class:`AsyncClosing`. Memory maps, files and sandboxes implement ``close`` and inherit ``with``
support from :class:`Closing`. Either way the enter/exit boilerplate exists once.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing", "Closing"]


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


class Closing:
    """Mixin: ``with obj:`` closes ``obj`` with ``obj.close()`` on the way out."""

    def close(self) -> None:
        """Release the resource (subclasses override; idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
