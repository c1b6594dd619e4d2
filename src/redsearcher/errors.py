"""Exceptions, named by who is at fault.

``UserError`` and its subclasses mean the caller gave us something wrong (a flag, a file, a
config value) and carry a message that names the offending file, line and field. Everything else
is a bug or an infrastructure failure and is left to propagate with its own type.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class RedsearcherError(Exception):
    """Base class of every exception redsearcher raises on purpose."""


class UserError(RedsearcherError):
    """The caller asked for something impossible or gave invalid input."""


class ConfigError(UserError):
    """A configuration value (file, flag or environment variable) is invalid."""


class InputFormatError(UserError):
    """An input file is malformed as a whole (not just one record in it).

    Args:
        path: The file.
        message: What is wrong.
        line: 1-based line number when the problem sits on one line.
        field: The field name when the problem is one field.
    """

    def __init__(
        self, path: str | Path, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where = self.path + (f":{line}" if line is not None else "")
        what = f" (field {field!r})" if field else ""
        super().__init__(f"{where}: {message}{what}")

    @classmethod
    def from_validation(
        cls, path: str | Path, what: str, err: ValidationError, *, line: int | None = None
    ) -> InputFormatError:
        """``path[:line]: not a {what}: {first error} (field 'a.b')`` from pydantic's error."""
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return cls(path, f"not a {what}: {first['msg']}", line=line, field=field)


class WorldFormatError(UserError):
    """A World directory is missing, incomplete, or of an unsupported schema version."""
