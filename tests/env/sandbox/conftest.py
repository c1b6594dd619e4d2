"""Sandboxes shared by the sandbox tests (started once per session)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import open_isolated, small_config

from redsearcher.env.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    box = open_isolated(small_config())
    yield box
    box.close()


@pytest.fixture(scope="session")
def insecure() -> Iterator[Sandbox]:
    """Runs without isolation: bubblewrap is made to look missing."""
    box = Sandbox(small_config(bwrap_path="/nonexistent/bwrap", insecure=True))
    yield box
    box.close()
