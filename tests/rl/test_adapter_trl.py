"""TRL adapter: the environment class over a real environment server, the judged reward, and
(with TRL installed: the ``rl-trainers`` extra) what a real ``GRPOTrainer`` extracts from it."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
from adapter_support import ANSWER, serve_tiny, served

from redsearcher.log import Task
from redsearcher.rl.adapters import SearchEnvironment, judged_reward, trl_environment, trl_rows
from redsearcher.server import EnvServer
from redsearcher.tools import ServicesConfig, Toolbox

ROW = {"id": "t1", "question": "Who is Marta Velden's sibling?", "answer": ANSWER, "aliases": []}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("trl"))


def public_methods(cls: type) -> list[str]:
    return sorted(
        n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction) if not n.startswith("_")
    )


def test_the_class_offers_exactly_the_chosen_tools_and_reset() -> None:
    cls = trl_environment("http://x", tools=["search", "visit", "PythonInterpreter"])
    assert public_methods(cls) == ["python", "reset", "search", "visit"]
    method = cls().search
    assert method.__name__ == "search" and "Args:" in (method.__doc__ or "")
    assert list(inspect.signature(method).parameters) == ["query"]
    with pytest.raises(ValueError, match="not offered to TRL"):
        trl_environment("http://x", tools=["nope"])


def test_tools_reach_the_server_and_the_reward_is_judged(env: EnvServer) -> None:
    cls = trl_environment(env.base_url, tools=["search", "visit"])
    environment = cls()
    assert environment.reset(**ROW) is None
    assert environment.task is not None and environment.task.answer == ANSWER
    before = served(env.base_url)

    async def main() -> tuple[str, str, list[float | None]]:
        text = await environment.search(query=["Marta Velden"])
        bad = await environment.visit(url=[], goal="x")  # invalid: the model reads why
        completions = [
            [
                {"role": "assistant", "content": "", "tool_calls": [{"type": "function"}]},
                {"role": "tool", "content": text},
                {"role": "assistant", "content": f"<answer>{ANSWER}</answer>"},
            ],
            [{"role": "assistant", "content": "<answer>Someone Else</answer>"}],
            [{"role": "assistant", "content": "no answer tag"}],
        ]
        rewards = await judged_reward(completions, [environment] * 3)
        await environment._aclose()
        return text, bad, rewards

    text, bad, rewards = asyncio.run(main())
    assert served(env.base_url) == before + 1
    assert "Marta Velden" in text
    assert "visit" in bad and environment.tool_failures == 1 and environment.tool_calls == 2
    assert rewards == [1.0, 0.0, 0.0]


def test_an_environment_outage_is_unscored_never_zero() -> None:
    cls = trl_environment("http://127.0.0.1:9", tools=["search"])
    environment = cls()
    environment.reset(**ROW)
    environment._toolbox = Toolbox.http(
        ServicesConfig.local("http://127.0.0.1:9", retries=0), tools=["search"]
    )

    async def main() -> list[float | None]:
        await environment.search(query=["Marta Velden"])
        rewards = await judged_reward(
            [[{"role": "assistant", "content": f"<answer>{ANSWER}</answer>"}]], [environment]
        )
        await environment._aclose()
        return rewards

    assert asyncio.run(main()) == [None]
    assert environment.outages and environment.reward is not None
    assert "outage" in (environment.reward.unscored_reason or "")


def test_no_reference_answer_is_unscored() -> None:
    environment = trl_environment("http://x")()
    environment.reset(id="t", question="Q?")
    rewards = asyncio.run(
        judged_reward([[{"role": "assistant", "content": "<answer>A</answer>"}]], [environment])
    )
    assert rewards == [None]


def test_rows_carry_the_prompt_and_what_reset_reads() -> None:
    [row] = trl_rows([Task(id="t1", question="Q?", answer="A", aliases=["a"])])
    assert row["prompt"][-1] == {"role": "user", "content": "Q?"}
    environment = trl_environment("http://x")()
    environment.reset(**row)
    assert isinstance(environment, SearchEnvironment) and environment.task is not None
    assert (environment.task.id, environment.task.answer, environment.task.aliases) == (
        "t1",
        "A",
        ["a"],
    )


def test_a_real_grpo_trainer_takes_the_environment_and_reward(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Against TRL's real GRPOTrainer (skipped without the ``rl-trainers`` extra)."""
    pytest.importorskip("trl")
    pytest.importorskip("torch")
    from datasets import Dataset
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer
    from trl.chat_template_utils import qwen3_template

    from redsearcher.testing import tiny_chat_tokenizer

    tok = tiny_chat_tokenizer().tokenizer
    tok.response_template = qwen3_template
    tok.pad_token = tok.pad_token or tok.eos_token
    model = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
        )
    )
    cls = trl_environment("http://127.0.0.1:9", tools=["search", "visit", "google_maps"])
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[judged_reward],
        args=GRPOConfig(
            output_dir=str(tmp_path),
            per_device_train_batch_size=2,
            num_generations=2,
            max_steps=1,
            use_cpu=True,
            report_to=[],
        ),
        train_dataset=Dataset.from_list(trl_rows([Task(id="t", question="Q?", answer="A")])),
        processing_class=tok,
        environment_factory=cls,
    )
    names = sorted(t.__name__ for t in trainer._env_tools[None])
    assert names == ["google_maps", "search", "visit"]
    assert trainer.reward_func_names == ["judged_reward"]
