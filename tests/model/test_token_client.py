"""Token-exact requests of the chat client: the wire shapes of vLLM and SGLang, and their faults.

Over real HTTP against the scripted server answering token-id requests (``chat_template=``),
with a real byte-level BPE and ChatML template trained offline (``tiny_chat_tokenizer``), and
over mock transports for answers the scripted server never gives (a server too old).
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model import (
    ModelConfig,
    ModelUnavailable,
    OpenAIChatModel,
    SamplingConfig,
    TokenCompletion,
    TokenConfig,
    TokenizerChat,
)
from redsearcher.testing import (
    CHATML_TEMPLATE,
    ScriptedChatServer,
    Step,
    StepError,
    text_answer,
    tiny_chat_tokenizer,
)

pytest.importorskip("transformers")

MESSAGES = [
    Message(role="system", content="Be brief."),
    Message(role="user", content="Where was Marta Velden born?"),
]


@pytest.fixture(scope="module")
def chat() -> TokenizerChat:
    return tiny_chat_tokenizer()


def config(base_url: str, api: str = "vllm", **kw: Any) -> ModelConfig:
    kw.setdefault("sampling", SamplingConfig(max_tokens=256))
    return ModelConfig(
        name="m",
        base_url=base_url,
        api_key=SecretStr("sk-test"),
        protocol="text",
        max_retries=0,
        backoff_s=0.0,
        tokens=TokenConfig(api=api),  # type: ignore[arg-type]
        **kw,
    )


def ask(model: OpenAIChatModel, ids: list[int]) -> TokenCompletion:
    async def main() -> TokenCompletion:
        async with model:
            return await model.complete_ids(ids)

    return asyncio.run(main())


@pytest.mark.parametrize("api", ["vllm", "sglang"])
def test_a_token_request_returns_the_generated_ids_and_logprobs(
    chat: TokenizerChat, api: str
) -> None:
    prompt = chat.prompt(MESSAGES).ids
    split = [i for ch in "Harwick" for i in chat.encode(ch)]  # not how "Harwick" tokenizes
    steps = [Step(token_ids=[*split, 2], logprobs=[-0.5] * (len(split) + 1), content="Harwick")]
    sampling = SamplingConfig(temperature=0.7, top_p=0.9, max_tokens=64, extra_body={"top_k": 5})
    with ScriptedChatServer(steps, chat_template=chat, token_api=api) as server:  # type: ignore[arg-type]
        base = server.base_url
        model = OpenAIChatModel(config(base, api, sampling=sampling), chat_template=chat)
        answer = ask(model, prompt)
        [request] = server.requests
    assert answer.ids == [*split, 2] and answer.logprobs == [-0.5] * len(answer.ids)
    assert answer.prompt_ids == prompt
    assert answer.completion.message.content == "Harwick"
    assert answer.completion.message.train is True
    assert (answer.completion.prompt_tokens, answer.completion.completion_tokens) == (
        len(prompt),
        len(answer.ids),
    )
    assert answer.completion.estimated is False and answer.completion.finish_reason == "stop"
    body = request.body
    if api == "vllm":
        assert request.path == "/v1/completions"
        assert body["prompt"] == prompt and body["model"] == "m"
        assert body["logprobs"] == 1 and body["return_token_ids"] is True
        assert body["return_tokens_as_token_ids"] is True
        assert (body["temperature"], body["top_p"], body["max_tokens"], body["top_k"]) == (
            0.7,
            0.9,
            64,
            5,
        )
        assert body["stop"] == ["<tool_response>"]  # the text protocol's stop
    else:
        assert request.path == "/generate"
        assert body["input_ids"] == prompt and body["return_logprob"] is True
        params = body["sampling_params"]
        assert (params["temperature"], params["max_new_tokens"], params["top_k"]) == (0.7, 64, 5)


def test_the_scripted_server_answers_only_what_was_asked_as_vllm_does(chat: TokenizerChat) -> None:
    steps = [Step(content="Harwick"), Step(content="Harwick")]
    with ScriptedChatServer(steps, chat_template=chat) as server:
        # Without return_token_ids the ids come from the token_id:N strings of the logprobs.
        no_ids = SamplingConfig(max_tokens=8, extra_body={"return_token_ids": False})
        model = OpenAIChatModel(config(server.base_url, sampling=no_ids), chat_template=chat)
        answer = ask(model, [1, 2])
        first = server.requests[0]
        # Without either, the tokens are text: no ids to read, and the answer is refused.
        neither = SamplingConfig(
            max_tokens=8,
            extra_body={"return_token_ids": False, "return_tokens_as_token_ids": False},
        )
        model = OpenAIChatModel(config(server.base_url, sampling=neither), chat_template=chat)
        with pytest.raises(ModelUnavailable, match="ask for return_token_ids"):
            ask(model, [1, 2])
    assert answer.ids == [*chat.encode("Harwick"), chat.eos_id]
    assert first.body["return_token_ids"] is False


def test_reasoning_is_split_from_the_generated_text(chat: TokenizerChat) -> None:
    steps = [Step(content="<think>\nHarwick, surely.\n</think>\n" + text_answer("Harwick"))]
    with ScriptedChatServer(steps, chat_template=chat) as server:
        answer = ask(OpenAIChatModel(config(server.base_url), chat_template=chat), [1, 2, 3])
    assert answer.completion.message.reasoning == "Harwick, surely."
    assert answer.completion.message.content == text_answer("Harwick")
    assert chat.decode(answer.ids, skip_special_tokens=True).startswith("<think>")


def test_errors_are_the_chat_errors(chat: TokenizerChat) -> None:
    steps = [Step(error=StepError(status=503)), Step(error=StepError(status=401))]
    with ScriptedChatServer(steps, chat_template=chat) as server:
        model = OpenAIChatModel(config(server.base_url), chat_template=chat)
        with pytest.raises(ModelUnavailable):
            ask(model, [1, 2])
        with pytest.raises(ConfigError, match="/v1/completions rejected the API key"):
            ask(OpenAIChatModel(config(server.base_url), chat_template=chat), [1, 2])


def mock(payload: dict[str, Any], api: str = "vllm") -> OpenAIChatModel:
    async def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=payload)

    transport = httpx.MockTransport(handle)
    return OpenAIChatModel(config("http://x.test/v1", api), transport=transport)


def test_ids_are_read_from_token_id_strings_when_token_ids_are_absent() -> None:
    payload = {
        "choices": [
            {
                "text": "ok",
                "finish_reason": "length",
                "logprobs": {"tokens": ["token_id:7", "token_id:9"], "token_logprobs": [-1, -2]},
            }
        ]
    }
    answer = ask(mock(payload), [1])
    assert (answer.ids, answer.logprobs) == ([7, 9], [-1.0, -2.0])
    assert answer.completion.finish_reason == "length"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"choices": [{"text": "ok"}]}, "without generated token ids|0 token ids but no log-probs"),
        (
            {
                "choices": [
                    {"text": "ok", "token_ids": [1, 2], "logprobs": {"token_logprobs": [-1]}}
                ]
            },
            "2 token ids but 1 log-probs",
        ),
        ({"choices": []}, "without a text completion"),
    ],
)
def test_an_answer_without_ids_or_logprobs_is_refused(
    payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ModelUnavailable, match=message):
        ask(mock(payload), [1])


def test_sglang_without_logprobs_and_abort_are_refused() -> None:
    with pytest.raises(ModelUnavailable, match="output_token_logprobs"):
        ask(mock({"text": "ok", "meta_info": {}}, "sglang"), [1])
    aborted = {"meta_info": {"output_token_logprobs": [], "finish_reason": {"type": "abort"}}}
    with pytest.raises(ModelUnavailable, match="aborted"):
        ask(mock(aborted, "sglang"), [1])


def test_the_tokenizer_directory_loads_offline_and_the_default_stays_off(
    chat: TokenizerChat, tmp_path: Path
) -> None:
    tiny_chat_tokenizer(save_to=tmp_path / "tok")
    tokens = TokenConfig(tokenizer=tmp_path / "tok", template_kwargs={"unused": True})
    sampling = SamplingConfig(max_tokens=64)
    model = OpenAIChatModel(
        ModelConfig(
            name="m", base_url="http://x.test/v1", protocol="text", tokens=tokens, sampling=sampling
        )
    )
    loaded = model.chat_template
    assert loaded is not None and loaded.tokenizer.chat_template == CHATML_TEMPLATE
    assert loaded.prompt(MESSAGES).ids == chat.prompt(MESSAGES).ids
    assert model.settings()["tokens"]["api"] == "vllm"
    plain = OpenAIChatModel(ModelConfig(name="m", base_url="http://x.test/v1"))
    assert plain.chat_template is None and "tokens" not in plain.settings()
    with pytest.raises(ConfigError, match=r"need model\.tokens"):
        asyncio.run(plain.complete_ids([1]))
    missing = TokenConfig(tokenizer=tmp_path / "nowhere")
    broken = OpenAIChatModel(
        ModelConfig(
            name="m",
            base_url="http://x.test/v1",
            protocol="text",
            tokens=missing,
            sampling=sampling,
        )
    )
    with pytest.raises(ConfigError, match="cannot load"):
        _ = broken.chat_template


def test_token_exact_needs_the_text_protocol_and_max_tokens() -> None:
    sampling = SamplingConfig(max_tokens=64)
    with pytest.raises(ValidationError, match="needs protocol 'text'"):
        ModelConfig(name="m", base_url="http://x.test/v1", tokens=TokenConfig(), sampling=sampling)
    with pytest.raises(ValidationError, match=r"needs sampling\.max_tokens"):
        ModelConfig(name="m", base_url="http://x.test/v1", protocol="text", tokens=TokenConfig())


def with_template(chat: TokenizerChat, template: str) -> TokenizerChat:
    tokenizer = copy.copy(chat.tokenizer)
    tokenizer.chat_template = template  # type: ignore[attr-defined]
    return TokenizerChat(tokenizer)


def test_a_template_that_closes_a_turn_differently_before_more_messages_is_refused(
    chat: TokenizerChat,
) -> None:
    closing = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
        "{% if loop.last %}<|im_end|>{% else %}<|endoftext|>{% endif %}\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    with pytest.raises(ConfigError, match="not append-only"):
        with_template(chat, closing).observation([Message(role="user", content="more")])


def test_a_template_that_rewrites_the_last_turn_like_qwen3_still_appends(
    chat: TokenizerChat,
) -> None:
    # Qwen3 writes an empty think block into the last assistant turn only; what follows a
    # turn is all an observation reads, so the earlier turns may render differently.
    qwen3_like = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n"
        "{% if m.role == 'assistant' and loop.last %}<think>\n\n</think>\n\n{% endif %}"
        "{{ m.content }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    qwen3 = with_template(chat, qwen3_like)
    rendered = qwen3.observation([Message(role="user", content="<tool_response>\nHarwick")])
    assert (
        qwen3.decode(rendered.message_ids)
        == "<|im_start|>user\n<tool_response>\nHarwick<|im_end|>\n"
    )
    assert qwen3.decode(rendered.generation_ids) == "<|im_start|>assistant\n"


def test_turn_end_glue_depends_on_how_the_turn_ended(chat: TokenizerChat) -> None:
    eos = chat.eos_id
    assert eos is not None
    assert chat.decode(chat.turn_end([5, eos])) == "\n"  # the model closed the turn
    assert chat.decode(chat.turn_end([5, 6])) == "<|im_end|>\n"  # cut by a stop or max_tokens
