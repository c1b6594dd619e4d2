"""Benchmark loaders on tiny fixtures written in each benchmark's published layout.

The encrypted fixtures were encrypted by ``tests/fixtures/benchmarks/make_fixtures.py`` from the
plaintext it holds; these tests decrypt them and compare with that plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from redsearcher.errors import InputFormatError, UserError
from redsearcher.eval import BENCHMARKS, LoadOptions, load_benchmark
from redsearcher.eval._benchmarks import decrypt, encrypt
from redsearcher.eval._benchmarks._crypto import DecryptionError, key_stream

FIXTURES = Path(__file__).parents[1] / "fixtures" / "benchmarks"


def _plaintext() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLAIN = _plaintext()


def test_browsecomp_key_is_the_sha256_of_the_canary_repeated() -> None:
    digest = hashlib.sha256(b"canary").digest()
    assert key_stream("canary", 70, "sha256") == digest * 2 + digest[:6]
    # XOR by hand: "hi" with the first two key bytes, base64-encoded.
    expected = bytes([ord("h") ^ digest[0], ord("i") ^ digest[1]])
    assert encrypt("hi", "canary") == base64.b64encode(expected).decode()
    assert decrypt(encrypt("Grüße, 北京", "canary"), "canary") == "Grüße, 北京"


def test_xbench_key_is_the_canary_bytes_repeated() -> None:
    assert key_stream("ab", 5, "raw") == b"ababa"
    expected = base64.b64encode(bytes([ord("x") ^ ord("a"), ord("y") ^ ord("b")])).decode()
    assert encrypt("xy", "ab", "raw") == expected
    assert decrypt(encrypt("问题", "key", "raw"), "key", "raw") == "问题"


def test_decrypt_with_a_wrong_key_or_non_base64_fails_clearly() -> None:
    secret = encrypt("Which film of 1990 was directed by Marta Velden?", "right")
    with pytest.raises(DecryptionError, match="not the key"):
        decrypt(secret, "wrong")
    with pytest.raises(DecryptionError, match="not base64"):
        decrypt("this is plain text!", "right")


def test_browsecomp_csv() -> None:
    loaded = load_benchmark("browsecomp", FIXTURES / "browsecomp.csv")
    assert loaded.default_judge == "browsecomp"
    assert loaded.sha256 == hashlib.sha256((FIXTURES / "browsecomp.csv").read_bytes()).hexdigest()
    assert [(t.id, t.question, t.answer) for t in loaded.tasks] == [
        (f"browsecomp-{i}", q, a) for i, (q, a, _) in enumerate(PLAIN.BROWSECOMP, start=1)
    ]
    first = loaded.tasks[0]
    assert first.metadata == {"benchmark": "browsecomp", "row": 1, "problem_topic": "Geography"}
    assert "canary" not in first.metadata  # the key is not carried along


def test_browsecomp_wrong_canary_names_file_row_and_field() -> None:
    path = FIXTURES / "browsecomp-wrong-canary.csv"
    with pytest.raises(InputFormatError) as caught:
        load_benchmark("browsecomp", path)
    err = caught.value
    assert (err.path, err.field) == (str(path), "problem")
    assert "row 2" in str(err) and "canary" in str(err)


def test_missing_answer_column_is_refused_naming_it() -> None:
    with pytest.raises(InputFormatError, match="missing column 'answer'") as caught:
        load_benchmark("browsecomp", FIXTURES / "browsecomp-no-answer.csv")
    assert caught.value.field == "answer"


def test_browsecomp_zh_xlsx() -> None:
    loaded = load_benchmark("browsecomp-zh", FIXTURES / "browsecomp-zh.xlsx")
    assert [(t.question, t.answer, t.metadata["topic"]) for t in loaded.tasks] == list(
        PLAIN.BROWSECOMP_ZH
    )
    assert [t.id for t in loaded.tasks] == ["browsecomp-zh-1", "browsecomp-zh-2"]


def test_browsecomp_zh_xlsx_with_inline_strings(tmp_path: Path) -> None:
    rows = [["Topic", "Question", "Answer", "canary"]]
    rows += [
        [encrypt(t, "k"), encrypt(q, "k"), encrypt(a, "k"), "k"] for q, a, t in PLAIN.BROWSECOMP_ZH
    ]
    PLAIN._xlsx(tmp_path / "zh.xlsx", rows, shared=False)
    loaded = load_benchmark("browsecomp-zh", tmp_path / "zh.xlsx")
    assert [t.answer for t in loaded.tasks] == [a for _, a, _ in PLAIN.BROWSECOMP_ZH]


def test_browsecomp_zh_rejects_a_broken_workbook(tmp_path: Path) -> None:
    bad = tmp_path / "browsecomp-zh.xlsx"
    bad.write_bytes(b"PK not really a zip")
    with pytest.raises(InputFormatError, match=r"not an \.xlsx workbook"):
        load_benchmark("browsecomp-zh", bad)


@pytest.mark.parametrize("name", ["metadata.jsonl", "metadata.parquet"])
def test_gaia_jsonl_and_parquet(name: str) -> None:
    loaded = load_benchmark("gaia", FIXTURES / "gaia" / name)
    assert loaded.default_judge == "gaia"
    tasks = loaded.tasks
    assert [t.id for t in tasks] == [row["task_id"] for row in PLAIN.GAIA]
    assert [t.answer for t in tasks] == ["3", "1990", None]  # "?" is the hidden test answer
    assert tasks[0].metadata["Level"] == 1
    assert tasks[0].metadata["file_path"] == str(FIXTURES / "gaia" / PLAIN.GAIA[0]["file_name"])
    assert "file_path" not in tasks[1].metadata
    attachment = (FIXTURES / "gaia" / PLAIN.GAIA[0]["file_name"]).resolve()
    assert tasks[0].attachments == [str(attachment)]  # what the agent's Python tool receives
    assert tasks[1].attachments == []


def test_gaia_missing_attachment_names_row_and_field(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "gaia" / "metadata.jsonl", tmp_path / "metadata.jsonl")
    with pytest.raises(InputFormatError, match="row 1: attachment") as caught:
        load_benchmark("gaia", tmp_path / "metadata.jsonl")
    assert caught.value.field == "file_name"
    options = LoadOptions(attachments=FIXTURES / "gaia")
    assert len(load_benchmark("gaia", tmp_path / "metadata.jsonl", options).tasks) == 3


def test_hle_parquet_and_text_only() -> None:
    everything = load_benchmark("hle", FIXTURES / "hle.parquet")
    assert [t.id for t in everything.tasks] == [row["id"] for row in PLAIN.HLE]
    assert [t.metadata["has_image"] for t in everything.tasks] == [False, True]
    assert everything.tasks[1].metadata["answer_type"] == "multipleChoice"
    text = load_benchmark("hle", FIXTURES / "hle.parquet", LoadOptions(text_only=True))
    assert [t.answer for t in text.tasks] == ["391"]
    assert text.skipped == {"image (--text-only)": 1}


def test_xbench_deepsearch_csv() -> None:
    loaded = load_benchmark("xbench-deepsearch", FIXTURES / "xbench-deepsearch.csv")
    assert loaded.default_judge == "xbench"
    assert [(t.id, t.question, t.answer) for t in loaded.tasks] == [
        (f"xbench-{i}", q, a) for i, q, a in PLAIN.XBENCH
    ]


def test_xbench_plaintext_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "xbench.jsonl"
    path.write_text('{"id": 7, "prompt": "问题？", "answer": "答案"}\n', encoding="utf-8")
    (task,) = load_benchmark("xbench-deepsearch", path).tasks
    assert (task.id, task.question, task.answer) == ("xbench-7", "问题？", "答案")


def test_frames_tsv() -> None:
    loaded = load_benchmark("frames", FIXTURES / "frames.tsv")
    assert [t.id for t in loaded.tasks] == ["frames-0", "frames-1"]
    first = loaded.tasks[0]
    assert first.answer == "Jane Ballou"
    assert first.metadata["reasoning_types"] == "Multiple constraints"
    assert first.metadata["wikipedia_links"] == [
        "https://en.wikipedia.org/wiki/President_of_the_United_States",
        "https://en.wikipedia.org/wiki/James_Buchanan",
    ]


def test_generic_jsonl() -> None:
    loaded = load_benchmark("jsonl", FIXTURES / "generic.jsonl")
    assert [(t.id, t.answer) for t in loaded.tasks] == [("q1", "Harwick"), ("q-year", "1990")]
    assert loaded.default_judge == "exact"


def test_generic_jsonl_without_answer_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?", "answer": "b"}\n{"question": "c?"}\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match="row 2: missing") as caught:
        load_benchmark("jsonl", path)
    assert caught.value.field == "answer"


def test_synthesized_tasks_keep_their_provenance() -> None:
    from redsearcher.eval._benchmarks._synthetic import tasks_path

    loaded = load_benchmark("synthesized", tasks_path())
    assert all(t.synthesized and t.evidence_urls for t in loaded.tasks)
    assert {t.treewidth for t in loaded.tasks} >= {1, 2, 3}


def test_unknown_benchmark_and_unknown_format_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown benchmark 'browsecamp'; known: browsecomp"):
        load_benchmark("browsecamp", FIXTURES / "browsecomp.csv")
    with pytest.raises(InputFormatError, match=r"unknown benchmark file format '\.tsv'"):
        load_benchmark("browsecomp", FIXTURES / "frames.tsv")
    with pytest.raises(UserError, match="not found"):
        load_benchmark("browsecomp", tmp_path / "absent.csv")


def test_an_empty_required_cell_names_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "frames.tsv"
    path.write_text("\tPrompt\tAnswer\n0\tQ?\t\n", encoding="utf-8")
    with pytest.raises(InputFormatError, match="row 1: is empty") as caught:
        load_benchmark("frames", path)
    assert caught.value.field == "Answer"


def test_every_benchmark_pins_a_default_judge() -> None:
    assert all(spec.default_judge for spec in BENCHMARKS.values())
    assert BENCHMARKS["redsearcher-synthetic"].default_judge == "exact"
