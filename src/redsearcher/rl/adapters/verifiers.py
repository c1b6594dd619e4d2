"""verifiers: ``load_environment()`` — a ``ToolEnv`` over our tools, a ``Rubric`` over our judge.

Install it as a verifiers environment (``examples/verifiers/``) or call it directly::

    env = load_environment(env_url="http://env-lb:8000", tasks="rl/curated/curated.jsonl")

The tools are async functions with our tools' names and docstrings, each a call to the
environment server (one URL; N replicas behind a balancer). The rubric judges the final
``<answer>`` with a registered scorer (``redsearcher.eval``). Discard-all, the paper's context
strategy, is :meth:`DiscardAllToolEnv.get_prompt_messages`: once the next prompt would pass
``context_chars``, it restarts from the task's prompt plus our context-reset note (the last
tool result is dropped, as in our loop), and counts the reset in ``state["discards"]``.

verifiers' rubric has no "no reward" (a reward function that raises scores 0.0), so an
unscored rollout (a tool hit an environment outage, or the judge could not decide) is marked
with ``state["error"]`` (a verifiers ``InfraError``), which trainers that consume verifiers
(prime-rl) drop from the batch; its placeholder reward is 0.0 and must not be trained on.

Tested against verifiers' real classes (``tests/rl/test_adapter_verifiers.py``,
``pytest.importorskip("verifiers.envs.tool_env")``): the classic ``ToolEnv``/``Rubric`` API,
pinned ``verifiers==0.3.1`` in the ``rl-trainers`` extra (0.4 removed it for a new ``v1``
stack); CI without the extra skips the test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redsearcher.agent import load_prompt
from redsearcher.errors import UserError
from redsearcher.log import Message, Segment, Task, Trajectory, TrajectoryProvenance
from redsearcher.model import extract_answer
from redsearcher.rl._rewards import judge_rewards
from redsearcher.rl.adapters._common import env_toolbox, row_task
from redsearcher.tools import ServiceDown, ServiceUnavailable, Toolbox, ToolError

__all__ = ["load_environment", "read_task_rows"]

DEFAULT_SYSTEM = (
    "You are a deep-search agent. Use the tools to find evidence, then give the final answer "
    "inside <answer></answer> tags."
)


def read_task_rows(path: str | Path) -> list[Task]:
    """Tasks from a JSONL file, each bad line reported with file and line."""
    tasks = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{where}: not JSON: {err.msg}") from err
        tasks.append(row_task(row, where=where))
    return tasks


def _tools(env_url: str, names: Sequence[str], outages: list[str], num_results: int) -> list[Any]:
    """Async tool functions over one lazily opened toolbox (on verifiers' event loop)."""
    box: dict[str, Toolbox] = {}

    async def call(name: str, arguments: dict[str, Any]) -> str:
        if "toolbox" not in box:
            box["toolbox"] = env_toolbox(env_url, tools=names, num_results=num_results)
        try:
            return await box["toolbox"].call(name, arguments)
        except (ServiceDown, ServiceUnavailable) as err:
            outages.append(f"{name}: {err}")
            return str(err)
        except ToolError as err:
            return str(err)

    async def search(query: list[str]) -> str:
        """Search the web and return the top results for each query.

        Args:
            query: One or more search queries.
        """
        return await call("search", {"query": query})

    async def visit(url: list[str], goal: str) -> str:
        """Read web pages and return the evidence they hold for a goal.

        Args:
            url: One or more page URLs from search results.
            goal: What information to look for on the pages.
        """
        return await call("visit", {"url": url, "goal": goal})

    async def python(code: str) -> str:
        """Run Python code in a sandbox and return what it prints.

        Args:
            code: The Python source to run; print the values you need.
        """
        return await call("PythonInterpreter", {"code": code})

    async def google_scholar(query: list[str]) -> str:
        """Search scholarly papers and return the top results for each query.

        Args:
            query: One or more search queries.
        """
        return await call("google_scholar", {"query": query})

    async def google_maps(q: str) -> str:
        """Search places on a map.

        Args:
            q: The place or kind of place to look for.
        """
        return await call("google_maps", {"q": q})

    known = {
        "search": search,
        "visit": visit,
        "PythonInterpreter": python,
        "google_scholar": google_scholar,
        "google_maps": google_maps,
    }
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"tools {unknown} are not offered to verifiers (known: {sorted(known)})")
    return [known[n] for n in names]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _get(message: Any, key: str) -> Any:
    """A message field: verifiers 0.3 messages are pydantic objects, older ones dicts."""
    return message.get(key) if isinstance(message, dict) else getattr(message, key, None)


