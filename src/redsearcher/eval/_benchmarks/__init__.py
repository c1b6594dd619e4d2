"""Benchmark loaders: files users already have, read in their published layouts.

:func:`load_benchmark` is the one entry point: a benchmark name and a local file become a
:class:`BenchmarkSet` — the tasks (``redsearcher.log.Task`` records, which the rollout runs
unchanged), the file's sha256 (so a score names exactly which file it was computed on) and the
benchmark's pinned default judge. Nothing downloads. ``redsearcher-synthetic`` is our own
benchmark: a pinned World and task set (see :mod:`._synthetic`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from redsearcher.errors import UserError
from redsearcher.eval._benchmarks._crypto import DecryptionError, decrypt, encrypt
from redsearcher.eval._benchmarks._loaders import LOADERS, LoadOptions
from redsearcher.eval._benchmarks._synthetic import (
    SYNTHETIC_NAME,
    SyntheticManifest,
    check_world_hash,
    read_manifest,
    tasks_path,
)
from redsearcher.log import Task

__all__ = [
    "BENCHMARKS",
    "SYNTHETIC_NAME",
    "BenchmarkSet",
    "BenchmarkSpec",
    "DecryptionError",
    "LoadOptions",
    "SyntheticManifest",
    "check_world_hash",
    "decrypt",
    "encrypt",
    "file_sha256",
    "load_benchmark",
    "read_manifest",
    "tasks_path",
]


@dataclass(frozen=True)
class BenchmarkSpec:
    """A benchmark this package reads: its default judge and what files it comes as."""

    name: str
    default_judge: str
    """The judge its published numbers are graded with (part of a score's identity)."""
    files: str
    """The file(s) it ships as, for help texts and errors."""


#: Every benchmark :func:`load_benchmark` knows, by name.
BENCHMARKS: Final[dict[str, BenchmarkSpec]] = {
    spec.name: spec
    for spec in (
        BenchmarkSpec("browsecomp", "browsecomp", "browse_comp_test_set.csv"),
        BenchmarkSpec("browsecomp-zh", "browsecomp", "browsecomp-zh-encrypted.xlsx"),
        BenchmarkSpec("gaia", "gaia", "metadata.jsonl or metadata.parquet (+ attachments)"),
        # HLE's official judge asks for the same fields as BrowseComp's grader.
        BenchmarkSpec("hle", "browsecomp", "test-*.parquet"),
        BenchmarkSpec("xbench-deepsearch", "xbench", "DeepSearch.csv"),
        BenchmarkSpec("frames", "ab", "test.tsv"),
        BenchmarkSpec("jsonl", "exact", "JSONL rows {question, answer}"),
        BenchmarkSpec("synthesized", "exact", "redsearcher synth output (tasks.jsonl)"),
        BenchmarkSpec(SYNTHETIC_NAME, "exact", "built in (pinned World and tasks)"),
    )
}


@dataclass(frozen=True)
class BenchmarkSet:
    """A loaded benchmark file."""

    name: str
    path: Path
    sha256: str
    """sha256 of the file's bytes."""
    default_judge: str
    tasks: list[Task]
    skipped: dict[str, int] = field(default_factory=dict)
    """Rows left out, by reason (e.g. HLE's image rows under ``text_only``)."""


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_benchmark(name: str, path: str | Path, options: LoadOptions | None = None) -> BenchmarkSet:
    """Read the benchmark ``name`` from the local file ``path``.

    Raises:
        UserError: for an unknown benchmark name (listing the known ones) or a missing file.
        InputFormatError: for an unknown file format, a missing column, an empty required cell
            or a field that does not decrypt with its row's canary, naming file, row and field.
    """
    if name not in LOADERS:
        known = ", ".join(sorted(LOADERS))
        extra = (
            f" ({SYNTHETIC_NAME} is run with 'redsearcher bench')" if name == SYNTHETIC_NAME else ""
        )
        raise UserError(f"unknown benchmark {name!r}; known: {known}{extra}")
    source = Path(path)
    if not source.is_file():
        raise UserError(f"{source}: benchmark file not found")
    loaded = LOADERS[name](source, options or LoadOptions())
    if not loaded.tasks:
        raise UserError(f"{source}: no {name} tasks in the file")
    return BenchmarkSet(
        name=name,
        path=source,
        sha256=file_sha256(source),
        default_judge=BENCHMARKS[name].default_judge,
        tasks=loaded.tasks,
        skipped=loaded.skipped,
    )
