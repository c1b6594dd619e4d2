"""Judges: what decides whether one trajectory's answer is correct, as a :class:`Verdict`.

A judge *is* a scorer. There is one registry kind, ``scorer``: every registered entry is a
class whose instances are async callables ``(trajectory) -> float | None`` (what the rollout
needs) and also have :meth:`BaseJudge.judge` ``(trajectory) -> Verdict`` (what ``redsearcher
eval`` records). The float is derived from the verdict (1.0 / 0.0, ``None`` when unscored), so
the rollout's live score and the evaluation's verdict can never disagree for the same judge.
Every judge is built the same way, ``cls(model=None, *, timeout_s=300.0, **options)``: rule
judges ignore the model and the timeout; LLM judges need a model and without one leave every
trajectory unscored with that reason.

Checks common to every judge, before its own rule: an episode that ended in ``error`` and a
task without a reference answer are *unscored* (nothing to judge against; the rollout treats
them the same way), never "incorrect".
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, ClassVar, Protocol, runtime_checkable

from redsearcher.errors import ConfigError
from redsearcher.eval._parsers import JudgeParseError, Parsed
from redsearcher.eval._verdict import Verdict
from redsearcher.log import Message, Trajectory
from redsearcher.model import (
    ChatModel,
    ContextLengthExceeded,
    ModelRequestError,
    ModelUnavailable,
)
from redsearcher.registry import lookup

__all__ = [
    "BaseJudge",
    "Judge",
    "LLMJudge",
    "final_response",
    "make_judge",
    "prompt_sha256",
    "prompt_text",
    "reference_text",
]


@runtime_checkable
class Judge(Protocol):
    """A registered scorer that also explains itself with a :class:`Verdict`."""

    @property
    def name(self) -> str:
        """The registered name."""
        ...

    @property
    def version(self) -> str:
        """What pins the judge's behaviour: its rule version, or the sha256 of its prompt."""
        ...

    @property
    def model_name(self) -> str | None:
        """The judging model's name; ``None`` for rule judges (and LLM judges without one)."""
        ...

    async def judge(self, trajectory: Trajectory) -> Verdict:
        """Decide on one trajectory; failures are unscored verdicts, never exceptions."""
        ...

    async def __call__(self, trajectory: Trajectory) -> float | None:
        """The verdict as a score: 1.0, 0.0, or ``None`` (unscored)."""
        ...


def make_judge(name: str, model: ChatModel | None = None, **options: Any) -> Judge:
    """The registered scorer ``name``, built with ``model`` (ignored by rule judges).

    Raises:
        ConfigError: for an unknown name (listing the known ones) or a scorer that is not a
            judge (a third-party scorer without ``judge``).
    """
    cls = lookup("scorer", name)
    judge = cls(model=model, **options)
    if not isinstance(judge, Judge):
        raise ConfigError(f"scorer {name!r} gives no verdicts (it has no judge method)")
    return judge


def final_response(trajectory: Trajectory) -> str:
    """What the agent finally said: its last non-empty assistant message, else its prediction.

    The whole message (``<answer>`` tag included) rather than the parsed answer, because LLM
    graders extract the answer (and a stated confidence) themselves.
    """
    for segment in reversed(trajectory.segments):
        for message in reversed(segment.messages):
            if message.role == "assistant" and message.content.strip():
                return message.content.strip()
    return trajectory.prediction or ""


def reference_text(answers: Sequence[str]) -> str:
    """The gold answer as a grader prompt shows it: the first, then the other accepted forms."""
    if len(answers) <= 1:
        return answers[0] if answers else ""
    return f"{answers[0]} (also accepted: {'; '.join(answers[1:])})"


@cache
def _prompt_bytes(file: str) -> bytes:
    path = resources.files("redsearcher.eval").joinpath("prompts", file)
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise ConfigError(f"no judge prompt file {file!r}") from err


def prompt_text(file: str) -> str:
    """The packaged judge prompt ``prompts/<file>`` (UTF-8)."""
    return _prompt_bytes(file).decode("utf-8")


def prompt_sha256(file: str) -> str:
    """sha256 of the packaged prompt file's bytes: the LLM judge's ``judge_version``."""
    return hashlib.sha256(_prompt_bytes(file)).hexdigest()


_SLOT = re.compile(r"\{(question|correct_answer|response)\}")


def fill_prompt(template: str, **values: str) -> str:
    """``template`` with ``{question}``, ``{correct_answer}``, ``{response}`` filled in one pass.

    One pass, so a response that itself contains ``{question}`` is not expanded.
    """
    return _SLOT.sub(lambda m: values[m.group(1)], template)


