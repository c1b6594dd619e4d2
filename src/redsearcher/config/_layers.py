"""One way to build any config model from a YAML file, the environment and CLI flags.

Why not pydantic-settings' own sources: every redsearcher command builds a *section* model
(e.g. ``GeneratorConfig``) once and passes it down; layering is the same for every section, so it
lives here and sections stay plain ``pydantic.BaseModel`` classes with a docstring per field.

Environment variables are ``REDSEARCHER_<SECTION>__<FIELD>`` (nested fields joined by ``__``),
e.g. ``REDSEARCHER_WORLD__SEED=7``. A YAML file may hold the section at top level or under its
section key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from redsearcher.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

ENV_PREFIX = "REDSEARCHER_"


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _from_env(section: str, environ: Mapping[str, str]) -> dict[str, Any]:
    prefix = f"{ENV_PREFIX}{section.upper()}__"
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(prefix):
            continue
        path = [p.lower() for p in name[len(prefix) :].split("__") if p]
        if not path:
            continue
        node = values
        for part in path[:-1]:
            node = node.setdefault(part, {})
        # YAML parsing turns "7" into 7, "true" into True and "[a, b]" into a list.
        try:
            node[path[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError:
            node[path[-1]] = raw
    return values


def read_config_file(path: Path) -> Any:
    """The parsed YAML of config file ``path`` (``None`` for an empty file).

    The one reader of config files, so every command reports a bad one the same way.

    Raises:
        ConfigError: naming the file (and the line, for bytes that are not UTF-8) when it is
            missing, unreadable, not UTF-8 text (a binary file) or not valid YAML.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(f"{path}: config file not found") from err
    except OSError as err:  # a directory, no permission, ...
        raise ConfigError(f"{path}: cannot read the config file ({err.strerror or err})") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:  # a binary file, or another encoding
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(
            f"{path}:{line}: a config file must be UTF-8 text (invalid byte 0x{raw[err.start]:02x} "
            f"at offset {err.start})"
        ) from err
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err


def _from_file(path: Path, section: str) -> dict[str, Any]:
    data = read_config_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at top level, got {type(data).__name__}")
    inner = data.get(section)
    return dict(inner) if isinstance(inner, dict) else data


def load_config(
    model: type[M],
    section: str,
    *,
    file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> M:
    """Build ``model`` from defaults, a YAML file, env vars and explicit overrides (in that order).

    Args:
        model: The pydantic model class of the section.
        section: The section name, used for the env-var prefix and the YAML key.
        file: Optional YAML file.
        overrides: Values from CLI flags; ``None`` values mean "flag not given" and are dropped.
        environ: Environment to read (defaults to ``os.environ``).
        defaults: Values under every other layer, in place of the model's own defaults for the
            fields they name: for defaults that depend on another flag (e.g. every service at
            the ``--env`` server). Nested mappings merge, as for the other layers.

    Raises:
        ConfigError: naming the source and the field of the first invalid value.
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    if defaults:
        layers.append(("defaults", dict(defaults)))
    if file is not None:
        layers.append((str(file), _from_file(Path(file), section)))
    env_values = _from_env(section, os.environ if environ is None else environ)
    if env_values:
        layers.append((f"environment ({ENV_PREFIX}{section.upper()}__*)", env_values))
    if overrides:
        layers.append(("command line", {k: v for k, v in overrides.items() if v is not None}))
    merged: dict[str, Any] = {}
    for _, values in layers:
        merged = _deep_merge(merged, values)
    try:
        return model.model_validate(merged)
    except ValidationError as err:
        # Name the layer that supplied each bad field so the user knows what to fix.
        problems = []
        for e in err.errors():
            loc = ".".join(str(p) for p in e["loc"])
            source = "defaults"
            for name, values in layers:
                node: Any = values
                for p in e["loc"]:
                    node = node.get(str(p)) if isinstance(node, dict) else None
                if node is not None:
                    source = name
            problems.append(f"{section}.{loc}: {e['msg']} (from {source})")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from err
