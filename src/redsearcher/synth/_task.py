"""The synthesized task record: a question, its answer, and everything that makes it checkable.

A task is a *reasoning graph* over World entities (variables bound to entities; edges are World
facts) plus a question that states every constraint without naming the latent entities. The
record keeps the graph, the difficulty measures (treewidth, minimum source dispersion), the
evidence documents, the tools a solver needs and every verifier's verdict, so a task can be
re-verified, filtered by difficulty or traced back to the World it came from without re-running
synthesis. Tasks are stored one per line as JSON (``tasks.jsonl``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from redsearcher.errors import InputFormatError

__all__ = [
    "Condition",
    "Constraint",
    "GraphNode",
    "Task",
    "TaskProvenance",
    "Verdict",
    "read_tasks",
]

Role = Literal["answer", "latent", "observed"]
ToolName = Literal["maps", "scholar", "python"]

_RECORD = ConfigDict(extra="forbid")


class GraphNode(BaseModel):
    """A variable of the reasoning graph and the World entity it stands for."""

    model_config = _RECORD

    var: str
    """Variable name (``x0`` is the answer)."""
    entity: str
    """The World entity id bound in the intended solution."""
    label: str
    type: str
    role: Role
    """``answer`` (asked for), ``latent`` (must be found, never named) or ``observed`` (named)."""


class Condition(BaseModel):
    """A fuzzed test on an attribute value: what a unary constraint requires.

    ``op`` says how ``value`` is read: ``eq`` exact (strings, exact quantities), ``year`` /
    ``decade`` / ``year_range`` on dates (inclusive bounds in ``low``/``high``), ``range`` on
    quantities (inclusive ``low``/``high``), ``approx_route`` on travel times (minutes, with
    ``low``/``high``) and ``days_between`` (exact day count from the reference date in
    ``value``).
    """

    model_config = _RECORD

    op: Literal["eq", "year", "decade", "year_range", "range", "approx_route", "days_between"]
    value: str | float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None


class Constraint(BaseModel):
    """One edge of the reasoning graph: World facts the answer must be consistent with.

    Kinds:

    - ``relation``: ``subject -predicate-> object`` is a World fact (both are variables).
    - ``same``: ``subject`` and ``object`` share a value of ``predicate`` (the same country of
      citizenship, the same genre); ``fact_ids`` holds one fact of each side.
    - ``attribute``: ``subject``'s ``predicate`` value passes ``condition`` (a fuzzed year, a
      range, an exact string).
    - ``route``: the ``condition.unit`` travel time (minutes) from ``object`` (an observed
      anchor) to ``subject`` is within ``condition.low``..``high``; ``condition.value`` is the
      compass direction from the anchor. Needs the maps tool: coordinates are in no document.
    - ``scholar``: ``subject`` (a paper)'s citation count is within ``low``..``high``. Needs the
      scholar tool: citation counts are in no document.
    - ``compute``: the number of days from ``subject``'s ``predicate`` date to the date
      ``condition.value`` equals ``low`` (== ``high``). Needs python: the count is in no
      document.

    ``tool`` names the tool a solver needs for the constraint, if any.
    """

    model_config = _RECORD

    kind: Literal["relation", "same", "attribute", "route", "scholar", "compute"]
    predicate: str
    subject: str
    """Variable name of the subject."""
    object: str | None = None
    """Variable name of the object (relations and routes)."""
    fact_ids: list[int] = Field(default_factory=list)
    """The World facts that make it true in the intended solution."""
    condition: Condition | None = None
    tool: ToolName | None = None
    text: str = ""
    """How the question phrases it (filled by the realizer)."""


class Verdict(BaseModel):
    """One verifier stage's result."""

    model_config = _RECORD

    stage: str
    passed: bool | None
    """None when the stage did not run (no LLM configured, no environment given)."""
    detail: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0


class TaskProvenance(BaseModel):
    """Where a task came from."""

    model_config = _RECORD

    world_hash: str
    seed: int
    config: dict[str, Any] = Field(default_factory=dict)
    redsearcher_version: str = ""
    realizer: str = "offline"
    """``offline`` (the per-relation grammar) or the LLM model name."""


class Task(BaseModel):
    """One synthesized, verifiable search task."""

    model_config = _RECORD

    schema_version: int = 1
    id: str
    question: str
    answer: str
    aliases: list[str] = Field(default_factory=list)
    answer_entity: str
    answer_type: str
    nodes: list[GraphNode]
    constraints: list[Constraint]
    shape: str
    """How the answer was chosen: ``chain`` (deep leaf) or ``hub`` (high-degree node)."""
    treewidth: int
    msd: int
    """Minimum source dispersion of the evidence over the whole World."""
    evidence_facts: list[int]
    evidence_documents: list[str]
    """One minimum cover of the evidence facts."""
    evidence_urls: list[str] = Field(default_factory=list)
    """Obfuscated URLs of ``evidence_documents`` in the environment (when indexed)."""
    required_tools: list[ToolName] = Field(default_factory=list)
    verification: list[Verdict] = Field(default_factory=list)
    provenance: TaskProvenance

    @property
    def answers(self) -> list[str]:
        """The reference answer followed by its aliases."""
        return [self.answer, *self.aliases]

    @property
    def verified(self) -> bool:
        """True when every stage that ran passed."""
        return all(v.passed is not False for v in self.verification)

    def verdict(self, stage: str) -> Verdict | None:
        """The verdict of ``stage``, if it ran."""
        return next((v for v in self.verification if v.stage == stage), None)


def read_tasks(path: str | Path) -> list[Task]:
    """Read a tasks JSONL file.

    Raises:
        InputFormatError: naming the file, line and field of the first malformed record.
    """
    tasks: list[Task] = []
    source = Path(path)
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                tasks.append(Task.model_validate_json(line))
            except ValidationError as err:
                raise InputFormatError.from_validation(
                    source, "task record", err, line=number
                ) from err
    return tasks
