"""The agent's side of the environment: its tools, where they get data, and what the model reads.

``Toolbox`` holds the tools (search, visit, PythonInterpreter, google_scholar, google_maps,
google_maps_route) over an in-process ``redsearcher.env.LocalEnvironment`` (``LocalBackend``) or
HTTP services (``HTTPBackend``: our server or the real Serper / Jina Reader / SandboxFusion, with
per-service fallbacks, ``ServicesConfig``). Every tool renders the services' wire JSON into the
text the peers' harnesses show a model, in the toolbox's ``RenderStyle`` (registry kind
``render_style``: ``tongyi`` by default, or ``deeptracehub``); ``goal_visit`` is the
goal-directed reader (extractive offline, an OpenAI-compatible summarizer through the package's
one chat client when configured). A task's attachments (``read_attachments``) reach the
``PythonInterpreter`` runs of its episode through ``Toolbox.with_files``.

The MCP server over the same tools is ``redsearcher.tools.mcp`` (it needs the ``env`` extra).
This package builds on ``redsearcher.env`` (the engine) and never on the HTTP server; the agent
imports this package, never the engine's internals.
"""

from redsearcher.tools._attachments import (
    ATTACHMENT_TOOL,
    DEFAULT_MAX_ATTACHMENT_BYTES,
    Attachment,
    AttachmentError,
    as_files,
    attachment_name,
    read_attachments,
)
from redsearcher.tools._bm25 import BM25, tokenize
from redsearcher.tools._render import (
    SEPARATOR,
    VISIT_FAILED_EVIDENCE,
    VISIT_FAILED_SUMMARY,
    join_blocks,
    render_visit,
    render_visit_failed,
)
from redsearcher.tools._render_styles import (
    DEFAULT_RENDER_STYLE,
    DeepTraceHubStyle,
    RenderStyle,
    TongyiStyle,
    render_style,
)
from redsearcher.tools._summarizer import (
    EXTRACTOR_PROMPT_VERSION,
    LLMSummarizer,
    SummarizerConfig,
    SummarizerError,
)
from redsearcher.tools._tools import (
    DEFAULT_TOOLS,
    Backend,
    CodeRunner,
    HTTPBackend,
    LocalBackend,
    ServiceDown,
    ServicesConfig,
    ServiceUnavailable,
    Toolbox,
    ToolDef,
    ToolError,
    tool,
)
from redsearcher.tools._visit import (
    Extract,
    ExtractiveSummarizer,
    PageFetcher,
    Summarizer,
    VisitConfig,
    VisitOutcome,
    goal_visit,
    visit_pages,
)

__all__ = [
    "ATTACHMENT_TOOL",
    "BM25",
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "DEFAULT_RENDER_STYLE",
    "DEFAULT_TOOLS",
    "EXTRACTOR_PROMPT_VERSION",
    "SEPARATOR",
    "VISIT_FAILED_EVIDENCE",
    "VISIT_FAILED_SUMMARY",
    "Attachment",
    "AttachmentError",
    "Backend",
    "CodeRunner",
    "DeepTraceHubStyle",
    "Extract",
    "ExtractiveSummarizer",
    "HTTPBackend",
    "LLMSummarizer",
    "LocalBackend",
    "PageFetcher",
    "RenderStyle",
    "ServiceDown",
    "ServiceUnavailable",
    "ServicesConfig",
    "Summarizer",
    "SummarizerConfig",
    "SummarizerError",
    "TongyiStyle",
    "ToolDef",
    "ToolError",
    "Toolbox",
    "VisitConfig",
    "VisitOutcome",
    "as_files",
    "attachment_name",
    "goal_visit",
    "join_blocks",
    "read_attachments",
    "render_style",
    "render_visit",
    "render_visit_failed",
    "tokenize",
    "tool",
    "visit_pages",
]
