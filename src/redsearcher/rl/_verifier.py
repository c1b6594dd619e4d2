"""Agent-as-verifier (paper §6.3): a tool-using agent checks each RL question's validity.

Automatically built questions often admit several valid answers or carry a wrong reference
answer, and either poisons an outcome reward. The paper runs a verifier *agent*: it looks the
facts up with the tools and compares them with the question's metadata and the rollouts'
answers. Here that agent is the one agent loop (``redsearcher.agent``) with the versioned system
prompt ``prompts/verifier.<version>.txt`` and a question that states the task, its reference
answer, its metadata (reasoning graph, evidence URLs, file metadata) and what the policy's
rollouts answered (:func:`verification_task`).

Its output is untrusted model text. :func:`parse_verifier_output` accepts exactly one JSON object
(optionally inside a single Markdown code fence) with a known ``verdict``, a non-empty
``reason`` and a list of strings ``alternative_answers`` (at least one for
``multiple_answers``), and no other keys. Anything else — no answer, prose, two objects, a
wrong type, an unknown verdict — is ``unverified`` with the reason, never silently "valid".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from redsearcher.errors import ConfigError
from redsearcher.log import Task, Trajectory

__all__ = [
    "VERIFIER_PROMPT_VERSION",
    "VerifierResult",
    "VerifierStatus",
    "parse_verifier_output",
    "verification_task",
    "verifier_prompt",
    "verifier_result",
]

#: The verifier prompt version used unless configured otherwise.
VERIFIER_PROMPT_VERSION = "v1"

VerifierStatus = Literal["valid", "multiple_answers", "inconsistent", "unverified"]
"""The verifier's decision on a question; ``unverified``: no usable decision."""

_VERDICTS = frozenset({"valid", "multiple_answers", "inconsistent"})
_KEYS = frozenset({"verdict", "reason", "alternative_answers"})
#: Bounds on what an untrusted output may put in a record.
_MAX_REASON = 2000
_MAX_ALTERNATIVES = 20
_MAX_ALTERNATIVE = 300
_MAX_RAW = 4000


@cache
def verifier_prompt(version: str = VERIFIER_PROMPT_VERSION) -> str:
    """The packaged verifier system prompt ``prompts/verifier.<version>.txt``.

    Raises:
        ConfigError: for an unknown version.
    """
    if not version or "/" in version or "\\" in version or version.startswith("."):
        raise ConfigError(f"no verifier prompt of version {version!r}")
    path = resources.files("redsearcher.rl").joinpath("prompts", f"verifier.{version}.txt")
    try:
        return path.read_text(encoding="utf-8").rstrip()
    except FileNotFoundError as err:
        raise ConfigError(f"no verifier prompt of version {version!r}") from err


class VerifierResult(BaseModel):
    """The verifier's decision on one task, as recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: VerifierStatus
    reason: str
    """The verifier's reason, or why its output was not usable (``unverified``)."""
    alternative_answers: list[str] = Field(default_factory=list)
    trajectory_id: str | None = None
    """The verifier episode in the verification run log."""
    raw: str | None = None
    """The verifier's answer text (bounded), for audit and re-parsing."""


def _unverified(reason: str, raw: str | None) -> VerifierResult:
    return VerifierResult(status="unverified", reason=reason, raw=_bounded(raw))


