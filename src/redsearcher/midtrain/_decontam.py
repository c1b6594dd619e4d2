"""Decontamination: drop samples that overlap a held-out task set or a benchmark.

A sample is contaminated when it shares with a held-out question

- ``answer_entity``: one of its ``answer_entities`` is a held-out task's ``answer_entity``
  (benchmark questions carry no World id, so only synthesized task sets add these);
- ``evidence_doc``: one of its ``evidence_docs`` is a held-out task's evidence document (by
  document id, or by URL for tasks that list ``evidence_urls``);
- ``ngram``: a word ``n``-gram (default 13, as in GPT-3's contamination study) of its text
  (question, messages, plain text) occurs in a held-out question.

Reasons are checked in that order and a sample is counted under the first that applies, so the
counts add up to the samples dropped. Held-out sets are our task JSONL files
(``redsearcher.rollout.load_tasks``: ours, DeepTraceHub's or plain
``{id, question, answers}``) and benchmark files read by ``redsearcher.eval.load_benchmark``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from redsearcher.eval import BENCHMARKS, load_benchmark
from redsearcher.log import Task
from redsearcher.midtrain._sample import MidtrainSample
from redsearcher.rollout import load_tasks

__all__ = ["REASONS", "Holdout", "decontaminate", "load_holdout"]

#: Drop reasons, in the order they are checked.
REASONS: Final = ("answer_entity", "evidence_doc", "ngram")
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(slots=True)
class Holdout:
    """What held-out questions must not leak: answer entities, evidence documents, n-grams."""

    n: int = 13
    answer_entities: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)
    """Evidence document ids and URLs."""
    ngrams: set[tuple[str, ...]] = field(default_factory=set)
    questions: int = 0

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        """Add held-out tasks (synthesized or benchmark questions)."""
        for task in tasks:
            self.questions += 1
            if task.answer_entity:
                self.answer_entities.add(task.answer_entity)
            self.evidence.update(task.evidence_documents)
            self.evidence.update(task.evidence_urls)
            self.ngrams |= _ngrams(_words(task.question), self.n)

    def reason(self, sample: MidtrainSample) -> str | None:
        """Why ``sample`` is contaminated (first of :data:`REASONS`), or ``None``."""
        if self.answer_entities.intersection(sample.answer_entities):
            return "answer_entity"
        if self.evidence.intersection(sample.evidence_docs):
            return "evidence_doc"
        if self.ngrams:
            texts = [sample.question or "", sample.text or ""]
            texts += [m.content for m in sample.messages]
            for text in texts:
                words = _words(text)
                n = self.n
                if any(tuple(words[i : i + n]) in self.ngrams for i in range(len(words) - n + 1)):
                    return "ngram"
        return None


def load_holdout(
    task_files: Sequence[str | Path] = (),
    benchmarks: Sequence[tuple[str, str | Path]] = (),
    *,
    n: int = 13,
) -> Holdout:
    """Held-out questions from task JSONL files and ``(benchmark name, file)`` pairs.

    A ``task_files`` entry ``NAME:PATH`` whose ``NAME`` is a benchmark ``load_benchmark`` knows
    (``browsecomp:browse_comp_test_set.csv``) is read as that benchmark, so one repeatable
    ``--holdout`` option takes both.

    Raises:
        UserError / InputFormatError: from the readers, naming the file (and line, field).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    holdout = Holdout(n=n)
    for path in task_files:
        name, _, rest = str(path).partition(":")
        if rest and name in BENCHMARKS and not Path(path).exists():
            holdout.add_tasks(load_benchmark(name, rest).tasks)
        else:
            holdout.add_tasks(load_tasks(path))
    for name, path in benchmarks:
        holdout.add_tasks(load_benchmark(name, path).tasks)
    return holdout


def decontaminate(
    samples: Iterable[MidtrainSample], holdout: Holdout
) -> tuple[list[MidtrainSample], Counter[str]]:
    """The samples that leak nothing held out, and the drop count per reason."""
    kept: list[MidtrainSample] = []
    dropped: Counter[str] = Counter()
    for sample in samples:
        reason = holdout.reason(sample)
        if reason is None:
            kept.append(sample)
        else:
            dropped[reason] += 1
    return kept, dropped
