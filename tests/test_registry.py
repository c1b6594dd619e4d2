from __future__ import annotations

import subprocess
import sys
from typing import Any, get_args

import pytest

from redsearcher import registry
from redsearcher.errors import ConfigError


@pytest.fixture
def scratch_entries() -> Any:
    """Load every kind's built-ins, then restore the entries after the test.

    Saving before the built-ins were loaded would throw them away at teardown while their
    modules stay imported (a second import does not register again), so every later lookup of
    the kind would fail in whatever test ran next.
    """
    for kind in registry.KINDS:
        registry.names(kind)  # type: ignore[arg-type]
    saved = {k: dict(v) for k, v in registry._REGISTRY.items()}
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)


def test_register_and_lookup(scratch_entries: Any) -> None:
    @registry.register("scorer", "test-double")
    def double(x: int) -> int:
        return 2 * x

    assert registry.lookup("scorer", "test-double")(4) == 8
    assert "test-double" in registry.names("scorer")
    with pytest.raises(
        ConfigError, match="known: ab, browsecomp, contains, exact, f1, gaia, test-double, xbench"
    ):
        registry.lookup("scorer", "triple")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("scorer", "test-double")(lambda x: x)


def test_scratch_entries_leave_builtins_usable(scratch_entries: Any) -> None:
    """The fixture's teardown is exercised by the next test: built-ins still resolve after it."""
    assert "exact" in registry.names("scorer")


def test_builtins_resolve_after_a_scratch_test() -> None:
    assert callable(registry.lookup("scorer", "exact"))


def test_kinds_are_a_closed_set() -> None:
    assert set(registry.BUILTINS) == set(get_args(registry.Kind))
    with pytest.raises(ValueError, match="unknown registry kind 'judges'"):
        registry.register("judges", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown registry kind"):
        registry.names("tools")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", get_args(registry.Kind))
def test_builtins_need_no_import_to_register(kind: str) -> None:
    """In a fresh interpreter that imported only the registry, every kind's built-ins resolve."""
    code = f"from redsearcher import registry\nprint(','.join(registry.names({kind!r})))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    expected = {
        "tool": "PythonInterpreter",
        "protocol": "native",
        "context_strategy": "discard_all",
        "scorer": "exact",
        "render_style": "deeptracehub",
        "sft_format": "sharegpt",
        "rl_format": "verl",
    }
    assert expected[kind] in out.split(",")
