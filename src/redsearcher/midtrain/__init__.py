"""Mid-training data (paper §5): grounding, plans, simulated tool use, long trajectories.

Every target is checked against the World's facts and provenance before it is written, so the
data teaches grounding without teaching hallucination. Each generator has a deterministic
offline path (templates over the World) and an LLM path through the package's one chat client,
validated against the same facts. This package sits beside ``rl``, above ``export``.
"""

from redsearcher.midtrain._generator import GenContext, Generator, Rejection, Rewriter
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage

__all__ = [
    "GenContext",
    "Generator",
    "Kind",
    "MidtrainMessage",
    "MidtrainSample",
    "Rejection",
    "Rewriter",
    "Stage",
]
