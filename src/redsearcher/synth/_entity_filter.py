"""The LLM concept filter of the seed cascade (§3.2.1): concrete entities, not abstract ones.

The paper's last seed filter is "concept filtering, where an LLM classifier distinguishes
concrete entities from abstract theories". Offline, :mod:`redsearcher.synth._seeds` filters by
class and title words; that catches lists and fictional characters but not "theory of
relativity" typed as an ordinary item. With a model configured, :func:`classify_seeds` asks it
about the candidate seeds (the offline pool), in batches, and records each verdict — with the
model and the prompt's sha256 — in a JSONL through :class:`~redsearcher.log.JsonlFile`, so the
cost is paid once: a later run (or a synthesis over a World derived from this one, whose
entities are the same) reads the cache and asks only about the rest. Synthesis then drops the
entities judged ``abstract`` from the seed pool (:func:`abstract_rows`,
``SynthConfig.seed_verdicts``); entities not judged (``max_calls`` spent, an item the model
left out) keep the offline verdict. They may still be nodes: the paper filters seeds, and "a
person known for the theory of relativity" is a fine clue.

Candidates are asked in a stable pseudo-random order (by a hash of the id), so a run cut by
``max_calls`` judges a uniform sample of the pool rather than its first types. A verdict is
used only while the entity's label is the one it was given for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from redsearcher.errors import ConfigError
from redsearcher.log import JsonlFile, Message, iter_records
from redsearcher.model import ChatModel, ModelRequestError
from redsearcher.synth._graph_agent import fill, load_prompt
from redsearcher.synth._json_reply import json_reply
from redsearcher.synth._kg import KnowledgeGraph

__all__ = [
    "CONCEPT_PROMPT_VERSION",
    "ConceptClassifier",
    "ConceptReport",
    "ConceptVerdict",
    "abstract_rows",
    "classify_seeds",
    "default_verdicts_path",
    "exclusions_digest",
    "parse_verdicts",
]

CONCEPT_PROMPT_VERSION = "v1"
_VERDICTS = ("concrete", "abstract")


class ConceptVerdict(BaseModel):
    """One entity's verdict (one line of the verdicts file)."""

    id: str
    """The entity id."""
    label: str
    """Its label when judged: a verdict counts only while the label is the same."""
    verdict: Literal["concrete", "abstract"]
    model: str
    prompt_version: str
    prompt_sha256: str


def default_verdicts_path(out: str | Path) -> Path:
    """``<tasks file>.concepts.jsonl``: the cache beside a synthesis output."""
    path = Path(out)
    return path.with_name(path.name + ".concepts.jsonl")


def parse_verdicts(text: str, count: int) -> tuple[dict[int, str] | None, str | None]:
    """``({number: verdict}, None)`` for a reply, else ``(None, what is wrong)``.

    Numbers outside ``1..count`` and values other than the two verdicts are left out (those
    entities stay unjudged); a reply with no usable entry at all is malformed.
    """
    data: Any = json_reply(text)
    if not isinstance(data, dict):
        return None, "malformed_json: the reply is not a JSON object"
    out: dict[int, str] = {}
    for key, value in data.items():
        number = int(key) if isinstance(key, str) and key.strip().isdigit() else 0
        verdict = value.strip().lower() if isinstance(value, str) else None
        if 1 <= number <= count and verdict in _VERDICTS:
            out[number] = verdict
    if not out:
        return None, 'malformed_json: no number maps to "concrete" or "abstract"'
    return out, None


class ConceptClassifier:
    """Asks a model whether entities are concrete, a batch per call.

    Args:
        model: Any :class:`~redsearcher.model.ChatModel`.
        prompt_version: Which packaged ``prompts/concept_filter.<version>.txt``.
        batch_size: Entities per call.
        max_attempts: Calls per batch when a reply is unreadable.

    Raises:
        ConfigError: for an unknown prompt version, a batch size or attempts below 1.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        prompt_version: str = CONCEPT_PROMPT_VERSION,
        batch_size: int = 25,
        max_attempts: int = 2,
    ) -> None:
        if batch_size < 1 or max_attempts < 1:
            raise ConfigError("batch_size and max_attempts must be at least 1")
        self.model = model
        self.name: str = model.name
        self.prompt_version = prompt_version
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self._prompt, self._retry, self.prompt_sha256 = load_prompt(
            "concept_filter", prompt_version
        )
        self.calls = 0

    def request(self, kg: KnowledgeGraph, rows: Sequence[int]) -> str:
        """The first request about entity ``rows``."""
        lines = []
        for k, row in enumerate(rows, 1):
            parts = [kg.label(row), f"type: {kg.type_of(row)}"]
            description = kg.description(row)
            if description:
                parts.append(f"description: {description}")
            lines.append(f"{k}. " + " — ".join(parts))
        return fill(self._prompt, {"entities": "\n".join(lines)})

    async def classify(self, kg: KnowledgeGraph, rows: Sequence[int]) -> list[ConceptVerdict]:
        """Verdicts for the ``rows`` the model answered (unreadable every time: none)."""
        messages = [Message(role="user", content=self.request(kg, rows))]
        for _ in range(self.max_attempts):
            self.calls += 1
            done = await self.model.complete(messages, [])
            reply = done.message.content or ""
            found, problem = parse_verdicts(reply, len(rows))
            if found is not None:
                return [
                    ConceptVerdict(
                        id=kg.ids[row],
                        label=kg.label(row),
                        verdict=found[k],  # type: ignore[arg-type]
                        model=self.name,
                        prompt_version=self.prompt_version,
                        prompt_sha256=self.prompt_sha256,
                    )
                    for k, row in enumerate(rows, 1)
                    if k in found
                ]
            messages += [
                Message(role="assistant", content=reply),
                Message(role="user", content=fill(self._retry, {"problem": problem or "?"})),
            ]
        return []


@dataclass
class ConceptReport:
    """What a classification run did."""

    candidates: int = 0
    """Entities of the offline seed pool."""
    cached: int = 0
    """Of them, judged before (read from the verdicts file)."""
    calls: int = 0
    judged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_VERDICTS, 0))
    """This run's verdicts."""
    unanswered: int = 0
    """Entities asked about whose verdict the model left out or garbled (asked again later)."""
    model_errors: int = 0
    """Batches the endpoint refused."""
    abstract: int = 0
    """Entities of the pool judged abstract in all (this run and earlier): no seeds."""
    unjudged: int = 0
    """Entities of the pool with no verdict after this run (the offline filter decides)."""


