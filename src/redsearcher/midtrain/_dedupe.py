"""Near-duplicate removal: MinHash LSH (``datasketch``) over each sample's text.

Template generators repeat themselves; a mixture with many near-copies over-trains on them.
Each sample's text (its ``text`` or its messages' contents, lower-cased) is shingled into word
``shingle``-grams and hashed with ``num_perm`` seeded permutations; a sample whose estimated
Jaccard similarity with an already kept one reaches ``threshold`` is dropped. Deterministic: the
permutations are seeded, and samples are visited in input order, so the first of a group is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from datasketch import LeanMinHash, MinHash, MinHashLSH

from redsearcher.midtrain._sample import MidtrainSample

__all__ = ["DedupeConfig", "DedupeReport", "Deduper", "dedupe", "sample_text"]

_WORD = re.compile(r"\w+")


def sample_text(sample: MidtrainSample) -> str:
    """The text that decides whether two samples are near-duplicates."""
    if sample.text:
        return sample.text
    return "\n".join(m.content for m in sample.messages if m.role != "system")


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """MinHash LSH settings."""

    threshold: float = 0.8
    """Estimated Jaccard similarity at or above which a sample is a near-duplicate."""
    num_perm: int = 128
    shingle: int = 5
    """Words per shingle (texts shorter than this are one shingle)."""
    seed: int = 1


@dataclass(slots=True)
class DedupeReport:
    """How many samples were seen and dropped, and which kept sample each drop duplicated."""

    seen: int = 0
    dropped: int = 0
    duplicate_of: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        """Samples kept."""
        return self.seen - self.dropped


class Deduper:
    """Streaming near-duplicate filter: ``keep(sample)`` says whether a sample is new."""

    def __init__(self, config: DedupeConfig | None = None) -> None:
        self.config = config or DedupeConfig()
        if not 0.0 < self.config.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.config.threshold}")
        self._lsh = MinHashLSH(threshold=self.config.threshold, num_perm=self.config.num_perm)
        # The seeded permutations, drawn once (MinHash draws them per object otherwise).
        template = MinHash(num_perm=self.config.num_perm, seed=self.config.seed)
        self._options: dict[str, Any] = {"permutations": template.permutations}
        if hasattr(template, "scheme"):  # datasketch >= 2.0 wants the scheme named with them
            self._options["scheme"] = template.scheme
        self._hashes: dict[str, LeanMinHash] = {}
        self.report = DedupeReport()

    def _minhash(self, text: str) -> LeanMinHash:
        words = _WORD.findall(text.lower())
        size = self.config.shingle
        shingles = {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}
        minhash = MinHash(num_perm=self.config.num_perm, seed=self.config.seed, **self._options)
        minhash.update_batch([s.encode("utf-8") for s in sorted(shingles)])
        # Kept samples are stored without the permutations (1 KB each at 128 permutations).
        return LeanMinHash(minhash)

    def keep(self, sample: MidtrainSample) -> bool:
        """Whether ``sample`` is kept (and remembered); a near-duplicate is counted and dropped."""
        self.report.seen += 1
        minhash = self._minhash(sample_text(sample))
        candidates = sorted(self._lsh.query(minhash))
        for other in candidates:
            if self._hashes[other].jaccard(minhash) >= self.config.threshold:
                self.report.dropped += 1
                self.report.duplicate_of[sample.id] = other
                return False
        if sample.id in self._hashes:
            # The same id twice is a duplicate whatever its text (a resumed run re-yielding).
            self.report.dropped += 1
            self.report.duplicate_of[sample.id] = sample.id
            return False
        self._lsh.insert(sample.id, minhash)
        self._hashes[sample.id] = minhash
        return True


def dedupe(
    samples: Iterable[MidtrainSample], config: DedupeConfig | None = None
) -> tuple[list[MidtrainSample], DedupeReport]:
    """Drop near-duplicates (the first of each group stays); the kept samples and a report."""
    deduper = Deduper(config)
    kept = [s for s in samples if deduper.keep(s)]
    return kept, deduper.report


def iter_deduped(samples: Iterable[MidtrainSample], deduper: Deduper) -> Iterator[MidtrainSample]:
    """Streaming form of :func:`dedupe` (the report is ``deduper.report``)."""
    return (s for s in samples if deduper.keep(s))
