"""Configuration of task synthesis, and the difficulty-range syntax of the CLI."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from redsearcher.errors import ConfigError

__all__ = ["Range", "SynthConfig", "parse_range"]

Stage = Literal["structural", "shortcut", "completeness"]
STAGES: tuple[Stage, ...] = ("structural", "shortcut", "completeness")

_RANGE = re.compile(r"^\s*(\d+)\s*(?:(-)\s*(\d+)?)?\s*$")


class Range(BaseModel):
    """An inclusive integer range; ``high`` None means unbounded."""

    model_config = ConfigDict(frozen=True)

    low: int
    high: int | None

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and value >= self.low
            and (self.high is None or value <= self.high)
        )

    def __str__(self) -> str:
        if self.high == self.low:
            return str(self.low)
        return f"{self.low}-{'' if self.high is None else self.high}"


def parse_range(text: str, *, name: str) -> Range:
    """``"3"`` (exactly 3), ``"2-4"`` (2 to 4), ``"3-"`` (3 or more).

    Raises:
        ConfigError: naming the option for anything else.
    """
    m = _RANGE.match(text)
    if not m:
        raise ConfigError(f"{name}: {text!r} is not N, N-M or N- (e.g. 3, 2-4, 3-)")
    low = int(m.group(1))
    high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
    if high is not None and high < low:
        raise ConfigError(f"{name}: {text!r} is empty (the upper bound is below the lower)")
    return Range(low=low, high=high)


class SynthConfig(BaseModel):
    """How tasks are sampled, made unique, evolved with tools and verified."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    n: int = Field(default=20, ge=1)
    """Tasks to emit."""
    seed: int = 0
    """Seed of every random choice; the same World, seed and config give the same tasks."""
    treewidth: str = "1-3"
    """Target treewidth of the reasoning graph: N, N-M or N-."""
    msd: str = "2-"
    """Target minimum source dispersion: N, N-M or N-."""
    tools: list[Literal["maps", "scholar", "python"]] = Field(default_factory=list)
    """Tool-enforced evolutions to apply where a task allows them."""
    min_nodes: int = Field(default=3, ge=2)
    """Smallest reasoning graph (nodes)."""
    max_nodes: int = Field(default=6, ge=2)
    """Largest master graph before densification adds cycle nodes."""
    densify_nodes: int = Field(default=8, ge=2)
    """Largest master graph after densification."""
    tasks_per_graph: int = Field(default=3, ge=1)
    """Subgraphs taken from one master graph (each can give a chain and a hub task)."""
    max_tasks_per_graph: int = Field(default=3, ge=1)
    """Tasks emitted from one master graph at most: its subgraphs share most nodes and facts,
    so more would be near-duplicates of one another."""
    distinct_answers: bool = True
    """Emit no two tasks with the same answer entity (a later one is dropped, counted as
    ``duplicate_answer``): seeds recur across master graphs, and a task set that keeps asking
    for the same entity teaches, and measures, less."""
    text_share: float = Field(default=0.5, ge=0.0, le=1.0)
    """In a World with both knowledge-base and text pages, the share of the ``n`` tasks that
    must cite a text page among their evidence documents (rounded down): once the others fill
    the rest, a task citing database pages only is dropped (``kb_only_evidence``). Database
    pages make every fact findable, but the paper's evidence is Wikipedia text (issue 12: text
    carries evidence). Ignored in Worlds with one kind of page."""
    allow_fictional: bool = False
    """Let fictional and legendary entities (characters, fictional humans and their classes,
    told by their type or description) be seeds and nodes; off, since a question that treats
    Ivan Drago as a real boxer is false in reality."""
    seed_verdicts: str | None = None
    """A JSONL of LLM concept verdicts (``redsearcher synth --model``, the paper's concept
    filter): entities it judges abstract are no seeds. None: the offline class filter only."""
    max_attributes: int = Field(default=4, ge=0)
    """Separating attributes added per task before it is rejected as ambiguous."""
    hub_cap: int = Field(default=150, ge=2)
    """Entities with more relations than this are not walked through."""
    budget: int = Field(default=200_000, ge=1_000)
    """CSP candidate checks per solve."""
    max_graphs: int = Field(default=0, ge=0)
    """Master graphs to try before giving up (0: 50 per requested task)."""
    workers: int = Field(default=1, ge=1)
    """Processes sampling master graphs in parallel (each loads the World once)."""
    verify: list[Stage] = Field(default_factory=lambda: list(STAGES))
    """Verifier stages to run before a task is emitted."""

    @field_validator("treewidth", "msd")
    @classmethod
    def _valid_range(cls, value: str, info: object) -> str:
        parse_range(value, name=getattr(info, "field_name", "range"))
        return value

    @model_validator(mode="after")
    def _sizes(self) -> SynthConfig:
        if self.max_nodes < self.min_nodes:
            raise ValueError("max_nodes must be at least min_nodes")
        if self.densify_nodes < self.max_nodes:
            raise ValueError("densify_nodes must be at least max_nodes")
        return self

    @property
    def treewidth_range(self) -> Range:
        """The parsed treewidth target."""
        return parse_range(self.treewidth, name="treewidth")

    @property
    def msd_range(self) -> Range:
        """The parsed MSD target."""
        return parse_range(self.msd, name="msd")

    @property
    def graph_budget(self) -> int:
        """Master graphs to try."""
        return self.max_graphs or 50 * self.n
