"""The task record: one question with its answer, from synthesis through rollout to evaluation.

One record serves every stage, so no stage converts (and loses) what another wrote. A
*synthesized* task is a reasoning graph over World entities (variables bound to entities; edges
are World facts) plus a question that states every constraint without naming the latent
entities; its record keeps the graph, the difficulty measures (treewidth, minimum source
dispersion), the evidence documents, the tools a solver needs and every verifier's verdict, so
it can be re-verified, filtered by difficulty or traced back to its World without re-running
synthesis. A task from elsewhere (a benchmark row, a peer's query set) is the same record with
only an id, a question, usually an answer, and whatever else its file carried in
:attr:`Task.metadata`.

The JSON form is ``tasks.jsonl``'s, one task per line. Fields only synthesized tasks have are
optional, and a task's JSON leaves out what it does not have (``null`` fields, an empty
``metadata``, the empty graph fields of an unsynthesized task), so synthesized tasks are written
byte for byte as before this record served both, and files written then still load. A record
that names an ``answer_entity`` is a synthesized one and must carry every synthesis field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails

from redsearcher.log._reader import iter_records

__all__ = [
    "Condition",
    "Constraint",
    "GraphNode",
    "NodeRole",
    "Task",
    "TaskProvenance",
    "TaskTool",
    "Uniqueness",
    "Verdict",
    "read_tasks",
]

NodeRole = Literal["answer", "latent", "observed"]
"""A reasoning-graph variable's role: asked for, found but never named, or named."""
TaskTool = Literal["maps", "scholar", "python"]
"""A tool a synthesized constraint can only be resolved with."""
Uniqueness = Literal["within_world_sample"]
"""Where a synthesized task's answer is proven unique, when that is less than everywhere:
``within_world_sample`` for a task from a sample World (a slice of a real dump), whose
constraints may admit further answers among the entities and edges the sample left out."""

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
    role: NodeRole
    """``answer`` (asked for), ``latent`` (must be found, never named) or ``observed`` (named)."""