class BaseJudge(ABC):
    """The common part of judges: the unscored pre-checks, the verdict record, the score.

    Subclasses set :attr:`name` and :attr:`version` and implement :meth:`decide`.
    """

    name: ClassVar[str] = ""
    version: str = ""

    def __init__(self, model: ChatModel | None = None, *, timeout_s: float = 300.0) -> None:
        self.model = model
        self.timeout_s = timeout_s

    @property
    def model_name(self) -> str | None:
        """The judging model's name (``None`` for rule judges)."""
        return None

    async def __call__(self, trajectory: Trajectory) -> float | None:
        """1.0 / 0.0 from the verdict; ``None`` when unscored."""
        verdict = await self.judge(trajectory)
        return None if verdict.correct is None else float(verdict.correct)

    async def judge(self, trajectory: Trajectory) -> Verdict:
        """Unscored for an episode error or no reference answer; else :meth:`decide`."""
        if trajectory.termination == "error":
            return self.verdict(
                trajectory, None, unscored_reason=f"episode error: {trajectory.error or '?'}"
            )
        if not trajectory.answers:
            return self.verdict(trajectory, None, unscored_reason="no reference answer")
        return await self.decide(trajectory)

    @abstractmethod
    async def decide(self, trajectory: Trajectory) -> Verdict:
        """The judge's own decision (the trajectory has reference answers and no error)."""

    def verdict(self, trajectory: Trajectory, correct: bool | None, **fields: Any) -> Verdict:
        """A :class:`Verdict` on ``trajectory`` by this judge."""
        fields.setdefault("model", self.model_name)
        return Verdict(
            trajectory_id=trajectory.id,
            task_id=trajectory.task_id,
            sample=trajectory.sample,
            judge=self.name,
            judge_version=self.version,
            correct=correct,
            **fields,
        )


class LLMJudge(BaseJudge):
    """A judge that asks a model: a versioned prompt file, the one chat client, a parser.

    ``judge_version`` is the sha256 of the prompt file's bytes. Every failure — no model
    configured, the endpoint down or timing out, a refused request, output the parser cannot
    read — is an unscored verdict with the reason (and the raw output when there was one).
    A rejected API key (:class:`~redsearcher.errors.ConfigError`) is raised instead: no
    trajectory can be judged until the user fixes it.

    Args:
        model: The judging model (``redsearcher.model.OpenAIChatModel`` in production).
        timeout_s: Longest wait for one judgement.
    """

    prompt_file: ClassVar[str] = ""

    def __init__(self, model: ChatModel | None = None, *, timeout_s: float = 300.0) -> None:
        super().__init__(model, timeout_s=timeout_s)
        self.version = prompt_sha256(self.prompt_file)

    @property
    def model_name(self) -> str | None:
        """The judging model's name (``None`` when none was given)."""
        return None if self.model is None else self.model.name

    def parse(self, text: str) -> Parsed:
        """Read the judge model's output (raises :class:`JudgeParseError`).

        Each judge that uses the default :meth:`decide` overrides this; a judge whose parser
        needs the trajectory (``gaia``) overrides :meth:`decide` and passes its own to
        :meth:`ask`, so reaching this default is a programming error, said as such.
        """
        raise TypeError(f"judge {self.name!r} has no parser of its own (override parse)")

    def prompt(self, trajectory: Trajectory, response: str) -> str:
        """The filled prompt for ``trajectory``."""
        return fill_prompt(
            prompt_text(self.prompt_file),
            question=trajectory.question,
            correct_answer=reference_text(trajectory.answers),
            response=response,
        )

    async def decide(self, trajectory: Trajectory) -> Verdict:
        """No answer at all is incorrect without a call; else ask the model and parse."""
        response = final_response(trajectory)
        if not response:
            return self.verdict(trajectory, False, reasoning="the episode gave no answer")
        return await self.ask(trajectory, self.prompt(trajectory, response), self.parse)

    async def ask(self, trajectory: Trajectory, prompt: str, parse: Any, **extra: Any) -> Verdict:
        """Send ``prompt``; ``parse(raw)`` gives a :class:`Parsed` or raises; failures unscored.

        ``extra`` fields are added to the verdict.
        """
        if self.model is None:
            return self.verdict(
                trajectory,
                None,
                unscored_reason=f"judge {self.name!r} needs a judge model (--judge-model)",
                **extra,
            )
        try:
            async with asyncio.timeout(self.timeout_s):
                completion = await self.model.complete([Message(role="user", content=prompt)], [])
        except TimeoutError:
            reason = f"judge timed out after {self.timeout_s:g} s"
            return self.verdict(trajectory, None, unscored_reason=reason, **extra)
        except (ModelUnavailable, ModelRequestError, ContextLengthExceeded) as err:
            reason = f"judge call failed: {type(err).__name__}: {err}"
            return self.verdict(trajectory, None, unscored_reason=reason, **extra)
        raw = completion.message.content
        try:
            parsed = parse(raw)
        except JudgeParseError as err:
            reason = f"unparsable judge output: {err}"
            return self.verdict(trajectory, None, unscored_reason=reason, raw=raw, **extra)
        return self.verdict(
            trajectory,
            parsed.correct,
            extracted_answer=parsed.extracted_answer,
            confidence=parsed.confidence,
            reasoning=parsed.reasoning,
            raw=raw,
            **extra,
        )
