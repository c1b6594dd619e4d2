"""TRL: an ``environment_factory`` class over our tools and a ``reward_funcs`` judge.

``GRPOTrainer(environment_factory=..., reward_funcs=[judged_reward])`` (TRL >= 1.x; the API is
experimental upstream). TRL builds one environment instance per rollout by calling the
factory with no argument, calls ``reset(**row)`` with the dataset row before generating, and
offers every public method of the class as a tool (name, JSON schema from the signature and
the Google-style docstring). It parses tool calls from the generated ids with the tokenizer's
response template, runs async tools on its own event loop, and appends the tool results as
ids with a 0 ``tool_mask``, so the trained tokens are the policy's own.

:func:`trl_environment` builds such a class for one environment server URL (the ``Toolbox``
reaches ``search``, ``visit``, ``PythonInterpreter`` as ``python``, ``google_scholar``,
``google_maps`` and ``google_maps_route`` there). :func:`judged_reward` judges each rollout
with the environment's registered scorer (``redsearcher.eval``): a rollout whose tools hit an
environment outage, or that the judge could not score, gets ``None``. TRL 1.16 excludes a
``None`` from the sum for that sample and, when every reward function gave ``None``, marks the
sample unscorable (NaN: left out of its group's mean and std, advantage forced to 0) — it is
never rewarded 0. A tool call the trainer cancels (its timeout, ``asyncio.wait_for``) is
recorded and re-raised, never swallowed: closing the HTTP request makes the environment server
kill a sandboxed run, and :func:`judged_reward` leaves that rollout unscored (``None``), since
its last tool result never reached the model.

Tested against TRL's real classes (``tests/rl/test_adapter_trl.py`` builds a real
``GRPOTrainer`` and checks what it extracted; ``tests/rl/test_tiny_run.py`` trains): both
``pytest.importorskip("trl")``, so CI without the ``rl-trainers`` extra skips them. The
rollout-side logic (reset, tools against a real environment server, judging) is tested
without TRL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from redsearcher.log import Message, Segment, Task, Termination, Trajectory, TrajectoryProvenance
from redsearcher.model import extract_answer
from redsearcher.rl._rewards import SampleReward, judge_rewards
from redsearcher.rl.adapters._common import env_toolbox, row_task
from redsearcher.tools import ServiceDown, ServiceUnavailable, Toolbox, ToolError

__all__ = ["SearchEnvironment", "judged_reward", "trl_environment", "trl_rows"]

logger = logging.getLogger(__name__)

DEFAULT_SYSTEM = (
    "You are a deep-search agent. Use the tools to find evidence, then give the final answer "
    "inside <answer></answer> tags."
)


class SearchEnvironment:
    """One rollout's environment: the task it was reset with, and our tools over HTTP.

    Not used directly: :func:`trl_environment` makes a subclass bound to a server URL with the
    chosen tools as its public methods. Everything that is not a tool is private (TRL offers
    every public method as a tool), except ``reset``.
    """

    _env_url: ClassVar[str] = ""
    _api_key: ClassVar[str | None] = None
    _tool_names: ClassVar[tuple[str, ...]] = ()
    _num_results: ClassVar[int] = 10
    scorer: ClassVar[str] = "exact"

    def __init__(self) -> None:
        self._toolbox: Toolbox | None = None
        self.task: Task | None = None
        self.tool_calls = 0
        self.tool_failures = 0
        self.outages: list[str] = []
        self.cancelled: list[str] = []
        """Tool calls the trainer cancelled mid-flight (its timeout): the rollout is unscored."""
        self.reward: SampleReward | None = None

    def reset(self, **row: Any) -> str | None:
        """Start an episode on the dataset ``row`` (our task fields, or prompt/label)."""
        self.task = row_task(row, where=f"dataset row {row.get('id', '?')!r}")
        self.tool_calls = 0
        self.tool_failures = 0
        self.outages = []
        self.cancelled = []
        self.reward = None
        return None

    async def _call(self, name: str, arguments: Mapping[str, Any]) -> str:
        """Run one tool on the server; a failure becomes text the model reads, and is counted."""
        if self._toolbox is None:  # created on TRL's event loop, where the tools run
            self._toolbox = env_toolbox(
                self._env_url,
                api_key=self._api_key,
                tools=self._tool_names,
                cache=False,
                num_results=self._num_results,
            )
        self.tool_calls += 1
        try:
            return await self._toolbox.call(name, dict(arguments))
        except ServiceDown as err:
            self.tool_failures += 1
            self.outages.append(f"{name}: {err}")
            return str(err)
        except ToolError as err:
            self.tool_failures += 1
            return str(err)
        except ServiceUnavailable as err:
            self.tool_failures += 1
            self.outages.append(f"{name}: {err}")
            return f"The {name} service is unavailable: {err}"
        except asyncio.CancelledError:
            # The trainer gave up on this call (timeout): note it and let it end, so the HTTP
            # request closes (the server kills a sandboxed run) and the caller sees it.
            self.cancelled.append(name)
            raise

    async def _aclose(self) -> None:
        if self._toolbox is not None:
            await self._toolbox.aclose()
            self._toolbox = None


async def _search(self: SearchEnvironment, query: list[str]) -> str:  # noqa: D417 (self is not a tool argument)
    """Search the web and return the top results for each query.

    Args:
        query: One or more search queries.
    """
    return await self._call("search", {"query": query})


async def _visit(self: SearchEnvironment, url: list[str], goal: str) -> str:  # noqa: D417 (self is not a tool argument)
    """Read web pages and return the evidence they hold for a goal.

    Args:
        url: One or more page URLs from search results.
        goal: What information to look for on the pages.
    """
    return await self._call("visit", {"url": url, "goal": goal})


async def _python(self: SearchEnvironment, code: str) -> str:  # noqa: D417 (self is not a tool argument)
    """Run Python code in a sandbox and return what it prints.

    Args:
        code: The Python source to run; print the values you need.
    """
    return await self._call("PythonInterpreter", {"code": code})


async def _google_scholar(self: SearchEnvironment, query: list[str]) -> str:  # noqa: D417 (self is not a tool argument)
    """Search scholarly papers and return the top results for each query.

    Args:
        query: One or more search queries.
    """
    return await self._call("google_scholar", {"query": query})


async def _google_maps(self: SearchEnvironment, q: str) -> str:  # noqa: D417 (self is not a tool argument)
    """Search places on a map.

    Args:
        q: The place or kind of place to look for.
    """
    return await self._call("google_maps", {"q": q})


async def _google_maps_route(  # noqa: D417
    self: SearchEnvironment, origin: str, destination: str, mode: str
) -> str:
    """Find a route between two places, with its distance and duration.

    Args:
        origin: Where the route starts.
        destination: Where the route ends.
        mode: One of driving, walking, bicycling, transit.
    """
    return await self._call(
        "google_maps_route", {"origin": origin, "destination": destination, "mode": mode}
    )


#: Our registered tool → (the method name TRL offers, its implementation).
TOOL_METHODS: dict[str, tuple[str, Any]] = {
    "search": ("search", _search),
    "visit": ("visit", _visit),
    "PythonInterpreter": ("python", _python),
    "google_scholar": ("google_scholar", _google_scholar),
    "google_maps": ("google_maps", _google_maps),
    "google_maps_route": ("google_maps_route", _google_maps_route),
}


def trl_environment(
    env_url: str,
    *,
    tools: Sequence[str] = ("search", "visit"),
    scorer: str = "exact",
    api_key: str | None = None,
    num_results: int = 10,
) -> type[SearchEnvironment]:
    """A :class:`SearchEnvironment` subclass for ``GRPOTrainer(environment_factory=...)``.

    Args:
        env_url: The environment server (one URL; N replicas behind a balancer are fine).
        tools: Our registered tool names to offer (see :data:`TOOL_METHODS`).
        scorer: The registered judge :func:`judged_reward` uses.
        api_key: The server's key, when it has one.
        num_results: Results per search query.

    Raises:
        ValueError: for a tool we do not offer to TRL.
    """
    unknown = [t for t in tools if t not in TOOL_METHODS]
    if unknown:
        raise ValueError(f"tools {unknown} are not offered to TRL (known: {sorted(TOOL_METHODS)})")
    namespace: dict[str, Any] = {
        "_env_url": env_url.rstrip("/"),
        "_api_key": api_key,
        "_tool_names": tuple(tools),
        "_num_results": num_results,
        "scorer": scorer,
        "__module__": __name__,
    }
    for name in tools:
        method_name, impl = TOOL_METHODS[name]

        # A fresh function per class, named as the tool: TRL names the tool after __name__.
        async def method(self: SearchEnvironment, *args: Any, _impl: Any = impl, **kw: Any) -> str:
            return str(await _impl(self, *args, **kw))

        method = _copy_signature(method, impl, method_name)
        namespace[method_name] = method
    return type("SearchEnvironment", (SearchEnvironment,), namespace)


def _copy_signature(wrapper: Any, impl: Any, name: str) -> Any:
    """``impl`` renamed: TRL reads the tool's name, signature and docstring from the function."""
    import functools

    wrapped: Any = functools.wraps(impl)(wrapper)
    wrapped.__name__ = name
    wrapped.__qualname__ = f"SearchEnvironment.{name}"
    del wrapped.__wrapped__  # the schema comes from __signature__ below, not the private impl
    import inspect

    wrapped.__signature__ = inspect.signature(impl)
    return wrapped


