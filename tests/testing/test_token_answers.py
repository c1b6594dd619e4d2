"""The scripted models answer token-id requests as vLLM and SGLang do, from the same steps."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from redsearcher.log import Message
from redsearcher.model import ModelRequestError, TokenCompletion, TokenizerChat
from redsearcher.testing import Script, ScriptedModel, Step, ToolCallSpec, tiny_chat_tokenizer

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def chat() -> TokenizerChat:
    return tiny_chat_tokenizer()


def prompt(chat: TokenizerChat, question: str) -> list[int]:
    return chat.prompt([Message(role="user", content=question)]).ids


def ask(model: ScriptedModel, ids: list[int]) -> TokenCompletion:
    return asyncio.run(model.complete_ids(ids))


def test_scripts_are_picked_by_the_decoded_prompt(chat: TokenizerChat) -> None:
    scripts = [
        Script(match="Harwick", steps=[Step(content="city")]),
        Script(match="Velden", steps=[Step(content="person")]),
    ]
    with ScriptedModel(scripts, protocol="text", chat_template=chat) as model:
        person = ask(model, prompt(chat, "Who is Marta Velden?"))
        city = ask(model, prompt(chat, "Where is Harwick?"))
    assert (person.completion.message.content, city.completion.message.content) == (
        "person",
        "city",
    )
    assert person.ids == [*chat.encode("person"), chat.eos_id]
    assert model.calls[0].prompt_ids == prompt(chat, "Who is Marta Velden?")
    assert model.calls[0].token_completion == person


@pytest.mark.parametrize("api", ["vllm", "sglang"])
def test_the_answer_has_the_servers_shape(chat: TokenizerChat, api: Any) -> None:
    step = Step(content="ok", token_ids=[5, 6], logprobs=[-0.25, -0.5], finish_reason="length")
    with ScriptedModel([step], protocol="text", chat_template=chat, token_api=api) as model:
        answer = ask(model, [1, 2, 3])
        body = model.calls[0].requests[0]
    assert (answer.ids, answer.logprobs, answer.completion.finish_reason) == (
        [5, 6],
        [-0.25, -0.5],
        "length",
    )
    assert body.path == ("/v1/completions" if api == "vllm" else "/generate")


def test_a_native_tool_call_step_cannot_answer_a_token_request(chat: TokenizerChat) -> None:
    model = ScriptedModel(
        [Step(tool_calls=[ToolCallSpec(name="search")])], protocol="text", chat_template=chat
    )
    with pytest.raises(ModelRequestError, match="answered with text, not tool_calls"):
        ask(model, [1, 2])
    assert any("not tool_calls" in f for f in model.failures)


def test_a_malformed_token_request_names_the_field(chat: TokenizerChat) -> None:
    model = ScriptedModel([Step(content="x")], protocol="text", chat_template=chat)
    with pytest.raises(ModelRequestError, match="'prompt' must be a non-empty list of token ids"):
        ask(model, [])
    assert model.failures


def test_step_token_fields_are_checked() -> None:
    with pytest.raises(ValidationError, match="logprobs needs token_ids of the same length"):
        Step(content="x", token_ids=[1, 2], logprobs=[-1.0])
    with pytest.raises(ValidationError, match="logprobs needs token_ids"):
        Step(content="x", logprobs=[-1.0])
    assert Step(token_ids=[1]).content is None  # ids alone are an answer
