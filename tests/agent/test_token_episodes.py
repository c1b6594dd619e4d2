"""Token-exact episodes: the ids each segment records, and the masks built as they are appended.

A real byte-level BPE with a ChatML template (trained offline on the tiny World's text,
``tiny_chat_tokenizer``) and the in-process scripted model answering token-id requests as vLLM
(or SGLang) does. The counter is deterministic (10 tokens per message, ``per_message``), so the
context strategies trigger at known turns, as in ``test_context.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from agent_support import QUESTION, TASK, per_message

from redsearcher.agent import (
    AgentConfig,
    ContextConfig,
    TokenSegment,
    episode_segments,
    load_prompt,
    run_episode,
)
from redsearcher.env import LocalEnvironment
from redsearcher.errors import UserError
from redsearcher.log import Trajectory
from redsearcher.model import (
    ChatModel,
    ModelConfig,
    OpenAIChatModel,
    SamplingConfig,
    TokenConfig,
    TokenizerChat,
)
from redsearcher.rollout import EndpointPool
from redsearcher.testing import (
    Expect,
    ScriptedChatServer,
    ScriptedModel,
    Step,
    StepError,
    text_answer,
    text_tool_call,
    tiny_chat_tokenizer,
)
from redsearcher.tools import Toolbox

pytest.importorskip("transformers")

RESET = load_prompt("context_reset")
ANSWER_NOW = load_prompt("answer_now")


@pytest.fixture(scope="module")
def chat() -> TokenizerChat:
    return tiny_chat_tokenizer()


def search(i: int, **expect: Any) -> Step:
    return Step(
        content=text_tool_call("search", {"query": [f"Marta Velden {i}"]}),
        expect=Expect(**expect) if expect else None,
    )


def answer(**expect: Any) -> Step:
    return Step(content=text_answer("Ilse Velden"), expect=Expect(**expect) if expect else None)


def agent(
    strategy: str = "none", threshold: float = 0.5, window: int = 100, **params: Any
) -> AgentConfig:
    context = ContextConfig(
        strategy=strategy, threshold=threshold, params=params, use_server_usage=False
    )
    return AgentConfig(context_window=window, context=context)


def run(model: ChatModel, env: LocalEnvironment, config: AgentConfig | None = None) -> Trajectory:
    async def main() -> Trajectory:
        async with Toolbox.local(env) as box:
            return await run_episode(
                TASK,
                model=model,
                toolbox=box,
                config=config or agent(window=10_000),
                count_tokens=per_message,
            )

    return asyncio.run(main())


def policy_runs(segment: TokenSegment) -> list[list[int]]:
    """The runs of mask-1 ids of a segment: one per model turn."""
    runs: list[list[int]] = []
    previous = 0
    for token, mask in zip(segment.response_ids, segment.response_mask, strict=True):
        if mask and not previous:
            runs.append([])
        if mask:
            runs[-1].append(token)
        previous = mask
    return runs


def sent_prefixes(segment: TokenSegment) -> list[list[int]]:
    """Each turn's prompt as the segment says it was sent: the ids before its first id."""
    ids, out = segment.ids, []
    start = len(segment.prompt_ids)
    for i, mask in enumerate(segment.response_mask):
        if mask and (i == 0 or not segment.response_mask[i - 1]):
            out.append(ids[: start + i])
    return out