def trl_rows(tasks: Sequence[Task], *, system_prompt: str = DEFAULT_SYSTEM) -> list[dict[str, Any]]:
    """Dataset rows for ``GRPOTrainer``: a chat ``prompt`` plus the task fields ``reset`` reads."""
    return [
        {
            "prompt": [
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": task.question},
            ],
            "id": task.id,
            "question": task.question,
            "answer": task.answer,
            "aliases": list(task.aliases),
        }
        for task in tasks
    ]


def _message(raw: Mapping[str, Any]) -> Message:
    role = raw.get("role", "assistant")
    content = raw.get("content") or ""
    if not isinstance(content, str):
        content = str(content)
    calls = raw.get("tool_calls")
    return Message(
        role=role if role in ("system", "user", "assistant", "tool") else "assistant",
        content=content,
        tool_calls=[dict(c) for c in calls] if calls else None,
        train=role == "assistant",
    )


def rollout_trajectory(
    environment: SearchEnvironment, completion: Sequence[Mapping[str, Any]] | str, sample: int = 0
) -> Trajectory:
    """A TRL rollout (its completion messages and environment) as our trajectory, for the judge.

    Termination: ``error`` when a tool hit an environment outage or the trainer cancelled a
    tool call (so the judge leaves it unscored), ``answer`` when the last assistant message
    holds ``<answer>…</answer>``, else ``max_turns`` (TRL stopped it: tool-call or length limit).
    """
    task = environment.task
    if task is None:
        raise RuntimeError("the environment was never reset: no task to judge against")
    raw = (
        [{"role": "assistant", "content": completion}]
        if isinstance(completion, str)
        else completion
    )
    messages = [_message(m) for m in raw]
    last = next((m.content for m in reversed(messages) if m.role == "assistant"), "")
    prediction = extract_answer(last)
    termination: Termination
    if environment.cancelled:
        names = ", ".join(environment.cancelled)
        termination, error = "error", f"cancelled: the trainer cancelled the {names} call (timeout)"
    elif environment.outages:
        termination, error = "error", "environment outage: " + "; ".join(environment.outages)
    else:
        termination, error = ("answer" if prediction is not None else "max_turns"), None
    answers = [task.answer, *task.aliases] if task.answer is not None else []
    return Trajectory(
        id=f"{task.id}#{sample}",
        task_id=task.id,
        sample=sample,
        question=task.question,
        answers=answers,
        segments=[Segment(index=0, messages=messages, first_turn=0, end="final")],
        prediction=prediction,
        termination=termination,
        error=error,
        turns=sum(m.role == "assistant" for m in messages),
        provenance=TrajectoryProvenance(model="trl-policy", protocol="native"),
    )


async def judged_reward(
    completions: Sequence[Any], environments: Sequence[SearchEnvironment], **kwargs: Any
) -> list[float | None]:
    """TRL ``reward_funcs`` entry: each rollout judged by its environment's scorer.

    Returns one reward per completion; ``None`` for an unscored rollout (environment outage, a
    tool call the trainer cancelled, judge outage, no reference answer), which TRL leaves out
    instead of rewarding 0.
    """
    if not environments:
        raise ValueError(
            "judged_reward needs GRPOTrainer(environment_factory=trl_environment(...))"
        )
    out: list[float | None] = []
    for i, (completion, environment) in enumerate(zip(completions, environments, strict=True)):
        trajectory = rollout_trajectory(environment, completion, sample=i)
        (reward,) = await judge_rewards([trajectory], environment.scorer)
        environment.reward = reward
        out.append(reward.reward)
    unscored = sum(r is None for r in out)
    if unscored:
        logger.warning("%d of %d rollouts unscored (None, not 0)", unscored, len(out))
    return out
