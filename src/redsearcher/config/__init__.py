"""Typed configuration, layered: defaults < YAML file < ``REDSEARCHER_*`` env vars < CLI flags."""

from redsearcher.config._layers import load_config, read_config_file

__all__ = ["load_config", "read_config_file"]
