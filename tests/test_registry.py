from __future__ import annotations

import pytest

from redsearcher import registry
from redsearcher.errors import ConfigError


def test_register_and_lookup() -> None:
    @registry.register("test-kind", "double")
    def double(x: int) -> int:
        return 2 * x

    assert registry.lookup("test-kind", "double")(4) == 8
    assert "double" in registry.names("test-kind")
    with pytest.raises(ConfigError, match="known: double"):
        registry.lookup("test-kind", "triple")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("test-kind", "double")(lambda x: x)
