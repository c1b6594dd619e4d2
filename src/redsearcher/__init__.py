"""redsearcher: build, train and evaluate long-horizon deep-search agents.

The package is organised by concept (see the README's diagram): ``world`` (knowledge graph and
documents), ``testing`` (fakes shipped for tests), and the later ``env``, ``synth``, ``agent``,
``rollout``, ``eval`` and ``export`` packages. Importing ``redsearcher`` is cheap: nothing here
opens files, sockets or creates clients.
"""

from redsearcher.errors import (
    ConfigError,
    InputFormatError,
    RedsearcherError,
    UserError,
    WorldFormatError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputFormatError",
    "RedsearcherError",
    "UserError",
    "WorldFormatError",
    "__version__",
]