class Condition(BaseModel):
    """A fuzzed test on an attribute value: what a unary constraint requires.

    ``op`` says how ``value`` is read: ``eq`` exact (strings, exact quantities), ``year`` /
    ``decade`` / ``year_range`` on dates (inclusive bounds in ``low``/``high``), ``range`` on
    quantities (inclusive ``low``/``high``), ``approx_route`` on travel times (minutes, with
    ``low``/``high``) and ``days_between`` (exact day count from the reference date in
    ``value``). ``at`` dates a time-varying value (a population "in 2011"): the question
    states it, and the World fact behind it carries that point in time or start time.
    """

    model_config = _RECORD

    op: Literal["eq", "year", "decade", "year_range", "range", "approx_route", "days_between"]
    value: str | float | None = None
    low: float | None = None
    high: float | None = None
    unit: str | None = None
    at: str | None = None

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``at`` out when unset, so undated conditions serialize as before."""
        data: dict[str, Any] = handler(self)
        if data.get("at") is None:
            data.pop("at", None)
        return data


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
    tool: TaskTool | None = None
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


# Fields a synthesized task must carry (those every task file written by synthesis has).
_SYNTHESIZED = (
    "answer",
    "answer_type",
    "nodes",
    "constraints",
    "shape",
    "treewidth",
    "msd",
    "evidence_facts",
    "evidence_documents",
    "provenance",
)
# Synthesis fields an unsynthesized task's JSON leaves out while they are empty.
_GRAPH_LISTS = (
    "nodes",
    "constraints",
    "evidence_facts",
    "evidence_documents",
    "evidence_urls",
    "required_tools",
    "verification",
)


class Task(BaseModel):
    """One search task: what an episode is given, and (for scoring) the accepted answers."""

    model_config = _RECORD

    schema_version: int = 1
    """Version of the record's layout."""
    id: str
    """Stable task id; trajectory ids are ``{id}#{sample}``."""
    question: str
    """The question shown to the agent."""
    answer: str | None = None
    """The reference answer; ``None`` when unknown (an unscored question)."""
    aliases: list[str] = Field(default_factory=list)
    """Other accepted forms of the answer."""
    answer_entity: str | None = None
    """The World entity the answer names (synthesized tasks; set means synthesized)."""
    answer_type: str | None = None
    """The answer entity's type."""
    nodes: list[GraphNode] = Field(default_factory=list)
    """The reasoning graph's variables (synthesized tasks)."""
    constraints: list[Constraint] = Field(default_factory=list)
    """The reasoning graph's edges (synthesized tasks)."""
    shape: str | None = None
    """How the answer was chosen: ``chain`` (deep leaf) or ``hub`` (high-degree node)."""
    treewidth: int | None = None
    """Treewidth of the reasoning graph; ``None`` when not measured."""
    msd: int | None = None
    """Minimum source dispersion of the evidence over the whole World; ``None`` when not
    measured."""
    evidence_facts: list[int] = Field(default_factory=list)
    """The World facts the intended solution rests on."""
    evidence_documents: list[str] = Field(default_factory=list)
    """One minimum cover of the evidence facts."""
    evidence_urls: list[str] = Field(default_factory=list)
    """Obfuscated URLs of ``evidence_documents`` in the environment (when indexed)."""
    required_tools: list[TaskTool] = Field(default_factory=list)
    """Tools a solver cannot do without."""
    verification: list[Verdict] = Field(default_factory=list)
    """Every verifier stage's verdict."""
    provenance: TaskProvenance | None = None
    """Where a synthesized task came from."""
    uniqueness: Uniqueness | None = None
    """``within_world_sample`` when the answer is unique only within a sample World; absent
    (``None``) when the World is complete, so unique everywhere its questions are asked."""
    attachments: list[str] = Field(default_factory=list)
    """Paths of files that come with the question (a GAIA spreadsheet, recording, script).
    The agent loop reads each once when the episode starts and puts it in the Python tool's
    working directory under its base name; the question gets a line naming it. A relative
    path is read against the current directory. Left out of the JSON when empty, so task
    files without attachments read and write as before."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Anything else the task's file carried (a benchmark's level, source, ...)."""

    @model_validator(mode="before")
    @classmethod
    def _synthesized_fields(cls, data: Any) -> Any:
        """A synthesized record (``answer_entity`` set) carries every synthesis field."""
        if isinstance(data, dict) and data.get("answer_entity") is not None:
            missing = [name for name in _SYNTHESIZED if data.get(name) is None]
            if missing:
                errors = [
                    InitErrorDetails(type="missing", loc=(name,), input=data) for name in missing
                ]
                raise ValidationError.from_exception_data(cls.__name__, errors)
        return data

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out what the task does not have (see the module docstring)."""
        data: dict[str, Any] = handler(self)
        synthesized = self.answer_entity is not None
        return {
            key: value
            for key, value in data.items()
            if value is not None
            and not (key in ("metadata", "attachments") and not value)
            and not (not synthesized and key in _GRAPH_LISTS and not value)
        }

    @property
    def answers(self) -> list[str]:
        """The reference answer followed by its aliases (empty when there is no answer)."""
        return [self.answer, *self.aliases] if self.answer is not None else list(self.aliases)

    @property
    def synthesized(self) -> bool:
        """Whether the task came out of synthesis (it has a reasoning graph and measures)."""
        return self.answer_entity is not None

    @property
    def world_hash(self) -> str | None:
        """The World the task was made from: its provenance's, or its file's ``world_hash``."""
        if self.provenance is not None:
            return self.provenance.world_hash
        value = self.metadata.get("world_hash")
        return value if isinstance(value, str) and value else None

    @property
    def verified(self) -> bool:
        """True when every stage that ran passed."""
        return all(v.passed is not False for v in self.verification)

    def verdict(self, stage: str) -> Verdict | None:
        """The verdict of ``stage``, if it ran."""
        return next((v for v in self.verification if v.stage == stage), None)


def read_tasks(path: str | Path) -> list[Task]:
    """Read a file of task records (``redsearcher synth`` output), strictly.

    Raises:
        UserError: when the file does not exist.
        InputFormatError: naming the file, line and field of the first malformed record.
    """
    return list(iter_records(path, Task, what="task record"))