def _bounded(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_RAW:
        return text
    return text[:_MAX_RAW] + f"... [{len(text) - _MAX_RAW} more characters]"


def _strip_fence(text: str) -> str:
    if not (text.startswith("```") and text.endswith("```")) or len(text) < 6:
        return text
    inner = text[3:-3]
    first, _, rest = inner.partition("\n")
    if first.strip() in ("", "json"):
        return rest.strip() if first.strip() else inner.strip()
    return text


def parse_verifier_output(text: str | None) -> VerifierResult:
    """Parse the verifier's final answer strictly (see the module docstring).

    Args:
        text: The text of the verifier's ``<answer>`` (the episode's prediction), or ``None``.

    Returns:
        The decision; ``unverified`` with the reason for anything that is not exactly the
        requested object.
    """
    if text is None or not text.strip():
        return _unverified("the verifier gave no answer", text)
    body = _strip_fence(text.strip())
    try:
        data: Any = json.loads(body)
    except (json.JSONDecodeError, RecursionError) as err:
        return _unverified(f"the verifier's answer is not one JSON object: {err}", text)
    if not isinstance(data, dict):
        return _unverified(
            f"the verifier's answer is a JSON {type(data).__name__}, not an object", text
        )
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        return _unverified(f"unexpected keys in the verifier's answer: {unknown}", text)
    verdict = data.get("verdict")
    if not isinstance(verdict, str) or verdict not in _VERDICTS:
        return _unverified(
            f"verdict {verdict!r} is not one of {sorted(_VERDICTS)}",
            text,
        )
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return _unverified("the verifier's answer has no reason", text)
    if len(reason) > _MAX_REASON:
        return _unverified(f"the reason is longer than {_MAX_REASON} characters", text)
    alternatives = data.get("alternative_answers", [])
    if not isinstance(alternatives, list) or not all(
        isinstance(a, str) and a.strip() for a in alternatives
    ):
        return _unverified("alternative_answers is not a list of non-empty strings", text)
    if len(alternatives) > _MAX_ALTERNATIVES or any(
        len(a) > _MAX_ALTERNATIVE for a in alternatives
    ):
        return _unverified("alternative_answers is too long", text)
    if verdict == "multiple_answers" and not alternatives:
        return _unverified("multiple_answers without any alternative answer", text)
    if verdict != "multiple_answers" and alternatives:
        return _unverified(f"verdict {verdict!r} with alternative answers", text)
    return VerifierResult(
        status=verdict,  # type: ignore[arg-type]  # checked against _VERDICTS above
        reason=reason.strip(),
        alternative_answers=[a.strip() for a in alternatives],
        raw=_bounded(text),
    )


def verifier_result(trajectory: Trajectory) -> VerifierResult:
    """The decision recorded by one verifier episode (an episode error is ``unverified``)."""
    if trajectory.termination == "error" and trajectory.prediction is None:
        why = trajectory.error or "no detail"
        result = _unverified(f"the verifier episode failed: {why}", None)
    else:
        result = parse_verifier_output(trajectory.prediction)
        if result.status == "unverified" and trajectory.prediction is None:
            result = _unverified(
                f"the verifier gave no answer (termination {trajectory.termination})", None
            )
    return result.model_copy(update={"trajectory_id": trajectory.id})


def _graph_lines(task: Task) -> list[str]:
    labels = {node.var: node.label for node in task.nodes}
    lines = [f"- {n.var} ({n.role}, {n.type}): {n.label}" for n in task.nodes]
    for c in task.constraints:
        target = f" -> {labels.get(c.object, c.object)}" if c.object else ""
        text = f' — "{c.text}"' if c.text else ""
        lines.append(f"- {c.kind}: {labels.get(c.subject, c.subject)} {c.predicate}{target}{text}")
    return lines


def verification_task(task: Task, rollouts: Sequence[Trajectory] = ()) -> Task:
    """The question the verifier agent is given for ``task`` (same id, no reference answer).

    It states the question, the reference answer and aliases, the metadata the question was
    built from (reasoning graph, evidence URLs, the task file's metadata) and the answers the
    policy's rollouts gave with how often, so the verifier can chase a frequent alternative.
    """
    parts = [
        "Verify this question.",
        f"Question: {task.question}",
        f"Reference answer: {task.answer if task.answer is not None else '(none)'}",
    ]
    if task.aliases:
        parts.append("Accepted aliases: " + "; ".join(task.aliases))
    graph = _graph_lines(task)
    if graph:
        parts.append("Reasoning graph the question was built from:\n" + "\n".join(graph))
    if task.evidence_urls:
        parts.append("Evidence pages:\n" + "\n".join(f"- {u}" for u in task.evidence_urls))
    if task.metadata:
        parts.append("Metadata: " + json.dumps(task.metadata, ensure_ascii=False, default=str))
    answers = Counter(t.prediction.strip() for t in rollouts if t.prediction)
    if answers:
        listed = [f"- {a!r}: {n} of {len(rollouts)} rollouts" for a, n in answers.most_common(10)]
        parts.append("Answers the policy's rollouts gave:\n" + "\n".join(listed))
    return Task(id=task.id, question="\n\n".join(parts))
