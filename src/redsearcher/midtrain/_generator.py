"""What every mid-training generator is: the ``Generator`` protocol and what it is handed.

The driver (mixture, resume, output, summary) knows nothing about any kind; it asks each
generator for ``n`` accepted samples of one seed and writes what comes back. A generator yields
accepted :class:`MidtrainSample` records and :class:`Rejection` records (a candidate it built
and threw away, with a short reason slug the summary table counts), so the reasons are visible
without the generator knowing about the table.

Contract (what the driver relies on):

- **Deterministic**: the same ``GenContext`` (World, tasks), ``n`` and ``seed`` give the same
  sequence of yields, so an interrupted run that resumes regenerates the same ids and skips the
  ones already written; no wall clock, no global random state, no ``hash()`` of strings.
- **Ids**: ``f"{kind}-{seed}-{index}"`` where ``index`` counts *accepted* samples from 0, so
  ids are unique per (kind, seed) and stable across runs.
- ``n`` is the number of accepted samples wanted; rejections do not count. A generator may stop
  early when its source (the World's entities, the tasks) is exhausted.
- ``tokens`` may be left 0: the driver fills it with the package's one token counter.
- LLM path: when ``ctx.rewriter`` is set, a generator may ask it to rewrite its offline text and
  must validate the result against the same facts; on failure it keeps the offline text and
  records ``source["rewrite"] = "fallback"`` with ``source["fallback_reason"]`` (the summary
  counts these). ``source["rewrite"]`` is ``"offline"`` when no rewriter was asked and
  ``"llm"`` when the rewrite passed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from redsearcher.log import Task
from redsearcher.midtrain._sample import Kind, MidtrainSample, Stage
from redsearcher.world import World

__all__ = ["GenContext", "Generator", "Rejection", "Rewriter"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A candidate a generator built and discarded (counted per ``reason`` in the summary)."""

    kind: Kind
    reason: str
    """A short slug (``span_not_in_source``, ``no_fact``, ``plan_order`` ...), one per cause."""
    detail: str = ""
    """Free text for the log (which entity, which span); never aggregated."""


@runtime_checkable
class Rewriter(Protocol):
    """The LLM path: rewrite a text for fluency; ``None`` when the model failed to answer.

    Synchronous on purpose so generators stay plain iterators; the implementation over the
    package's chat client (``ChatRewriter`` in this package) runs the async call.
    """

    name: str
    """The model name, recorded in ``source["rewriter"]``."""

    def rewrite(self, instruction: str, text: str) -> str | None:
        """Rewrite ``text`` following ``instruction``; ``None`` on any model failure."""
        ...


@dataclass(slots=True)
class GenContext:
    """What a generator reads: the World, the synthesized tasks and the optional LLM path."""

    world: World
    world_hash: str
    tasks: Sequence[Task] = ()
    """Synthesized tasks (``redsearcher synth`` output) for the kinds that start from graphs."""
    rewriter: Rewriter | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    """Per-kind options from the mixture config (``options[kind]`` is that kind's dict)."""
    cache: dict[str, Any] = field(default_factory=dict)
    """Indexes a generator builds once per context (keyed by the generator's own name)."""

    def kind_options(self, kind: Kind) -> Mapping[str, Any]:
        """The options the mixture config gives ``kind`` (empty when none)."""
        value = self.options.get(kind, {})
        return value if isinstance(value, Mapping) else {}


@runtime_checkable
class Generator(Protocol):
    """One kind of mid-training data."""

    kind: Kind
    stage: Stage

    def check(self, ctx: GenContext) -> None:
        """Raise ``UserError`` naming what is missing (no provenance, tasks without graphs).

        Called once before generation, so bad input fails before any output is written.
        """
        ...

    def generate(self, ctx: GenContext, n: int, seed: int) -> Iterator[MidtrainSample | Rejection]:
        """Yield up to ``n`` accepted samples (and any rejections) for ``seed``."""
        ...