def _order(kg: KnowledgeGraph, pool: np.ndarray) -> list[int]:
    """The pool in a stable pseudo-random order (sha1 of the entity id)."""
    keyed = [(hashlib.sha1(kg.ids[r].encode()).hexdigest(), int(r)) for r in pool.tolist()]
    return [r for _, r in sorted(keyed)]


async def classify_seeds(
    kg: KnowledgeGraph,
    pool: np.ndarray,
    classifier: ConceptClassifier,
    path: str | Path,
    *,
    max_calls: int = 0,
    progress: bool = False,
) -> ConceptReport:
    """Judge the pool's entities not yet in ``path``, appending verdicts; stop at ``max_calls``.

    Raises:
        HeaderMismatch: when ``path`` holds verdicts of another model or prompt.
        ModelUnavailable: when the endpoint is down; earlier verdicts are kept.
    """
    report = ConceptReport(candidates=len(pool))
    header = {
        "model": classifier.name,
        "prompt_version": classifier.prompt_version,
        "prompt_sha256": classifier.prompt_sha256,
    }
    hint = "pass another --concept-verdicts file, or the same --model as before"
    with JsonlFile.open(
        path, header=header, model=ConceptVerdict, what="concept verdict", hint=hint
    ) as file:
        known = _valid(kg, Path(path)) if file.done else {}
        todo = [r for r in _order(kg, pool) if kg.ids[r] not in known]
        report.cached = len(pool) - len(todo)
        size = classifier.batch_size
        batches = [todo[k : k + size] for k in range(0, len(todo), size)]
        columns = (TextColumn("concepts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        start = classifier.calls
        with Progress(*columns, disable=not progress, transient=False) as bar:
            job = bar.add_task("concepts", total=len(batches))
            for batch in batches:
                if max_calls and classifier.calls - start >= max_calls:
                    break
                try:
                    verdicts = await classifier.classify(kg, batch)
                except ModelRequestError:
                    report.model_errors += 1
                    continue
                # an entity relabelled since its verdict (its id is in the file already) is
                # judged for this run only: the file keeps one line per id
                fresh = [v for v in verdicts if v.id not in file.done]
                file.append_many(fresh)
                for v in verdicts:
                    report.judged[v.verdict] += 1
                report.unanswered += len(batch) - len(verdicts)
                bar.advance(job)
        report.calls = classifier.calls - start
    valid = _valid(kg, Path(path))
    in_pool = [kg.ids[r] for r in pool.tolist()]
    report.abstract = sum(valid.get(e) == "abstract" for e in in_pool)
    report.unjudged = sum(e not in valid for e in in_pool)
    return report


def _valid(kg: KnowledgeGraph, path: Path) -> dict[str, str]:
    """Entity id -> verdict, for verdicts whose entity still has the label they were given for."""
    out: dict[str, str] = {}
    for v in iter_records(path, ConceptVerdict):
        row = kg.row_of.get(v.id)
        if row is not None and kg.label(row) == v.label:
            out[v.id] = v.verdict
    return out


def abstract_rows(kg: KnowledgeGraph, path: str | Path) -> np.ndarray:
    """Rows of the entities a verdicts file judges abstract (no seeds).

    Raises:
        UserError: when the file does not exist.
        InputFormatError: for a malformed line, naming the file and line.
    """
    verdicts = _valid(kg, Path(path))
    rows = [kg.row_of[e] for e, v in verdicts.items() if v == "abstract"]
    return np.array(sorted(rows), dtype=np.int64)


def exclusions_digest(kg: KnowledgeGraph, path: str | Path) -> str:
    """sha256 of the ids a verdicts file excludes: what a synthesis output's header pins."""
    ids = sorted(kg.ids[r] for r in abstract_rows(kg, path).tolist())
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
