"""verifiers adapter, against verifiers' real classic classes (``verifiers==0.3.1``, extra
``rl-trainers``); skipped where that API is not installed (the default CI)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adapter_support import ANSWER, serve_tiny, served

from redsearcher.errors import UserError
from redsearcher.log import Task
from redsearcher.server import EnvServer

vf = pytest.importorskip("verifiers")
pytest.importorskip("verifiers.envs.tool_env")
from verifiers.types import AssistantMessage, ToolCall, UserMessage  # noqa: E402

from redsearcher.rl.adapters.verifiers import load_environment, read_task_rows  # noqa: E402

TASK = Task(id="t1", question="Who is Marta Velden's sibling?", answer=ANSWER)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EnvServer]:
    yield from serve_tiny(tmp_path_factory.mktemp("verifiers"))


def judge_of(environment: Any) -> Any:
    """Our reward function inside the env's rubric (verifiers groups it with its monitors)."""
    rubrics = getattr(environment.rubric, "rubrics", [environment.rubric])
    [judge] = [f for r in rubrics for f in r.funcs if f.__name__ == "judged"]
    return judge


def call(name: str, args: dict[str, Any]) -> AssistantMessage:
    return AssistantMessage(
        content="", tool_calls=[ToolCall(id="c1", name=name, arguments=json.dumps(args))]
    )


def test_a_tool_env_with_our_tools_and_judge(env: EnvServer) -> None:
    environment = load_environment(env.base_url, [TASK], tools=["search", "visit"])
    assert isinstance(environment, vf.ToolEnv)
    assert sorted(environment.tool_map) == ["search", "visit"]
    assert environment.dataset[0]["answer"] == ANSWER
    before = served(env.base_url)
    messages = [UserMessage(content=TASK.question), call("search", {"query": ["Marta Velden"]})]
    state: dict[str, Any] = {}
    [tool] = asyncio.run(environment.env_response(messages, state))
    assert "Marta Velden" in tool.content and served(env.base_url) == before + 1
    judge = judge_of(environment)
    good = [AssistantMessage(content=f"<answer>{ANSWER}</answer>")]
    info = {"id": "t1", "aliases": [], "scored": True}
    assert asyncio.run(judge(completion=good, answer=ANSWER, state={}, info=info)) == 1.0
    bad = [AssistantMessage(content="<answer>nobody</answer>")]
    assert asyncio.run(judge(completion=bad, answer=ANSWER, state={}, info=info)) == 0.0


def test_unscored_marks_the_rollout_error_not_a_reward() -> None:
    environment = load_environment("http://127.0.0.1:9", [Task(id="t", question="Q?")])
    judge = judge_of(environment)
    state: dict[str, Any] = {}
    info = {"id": "t", "aliases": [], "scored": False}
    done = [AssistantMessage(content="<answer>A</answer>")]
    asyncio.run(judge(completion=done, answer="", state=state, info=info))
    assert "unscored" in str(state["error"])


def test_discard_all_restarts_from_the_prompt_past_the_threshold(env: EnvServer) -> None:
    environment = load_environment(env.base_url, [TASK], context_chars=50)
    prompt = [UserMessage(content=TASK.question)]
    state: dict[str, Any] = {
        "prompt": prompt,
        "trajectory": [{"prompt": prompt, "completion": [call("search", {"query": ["Marta"]})]}],
    }
    messages = asyncio.run(environment.get_prompt_messages(state))
    assert state["discards"] == 1 and len(messages) == 2
    assert messages[0].content == TASK.question and "context" in messages[1].content.lower()
    roomy = load_environment(env.base_url, [TASK], context_chars=None)
    state.pop("discards")
    kept = asyncio.run(roomy.get_prompt_messages(state))
    assert len(kept) == 3 and "discards" not in state  # prompt, call, tool result


def test_task_files_report_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text('{"id": "a", "question": "Q?", "answer": "A"}\n{"id": "b"}\n')
    with pytest.raises(UserError, match=r"tasks.jsonl:2: no 'question'"):
        read_task_rows(path)