def _size(messages: Sequence[Any]) -> int:
    return sum(len(_text(_get(m, "content"))) for m in messages)


def load_environment(
    env_url: str,
    tasks: str | Path | Sequence[Task],
    *,
    tools: Sequence[str] = ("search", "visit"),
    scorer: str = "exact",
    max_turns: int = 30,
    context_chars: int | None = 64_000,
    num_results: int = 10,
    system_prompt: str = DEFAULT_SYSTEM,
) -> Any:
    """A verifiers ``ToolEnv`` over our tools and judge (see the module docstring).

    Args:
        env_url: The environment server.
        tasks: A task JSONL path (``redsearcher synth`` / ``rl curate`` output) or tasks.
        tools: Our registered tool names to offer.
        scorer: The registered judge of the rubric.
        max_turns: verifiers' turn limit.
        context_chars: Discard-all threshold in characters of the next prompt (``None``: off).
        num_results: Results per search query.
        system_prompt: The system message of every prompt.
    """
    import verifiers as vf
    from datasets import Dataset
    from verifiers.errors import InfraError
    from verifiers.types import UserMessage

    task_list = read_task_rows(tasks) if isinstance(tasks, str | Path) else list(tasks)
    dataset = Dataset.from_list(
        [
            {
                "question": t.question,
                "answer": t.answer or "",
                "info": {"id": t.id, "aliases": list(t.aliases), "scored": t.answer is not None},
            }
            for t in task_list
        ]
    )
    outages: list[str] = []
    reset_note = load_prompt("context_reset")

    async def judged(completion: Any, answer: str, state: Any, info: Any, **_: Any) -> float:
        """Our registered judge on the final ``<answer>``; unscored marks ``state['error']``."""
        messages = completion if isinstance(completion, list) else []
        last = next(
            (
                _text(_get(m, "content"))
                for m in reversed(messages)
                if _get(m, "role") == "assistant"
            ),
            _text(completion) if isinstance(completion, str) else "",
        )
        info = info or {}
        reference = answer if info.get("scored", True) else None
        trajectory = Trajectory(
            id=f"{info.get('id', 'task')}#0",
            task_id=str(info.get("id", "task")),
            sample=0,
            question="",
            answers=[reference, *info.get("aliases", [])] if reference else [],
            segments=[
                Segment(
                    index=0,
                    messages=[Message(role="assistant", content=last, train=True)],
                    first_turn=0,
                    end="final",
                )
            ],
            prediction=extract_answer(last),
            termination="error" if state.get("outages") else "answer",
            error="; ".join(state.get("outages") or []) or None,
            provenance=TrajectoryProvenance(model="verifiers-policy", protocol="native"),
        )
        (reward,) = await judge_rewards([trajectory], scorer)
        if reward.reward is None:
            state["error"] = InfraError(f"unscored: {reward.unscored_reason}")
            return 0.0  # a placeholder verifiers needs; the error drops the rollout
        return reward.reward

    class DiscardAllToolEnv(vf.ToolEnv):  # type: ignore[misc]
        """``ToolEnv`` with the paper's discard-all context strategy."""

        async def env_response(self, messages: Any, state: Any, **kwargs: Any) -> Any:
            start = len(outages)
            response = await super().env_response(messages, state, **kwargs)
            if len(outages) > start:
                state.setdefault("outages", []).extend(outages[start:])
            return response

        async def get_prompt_messages(self, state: Any) -> Any:
            messages = await super().get_prompt_messages(state)
            if context_chars is None or not state.get("trajectory"):
                return messages
            if _size(messages) <= context_chars:
                return messages
            state["discards"] = state.get("discards", 0) + 1
            return [*state["prompt"], UserMessage(content=reset_note)]

    return DiscardAllToolEnv(
        dataset=dataset,
        tools=_tools(env_url, tools, outages, num_results),
        rubric=vf.Rubric(funcs=[judged], weights=[1.0]),
        system_prompt=system_prompt,
        max_turns=max_turns,
    )
