"""The deterministic synthetic World generator: leak-free, scalable, dispersion knobs.

Usage: ``generate_world(GeneratorConfig(entities=5000, seed=1), "out/")``.
"""

from redsearcher.world.generate._config import GeneratorConfig
from redsearcher.world.generate._generator import generate_world
from redsearcher.world.generate._phrases import MONTHS

__all__ = [
    "MONTHS",
    "GeneratorConfig",
    "generate_world",
]
