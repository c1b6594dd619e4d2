"""Context strategies: when they trigger, and the segments they leave in the record.

Over real HTTP with a deterministic counter (10 tokens per message, see ``per_message``) so the
trigger points are exact: with one tool call per turn each turn adds two messages, so requests
carry 2, 4, 6, … messages = 20, 40, 60, … tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from agent_support import QUESTION, episode, per_message
from pydantic import ValidationError

from redsearcher.agent import (
    AgentConfig,
    AnswerNow,
    ContextConfig,
    Prompts,
    Restart,
    Stop,
    Window,
    build_strategy,
    load_prompt,
    split_turns,
)
from redsearcher.config import load_config
from redsearcher.env import LocalEnvironment
from redsearcher.errors import ConfigError
from redsearcher.export import to_openai_messages, to_sharegpt
from redsearcher.log import Message
from redsearcher.registry import names
from redsearcher.testing import (
    Expect,
    ScriptedChatServer,
    Step,
    StepError,
    ToolCallSpec,
    text_answer,
)

RESET = load_prompt("context_reset")
TRIM = load_prompt("context_trim")
ANSWER_NOW = load_prompt("answer_now")


def search(i: int, **expect: Any) -> Step:
    call = ToolCallSpec(name="search", arguments={"query": [f"Marta Velden {i}"]}, id=f"c{i}")
    return Step(tool_calls=[call], expect=Expect(**expect) if expect else None)


def answer(**expect: Any) -> Step:
    return Step(content=text_answer("Ilse Velden"), expect=Expect(**expect) if expect else None)


def agent(strategy: str, threshold: float = 0.5, window: int = 100, **params: Any) -> AgentConfig:
    context = ContextConfig(
        strategy=strategy, threshold=threshold, params=params, use_server_usage=False
    )
    return AgentConfig(context_window=window, context=context)


# -- discard_all -----------------------------------------------------------------------------


def test_discard_all_restarts_from_the_question(tiny_env: LocalEnvironment) -> None:
    steps = [
        search(0, message_count=2),
        search(1, message_count=4),
        # 6 messages = 60 tokens >= 0.5 * 100: the history is dropped before this request.
        answer(message_count=2, last_role="user", last_message_contains=RESET),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("discard_all"), count_tokens=per_message)
        third = server.chat_requests[2].body["messages"]
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden" and traj.turns == 3
    first, second = traj.segments
    assert (first.index, first.end, first.first_turn, len(first.messages)) == (0, "discarded", 0, 6)
    assert (second.index, second.end, second.first_turn) == (1, "final", 2)
    assert [m.role for m in first.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
    ]
    assert [m.role for m in second.messages] == ["system", "user", "assistant"]
    assert second.messages[0] == first.messages[0]
    assert second.messages[1].content == f"{QUESTION}\n\n{RESET}"
    assert third == [{"role": m.role, "content": m.content} for m in second.messages[:2]]
    assert [m.train for m in second.messages] == [False, False, True]
    assert [(c.id, c.segment, c.turn) for c in traj.tool_calls] == [("c0", 0, 0), ("c1", 0, 1)]
    assert traj.messages == second.messages
    # Each segment is its own SFT sample, cut after its last trained turn (the discarded
    # segment's last tool result taught nothing); the restated question is the human turn.
    sharegpt = to_sharegpt(traj)
    assert [[t["from"] for t in x["conversations"]] for x in sharegpt] == [
        ["system", "human", "function_call", "observation", "function_call"],
        ["system", "human", "gpt"],
    ]
    assert sharegpt[1]["conversations"][1]["value"] == f"{QUESTION}\n\n{RESET}"
    assert sharegpt[0]["conversations"][3]["value"] == first.messages[3].content
    openai = to_openai_messages(traj)
    flags = [[(r["role"], r["train"]) for r in x["messages"]] for x in openai]
    start = [("system", False), ("user", False), ("assistant", True)]
    assert flags == [[*start, ("tool", False), ("assistant", True)], start]


@pytest.mark.parametrize(("threshold", "discarded_at"), [(0.4, 4), (0.6, 6), (0.61, 8), (0.7, 8)])
def test_discard_all_triggers_exactly_at_the_threshold(
    tiny_env: LocalEnvironment, threshold: float, discarded_at: int
) -> None:
    """The strategy acts when the prompt *reaches* threshold × window, not before."""
    turns = discarded_at // 2 - 1
    steps = [search(i, message_count=2 * i + 2) for i in range(turns)]
    steps.append(answer(message_count=2, last_message_contains=RESET))
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server, tiny_env, config=agent("discard_all", threshold), count_tokens=per_message
        )
    assert [len(s.messages) for s in traj.segments] == [discarded_at, 3]


def test_discard_all_and_then_discard_again(tiny_env: LocalEnvironment) -> None:
    steps = [
        search(0),
        search(1),
        search(2, message_count=2),
        search(3, message_count=4),
        answer(message_count=2),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("discard_all"), count_tokens=per_message)
    assert [(s.end, s.first_turn) for s in traj.segments] == [
        ("discarded", 0),
        ("discarded", 2),
        ("final", 4),
    ]
    assert [c.segment for c in traj.tool_calls] == [0, 0, 1, 1]


def test_discard_all_stops_when_even_a_fresh_window_does_not_fit(
    tiny_env: LocalEnvironment,
) -> None:
    # 2 messages = 20 tokens >= 0.15 * 100 before the first request: nothing to discard.
    server = ScriptedChatServer([Step(content="never asked")]).start()
    try:
        traj = episode(
            server, tiny_env, config=agent("discard_all", 0.15), count_tokens=per_message
        )
    finally:
        server.stop()
    assert traj.termination == "context_limit" and traj.turns == 0 and traj.usage.model_calls == 0


# -- keep_last_k -----------------------------------------------------------------------------


def test_keep_last_k_keeps_the_latest_turns_in_a_new_segment(tiny_env: LocalEnvironment) -> None:
    steps = [
        search(0),
        search(1),
        # 6 messages hit the limit; keep the last turn: system, question+note, a1, result1.
        answer(message_count=4, last_role="tool", last_message_contains="Marta Velden"),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("keep_last_k", k=1), count_tokens=per_message)
        sent = server.chat_requests[2].body["messages"]
    first, second = traj.segments
    assert first.end == "discarded" and len(first.messages) == 6
    assert second.first_turn == 2 and second.end == "final"
    assert second.messages[1].content == f"{QUESTION}\n\n{TRIM}"
    kept_assistant, kept_result = second.messages[2], second.messages[3]
    assert kept_assistant.tool_calls == first.messages[4].tool_calls and not kept_assistant.train
    assert kept_result == first.messages[5]
    assert [m.train for m in second.messages] == [False, False, False, False, True]
    assert sent[2]["tool_calls"][0]["id"] == "c1" and sent[3]["tool_call_id"] == "c1"


def test_keep_last_k_keeps_fewer_when_k_do_not_fit(tiny_env: LocalEnvironment) -> None:
    # k=5 turns never fit under 50 tokens after 2 turns: it keeps 1 (4 messages = 40).
    steps = [search(0), search(1), answer(message_count=4)]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("keep_last_k", k=5), count_tokens=per_message)
    assert traj.segments[1].messages[2].tool_calls == traj.segments[0].messages[4].tool_calls


def test_keep_last_zero_is_discard_all(tiny_env: LocalEnvironment) -> None:
    steps = [search(0), search(1), answer(message_count=2, last_message_contains=RESET)]
    with ScriptedChatServer(steps) as server:
        episode(server, tiny_env, config=agent("keep_last_k", k=0), count_tokens=per_message)


# -- rollback_answer and none ----------------------------------------------------------------


def test_rollback_answer_drops_the_last_turn_and_asks_for_an_answer(
    tiny_env: LocalEnvironment,
) -> None:
    steps = [
        search(0),
        search(1),
        answer(message_count=5, last_role="user", last_message_contains=ANSWER_NOW),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("rollback_answer"), count_tokens=per_message)
        sent = server.chat_requests[2].body["messages"]
    assert traj.termination == "answer" and traj.prediction == "Ilse Velden"
    assert len(traj.segments) == 1 and traj.turns == 3
    assert [m.role for m in traj.messages] == [
        "system",
        "user",
        "assistant",
        "tool",
        "user",
        "assistant",
    ]
    assert sent[2]["tool_calls"][0]["id"] == "c0"  # turn 1 was rolled back
    assert [c.id for c in traj.tool_calls] == ["c0", "c1"]  # but its call did run


def test_rollback_answer_without_an_answer_is_context_limit(tiny_env: LocalEnvironment) -> None:
    steps = [
        search(0),
        search(1),
        Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["more"]})]),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(server, tiny_env, config=agent("rollback_answer"), count_tokens=per_message)
    assert (
        traj.termination == "context_limit"
        and traj.prediction is None
        and len(traj.tool_calls) == 2
    )


def test_none_stops_at_the_limit(tiny_env: LocalEnvironment) -> None:
    with ScriptedChatServer([search(0), search(1)]) as server:
        traj = episode(server, tiny_env, config=agent("none"), count_tokens=per_message)
    assert traj.termination == "context_limit" and traj.prediction is None
    assert len(traj.segments) == 1 and len(traj.messages) == 6


# -- what the server says --------------------------------------------------------------------


def test_server_context_length_error_triggers_the_strategy(tiny_env: LocalEnvironment) -> None:
    too_long = StepError(status=400, message="This model's maximum context length is 4096 tokens.")
    steps = [
        search(0),
        search(1),
        Step(error=too_long),
        answer(message_count=2, last_message_contains=RESET),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server, tiny_env, config=agent("discard_all", 1.0, 10_000), count_tokens=per_message
        )
    assert traj.termination == "answer" and [len(s.messages) for s in traj.segments] == [6, 3]


def test_server_context_length_error_with_none_is_context_limit(tiny_env: LocalEnvironment) -> None:
    too_long = StepError(status=400, message="too long", code="context_length_exceeded")
    with ScriptedChatServer([search(0), Step(error=too_long)]) as server:
        traj = episode(server, tiny_env, config=agent("none", 1.0, 10_000))
    assert traj.termination == "context_limit" and traj.turns == 1


def test_context_length_error_on_a_fresh_window_stops(tiny_env: LocalEnvironment) -> None:
    too_long = StepError(status=400, message="prompt is too long")
    with ScriptedChatServer([Step(error=too_long)]) as server:
        traj = episode(server, tiny_env, config=agent("discard_all", 1.0, 10_000))
    assert traj.termination == "context_limit" and traj.turns == 0


def test_server_usage_corrects_the_local_count(tiny_env: LocalEnvironment) -> None:
    """The server counted 45 tokens where the counter saw 20: the next prompt is 40 + 25."""
    steps = [
        Step(
            tool_calls=[ToolCallSpec(name="search", arguments={"query": ["a"]})], prompt_tokens=45
        ),
        answer(message_count=2, last_message_contains=RESET),
    ]
    context = ContextConfig(strategy="discard_all", threshold=0.6)
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server,
            tiny_env,
            config=AgentConfig(context_window=100, context=context),
            count_tokens=per_message,
        )
    assert len(traj.segments) == 2
    # Without it, 40 < 60 and the episode goes on in one window.
    off = context.model_copy(update={"use_server_usage": False})
    steps = [
        Step(
            tool_calls=[ToolCallSpec(name="search", arguments={"query": ["a"]})], prompt_tokens=45
        ),
        answer(message_count=4),
    ]
    with ScriptedChatServer(steps) as server:
        traj = episode(
            server,
            tiny_env,
            config=AgentConfig(context_window=100, context=off),
            count_tokens=per_message,
        )
    assert len(traj.segments) == 1


# -- strategies as units, and their configuration --------------------------------------------


def window(messages: Sequence[Message], fits: bool = True) -> Window:
    opening = (messages[0], messages[1])
    return Window(messages, opening, Prompts.load(), lambda m: fits)


SYSTEM = Message(role="system", content="s")
USER = Message(role="user", content="q")


def turn(i: int) -> list[Message]:
    return [
        Message(role="assistant", content=f"a{i}", train=True),
        Message(role="user", content=f"r{i}"),
    ]


def test_token_limit_is_exact() -> None:
    assert AgentConfig(context_window=100, context=ContextConfig(threshold=0.07)).token_limit == 7
    assert AgentConfig(context_window=32768).token_limit == 26215  # 26214.4 rounded up
    assert AgentConfig(context_window=100, context=ContextConfig(threshold=1.0)).token_limit == 100


def test_split_turns() -> None:
    head, turns = split_turns([SYSTEM, USER, *turn(0), *turn(1)])
    assert head == [SYSTEM, USER] and turns == [turn(0), turn(1)]


def test_strategies_on_a_window() -> None:
    empty = window([SYSTEM, USER])
    full = window([SYSTEM, USER, *turn(0), *turn(1), *turn(2)])
    for name in ("none", "discard_all", "keep_last_k", "rollback_answer"):
        assert isinstance(build_strategy(name).make_room(empty), Stop)
    assert isinstance(build_strategy("none").make_room(full), Stop)
    restart = build_strategy("discard_all").make_room(full)
    assert isinstance(restart, Restart) and restart.messages == [
        SYSTEM,
        USER.model_copy(update={"content": f"q\n\n{RESET}"}),
    ]
    assert isinstance(
        build_strategy("discard_all").make_room(window(full.messages, fits=False)), Stop
    )
    kept = build_strategy("keep_last_k", {"k": 2}).make_room(full)
    assert isinstance(kept, Restart)
    assert [m.content for m in kept.messages[2:]] == ["a1", "r1", "a2", "r2"]
    assert not any(m.train for m in kept.messages)
    rollback = build_strategy("rollback_answer").make_room(full)
    assert isinstance(rollback, AnswerNow)
    assert [m.content for m in rollback.messages[2:]] == ["a0", "r0", "a1", "r1", ANSWER_NOW]


def test_context_config_is_validated_up_front() -> None:
    assert {"none", "discard_all", "keep_last_k", "rollback_answer"} <= set(
        names("context_strategy")
    )
    assert (
        AgentConfig().context.strategy == "discard_all" and AgentConfig().context.threshold == 0.8
    )
    with pytest.raises(ValidationError, match="unknown context_strategy 'summarize'"):
        ContextConfig(strategy="summarize")
    with pytest.raises(ValidationError, match="k: Input should be greater than or equal to 0"):
        ContextConfig(strategy="keep_last_k", params={"k": -1})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ContextConfig(strategy="discard_all", params={"k": 1})
    with pytest.raises(ConfigError, match=r"agent\.context"):
        load_config(AgentConfig, "agent", environ={"REDSEARCHER_AGENT__CONTEXT__STRATEGY": "nope"})
    loaded = load_config(
        AgentConfig,
        "agent",
        environ={
            "REDSEARCHER_AGENT__CONTEXT__STRATEGY": "keep_last_k",
            "REDSEARCHER_AGENT__CONTEXT__PARAMS__K": "3",
            "REDSEARCHER_AGENT__MAX_TURNS": "30",
        },
    )
    assert loaded.context.params == {"k": 3} and loaded.max_turns == 30
    with pytest.raises(ValidationError, match="no agent prompt 'system' of version 'v9'"):
        AgentConfig(prompt_version="v9")


def test_custom_system_prompt_and_date(tmp_path: Any) -> None:
    path = tmp_path / "system.txt"
    path.write_text("Answer briefly.\n")
    prompts = Prompts.load(system_file=path, current_date="2025-01-31")
    assert prompts.system == "Answer briefly.\n\nCurrent date: 2025-01-31"
    with pytest.raises(ConfigError, match="cannot read the system prompt"):
        Prompts.load(system_file=tmp_path / "missing.txt")
