"""Grounding with distractors on the hand-built tiny World: targets known by construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from redsearcher.errors import UserError
from redsearcher.midtrain import (
    UNANSWERABLE,
    GenContext,
    GroundingGenerator,
    MidtrainSample,
    Rejection,
    verify_target,
    world_index,
)
from redsearcher.testing import tiny_world
from redsearcher.world import Document, Entity, Fact, World, WorldWriter

# fact id -> (document, the sentence that states it, the answer), read off TINY_* by hand.
D1 = "Marta Velden was born in Harwick on April 2, 1951."
D2 = "The Quiet Harbor is a 1990 film directed by Marta Velden."
D3 = "Ilse Velden and Oskar Brandt appear in The Quiet Harbor."
D5 = "Harwick is a city in Caldora with a population of 182,000."
D6 = "Ostrand Pictures produced The Quiet Harbor."
D7 = "Marta Velden is a painter born in Harwick."
EXPECTED = {
    1: ("D1", D1, "Harwick"),
    2: ("D1", D1, "1951-04-02"),
    4: ("D2", D2, "Marta Velden"),
    5: ("D3", D3, "Ilse Velden"),
    6: ("D3", D3, "Oskar Brandt"),
    7: ("D2", D2, "1990"),
    8: ("D5", D5, "Caldora"),
    10: ("D5", D5, "182,000"),
    11: ("D6", D6, "Ostrand Pictures"),
    12: ("D7", D7, "painter"),
    13: ("D7", D7, "Harwick"),
}
# Which documents state each fact (TINY_PROVENANCE).
STATING = {1: "D1", 2: "D1", 3: "D4", 4: "D2", 5: "D3", 6: "D3", 7: "D2", 8: "D5", 10: "D5"}
STATING |= {11: "D6", 12: "D7", 13: "D7"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> World:
    return tiny_world(tmp_path_factory.mktemp("tiny") / "world")


def _samples(ctx: GenContext, n: int, seed: int) -> tuple[list[MidtrainSample], list[Rejection]]:
    samples: list[MidtrainSample] = []
    rejections: list[Rejection] = []
    for item in GroundingGenerator().generate(ctx, n, seed):
        (rejections if isinstance(item, Rejection) else samples).append(item)  # type: ignore[arg-type]
    return samples, rejections


def _docs_in(sample: MidtrainSample) -> list[str]:
    return list(sample.source["documents"])


def test_targets_equal_the_hand_known_spans_and_answers(tiny: World) -> None:
    ctx = GenContext(tiny, tiny.content_hash, options={"grounding": {"unanswerable": 0.4}})
    samples, _ = _samples(ctx, 40, seed=3)
    assert len(samples) >= 10
    answerable = [s for s in samples if s.source["answerable"]]
    unanswerable = [s for s in samples if not s.source["answerable"]]
    assert answerable and unanswerable
    for s in answerable:
        doc, sentence, answer = EXPECTED[s.source["fact_id"]]
        target = s.messages[-1].content
        assert f'- [{doc}] "{sentence}"' in target
        assert target.endswith(f"Answer: {answer}")
        assert s.evidence_docs == [doc]
        assert doc in _docs_in(s)
        # the quoted sentence is verbatim in the document the model was shown
        assert sentence in s.messages[1].content
    for s in unanswerable:
        target = s.messages[-1].content
        assert target.endswith(f"Answer: {UNANSWERABLE}")
        assert "- [" not in target
        assert STATING[s.source["fact_id"]] not in _docs_in(s)
        assert s.evidence_docs == [] and s.answer_entities == []


def test_samples_are_deterministic_per_seed_and_ids_count_accepted(tiny: World) -> None:
    ctx = GenContext(tiny, tiny.content_hash)
    a, _ = _samples(ctx, 8, seed=1)
    b, _ = _samples(GenContext(tiny, tiny.content_hash), 8, seed=1)
    assert [s.model_dump() for s in a] == [s.model_dump() for s in b]
    assert [s.id for s in a] == [f"grounding-1-{i}" for i in range(len(a))]
    c, _ = _samples(ctx, 8, seed=2)
    assert [s.model_dump() for s in a] != [s.model_dump() for s in c]


def test_distractors_and_look_alike_disambiguation(tiny: World) -> None:
    ctx = GenContext(tiny, tiny.content_hash, options={"grounding": {"unanswerable": 0.0}})
    samples, _ = _samples(ctx, 30, seed=0)
    about_e1 = [s for s in samples if s.source["entity"] == "E1"]
    assert about_e1
    for s in about_e1:
        # E7 is a same-name painter: the question says which Marta Velden is meant
        assert "Marta Velden (film director)" in (s.question or "")
        assert len(_docs_in(s)) >= 2
        # E7's page is the look-alike distractor
        assert "D7" in _docs_in(s)
    # inputs are shuffled: the evidence is not always first
    firsts = {_docs_in(s)[0] == s.evidence_docs[0] for s in samples}
    assert firsts == {True, False}


def test_messages_train_only_the_target(tiny: World) -> None:
    samples, _ = _samples(GenContext(tiny, tiny.content_hash), 3, seed=0)
    for s in samples:
        assert [m.role for m in s.messages] == ["system", "user", "assistant"]
        assert [m.loss_weight for m in s.messages] == [0.0, 0.0, 1.0]
        assert s.stage == "I" and s.kind == "grounding"
        assert s.text and s.messages[-1].content in s.text


def test_verify_target_rejects_tampered_targets(tiny: World) -> None:
    index = world_index(GenContext(tiny, tiny.content_hash))
    fact = index.fact(index.fact_row[1])  # E1 born_in E5
    docs = [index.doc(index.doc_row[d]) for d in ("D1", "D7", "D2")]
    good = f'Intent: x.\nEvidence:\n- [D1] "{D1}"\nAnswer: Harwick'
    assert verify_target(index, good, fact, docs, True) is None
    # the same words from the look-alike's page: the sentence exists, provenance says no
    wrong_doc = f'Evidence:\n- [D7] "{D7}"\nAnswer: Harwick'
    assert verify_target(index, wrong_doc, fact, docs, True) == "span_does_not_state_fact"
    invented = 'Evidence:\n- [D1] "Marta Velden was born in Harwick."\nAnswer: Harwick'
    assert verify_target(index, invented, fact, docs, True) == "span_not_in_source"
    unseen = f'Evidence:\n- [D5] "{D5}"\nAnswer: Harwick'
    assert verify_target(index, unseen, fact, docs, True) == "unknown_source"
    wrong = f'Evidence:\n- [D1] "{D1}"\nAnswer: Caldora'
    assert verify_target(index, wrong, fact, docs, True) == "answer_mismatch"
    assert verify_target(index, "Answer: Harwick", fact, docs, True) == "no_evidence"
    refusal = f"Answer: {UNANSWERABLE}"
    assert verify_target(index, refusal, fact, docs, False) is None
    assert verify_target(index, good, fact, docs, False) == "evidence_for_unanswerable"
    assert verify_target(index, "Harwick", fact, docs, True) == "no_answer_line"


class _Rewriter:
    name = "fake"

    def __init__(self, change: str) -> None:
        self.change = change
        self.calls = 0

    def rewrite(self, instruction: str, text: str) -> str | None:
        self.calls += 1
        if self.change == "fluent":
            return text.replace("Intent: ", "I am looking for this: ", 1)
        if self.change == "none":
            return None
        return text.replace("Answer: ", "Answer: probably ", 1)


@pytest.mark.parametrize(
    ("change", "rewrite", "reason"),
    [
        ("fluent", "llm", None),
        ("wrong", "fallback", "answer_mismatch"),
        ("none", "fallback", "no_reply"),
    ],
)
def test_llm_rewrites_are_validated_and_fall_back(
    tiny: World, change: str, rewrite: str, reason: str | None
) -> None:
    rewriter = _Rewriter(change)
    ctx = GenContext(tiny, tiny.content_hash, rewriter=rewriter)
    offline, _ = _samples(GenContext(tiny, tiny.content_hash), 5, seed=4)
    samples, _ = _samples(ctx, 5, seed=4)
    assert rewriter.calls == len(samples) == len(offline)
    for s, o in zip(samples, offline, strict=True):
        assert s.source["rewrite"] == rewrite
        assert s.source.get("fallback_reason") == reason
        if rewrite == "llm":
            assert s.messages[-1].content.startswith("I am looking for this: ")
        else:
            assert s.messages[-1].content == o.messages[-1].content


def test_world_without_provenance_is_refused(tmp_path: Path) -> None:
    with WorldWriter(tmp_path / "w", source={"kind": "fixture", "name": "bare"}) as w:
        w.add_entities([Entity("E1", "Harwick", "city")])
        w.add_facts([Fact.quantity(1, "E1", "population", 5)])
        w.add_documents([Document("D1", "Harwick", "Harwick has 5 people.", "encyclopedia")])
    world = World.open(tmp_path / "w")
    with pytest.raises(UserError, match="provenance"):
        GroundingGenerator().check(GenContext(world, world.content_hash))
