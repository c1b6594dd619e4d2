"""Dual-constrained task synthesis (REDSearcher §3): hard, verifiable search tasks.

Difficulty has two knobs: the **treewidth** of the reasoning graph (how tightly the
constraints couple) and the **minimum source dispersion** (the fewest documents whose union
states all the evidence). The pipeline samples master graphs from a World (seed filter,
expansion, densification toward a target treewidth), cuts several tasks from each (answer by
topological role), makes each unique over the whole World (a CSP; fuzzed attributes separate
rivals), rewrites mentions into constraints only a tool resolves (maps, scholar, python),
writes the question (offline grammar or an LLM) and runs the verifier cascade (structural,
shortcut, completeness through the live environment API).

Entry points: ``open_verifier`` + ``synthesize`` / ``verify_tasks`` (or the CLI
``redsearcher synth`` / ``redsearcher verify``); ``treewidth`` and ``min_source_dispersion``
are exact and usable alone. The task record (``Task`` and its parts) is
:mod:`redsearcher.log`'s, re-exported here.
"""

# The task record lives in redsearcher.log (one record from synthesis to rollout and evaluation);
# it is re-exported here because synthesis is where most users meet it.
from redsearcher.log import (
    Condition,
    Constraint,
    GraphNode,
    Task,
    TaskProvenance,
    Verdict,
    read_tasks,
)
from redsearcher.synth._config import Range, SynthConfig, parse_range
from redsearcher.synth._csp import Solutions, solve
from redsearcher.synth._densify import DensifyReport, densify_world, write_densified
from redsearcher.synth._discovery import Candidate, Discovery, link_pairs
from redsearcher.synth._dispersion import Cover, min_source_dispersion
from redsearcher.synth._entity_filter import (
    ConceptClassifier,
    ConceptReport,
    ConceptVerdict,
    abstract_rows,
    classify_seeds,
    default_verdicts_path,
)
from redsearcher.synth._graph import SeedFilter, seed_pool
from redsearcher.synth._graph_agent import GraphAgent, Judgment
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._llm_verify import LLMAudit, NoToolSolver
from redsearcher.synth._pipeline import (
    VerifyReport,
    check_served_world,
    open_verifier,
    synthesize,
    verify_tasks,
)
from redsearcher.synth._realize import LLMRealizer, OfflineRealizer, Realization, Realizer
from redsearcher.synth._synth import NoTasksError, Synthesizer, SynthReport, solution_count_key
from redsearcher.synth._treewidth import TreeDecomposition, treewidth, validate_decomposition
from redsearcher.synth._verify import Verifier, evidence_facts

__all__ = [
    "Candidate",
    "ConceptClassifier",
    "ConceptReport",
    "ConceptVerdict",
    "Condition",
    "Constraint",
    "Cover",
    "DensifyReport",
    "Discovery",
    "GraphAgent",
    "GraphNode",
    "Judgment",
    "KnowledgeGraph",
    "LLMAudit",
    "LLMRealizer",
    "NoTasksError",
    "NoToolSolver",
    "OfflineRealizer",
    "Range",
    "Realization",
    "Realizer",
    "SeedFilter",
    "Solutions",
    "SynthConfig",
    "SynthReport",
    "Synthesizer",
    "Task",
    "TaskProvenance",
    "TreeDecomposition",
    "Verdict",
    "Verifier",
    "VerifyReport",
    "abstract_rows",
    "check_served_world",
    "classify_seeds",
    "default_verdicts_path",
    "densify_world",
    "evidence_facts",
    "link_pairs",
    "min_source_dispersion",
    "open_verifier",
    "parse_range",
    "read_tasks",
    "seed_pool",
    "solution_count_key",
    "solve",
    "synthesize",
    "treewidth",
    "validate_decomposition",
    "verify_tasks",
    "write_densified",
]
