"""Training data out of runs and tasks: SFT samples and RL query sets in the peers' formats.

SFT (from a run log, after the §6.1 post-filter): ShareGPT for ms-swift and OpenAI messages with
per-message training flags (``export_sft``; one sample per context segment, observations never
trained). RL (from synthesized tasks): REDSearcher ``{problem, answer, difficulty}``, slime
``{prompt, label}``, verl/Search-R1 parquet and DeepTraceHub ``{idx, problem, answer}``
(``export_rl``). Formats are registered (kinds ``sft_format`` and ``rl_format``) so a new one is
a function and a ``register`` call.
"""

from redsearcher.export._filter import SFTFilterConfig, SFTFilterResult, sft_filter
from redsearcher.export._rl import (
    RLExportSummary,
    RLFormat,
    agent_system_prompt,
    difficulty_label,
    export_rl,
    rl_format_names,
    rl_rows,
)
from redsearcher.export._sft import (
    SFTExportSummary,
    SFTFormat,
    export_sft,
    is_observation,
    sft_format_names,
    to_openai_messages,
    to_sharegpt,
    write_jsonl,
)

__all__ = [
    "RLExportSummary",
    "RLFormat",
    "SFTExportSummary",
    "SFTFilterConfig",
    "SFTFilterResult",
    "SFTFormat",
    "agent_system_prompt",
    "difficulty_label",
    "export_rl",
    "export_sft",
    "is_observation",
    "rl_format_names",
    "rl_rows",
    "sft_filter",
    "sft_format_names",
    "to_openai_messages",
    "to_sharegpt",
    "write_jsonl",
]
