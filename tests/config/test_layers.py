from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.config import load_config
from redsearcher.errors import ConfigError
from redsearcher.world.generate import GeneratorConfig


def test_defaults_then_file_then_env_then_flags(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("world:\n  entities: 800\n  seed: 3\n  noise_rate: 0.5\n")
    env = {"REDSEARCHER_WORLD__SEED": "9", "REDSEARCHER_WORLD__DISPERSION": "0.1", "OTHER": "x"}
    cfg = load_config(
        GeneratorConfig,
        "world",
        file=cfg_file,
        environ=env,
        overrides={"noise_rate": 0.2, "seed": None},
    )
    assert cfg.entities == 800  # file
    assert cfg.seed == 9  # env beats file; a flag left unset (None) does not override
    assert cfg.dispersion == 0.1  # env
    assert cfg.noise_rate == 0.2  # flag beats file
    assert cfg.article_coverage == GeneratorConfig().article_coverage  # default


def test_top_level_file_without_section(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("entities: 123\n")
    assert load_config(GeneratorConfig, "world", file=f, environ={}).entities == 123


def test_errors_name_field_and_source(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("world:\n  entities: 10\n")
    with pytest.raises(ConfigError, match=r"world\.entities.*from .*c\.yaml"):
        load_config(GeneratorConfig, "world", file=f, environ={})
    with pytest.raises(ConfigError, match=r"world\.seed.*environment"):
        load_config(GeneratorConfig, "world", environ={"REDSEARCHER_WORLD__SEED": "abc"})
    with pytest.raises(ConfigError, match=r"world\.bogus"):
        load_config(GeneratorConfig, "world", environ={}, overrides={"bogus": 1})
    with pytest.raises(ConfigError, match="not found"):
        load_config(GeneratorConfig, "world", file=tmp_path / "nope.yaml")
    f.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(GeneratorConfig, "world", file=f)


def test_given_defaults_are_the_bottom_layer(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("world:\n  seed: 3\n")
    base = {"seed": 1, "entities": 900, "noise_rate": 0.4}
    cfg = load_config(GeneratorConfig, "world", file=f, environ={}, defaults=base)
    assert (cfg.seed, cfg.entities, cfg.noise_rate) == (3, 900, 0.4)  # the file wins
    assert cfg.dispersion == GeneratorConfig().dispersion  # the model's default where none given
    with pytest.raises(ConfigError, match=r"world\.entities.*\(from defaults\)"):
        load_config(GeneratorConfig, "world", environ={}, defaults={"entities": 10})
