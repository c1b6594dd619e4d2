"""Mid-training data (paper §5): grounding, plans, simulated tool use, long trajectories.

Every target is checked against the World's facts and provenance before it is written, so the
data teaches grounding without teaching hallucination. Each generator has a deterministic
offline path (templates over the World) and an LLM path through the package's one chat client,
validated against the same facts. This package sits beside ``rl``, above ``export``.

- ``Generator`` / ``GenContext`` / ``Rejection`` / ``Rewriter``: what every kind implements.
- Stage I: ``GroundingGenerator`` (intent-anchored grounding with distractors) and
  ``PlanningGenerator`` (hierarchical plans from task graphs), with their verifiers.
- ``WorldIndex`` / ``world_index(ctx)``: the World indexed once per run for every generator.
- ``MixtureConfig`` and ``run_midtrain``: the resumable run, training formats and summary.
"""

from redsearcher.midtrain._generator import GenContext, Generator, Rejection, Rewriter
from redsearcher.midtrain._grounding import (
    GROUNDING_SYSTEM,
    UNANSWERABLE,
    GroundingGenerator,
    GroundingOptions,
    verify_target,
)
from redsearcher.midtrain._mixture import (
    KINDS,
    STAGE_OF,
    MixtureConfig,
    available_kinds,
    load_generator,
)
from redsearcher.midtrain._output import (
    BUCKETS,
    bucket_of,
    count_sample_tokens,
    pack_texts,
    to_openai,
    to_sharegpt,
    to_text,
)
from redsearcher.midtrain._planning import (
    PLANNING_SYSTEM,
    PlanningGenerator,
    PlanStep,
    check_tasks,
    flatten,
    parse_plan,
    verify_plan,
)
from redsearcher.midtrain._rewrite import ChatRewriter, open_rewriter
from redsearcher.midtrain._run import (
    SAMPLES_FILE,
    KindSummary,
    MidtrainSummary,
    run_midtrain,
    summary_table,
)
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage
from redsearcher.midtrain._surface import Span, canonical_value, find_span, surface_forms
from redsearcher.midtrain._tools import ToolDialogueGenerator, ToolOptions
from redsearcher.midtrain._trajectories import (
    TrajectoryGenerator,
    collect_trajectories,
    samples_from_runs,
    trajectory_samples,
)
from redsearcher.midtrain._world_index import DocView, FactView, WorldIndex, world_index

__all__ = [
    "BUCKETS",
    "GROUNDING_SYSTEM",
    "KINDS",
    "PLANNING_SYSTEM",
    "SAMPLES_FILE",
    "STAGE_OF",
    "UNANSWERABLE",
    "ChatRewriter",
    "DocView",
    "FactView",
    "GenContext",
    "Generator",
    "GroundingGenerator",
    "GroundingOptions",
    "Kind",
    "KindSummary",
    "MidtrainMessage",
    "MidtrainSample",
    "MidtrainSummary",
    "MixtureConfig",
    "PlanStep",
    "PlanningGenerator",
    "Rejection",
    "Rewriter",
    "Span",
    "Stage",
    "ToolDialogueGenerator",
    "ToolOptions",
    "TrajectoryGenerator",
    "WorldIndex",
    "available_kinds",
    "bucket_of",
    "canonical_value",
    "check_tasks",
    "collect_trajectories",
    "count_sample_tokens",
    "find_span",
    "flatten",
    "load_generator",
    "open_rewriter",
    "pack_texts",
    "parse_plan",
    "run_midtrain",
    "samples_from_runs",
    "summary_table",
    "surface_forms",
    "to_openai",
    "to_sharegpt",
    "to_text",
    "trajectory_samples",
    "verify_plan",
    "verify_target",
    "world_index",
]
