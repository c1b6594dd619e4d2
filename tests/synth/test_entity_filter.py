"""The LLM concept filter of the seed cascade: batched, cached, resumable, used by synthesis."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import numpy as np
import pytest

from redsearcher._cli import main
from redsearcher.log import HeaderMismatch, iter_records
from redsearcher.synth import (
    ConceptClassifier,
    ConceptReport,
    ConceptVerdict,
    KnowledgeGraph,
    SeedFilter,
    SynthConfig,
    Synthesizer,
    abstract_rows,
    classify_seeds,
    seed_pool,
)
from redsearcher.synth._entity_filter import _order, exclusions_digest, parse_verdicts
from redsearcher.testing import Script, ScriptedChatServer, ScriptedModel, Step, small_world
from redsearcher.world import World


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    return KnowledgeGraph(small_world(tmp_path_factory.mktemp("w") / "world", entities=200))


def _verdicts(**numbered: str) -> Step:
    return Step(content=json.dumps({k.lstrip("n"): v for k, v in numbered.items()}))


def _classify(
    kg: KnowledgeGraph, pool: np.ndarray, model: ScriptedModel, path: Path, **kw: int
) -> ConceptReport:
    classifier = ConceptClassifier(model, batch_size=5)
    return asyncio.run(classify_seeds(kg, pool, classifier, path, **kw))


def test_batches_are_judged_recorded_and_resumed(kg: KnowledgeGraph, tmp_path: Path) -> None:
    pool = seed_pool(kg, SeedFilter())[:12]
    order = _order(kg, pool)
    path = tmp_path / "concepts.jsonl"
    steps = [
        _verdicts(n1="concrete", n2="abstract", n3="concrete", n4="concrete", n5="Concrete"),
        Step(content="I think they are all concrete."),  # unreadable: asked again
        # the retry leaves 3 out, answers 9 (no such entity) and garbles 4
        _verdicts(n1="abstract", n2="concrete", n4="maybe", n5="concrete", n9="abstract"),
        Step(content='```json\n{"1": "abstract", "2": "concrete"}\n```'),
    ]
    with ScriptedModel(steps, name="judge") as model:
        report = _classify(kg, pool, model, path)
        first = model.calls[0].messages[0].content or ""
        retry = model.calls[2].messages[-1].content or ""
    assert f"1. {kg.label(order[0])} — type: {kg.type_of(order[0])}" in first
    assert "malformed_json" in retry
    assert report.calls == 4 and report.unanswered == 2
    assert report.judged == {"concrete": 7, "abstract": 3}
    records = list(iter_records(path, ConceptVerdict))
    assert len(records) == 10 and {r.model for r in records} == {"judge"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", r.prompt_sha256) for r in records)
    assert {kg.ids[r] for r in abstract_rows(kg, path)} == {kg.ids[order[k]] for k in (1, 5, 10)}
    assert report.abstract == 3 and report.unjudged == 2

    # resumed: only the two unanswered entities are asked about, in one batch
    with ScriptedModel([_verdicts(n1="concrete", n2="concrete")], name="judge") as model:
        again = _classify(kg, pool, model, path)
        asked = model.calls[0].messages[0].content or ""
    assert again.cached == 10 and again.calls == 1 and again.unjudged == 0
    assert kg.label(order[7]) in asked and kg.label(order[0]) not in asked

    with ScriptedModel([], name="another") as model, pytest.raises(HeaderMismatch):
        _classify(kg, pool, model, path)


def test_max_calls_bounds_a_run(kg: KnowledgeGraph, tmp_path: Path) -> None:
    pool = seed_pool(kg, SeedFilter())[:20]
    with ScriptedModel([_verdicts(n1="abstract", n2="concrete")]) as model:
        report = _classify(kg, pool, model, tmp_path / "c.jsonl", max_calls=1)
    assert report.calls == 1 and report.unjudged == 18


def test_synthesis_drops_abstract_seeds_and_pins_them(kg: KnowledgeGraph, tmp_path: Path) -> None:
    pool = seed_pool(kg, SeedFilter())
    path = tmp_path / "concepts.jsonl"
    with ScriptedModel([_verdicts(n1="abstract", n2="abstract", n3="concrete")]) as model:
        classifier = ConceptClassifier(model, batch_size=3)
        asyncio.run(classify_seeds(kg, pool, classifier, path, max_calls=1))
    dropped = abstract_rows(kg, path)
    assert len(dropped) == 2
    plain = Synthesizer(kg, None, SynthConfig())  # type: ignore[arg-type]
    filtered = Synthesizer(kg, None, SynthConfig(seed_verdicts=str(path)))  # type: ignore[arg-type]
    assert set(plain._pool.tolist()) - set(filtered._pool.tolist()) == set(dropped.tolist())
    assert len(filtered._pool) == len(plain._pool) - 2
    digest = exclusions_digest(kg, path)

    # a verdict given for another label (the entity was renamed since) no longer counts
    victim = int(dropped[0])
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    for record in lines:
        if record["id"] == kg.ids[victim]:
            record["label"] = "Someone Else"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert victim not in abstract_rows(kg, path).tolist()
    assert exclusions_digest(kg, path) != digest


def test_reply_parsing() -> None:
    assert parse_verdicts('{"1": "concrete", "2": "ABSTRACT "}', 2) == (
        {1: "concrete", 2: "abstract"},
        None,
    )
    assert parse_verdicts('{"1": "concrete", "3": "abstract", "x": 1}', 2)[0] == {1: "concrete"}
    assert parse_verdicts('{"1": "unsure"}', 1)[0] is None
    assert parse_verdicts("[1, 2]", 2)[1] == "malformed_json: the reply is not a JSON object"


def test_cli_synth_with_a_model_filters_seeds_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = tmp_path / "world"
    small_world(world, entities=200)
    verdicts = {str(k): "concrete" for k in range(1, 26)} | {"1": "abstract"}
    concept = Script(steps=[Step(content=json.dumps(verdicts))], match="choosing seed entities")
    # the realizer, solver and audit get empty replies: fallback text, unsolved, unscored
    rest = Script(steps=[Step(content="")] * 300)
    out = tmp_path / "tasks.jsonl"
    argv = ["synth", str(world), "--n", "1", "--out", str(out), "--quiet", "--samples", "1"]
    chat = ScriptedChatServer([concept, rest]).start()  # stop() leaves spare steps unchecked
    try:
        with pytest.raises(SystemExit) as done:
            main([*argv, "--model", "m", "--base-url", chat.base_url, "--concept-max-calls", "1"])
        first = chat.chat_requests[0].body["messages"][0]["content"]
        assert not chat.failures
    finally:
        chat.stop()
    text = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0, text
    assert "choosing seed entities" in first
    pool = seed_pool(KnowledgeGraph(World.open(world)), SeedFilter())
    assert f"concept filter: {len(pool)} seed candidates, 0 judged before, 1 calls now" in text
    assert "(24 concrete, 1 abstract, 0 unanswered); 1 excluded as abstract" in text
    assert len(list(iter_records(Path(f"{out}.concepts.jsonl"), ConceptVerdict))) == 25
    meta = json.loads(Path(f"{out}.meta.json").read_text())
    assert meta["config"]["seed_verdicts"] == f"{out}.concepts.jsonl"
    assert len(meta["seed_exclusions_sha256"]) == 64
