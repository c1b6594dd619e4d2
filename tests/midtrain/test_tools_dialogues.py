"""Simulated tool use over the tiny World: answers equal its facts, errors and retries, LLM path.

The tiny World's facts are known by construction (``redsearcher.testing._worlds``); the expected
values below are written from them by hand, not computed by the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redsearcher.errors import UserError
from redsearcher.midtrain import ChatRewriter, GenContext, MidtrainSample, Rejection, world_index
from redsearcher.midtrain._tools import ToolDialogueGenerator, validate
from redsearcher.midtrain._tools_world import ToolError, WorldTools
from redsearcher.testing import ScriptedModel, Step, tiny_world

# fact id -> value, from TINY_FACTS (single-valued (subject, predicate) pairs only).
EXPECTED = {
    1: "Harwick",
    2: "1951-04-02",
    3: "Ilse Velden",
    4: "Marta Velden",
    7: "1990",
    8: "Caldora",
    9: "51.2000, 4.4000",
    10: "182000",
    11: "Ostrand Pictures",
    12: "painter",
    13: "Harwick",
}


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> GenContext:
    world = tiny_world(tmp_path_factory.mktemp("tools") / "w")
    return GenContext(world=world, world_hash=world.content_hash)


def _samples(ctx: GenContext, n: int, seed: int = 0, **options: object) -> list[MidtrainSample]:
    ctx = GenContext(ctx.world, ctx.world_hash, options={"tools": options}, cache=ctx.cache)
    out = list(ToolDialogueGenerator().generate(ctx, n, seed))
    return [s for s in out if isinstance(s, MidtrainSample)]


def test_answers_equal_the_worlds_facts(ctx: GenContext) -> None:
    samples = _samples(ctx, 40)
    assert [s.id for s in samples] == [f"tools-0-{i}" for i in range(40)]
    for sample in samples:
        fact = sample.source["answer_fact"]
        final = next(m for m in sample.messages if m.role == "assistant" and not m.tool_calls)
        assert EXPECTED[fact] in final.content, (sample.id, final.content)
        assert sample.question and sample.messages[1].content == sample.question
        # Observations are never trained; the final answer is.
        assert all(m.loss_weight == 0.0 for m in sample.messages if m.role in ("tool", "system"))
        assert final.loss_weight == 1.0
        assert sample.evidence_docs and sample.answer_entities
    # The chains span several hops and tools.
    assert max(len(s.source["chain"]) for s in samples) >= 3
    assert {"search_entities", "find_entities"} <= {c for s in samples for c in s.source["chain"]}


def test_ambiguous_names_are_resolved_through_a_relation_or_rejected(ctx: GenContext) -> None:
    out = list(ToolDialogueGenerator().generate(ctx, 40, 0))
    for sample in (s for s in out if isinstance(s, MidtrainSample)):
        # "Marta Velden" names two persons: never asked by name alone.
        assert "the person Marta Velden" not in (sample.question or "")
    assert any(isinstance(r, Rejection) and r.reason == "ambiguous_start" for r in out)


def test_responses_are_consistent_across_calls_and_dialogues(ctx: GenContext) -> None:
    seen: dict[tuple[str, str], str] = {}
    for sample in _samples(ctx, 60, seed=3, followup_rate=1.0):
        for i, message in enumerate(sample.messages):
            for call in message.tool_calls or []:
                key = (call["function"]["name"], call["function"]["arguments"])
                reply = sample.messages[i + 1]
                assert reply.role == "tool" and reply.tool_call_id == call["id"]
                assert seen.setdefault(key, reply.content) == reply.content


def test_errors_and_retries(ctx: GenContext) -> None:
    samples = _samples(ctx, 20, error_rate=1.0)
    kinds = set()
    for sample in samples:
        (kind,) = sample.source["errors"]
        kinds.add(kind)
        messages = sample.messages
        bad = next(i for i, m in enumerate(messages) if m.role == "tool" and '"error"' in m.content)
        call, error, retry, answer = (
            messages[bad - 1],
            messages[bad],
            messages[bad + 1],
            messages[bad + 2],
        )
        assert call.loss_weight == 0.0  # the mistake is not trained
        assert retry.loss_weight == 1.0 and retry.tool_calls
        assert retry.tool_calls[0]["function"]["name"] == call.tool_calls[0]["function"]["name"]
        assert '"error"' not in answer.content and answer.role == "tool"
        expected = "unknown entity" if kind == "unknown_entity" else "missing required argument"
        assert expected in json.loads(error.content)["error"]
    assert kinds == {"unknown_entity", "bad_argument"}


def test_follow_up_turns_answer_a_second_fact(ctx: GenContext) -> None:
    samples = [s for s in _samples(ctx, 20, followup_rate=1.0) if "followup_fact" in s.source]
    assert samples
    for sample in samples:
        users = [m for m in sample.messages if m.role == "user"]
        assert len(users) == 2
        assert EXPECTED[sample.source["followup_fact"]] in sample.messages[-1].content


def test_deterministic_per_seed(ctx: GenContext) -> None:
    first = [s.model_dump() for s in _samples(ctx, 10, seed=5)]
    assert first == [s.model_dump() for s in _samples(ctx, 10, seed=5)]
    assert first != [s.model_dump() for s in _samples(ctx, 10, seed=6)]


def test_tool_errors_and_validation(ctx: GenContext) -> None:
    tools = WorldTools(world_index(ctx))
    assert json.loads(tools.call("get_born_in", {"entity": "E1"}))["values"] == [
        {"id": "E5", "name": "Harwick"}
    ]
    assert len(json.loads(tools.call("search_entities", {"name": "marta velden"}))["results"]) == 2
    for name, args, text in [
        ("get_born_in", {"entity": "E99"}, "unknown entity 'E99'"),
        ("get_born_in", {"entity": "E1", "x": 1}, "unexpected argument 'x'"),
        ("find_entities", {"type": "film", "relation": "nope", "value": "E1"}, "unknown relation"),
        ("get_nothing", {}, "unknown tool"),
    ]:
        with pytest.raises(ToolError, match=text):
            tools.call(name, args)
    sample = _samples(ctx, 1)[0]
    assert validate(sample, tools) is None
    forged = sample.model_copy(deep=True)
    forged.messages[3].content = '{"results": []}'
    assert "not the World's" in (validate(forged, tools) or "")
    wrong = sample.model_copy(deep=True)
    final = next(m for m in wrong.messages if m.role == "assistant" and not m.tool_calls)
    final.content = "It is unknown."
    assert "does not state" in (validate(wrong, tools) or "")


def test_unknown_option_is_an_error(ctx: GenContext) -> None:
    with pytest.raises(UserError, match="unknown tools option"):
        _samples(ctx, 1, hops=2)


def test_llm_path_keeps_valid_rewrites_marks_simulated_tools_and_falls_back(
    ctx: GenContext,
) -> None:
    (offline,) = _samples(ctx, 1, seed=0, error_rate=0.0, followup_rate=0.0)
    question = offline.question or ""
    answer_fact = offline.source["answer_fact"]
    good = {
        "question": "Please tell me: " + question,
        "tools": {"search_entities": "Look an entity up by its name."},
        "answer": f"Answer: {EXPECTED[answer_fact]}",
        "simulated_tools": [
            {
                "name": "check_calendar",
                "description": "Today's date.",
                "arguments": {"zone": "UTC"},
                "response": "2024-01-01",
            }
        ],
    }
    # Names every tiny-World entity, so only the answer is wrong.
    names = "Marta Velden, Ilse Velden, Oskar Brandt, The Quiet Harbor, Harwick, Caldora, Ostrand"
    wrong = dict(good, question=f"{names} Pictures?", answer="Answer: somewhere else")
    model = ScriptedModel(
        [Step(content=r) for r in (json.dumps(good), json.dumps(wrong), "not json")], name="rw"
    )
    rewriter = ChatRewriter(model)
    llm = GenContext(
        ctx.world,
        ctx.world_hash,
        rewriter=rewriter,
        options={"tools": {"error_rate": 0.0, "followup_rate": 0.0}},
        cache=ctx.cache,
    )
    samples = [
        s for s in ToolDialogueGenerator().generate(llm, 3, 0) if isinstance(s, MidtrainSample)
    ]
    first, second, third = samples
    assert first.source["rewrite"] == "llm" and first.source["simulated"] is True
    assert first.source["simulated_tools"] == ["check_calendar"]
    assert first.question == good["question"]
    schemas = {t["function"]["name"]: t["function"] for t in first.source["tools"]}
    assert schemas["search_entities"]["description"] == "Look an entity up by its name."
    assert schemas["check_calendar"]["parameters"]["properties"] == {"zone": {"type": "string"}}
    assert any(m.name == "check_calendar" and m.content == "2024-01-01" for m in first.messages)
    assert first.messages[-1].content == good["answer"]
    assert second.source["rewrite"] == "fallback"
    assert second.source["fallback_reason"] == "wrong_answer"
    assert third.source["fallback_reason"] == "not_json"
    assert not second.source["simulated"]
    assert first.source["rewriter"] == "rw"
    model.assert_all_used()
    rewriter.close()


def test_our_own_search_and_visit_answer_the_last_hop_from_the_index(
    ctx: GenContext, tiny_index: Path
) -> None:
    samples = _samples(
        ctx, 30, index=str(tiny_index), web_rate=1.0, error_rate=0.0, followup_rate=0.0
    )
    web = [s for s in samples if s.source.get("web")]
    assert len(web) >= 5
    for sample in web:
        calls = [c["function"]["name"] for m in sample.messages for c in m.tool_calls or []]
        assert calls[-2:] == ["search", "visit"]
        search, visit = [m for m in sample.messages if m.role == "tool"][-2:]
        assert search.content.startswith("A Google search for") and search.loss_weight == 0.0
        assert "Evidence in page" in visit.content
        fact = sample.source["answer_fact"]
        final = next(m for m in sample.messages if m.role == "assistant" and not m.tool_calls)
        assert EXPECTED[fact] in final.content
        offered = {t["function"]["name"] for t in sample.source["tools"]}
        assert {"search", "visit", "PythonInterpreter", "google_maps"} <= offered
    # The page read states the value in the page's own words (a date written out, say).
    assert any("April 2, 1951" in m.content for s in web for m in s.messages if m.name == "visit")
    # Misses keep the World tool and say why.
    assert all("web_miss" in s.source for s in samples if not s.source.get("web"))


def test_an_index_of_another_world_is_refused(ctx: GenContext, tmp_path: Path) -> None:
    from redsearcher.env import build_index
    from redsearcher.testing import small_world

    small_world(tmp_path / "other", entities=50)
    build_index(tmp_path / "other", tmp_path / "other.index", progress=False)
    with pytest.raises(UserError, match="built from World"):
        _samples(ctx, 1, index=str(tmp_path / "other.index"))
