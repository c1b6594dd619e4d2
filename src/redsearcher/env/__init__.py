"""The local search environment: a World indexed and served the way agents' tools expect.

``build_index`` turns a World into an index directory (BM25 over obfuscated-URL pages, scholar
and places backends); ``LocalEnvironment`` opens one and implements ``SearchEnvironment``
(search, visit, scholar, places, route). Servers and agent tools build on these records.

``Toolbox`` holds the agent-facing tools (search, visit, PythonInterpreter, google_scholar,
google_maps, google_maps_route) over a local environment or HTTP services; ``goal_visit`` is
the goal-directed reader (extractive offline, an OpenAI-compatible summarizer when configured).
The HTTP server lives in ``redsearcher.env.server``, the sandbox in ``redsearcher.env.sandbox``.
"""

from redsearcher._util._travel import MODES, haversine_km
from redsearcher.env._config import IndexConfig
from redsearcher.env._dense import reciprocal_rank_fusion
from redsearcher.env._local import (
    IndexFormatError,
    IndexManifest,
    LocalEnvironment,
    build_index,
    default_index_dir,
)
from redsearcher.env._summarizer import LLMSummarizer, SummarizerConfig
from redsearcher.env._tools import (
    DEFAULT_TOOLS,
    HTTPBackend,
    LocalBackend,
    ServicesConfig,
    Toolbox,
    ToolDef,
    ToolError,
)
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
from redsearcher.env._visit import (
    Extract,
    ExtractiveSummarizer,
    Summarizer,
    VisitConfig,
    goal_visit,
    visit_pages,
)

__all__ = [
    "DEFAULT_TOOLS",
    "MODES",
    "Extract",
    "ExtractiveSummarizer",
    "HTTPBackend",
    "IndexConfig",
    "IndexFormatError",
    "IndexManifest",
    "LLMSummarizer",
    "LocalBackend",
    "LocalEnvironment",
    "Page",
    "Paper",
    "Place",
    "Route",
    "RunResult",
    "SearchEnvironment",
    "SearchHit",
    "ServicesConfig",
    "Summarizer",
    "SummarizerConfig",
    "ToolDef",
    "ToolError",
    "Toolbox",
    "VisitConfig",
    "build_index",
    "default_index_dir",
    "goal_visit",
    "haversine_km",
    "normalize_url",
    "reciprocal_rank_fusion",
    "visit_pages",
]
