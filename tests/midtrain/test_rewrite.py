"""The LLM path through the package's chat client (a scripted model, no network)."""

from __future__ import annotations

from pathlib import Path

from redsearcher.midtrain import (
    ChatRewriter,
    GenContext,
    GroundingGenerator,
    MidtrainSample,
    MixtureConfig,
    run_midtrain,
)
from redsearcher.testing import ScriptedModel, Step, StepError, tiny_world


def test_rewriter_sends_instruction_and_text_and_survives_errors() -> None:
    model = ScriptedModel(
        [Step(content="  better text \n"), Step(error=StepError(status=400, message="no")),
         Step(content="")],
    )  # fmt: skip
    rewriter = ChatRewriter(model)
    try:
        assert rewriter.rewrite("be fluent", "plain text") == "better text"
        assert rewriter.rewrite("be fluent", "again") is None
        assert rewriter.failures == 1
        assert rewriter.rewrite("be fluent", "empty") is None
    finally:
        rewriter.close()
    first = model.calls[0].messages
    assert [(m.role, m.content) for m in first] == [("system", "be fluent"), ("user", "plain text")]
    model.assert_all_used()


def test_failed_validation_keeps_offline_text_and_is_counted(tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "w")
    offline = [
        s
        for s in GroundingGenerator().generate(GenContext(world, world.content_hash), 4, 0)
        if isinstance(s, MidtrainSample)
    ]
    model = ScriptedModel(default=Step(content="Sure! The answer is somewhere in there."))
    rewriter = ChatRewriter(model)
    try:
        summary = run_midtrain(
            tmp_path / "w", tmp_path / "out", MixtureConfig(total=4, kinds=["grounding"]),
            rewriter=rewriter,
        )  # fmt: skip
    finally:
        rewriter.close()
    stats = summary.kinds["grounding"]
    assert stats.samples == 4 == len(model.calls)
    assert stats.rewrites["fallback"] == 4
    assert stats.rewrites["fallback:no_answer_line"] == 4
    written = (tmp_path / "out" / "samples.jsonl").read_text().splitlines()
    rows = [MidtrainSample.model_validate_json(line) for line in written]
    assert [r.messages[-1].content for r in rows] == [o.messages[-1].content for o in offline]
    assert all(r.source["rewriter"] == "scripted" for r in rows)
