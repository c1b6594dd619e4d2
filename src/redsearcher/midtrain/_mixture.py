"""The mixture: how many samples of each kind, from which generator, for one seed.

Ratios are given per stage (Stage I vs Stage II) and per kind within its stage; kinds not
selected give their share to the others of their stage, a stage with no selected kind gives its
share to the other stage. The counts are a pure function of the config, so a run is
deterministic per seed and a resumed run asks each generator for the same samples again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from redsearcher.errors import UserError
from redsearcher.midtrain._generator import Generator
from redsearcher.midtrain._sample import Kind, Stage

__all__ = ["KINDS", "STAGE_OF", "MixtureConfig", "available_kinds", "load_generator"]

KINDS: tuple[Kind, ...] = ("grounding", "planning", "tools", "trajectories")
STAGE_OF: dict[Kind, Stage] = {
    "grounding": "I",
    "planning": "I",
    "tools": "II",
    "trajectories": "II",
}
# Where each kind's generator lives (module in this package, class). Looked up when asked, so a
# build without a kind's module still runs the others and names the missing one clearly.
_GENERATORS: dict[Kind, tuple[str, str]] = {
    "grounding": ("_grounding", "GroundingGenerator"),
    "planning": ("_planning", "PlanningGenerator"),
    "tools": ("_tools", "ToolDialogueGenerator"),
    "trajectories": ("_trajectories", "TrajectoryGenerator"),
}


_STAGES: dict[Stage, float] = {"I": 0.5, "II": 0.5}
_RATIOS: dict[Kind, float] = {"grounding": 0.6, "planning": 0.4, "tools": 0.6, "trajectories": 0.4}


class MixtureConfig(BaseModel):
    """What one ``redsearcher midtrain`` run makes."""

    model_config = ConfigDict(extra="forbid")

    total: int = Field(default=1_000, ge=1)
    """Samples wanted over all selected kinds (before deduplication and decontamination)."""
    seed: int = 0
    """One seed for every generator: same config, World and tasks → same samples."""
    kinds: list[Kind] = Field(default_factory=lambda: list(KINDS))
    """The kinds to make."""
    stages: dict[Stage, float] = Field(default_factory=lambda: dict(_STAGES))
    """Share of each stage."""
    ratios: dict[Kind, float] = Field(default_factory=lambda: dict(_RATIOS))
    """Share of each kind within its stage."""
    options: dict[Kind, dict[str, Any]] = Field(default_factory=dict)
    """Per-kind generator options (``grounding.unanswerable``, ``trajectories.runs`` ...)."""
    pack: bool = False
    """Pack the plain-text output into documents of up to the bucket's tokens."""
    dedupe: bool = True
    """Drop near-duplicates before writing the training files (MinHash LSH, extra ``midtrain``)."""
    dedupe_threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    """Estimated Jaccard similarity at or above which a sample is a near-duplicate.

    Template-made kinds repeat their scaffolding, so the right cut depends on the mix: lower it
    to thin a mixture of short samples harder, raise it to keep paraphrases apart.
    """

    @field_validator("kinds")
    @classmethod
    def _unique(cls, kinds: list[Kind]) -> list[Kind]:
        if not kinds:
            raise ValueError("select at least one kind")
        return list(dict.fromkeys(kinds))

    @field_validator("stages", "ratios")
    @classmethod
    def _non_negative(cls, values: Mapping[str, float]) -> Mapping[str, float]:
        bad = [k for k, v in values.items() if v < 0]
        if bad:
            raise ValueError(f"negative share for {', '.join(bad)}")
        return values

    def counts(self) -> dict[Kind, int]:
        """Samples per selected kind (largest remainders, so they sum to ``total``)."""
        weights: dict[Kind, float] = {}
        stages = {STAGE_OF[k] for k in self.kinds}
        stage_sum = sum(self.stages.get(s, 0.0) for s in stages)
        for stage in stages:
            members = [k for k in self.kinds if STAGE_OF[k] == stage]
            kind_sum = sum(self.ratios.get(k, 0.0) for k in members)
            for k in members:
                share = self.stages.get(stage, 0.0) / stage_sum if stage_sum else 1 / len(stages)
                within = self.ratios.get(k, 0.0) / kind_sum if kind_sum else 1 / len(members)
                weights[k] = share * within
        exact = {k: self.total * w for k, w in weights.items()}
        counts = {k: int(v) for k, v in exact.items()}
        left = self.total - sum(counts.values())
        for k in sorted(exact, key=lambda k: (counts[k] - exact[k], KINDS.index(k)))[:left]:
            counts[k] += 1
        return {k: counts[k] for k in self.kinds}


def available_kinds() -> list[Kind]:
    """The kinds whose generator module is part of this build."""
    out: list[Kind] = []
    for kind in KINDS:
        try:
            load_generator(kind)
        except UserError:
            continue
        out.append(kind)
    return out


def load_generator(kind: Kind) -> Generator:
    """A fresh generator of ``kind``.

    Raises:
        UserError: when the kind's generator is not part of this build.
    """
    module_name, class_name = _GENERATORS[kind]
    try:
        module = importlib.import_module(f"redsearcher.midtrain.{module_name}")
    except ModuleNotFoundError as err:
        if err.name != f"redsearcher.midtrain.{module_name}":
            raise
        module = None
    factory: Callable[[], Generator] | None = getattr(module, class_name, None)
    if factory is None:
        raise UserError(
            f"mid-training kind {kind!r} is not available in this build: its generator "
            f"(redsearcher.midtrain.{module_name}.{class_name}) is missing"
        )
    return factory()
