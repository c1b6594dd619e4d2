"""Decontamination: planted overlaps of each kind are dropped and counted under their reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.log import Task
from redsearcher.midtrain import MidtrainMessage, MidtrainSample
from redsearcher.midtrain._decontam import Holdout, decontaminate, load_holdout
from redsearcher.rollout import load_tasks

BENCH_QUESTION = (
    "What is the name of the river that flows through the capital of the country whose first "
    "president was trained as a veterinary surgeon before the war of independence began?"
)


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _sample(i: int, **fields: object) -> MidtrainSample:
    content = str(fields.pop("content", f"an unrelated question number {i} about nothing"))
    messages = [MidtrainMessage(role="user", content=content)]
    return MidtrainSample(id=f"s{i}", kind="tools", stage="II", messages=messages, **fields)  # type: ignore[arg-type]


FIXTURE = Path(__file__).parents[1] / "fixtures" / "tasks" / "synth-v1.jsonl"


@pytest.fixture
def held() -> Task:
    return load_tasks(FIXTURE)[0]


@pytest.fixture
def holdout(tmp_path: Path, held: Task) -> Holdout:
    bench = _write(
        tmp_path / "bench.jsonl", [{"id": "b1", "question": BENCH_QUESTION, "answer": "x"}]
    )
    return load_holdout([FIXTURE], [("jsonl", bench)])


def test_name_colon_path_entries_are_benchmarks(tmp_path: Path) -> None:
    bench = _write(tmp_path / "b.jsonl", [{"id": "b1", "question": BENCH_QUESTION, "answer": "x"}])
    holdout = load_holdout([FIXTURE, f"jsonl:{bench}"])
    assert holdout.questions == 3
    sample = _sample(0, content=BENCH_QUESTION)
    assert decontaminate([sample], holdout)[1] == {"ngram": 1}


def test_planted_overlaps_of_each_kind_are_dropped_with_their_reason(
    holdout: Holdout, held: Task
) -> None:
    assert holdout.questions == 3  # two synthesized tasks and one benchmark question
    assert held.answer_entity and held.evidence_documents and held.evidence_urls
    question = held.question.split()
    clean = [_sample(i, answer_entities=["E1"], evidence_docs=["D1"]) for i in range(5)]
    planted = [
        _sample(10, answer_entities=[held.answer_entity]),  # the held-out answer entity
        _sample(11, evidence_docs=[held.evidence_documents[-1]]),  # one of its documents
        _sample(12, evidence_docs=[held.evidence_urls[0]]),  # ... by URL
        # 13 consecutive words of the held-out question inside a longer message
        _sample(13, content="Context: " + " ".join(question[3:16]) + " and more."),
        # ... of the benchmark question, in the sample's question field, other case
        _sample(14, question="So: " + " ".join(BENCH_QUESTION.upper().split()[:13]) + "?"),
    ]
    kept, dropped = decontaminate(clean + planted, holdout)
    assert [s.id for s in kept] == [s.id for s in clean]
    assert dropped == {"answer_entity": 1, "evidence_doc": 2, "ngram": 2}


def test_a_twelve_word_overlap_is_not_contamination(holdout: Holdout, held: Task) -> None:
    sample = _sample(0, content=" ".join(held.question.split()[:12]))
    assert decontaminate([sample], holdout)[1] == {}
    shorter = Holdout(n=8)
    shorter.add_tasks([held])
    assert decontaminate([sample], shorter)[1] == {"ngram": 1}


def test_first_reason_counts_once(holdout: Holdout, held: Task) -> None:
    both = _sample(
        0,
        answer_entities=[held.answer_entity],
        evidence_docs=held.evidence_documents,
        content=held.question,
    )
    assert decontaminate([both], holdout)[1] == {"answer_entity": 1}


def test_missing_or_bad_holdout_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.csv"):
        load_holdout([], [("browsecomp", tmp_path / "nope.csv")])
    bad = tmp_path / "tasks.jsonl"
    bad.write_text('{"id": "t"}\n')
    with pytest.raises(InputFormatError, match=r"tasks\.jsonl:1"):
        load_holdout([bad])
    with pytest.raises(ValueError, match="n must be"):
        load_holdout([], n=0)
