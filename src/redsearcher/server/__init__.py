"""The local search environment over HTTP: the API twins agent code already calls.

Serper (``/search``, ``/scholar``, ``/maps``), our ``/route``, Jina Reader (``POST /``,
``GET /{url}``), Search-R1 ``/retrieve``, ASearcher ``/access``, DeepTraceHub
``/local/search`` and ``/local/crawl``, SandboxFusion ``/run_code`` and the goal-directed
``/visit``, plus ``/health``, Prometheus ``/metrics`` and ``/openapi.json``. See
``docs/environment.md``.

Needs the ``env`` extra (FastAPI, uvicorn, prometheus-client).
"""

from redsearcher.server._app import app_from_env, create_app
from redsearcher.server._config import (
    ENDPOINTS,
    PUBLIC_ENDPOINT_NAMES,
    FaultConfig,
    FaultSpec,
    RetrieveConfig,
    ServerConfig,
)
from redsearcher.server._http import uvicorn_options
from redsearcher.server._run import EnvServer, serve

__all__ = [
    "ENDPOINTS",
    "PUBLIC_ENDPOINT_NAMES",
    "EnvServer",
    "FaultConfig",
    "FaultSpec",
    "RetrieveConfig",
    "ServerConfig",
    "app_from_env",
    "create_app",
    "serve",
    "uvicorn_options",
]
