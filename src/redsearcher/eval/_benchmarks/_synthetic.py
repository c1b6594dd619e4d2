"""``redsearcher-synthetic``: our own benchmark, a pinned World and a pinned task set.

A score on a public benchmark drifts with the open web; a score on a synthetic task set drifts
with the World it was drawn from and the synthesis code that drew it. So this benchmark pins
both *by value*: the World is regenerated from a fixed :class:`GeneratorConfig` and must hash to
the content hash the manifest records, and the tasks are a committed file whose sha256 the
manifest records. Any machine that reproduces both hashes scores the same questions against the
same documents; one that does not is refused, naming the hash that differs, instead of
producing a number that silently means something else.

The task set lies on a treewidth x minimum-source-dispersion grid (:data:`GRID`), so accuracy
and evidence recall per cell (the difficulty curves) can be read off any model's run. It is
rebuilt only on purpose, with ``scripts/build_redsearcher_synthetic.py``, which bumps
:data:`VERSION` and rewrites the manifest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict

from redsearcher.errors import UserError

__all__ = [
    "GRID",
    "SYNTHETIC_NAME",
    "VERSION",
    "WORLD_SETTINGS",
    "SyntheticManifest",
    "check_world_hash",
    "manifest_path",
    "read_manifest",
    "tasks_path",
]

SYNTHETIC_NAME: Final = "redsearcher-synthetic"
#: The task set's version: part of the manifest, bumped whenever the tasks are rebuilt.
VERSION: Final = "v1"
#: The pinned World's ``GeneratorConfig`` settings: a small synthetic World (a second to
#: generate and index). The manifest records the full config the build used.
WORLD_SETTINGS: Final[dict[str, int]] = {"entities": 5_000, "seed": 20_260_101, "workers": 1}
#: (treewidth, MSD) cells of the task grid, and tasks requested per cell.
GRID: Final[tuple[tuple[int, int], ...]] = tuple((tw, msd) for tw in (1, 2, 3) for msd in (2, 3, 4))
TASKS_PER_CELL: Final = 4
#: Synthesis seed of the pinned task set.
SYNTH_SEED: Final = 0

_DATA = Path(__file__).with_name("data")


class SyntheticManifest(BaseModel):
    """What pins the benchmark: the World's hash and the task file's sha256, versioned together."""

    model_config = ConfigDict(extra="forbid")

    name: str = SYNTHETIC_NAME
    version: str
    world_config: dict[str, object]
    """The :class:`GeneratorConfig` the World is regenerated from."""
    world_hash: str
    """The regenerated World's content hash (refused when it differs)."""
    tasks_file: str
    """The task file's name next to the manifest."""
    tasks_sha256: str
    grid: list[tuple[int, int]]
    """The (treewidth, MSD) cells requested."""
    cells: dict[str, int]
    """Tasks per ``"tw,msd"`` cell, as built."""
    task_count: int


def manifest_path(version: str = VERSION) -> Path:
    """The committed manifest of ``version``."""
    return _DATA / f"{SYNTHETIC_NAME}-{version}.manifest.json"


def tasks_path(version: str = VERSION) -> Path:
    """The committed task file of ``version``."""
    return _DATA / f"{SYNTHETIC_NAME}-{version}.tasks.jsonl"


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(version: str = VERSION) -> SyntheticManifest:
    """The manifest of ``version``, after checking its task file's sha256.

    Raises:
        UserError: when the manifest or its task file is missing, or the file's sha256 differs.
    """
    path = manifest_path(version)
    if not path.is_file():
        raise UserError(f"{SYNTHETIC_NAME} {version}: no manifest at {path}")
    manifest = SyntheticManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    tasks = path.with_name(manifest.tasks_file)
    if not tasks.is_file():
        raise UserError(f"{SYNTHETIC_NAME} {version}: task file {tasks} is missing")
    actual = file_sha256(tasks)
    if actual != manifest.tasks_sha256:
        raise UserError(
            f"{tasks}: sha256 {actual} differs from the manifest's {manifest.tasks_sha256}; "
            "the pinned task set was modified"
        )
    return manifest


def check_world_hash(manifest: SyntheticManifest, world_hash: str | None, where: str) -> None:
    """Refuse a World (regenerated or served at ``where``) that is not the pinned one.

    Raises:
        UserError: naming both hashes.
    """
    if world_hash != manifest.world_hash:
        raise UserError(
            f"{where}: World hash {world_hash} is not the pinned {SYNTHETIC_NAME} "
            f"{manifest.version} World {manifest.world_hash}; a score there would not be "
            "comparable"
        )
