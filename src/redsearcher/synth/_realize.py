"""Question realizers: a reasoning graph in, a question text out; and the LLM realizer.

This module is the realizers' API: :class:`Realizer`, :class:`Realization`,
:func:`leaked_names` and :class:`OfflineRealizer` (the grammar, in ``_realize_offline``) are
re-exported here next to :class:`LLMRealizer`.

The paper generates questions with an LLM (§3.2.1, "Question generation"). A model is free to
reword, but not to change what the question asks, so its output is accepted only when it
passes checks a program can make: the ``<question>`` tag is there, no hidden entity is named
(:func:`leaked_names`), every entity the draft names is still named, every fuzzed number of
the draft is still there, and the length is bounded. A rejected output is answered with the
reason and tried again; after ``max_attempts`` the fallback (by default the offline draft) is
used and the :class:`Realization` says so (``source="fallback"``), so task provenance records
which text was kept. The prompt is a versioned package file (``prompts/realize.v1.txt``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from importlib import resources

from redsearcher.errors import ConfigError
from redsearcher.log import Constraint, GraphNode, Message
from redsearcher.model import ChatModel
from redsearcher.synth._grammar import article
from redsearcher.synth._realize_offline import (
    OfflineRealizer,
    Realization,
    RealizationError,
    Realizer,
    _spans,
    _Writer,
    leaked_names,
)

__all__ = [
    "REALIZE_PROMPT_VERSION",
    "LLMRealizer",
    "OfflineRealizer",
    "Realization",
    "RealizationError",
    "Realizer",
    "leaked_names",
    "load_realize_prompt",
]

REALIZE_PROMPT_VERSION = "v1"
_RETRY_MARKER = "---- retry ----"
_QUESTION_TAG = re.compile(r"<question>(.*?)</question>", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_RAW_ID = re.compile(r"\b[QP]\d+\b")  # a Wikidata item or property id: never in a question
_OFFLINE = OfflineRealizer()


def load_realize_prompt(version: str = REALIZE_PROMPT_VERSION) -> tuple[str, str]:
    """The packaged prompt ``prompts/realize.<version>.txt``: (first request, retry request).

    Raises:
        ConfigError: for an unknown version.
    """
    path = (
        resources.files("redsearcher.synth").joinpath("prompts").joinpath(f"realize.{version}.txt")
    )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"no realizer prompt version {version!r}") from err
    first, _, retry = text.partition(_RETRY_MARKER)
    return first.strip() + "\n", retry.strip() + "\n"


def _fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute ``{name}`` placeholders in one pass (values may contain braces)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), template)


def _numbers(text: str) -> set[str]:
    """Numbers of two or more digits, commas removed: the fuzzed values a rewrite must keep."""
    found = {m.replace(",", "") for m in _NUMBER.findall(text)}
    return {n for n in found if len(n.split(".")[0]) >= 2}


class LLMRealizer:
    """A chat model rewrites the offline draft into one natural question; checked, else fallback.

    Args:
        model: Any :class:`redsearcher.model.ChatModel` (only ``name`` and ``complete`` are
            used; tests pass a :class:`redsearcher.testing.ScriptedModel`).
        fallback: The realizer whose text is used when every model output is rejected; None
            turns that case into a :class:`RealizationError`.
        prompt_version: Which packaged ``prompts/realize.<version>.txt`` to use.
        max_attempts: Model calls per question; each rejection is told to the model.
        max_chars: Longest accepted question; default twice the draft's length, at least 300.

    Raises:
        ConfigError: for an unknown prompt version or ``max_attempts`` below 1.

    Model failures (``ModelUnavailable`` and the like) propagate: they are the infrastructure's,
    not the question's, and a silent fallback would hide a dead endpoint.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        fallback: Realizer | None = _OFFLINE,
        prompt_version: str = REALIZE_PROMPT_VERSION,
        max_attempts: int = 2,
        max_chars: int | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {max_attempts}")
        self.model = model
        self.name: str = model.name
        self.fallback = fallback
        self.prompt_version = prompt_version
        self.max_attempts = max_attempts
        self.max_chars = max_chars
        self._prompt, self._retry = load_realize_prompt(prompt_version)

    def draft(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        *,
        seed: int,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> tuple[Realization, str]:
        """The offline draft and the first request that shows it to the model.

        The model sees the draft's type words, never a node's raw type: an id type is shown
        as the description (or "entity") the draft uses, so the model has no id to copy.
        """
        writer = _Writer(nodes, constraints, seed, aliases=aliases, descriptions=descriptions)
        question, texts = writer.realize()
        draft = Realization(question, texts, source="offline", realizer=_OFFLINE.name)
        variables = []
        for node in nodes:
            kind = writer.word(node.var)
            if node.role == "observed":
                variables.append(f"- {node.label} ({kind}): named in the question")
            else:
                role = "the ANSWER" if node.role == "answer" else "hidden"
                variables.append(f"- {writer.handle(node.var)} ({kind}): {role}, never named")
        lines = []
        for k, (c, text) in enumerate(zip(constraints, texts, strict=True), 1):
            tool = f"; needs the {c.tool} tool" if c.tool else ""
            lines.append(f"{k}. [{c.kind}{tool}] {text}")
        answer = next((n for n in nodes if n.role == "answer"), None)
        values = {
            "variables": "\n".join(variables),
            "constraints": "\n".join(lines),
            "names": ", ".join(self._named(nodes, draft)) or "(none)",
            "draft": question,
            "answer_type": article(writer.word(answer.var) if answer else "entity"),
            "max_chars": str(self._limit(draft)),
        }
        return draft, _fill(self._prompt, values)

    @staticmethod
    def _named(nodes: Sequence[GraphNode], draft: Realization) -> list[str]:
        return [n.label for n in nodes if n.role == "observed" and _spans(draft.question, n.label)]

    def _limit(self, draft: Realization) -> int:
        return self.max_chars or max(300, 2 * len(draft.question))

    def check(
        self,
        output: str,
        nodes: Sequence[GraphNode],
        draft: Realization,
        aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[str | None, str | None]:
        """``(question, None)`` when ``output`` is acceptable, else ``(None, why not)``."""
        tagged = [t for t in _QUESTION_TAG.findall(output) if t.strip()]
        if not tagged:
            return None, "the answer has no <question>...</question>"
        question = " ".join(tagged[-1].split())
        if len(question) > self._limit(draft):
            return None, f"the question is longer than {self._limit(draft)} characters"
        raw = _RAW_ID.search(question)
        if raw:
            return None, f"the question contains the raw id {raw[0]}: describe it in words"
        leaked = leaked_names(question, nodes, aliases)
        if leaked:
            return None, f"the question names hidden entities: {', '.join(leaked)}"
        missing = [name for name in self._named(nodes, draft) if not _spans(question, name)]
        if missing:
            return None, f"the question does not name: {', '.join(missing)}"
        labels = " ".join(n.label for n in nodes)
        kept = _numbers(" ".join(draft.constraint_texts)) - _numbers(labels)
        lost = sorted(kept - _numbers(question))
        if lost:
            return None, f"the question changed or dropped these values: {', '.join(lost)}"
        return question, None

    async def realize(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        *,
        seed: int,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> Realization:
        """Ask the model, check its question, retry with the reason, else fall back.

        Raises:
            RealizationError: when every attempt was rejected and there is no fallback.
        """
        draft, prompt = self.draft(
            nodes, constraints, seed=seed, aliases=aliases, descriptions=descriptions
        )
        messages = [Message(role="user", content=prompt)]
        rejected: list[str] = []
        for _ in range(self.max_attempts):
            completion = await self.model.complete(messages, [])
            output = completion.message.content or ""
            question, problem = self.check(output, nodes, draft, aliases)
            if question is not None:
                return Realization(
                    question, draft.constraint_texts, "llm", self.name, tuple(rejected)
                )
            reason = problem or "rejected"
            rejected.append(reason)
            messages += [
                Message(role="assistant", content=output),
                Message(role="user", content=_fill(self._retry, {"problem": reason})),
            ]
        if self.fallback is None:
            raise RealizationError(
                f"{self.name} wrote no acceptable question in {self.max_attempts} attempts: "
                + "; ".join(rejected)
            )
        if isinstance(self.fallback, OfflineRealizer):
            backup = draft
        else:
            extra = {} if descriptions is None else {"descriptions": descriptions}
            backup = await self.fallback.realize(
                nodes, constraints, seed=seed, aliases=aliases, **extra
            )
        return Realization(
            backup.question, backup.constraint_texts, "fallback", backup.realizer, tuple(rejected)
        )
