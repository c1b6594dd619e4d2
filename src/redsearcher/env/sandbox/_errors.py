"""The sandbox's exceptions, named by who is at fault.

* ``SandboxUnavailable``: the machine cannot isolate code (no bubblewrap, or user namespaces
  are disabled) and the configuration did not allow the insecure fallback. An operator fixes it
  by installing bubblewrap, hence a ``UserError``.
* ``SandboxRequestError``: the caller asked for something out of bounds (code too long, a file
  name that escapes the working directory, an unknown SandboxFusion field). It is also a
  ``ValueError`` so an HTTP layer can answer 4xx without knowing this module.
* ``SandboxBusy``: every run slot stayed taken for ``queue_timeout``; nobody is at fault, the
  caller retries later (the HTTP twin answers 503 with ``Retry-After``).
* ``SandboxError``: the sandbox itself broke while running code that was valid to run. It is
  never raised for anything the code did; SandboxFusion reports it as ``"SandboxError"``.
"""

from __future__ import annotations

from redsearcher.errors import RedsearcherError, UserError

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: "
    "`dnf install bubblewrap`), or set SandboxConfig(insecure=True) to run model-written code "
    "WITHOUT isolation on a machine you trust"
)


class SandboxUnavailable(UserError):
    """Code cannot run isolated here and the insecure fallback was not allowed."""


class SandboxRequestError(UserError, ValueError):
    """A run request is out of bounds or malformed.

    Args:
        field: The offending field (``code``, ``stdin``, ``files['a.txt']``, ``run_timeout``).
        message: What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class SandboxError(RedsearcherError):
    """The sandbox machinery failed (not the code it ran)."""


class SandboxBusy(RedsearcherError):
    """Every run slot stayed busy for the configured ``queue_timeout``; retry later."""
