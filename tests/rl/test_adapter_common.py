"""The trainer-free core of every adapter: task rows, the generate-call model, judged episodes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from adapter_support import ANSWER, ScriptedEngine, search_then_answer, serve_tiny, served

from redsearcher.agent import AgentConfig, ContextConfig
from redsearcher.errors import UserError
from redsearcher.log import Task
from redsearcher.model import TokenizerChat
from redsearcher.rl.adapters import GenerateIdsModel, env_toolbox, judged_episode, row_task
from redsearcher.server import EnvServer
from redsearcher.testing import tiny_chat_tokenizer

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("adapters"))


@pytest.fixture(scope="module")
def chat() -> TokenizerChat:
    return tiny_chat_tokenizer()


def test_row_task_reads_our_fields_and_slimes_prompt_label() -> None:
    ours = row_task({"id": "t1", "question": "Q?", "answer": "A", "aliases": ["a"]})
    assert (ours.id, ours.question, ours.answer, ours.aliases) == ("t1", "Q?", "A", ["a"])
    slime = row_task(
        {
            "prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q2?"}],
            "label": "B",
            "id": 7,
        }
    )
    assert (slime.id, slime.question, slime.answer) == ("7", "Q2?", "B")
    # Without an id, one derived from the question, the same in every worker process.
    anonymous = row_task({"question": "Q3?"})
    assert (
        anonymous.id
        == row_task({"question": "Q3?"}).id
        == "q" + __import__("hashlib").sha256(b"Q3?").hexdigest()[:12]
    )


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"answer": "A"}, "tasks.jsonl:3: no 'question'"),
        ({"question": "Q", "answer": 5}, "tasks.jsonl:3: field 'answer' must be a string"),
        ({"question": "Q", "aliases": "x"}, "tasks.jsonl:3: field 'aliases' must be a list"),
        ({"prompt": [{"role": "system", "content": "S"}]}, "tasks.jsonl:3: field 'prompt' has"),
    ],
)
def test_row_task_names_the_row_and_field(row: dict[str, object], message: str) -> None:
    with pytest.raises(UserError, match=message):
        row_task(row, where="tasks.jsonl:3")


def config() -> AgentConfig:
    return AgentConfig(
        tools=["search", "visit"],
        context=ContextConfig(strategy="none", use_server_usage=False),
        context_window=100_000,
    )


def test_a_judged_episode_through_a_generate_call_is_token_exact(
    env: EnvServer, chat: TokenizerChat
) -> None:
    engine = ScriptedEngine(chat, search_then_answer())
    before = served(env.base_url)

    async def main():  # type: ignore[no-untyped-def]
        toolbox = env_toolbox(env.base_url, tools=["search", "visit"])
        try:
            return await judged_episode(
                Task(id="t", question="Who is Marta Velden's sibling?", answer=ANSWER),
                model=GenerateIdsModel(chat, engine),
                toolbox=toolbox,
                config=config(),
            )
        finally:
            await toolbox.aclose()

    episode = asyncio.run(main())
    assert served(env.base_url) == before + 1  # the search reached the server
    assert episode.trajectory.prediction == ANSWER and episode.value == 1.0
    [segment] = episode.segments
    assert segment.reward == 1.0
    # Each turn's prompt is the segment's ids up to that turn; the mask is 1 exactly on the
    # ids the engine generated.
    ids = segment.ids
    generated = [t for t, m in zip(segment.response_ids, segment.response_mask, strict=True) if m]
    assert generated == engine.outputs[0] + engine.outputs[1]
    assert engine.prompts[0] == segment.prompt_ids
    assert ids[: len(engine.prompts[1])] == engine.prompts[1]
    assert ids[len(engine.prompts[1]) :] == engine.outputs[1]


def test_no_reference_answer_is_unscored_not_zero(env: EnvServer, chat: TokenizerChat) -> None:
    engine = ScriptedEngine(chat, search_then_answer())

    async def main():  # type: ignore[no-untyped-def]
        toolbox = env_toolbox(env.base_url, tools=["search"])
        try:
            return await judged_episode(
                Task(id="t", question="Who?", answer=None),
                model=GenerateIdsModel(chat, engine),
                toolbox=toolbox,
                config=config().model_copy(update={"tools": ["search"]}),
            )
        finally:
            await toolbox.aclose()

    episode = asyncio.run(main())
    assert episode.value is None and episode.reward.unscored
    assert all(s.reward is None for s in episode.segments)


def test_generate_ids_model_refuses_mismatched_logprobs(chat: TokenizerChat) -> None:
    async def bad(prompt: list[int]) -> tuple[list[int], list[float]]:
        return [1, 2], [0.0]

    with pytest.raises(ValueError, match="2 ids but 1 log-probs"):
        asyncio.run(GenerateIdsModel(chat, bad).complete_ids([1]))


def test_env_toolbox_offers_the_chosen_tools(tmp_path: Path) -> None:
    toolbox = env_toolbox("http://127.0.0.1:9", tools=["search"], num_results=3)
    assert [t.name for t in toolbox.tools] == ["search"] and toolbox.num_results == 3
    asyncio.run(toolbox.aclose())