def test_a_plain_episode_records_prompt_turns_and_observations(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    with ScriptedModel([search(0), answer()], protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env)
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
    [segment] = episode_segments(traj)
    calls = [c for c in model.calls if c.token_completion is not None]
    assert len(calls) == 2
    # The first prompt is the template over the opening messages, as sent.
    assert segment.prompt_ids == chat.prompt(traj.messages[:2]).ids == calls[0].prompt_ids
    # Every turn's prompt as sent is the sequence up to its first generated id.
    assert sent_prefixes(segment) == [c.prompt_ids for c in calls]
    # Mask 1 exactly on what the server generated, with its log-probs; 0 and 0.0 elsewhere.
    generated = [c.token_completion.ids for c in calls if c.token_completion]
    assert policy_runs(segment) == generated
    assert generated[0][-1] == chat.eos_id  # the model closed its turn itself
    returned = [lp for c in calls if c.token_completion for lp in c.token_completion.logprobs]
    assert [
        lp for lp, m in zip(segment.logprobs, segment.response_mask, strict=True) if m
    ] == returned
    assert all(
        lp == 0.0 for lp, m in zip(segment.logprobs, segment.response_mask, strict=True) if not m
    )
    # Between the turns: the template's glue, the tool result and the assistant header.
    first = len(generated[0])
    between = segment.response_ids[first : len(segment.response_ids) - len(generated[1])]
    text = chat.decode(between)
    assert text.startswith("\n<|im_start|>user\n<tool_response>\n")
    assert text.endswith("</tool_response><|im_end|>\n<|im_start|>assistant\n")
    assert traj.tool_calls[0].output in text
    # The whole sequence is what the template renders (less the glue of the last turn, which
    # nothing followed).
    rendered = chat.render(traj.messages, add_generation_prompt=False)
    assert chat.decode(segment.ids) + "\n" == rendered
    assert segment.episode_id == traj.id and segment.reward is None
    # The same, turn by turn: prompt as sent, completion and log-probs as returned, and the
    # observation ids appended after it.
    turns = segment.turns()
    assert [t.prompt_ids for t in turns] == [c.prompt_ids for c in calls]
    assert [(t.completion_ids, t.logprobs) for t in turns] == [
        (c.token_completion.ids, c.token_completion.logprobs) for c in calls if c.token_completion
    ]
    assert turns[0].observation_ids == between and turns[1].observation_ids == []


def test_re_tokenizing_the_text_would_drift_and_the_record_does_not(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    # Sampling may produce a split of a text that its tokenization would not: here the tool
    # call is generated byte by byte. Re-tokenizing the decoded text gives other ids.
    call = text_tool_call("search", {"query": ["Marta Velden"]})
    canonical = chat.encode(call)
    split = [i for ch in call for i in chat.encode(ch)]
    assert chat.decode(split) == call and split != canonical
    steps = [Step(token_ids=[*split, chat.eos_id or 0]), answer()]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env)
    [segment] = episode_segments(traj)
    # Ours: the generated ids, exactly, in the record and in the next prompt as sent.
    assert policy_runs(segment)[0] == [*split, chat.eos_id]
    second_prompt = model.calls[1].prompt_ids or []
    assert second_prompt[len(segment.prompt_ids) :][: len(split)] == split
    # Re-tokenized from the messages (what a chat endpoint would send, and what rebuilding a
    # trajectory from text gives): the same text, other ids.
    retokenized = chat.encode(chat.render(traj.messages[:3], add_generation_prompt=False))
    ours = segment.ids[: len(segment.prompt_ids) + len(split) + 1]
    assert chat.decode(retokenized).startswith(chat.decode(ours))
    assert retokenized[: len(ours)] != ours
    assert (
        canonical == retokenized[len(segment.prompt_ids) : len(segment.prompt_ids) + len(canonical)]
    )


def test_discard_all_gives_one_token_segment_per_window(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    steps = [search(0), search(1), answer(last_message_contains=RESET)]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env, agent("discard_all"))
    assert traj.termination == "answer" and len(traj.segments) == 2
    traj = traj.model_copy(update={"score": 1.0})
    first, second = episode_segments(traj)
    assert (first.index, first.end, second.index, second.end) == (0, "discarded", 1, "final")
    assert {s.episode_id for s in (first, second)} == {traj.id}
    assert first.reward == second.reward == 1.0
    calls = [c.token_completion for c in model.calls]
    assert policy_runs(first) == [c.ids for c in calls[:2] if c]
    assert policy_runs(second) == [c.ids for c in calls[2:] if c]
    # The new window starts from the template over its own messages, and that is what was sent.
    assert second.prompt_ids == chat.prompt(traj.segments[1].messages[:2]).ids
    assert model.calls[2].prompt_ids == second.prompt_ids
    assert QUESTION in chat.decode(second.prompt_ids) and RESET in chat.decode(second.prompt_ids)
    assert sent_prefixes(first) == [c.prompt_ids for c in model.calls[:2]]
    # The discarded window's last tool result was never sent (the history was dropped before
    # the next request), so its ids end with the last generated turn.
    assert first.response_mask[-1] == 1
    assert "Marta Velden 1" in chat.decode(policy_runs(first)[-1])


def test_keep_last_k_carries_turns_as_prompt_never_as_policy_tokens(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    steps = [search(0), search(1), search(2), answer()]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env, agent("keep_last_k", threshold=0.7, k=1))
    assert traj.termination == "answer" and len(traj.segments) == 2
    first, second = episode_segments(traj)
    calls = [c.token_completion for c in model.calls]
    assert policy_runs(first) == [c.ids for c in calls[:3] if c]
    assert policy_runs(second) == [c.ids for c in calls[3:] if c]
    # The kept turn (an assistant message and its result) is in the new prompt, mask 0.
    kept = traj.segments[1].messages
    assert [m.role for m in kept] == ["system", "user", "assistant", "user", "assistant"]
    assert kept[2].train is False
    assert second.prompt_ids == chat.prompt(kept[:4]).ids == model.calls[3].prompt_ids
    assert "Marta Velden 2" in chat.decode(second.prompt_ids)
    assert sum(second.response_mask) == len(calls[3].ids if calls[3] else [])


def test_rollback_answer_cuts_the_ids_back_and_keeps_earlier_turns_generated(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    steps = [search(0), search(1), answer(last_message_contains=ANSWER_NOW)]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env, agent("rollback_answer"))
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
    [segment] = episode_segments(traj)
    calls = [c.token_completion for c in model.calls]
    # Turn 1 was rolled back: its ids are gone; turns 0 and 2 stay generated (mask 1).
    assert policy_runs(segment) == [c.ids for c in (calls[0], calls[2]) if c]
    assert sent_prefixes(segment) == [model.calls[0].prompt_ids, model.calls[2].prompt_ids]
    text = chat.decode(segment.ids)
    assert "Marta Velden 0" in text and "Marta Velden 1" not in text and ANSWER_NOW in text
    assert chat.decode(segment.ids) + "\n" == chat.render(
        traj.messages, add_generation_prompt=False
    )


def test_no_strategy_stops_with_the_ids_so_far(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    with ScriptedModel([search(0), search(1)], protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env, agent("none"))
    assert traj.termination == "context_limit"
    [segment] = episode_segments(traj)
    assert policy_runs(segment) == [
        c.token_completion.ids for c in model.calls if c.token_completion
    ]
    assert segment.response_mask[-1] == 1  # the last result was never sent: not in the ids


def test_sglang_answers_give_the_same_record(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    records = []
    for api in ("vllm", "sglang"):
        with ScriptedModel(
            [search(0), answer()], protocol="text", chat_template=chat, token_api=api
        ) as model:
            traj = run(model, tiny_env)
        records.append([s.tokens for s in traj.segments])
        path = model.calls[0].requests[0].path
        assert path == ("/v1/completions" if api == "vllm" else "/generate")
    assert records[0] == records[1]


def test_a_chat_episode_records_no_ids_and_writes_as_before(tiny_env: LocalEnvironment) -> None:
    with ScriptedModel([search(0), answer()], protocol="text") as model:
        traj = run(model, tiny_env)
    assert all(s.tokens is None for s in traj.segments)
    assert '"tokens"' not in traj.model_dump_json()
    assert all(r.path == "/v1/chat/completions" for c in model.calls for r in c.requests)
    with pytest.raises(UserError, match="no token ids"):
        episode_segments(traj)


def test_a_refused_prompt_restarts_and_the_first_window_keeps_what_was_sent(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    too_long = StepError(status=400, message="too long", code="context_length_exceeded")
    steps = [search(0), Step(error=too_long), answer(last_message_contains=RESET)]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env, agent("discard_all", window=10_000))
    assert traj.termination == "answer" and len(traj.segments) == 2
    first, second = episode_segments(traj)
    # The refused request's prompt (with the tool result) was sent: its ids end the window.
    assert first.ids == model.calls[1].prompt_ids
    assert first.response_mask[-1] == 0 and policy_runs(first) == [
        model.calls[0].token_completion.ids
    ]  # type: ignore[union-attr]
    assert second.prompt_ids == model.calls[2].prompt_ids


def test_a_nudge_and_a_turn_cut_by_max_tokens_are_observations(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    nudge = load_prompt("nudge")
    cut = chat.encode("I think")  # no end of sequence: max_tokens ended the turn
    steps = [Step(token_ids=cut, finish_reason="length"), answer(last_message_contains=nudge)]
    with ScriptedModel(steps, protocol="text", chat_template=chat) as model:
        traj = run(model, tiny_env)
    assert traj.termination == "answer"
    [segment] = episode_segments(traj)
    assert policy_runs(segment)[0] == cut
    between = segment.response_ids[len(cut) : segment.response_mask.index(1, len(cut))]
    # The template's whole end-of-turn glue (the model did not close its turn), the nudge as a
    # user turn, then the assistant header: all mask 0.
    assert chat.decode(between) == (
        f"<|im_end|>\n<|im_start|>user\n{nudge}<|im_end|>\n<|im_start|>assistant\n"
    )


def test_over_http_the_scripted_server_answers_as_vllm(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    async def main(base_url: str) -> Trajectory:
        config = ModelConfig(
            name="m",
            base_url=base_url,
            protocol="text",
            max_retries=0,
            tokens=TokenConfig(),
            sampling=SamplingConfig(max_tokens=512),
        )
        async with (
            OpenAIChatModel(config, chat_template=chat) as model,
            Toolbox.local(tiny_env) as box,
        ):
            return await run_episode(
                TASK,
                model=model,
                toolbox=box,
                config=agent(window=10_000),
                count_tokens=per_message,
            )

    with ScriptedChatServer(
        [search(0), answer(last_message_contains="<tool_response>")], chat_template=chat
    ) as server:
        traj = asyncio.run(main(server.base_url))
        requests = server.requests
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
    assert [r.path for r in requests] == ["/v1/completions"] * 2
    [segment] = episode_segments(traj)
    assert segment.prompt_ids == requests[0].body["prompt"]
    assert sent_prefixes(segment) == [r.body["prompt"] for r in requests]
    assert traj.provenance.config["model"]["tokens"]["api"] == "vllm"


def test_a_rollout_endpoint_pool_runs_token_exact_episodes(
    chat: TokenizerChat, tiny_env: LocalEnvironment
) -> None:
    """The rollout's pinned model forwards the template and the token-id requests."""
    with ScriptedModel([search(0), answer()], protocol="text", chat_template=chat) as model:
        pinned = EndpointPool({"http://s0": model}).model_for("t#0")
        traj = run(pinned, tiny_env)
    assert traj.termination == "answer"
    [segment] = episode_segments(traj)
    calls = [c for c in model.calls if c.token_completion is not None]
    assert len(calls) == 2 and sent_prefixes(segment) == [c.prompt_ids for c in calls]
