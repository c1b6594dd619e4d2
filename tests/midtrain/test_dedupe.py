"""Near-duplicate removal: planted near-copies go, distinct samples stay, the first is kept."""

from __future__ import annotations

import random

import pytest

from redsearcher.midtrain import MidtrainMessage, MidtrainSample
from redsearcher.midtrain._dedupe import DedupeConfig, Deduper, dedupe, sample_text

WORDS = [f"w{i}" for i in range(5000)]


def _text(rng: random.Random, n: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _sample(i: int, text: str, *, as_messages: bool = False) -> MidtrainSample:
    if as_messages:
        messages = [
            MidtrainMessage(role="system", content="same system prompt " * 50),
            MidtrainMessage(role="user", content=text),
        ]
        return MidtrainSample(id=f"s{i}", kind="tools", stage="II", messages=messages)
    return MidtrainSample(id=f"s{i}", kind="grounding", stage="I", text=text)


def _near_copy(text: str, rng: random.Random, edits: int) -> str:
    words = text.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def test_planted_near_duplicates_are_dropped_and_the_first_is_kept() -> None:
    rng = random.Random(0)
    originals = [_text(rng) for _ in range(50)]
    samples = [_sample(i, t) for i, t in enumerate(originals)]
    # Plant a near-copy (one word in 120 changed) of every fifth original, after all originals.
    planted = [_sample(100 + i, _near_copy(originals[i], rng, 1)) for i in range(0, 50, 5)]
    kept, report = dedupe(samples + planted)
    assert [s.id for s in kept] == [s.id for s in samples]
    assert report.seen == 60 and report.dropped == 10 and report.kept == 50
    assert report.duplicate_of == {f"s{100 + i}": f"s{i}" for i in range(0, 50, 5)}


def test_threshold_is_configurable() -> None:
    rng = random.Random(1)
    base = _text(rng, 200)
    # ~25 of 200 words replaced: Jaccard of 5-shingles well under 0.8 but over 0.2.
    edited = _near_copy(base, rng, 25)
    pair = [_sample(0, base), _sample(1, edited)]
    assert dedupe(pair, DedupeConfig(threshold=0.8))[1].dropped == 0
    assert dedupe(pair, DedupeConfig(threshold=0.2))[1].dropped == 1


def test_deterministic_and_order_decides_which_stays() -> None:
    rng = random.Random(2)
    text = _text(rng)
    a, b = _sample(0, text), _sample(1, _near_copy(text, rng, 1))
    assert [s.id for s in dedupe([a, b])[0]] == ["s0"]
    assert [s.id for s in dedupe([b, a])[0]] == ["s1"]
    assert dedupe([a, b])[1].duplicate_of == dedupe([a, b])[1].duplicate_of


def test_message_samples_ignore_the_shared_system_prompt() -> None:
    rng = random.Random(3)
    samples = [_sample(i, _text(rng, 40), as_messages=True) for i in range(20)]
    assert "system prompt" not in sample_text(samples[0])
    assert dedupe(samples)[1].dropped == 0


def test_same_id_twice_is_a_duplicate_and_bad_threshold_is_refused() -> None:
    deduper = Deduper()
    assert deduper.keep(_sample(0, "alpha beta gamma delta epsilon zeta"))
    assert not deduper.keep(_sample(0, "entirely different words for the same id here"))
    with pytest.raises(ValueError, match="threshold"):
        Deduper(DedupeConfig(threshold=0.0))
