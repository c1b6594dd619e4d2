"""The search engine side of the local environment: a World indexed the way agents' tools expect.

``build_index`` turns a World into an index directory (BM25 over obfuscated-URL pages, scholar
and places backends); ``LocalEnvironment`` opens one and implements ``SearchEnvironment``
(search, read, scholar, places, route). The sandbox for model-written code lives in
``redsearcher.env.sandbox``.

What an *agent* holds — the tools, their backends, rendering, goal-directed visit and MCP — is
``redsearcher.tools``, which builds on this package; the HTTP server that hosts both is
``redsearcher.server``. Nothing here imports either.
"""

from redsearcher.env._config import IndexConfig
from redsearcher.env._dense import reciprocal_rank_fusion
from redsearcher.env._local import (
    IndexFormatError,
    IndexManifest,
    LocalEnvironment,
    build_index,
    default_index_dir,
)
from redsearcher.env._recorded import normalize_query
from redsearcher.env._travel import EARTH_RADIUS_KM, MODES, haversine_km, travel_mode
from redsearcher.env._types import (
    Page,
    Paper,
    Place,
    Route,
    RunResult,
    SearchEnvironment,
    SearchHit,
)
from redsearcher.env._urls import normalize_url
from redsearcher.env._wire import (
    jina_json,
    jina_text,
    route_json,
    serper_maps,
    serper_scholar,
    serper_search,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "MODES",
    "IndexConfig",
    "IndexFormatError",
    "IndexManifest",
    "LocalEnvironment",
    "Page",
    "Paper",
    "Place",
    "Route",
    "RunResult",
    "SearchEnvironment",
    "SearchHit",
    "build_index",
    "default_index_dir",
    "haversine_km",
    "jina_json",
    "jina_text",
    "normalize_query",
    "normalize_url",
    "reciprocal_rank_fusion",
    "route_json",
    "serper_maps",
    "serper_scholar",
    "serper_search",
    "travel_mode",
]
