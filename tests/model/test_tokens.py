"""Prompt token counts: the documented estimate, and exact counts with a tokenizers file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from redsearcher.log import Message
from redsearcher.model import (
    MESSAGE_OVERHEAD,
    REPLY_OVERHEAD,
    ModelConfig,
    OpenAIChatModel,
    TokenCounter,
    count_tokens,
    estimate_text_tokens,
)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("abc", 1),
        ("abcdefg", 2),
        ("abcdefgh", 3),
        ("你好", 2),
        ("ab你好", 3),
        ("é" * 4, 4),
    ],
)
def test_estimate(text: str, tokens: int) -> None:
    assert estimate_text_tokens(text) == tokens


def test_count_adds_message_overhead_tool_calls_and_tools() -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "s", "arguments": "{}"}}]
    messages = [
        Message(role="system", content="a" * 35),  # 10 tokens
        Message(role="assistant", content="", tool_calls=calls, reasoning="x" * 1000),
        Message(role="tool", content="b" * 7, tool_call_id="c1"),
    ]
    call_tokens = estimate_text_tokens(json.dumps(calls))
    expected = REPLY_OVERHEAD + 3 * MESSAGE_OVERHEAD + 10 + call_tokens + 2 + 1
    assert count_tokens(messages) == expected  # reasoning is not sent, so not counted
    tools = [{"type": "function", "function": {"name": "search"}}]
    assert count_tokens(messages, tools) == expected + estimate_text_tokens(json.dumps(tools))
    assert TokenCounter()(messages) == expected and TokenCounter().estimated


def word_tokenizer(path: Path) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "hello": 1, "world": 2}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    out = path / "tokenizer.json"
    tok.save(str(out))
    return out


def test_tokenizer_file_counts_exactly(tmp_path: Path) -> None:
    path = word_tokenizer(tmp_path)
    counter = TokenCounter.from_file(path)
    assert not counter.estimated
    assert counter.count_text("hello world, hello!") == 5  # hello world , hello !
    messages = [Message(role="user", content="hello world")]
    assert counter.count(messages) == REPLY_OVERHEAD + MESSAGE_OVERHEAD + 2
    model = OpenAIChatModel(ModelConfig(name="m", base_url="http://127.0.0.1:9/v1", tokenizer=path))
    assert model.count_tokens(messages, []) == REPLY_OVERHEAD + MESSAGE_OVERHEAD + 2
    assert TokenCounter.from_file(None).estimated


def test_truncate_text_cuts_at_whole_tokens(tmp_path: Path) -> None:
    counter = TokenCounter.from_file(word_tokenizer(tmp_path))
    text = "hello world, hello!"
    assert [counter.truncate_text(text, n) for n in range(6)] == [
        "", "hello", "hello world", "hello world,", "hello world, hello", text,
    ]  # fmt: skip
    assert counter.truncate_text(text, 99) == text


@pytest.mark.parametrize("text", ["a" * 50, "ab你好cd" * 7, "é" * 9 + "xyz" * 5, ""])
def test_truncate_text_estimate_keeps_the_longest_prefix_in_budget(text: str) -> None:
    counter = TokenCounter()
    for budget in range(estimate_text_tokens(text) + 2):
        cut = counter.truncate_text(text, budget)
        assert text.startswith(cut) and estimate_text_tokens(cut) <= budget
        assert cut == text or estimate_text_tokens(text[: len(cut) + 1]) > budget
    assert counter.truncate_text("a" * 50, 10) == "a" * 35  # 3.5 ASCII characters per token


def test_counts_are_remembered_per_text_and_the_memory_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from redsearcher.model import _tokens

    encoded: list[str] = []

    class Recording:
        def encode(self, sequence: str, /) -> object:
            encoded.append(sequence)
            return type("Encoding", (), {"ids": sequence.split()})()

    monkeypatch.setattr(_tokens, "COUNT_CACHE_SIZE", 2)
    counter = TokenCounter(Recording())
    window = [Message(role="user", content="a b c"), Message(role="tool", content="d e")]
    assert (
        counter.count(window) == counter.count(window) == REPLY_OVERHEAD + 2 * MESSAGE_OVERHEAD + 5
    )
    assert encoded == ["a b c", "d e"]  # the second count encoded nothing
    assert counter.count_text("f") == 1 and counter.count_text("a b c") == 3  # starts over
    assert len(counter._counts) <= 2 and encoded[-1] == "a b c"


def test_tool_call_text_follows_changes_made_in_place() -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "s", "arguments": "{}"}}]
    message = Message(role="assistant", content="", tool_calls=calls)
    counter = TokenCounter()
    before = counter.count([message])
    assert counter.count([message]) == before
    calls[0]["function"]["arguments"] = json.dumps({"query": "x" * 70})  # +~20 tokens
    assert counter.count([message]) == count_tokens([message]) > before
