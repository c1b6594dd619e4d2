"""What the scripted chat server answers: steps, scripts, and the files they load from.

Why a script instead of a fake client: agent, task-synthesis and judge code talk to models over
the OpenAI HTTP API, and the bugs worth catching live in that layer (tool-call parsing, retries,
streaming, concurrency). So the test double is a real server, and a test states *what the model
says next* as data: a :class:`Script` is the ordered list of replies (:class:`Step`) one
conversation receives. Several scripts can run at once; each is told apart by a substring of the
first user message (``match``), so concurrent rollouts each consume their own steps in order.

The text-protocol helpers render the Qwen/Hermes format of the wire-formats reference
(``<tool_call>``, ``<code>``, ``<answer>``) so tests of the text-protocol parser and of the native
tool-call path can share one server.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from redsearcher.errors import InputFormatError

__all__ = [
    "Expect",
    "Script",
    "Step",
    "StepError",
    "ToolCallSpec",
    "load_scripts",
    "text_answer",
    "text_python_call",
    "text_tool_call",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]

_MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True)


class ToolCallSpec(BaseModel):
    """One native tool call in a step; the server renders it in OpenAI ``tool_calls`` form."""

    model_config = _MODEL_CONFIG

    name: str = Field(min_length=1)
    """The function name the model calls."""

    arguments: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments; sent as a JSON *string*, as OpenAI does."""

    id: str | None = None
    """A fixed tool-call id; by default the server makes one (``call_<script>_<step>_<i>``)."""


class StepError(BaseModel):
    """An HTTP error answered instead of a completion, in OpenAI's error shape."""

    model_config = _MODEL_CONFIG

    status: int = Field(ge=400, le=599)
    """The HTTP status code, e.g. 429, 500 or 503."""

    message: str = "scripted error"
    """``error.message`` of the body."""

    type: str | None = None
    """``error.type``; by default derived from the status (e.g. ``server_error`` for 5xx)."""

    code: str | None = None
    """``error.code`` (e.g. ``rate_limit_exceeded``, ``context_length_exceeded``)."""

    param: str | None = None
    """``error.param``: the request field at fault, if any."""


class Expect(BaseModel):
    """Checks on the request a step answers.

    A failed check answers 400 and is recorded as a failure; the step counts as consumed, so
    the conversation does not silently shift onto the next step.
    """

    model_config = _MODEL_CONFIG

    last_message_contains: str | None = None
    """A substring that must appear in the text of the last message (e.g. a tool result)."""

    last_role: str | None = None
    """The role the last message must have (``user``, ``tool``, ...)."""

    tools_include: list[str] = Field(default_factory=list)
    """Tool names that must be offered in the request's ``tools``."""

    message_count: int | None = Field(default=None, ge=1)
    """The exact number of messages the request must carry."""

    model: str | None = None
    """The model name the request must ask for."""

    params: dict[str, Any] = Field(default_factory=dict)
    """Top-level request fields that must have exactly these values (e.g. ``temperature``)."""


class Step(BaseModel):
    """One scripted response: text, native tool calls, or an HTTP error.

    Text-protocol tool calls are plain ``content`` built with :func:`text_tool_call`,
    :func:`text_python_call` and :func:`text_answer`.
    """

    model_config = _MODEL_CONFIG

    content: str | None = None
    """The assistant message's text (``None`` gives ``content: null``, allowed with tool calls)."""

    tool_calls: list[ToolCallSpec] = Field(default_factory=list)
    """Native tool calls; when present the finish reason defaults to ``tool_calls``."""

    reasoning_content: str | None = None
    """vLLM-style ``reasoning_content`` sent alongside the message (thinking models)."""

    finish_reason: FinishReason | None = None
    """Overrides the finish reason (``stop``, or ``tool_calls`` when there are tool calls)."""

    latency_s: float = Field(default=0.0, ge=0.0)
    """Seconds to wait before answering this step, added to any server-wide latency."""

    error: StepError | None = None
    """Answer this HTTP error instead of a completion (the step is consumed)."""

    expect: Expect | None = None
    """Checks on the request this step answers."""

    prompt_tokens: int | None = Field(default=None, ge=0)
    """Overrides ``usage.prompt_tokens`` (otherwise estimated, see ``estimate_tokens``)."""

    completion_tokens: int | None = Field(default=None, ge=0)
    """Overrides ``usage.completion_tokens`` (otherwise estimated)."""

    token_ids: list[int] | None = None
    """Token-exact requests only: the ids the model "generated" (e.g. a split of the text that
    re-tokenizing it would not give); by default ``content`` tokenized, then the end of
    sequence. Without ``content`` the text is these ids decoded."""

    logprobs: list[float] | None = None
    """Token-exact requests only: the log-prob of each generated id (by default a fixed,
    made-up value per id and position)."""

    @model_validator(mode="after")
    def _one_kind_of_answer(self) -> Step:
        answers = self.content is not None or bool(self.tool_calls)
        if self.error is not None and (answers or self.reasoning_content is not None):
            raise ValueError("an error step cannot also have content, tool_calls or reasoning")
        answers = answers or self.token_ids is not None
        if self.error is None and not answers:
            raise ValueError("a step needs content, tool_calls or error (use content='' for empty)")
        if self.error is not None and self.token_ids is not None:
            raise ValueError("an error step cannot also have token_ids")
        if self.logprobs is not None and (
            self.token_ids is None or len(self.logprobs) != len(self.token_ids)
        ):
            raise ValueError("logprobs needs token_ids of the same length")
        return self

    def describe(self) -> str:
        """A one-line preview of the step for failure messages."""
        if self.error is not None:
            return f"error {self.error.status} {self.error.message!r}"
        parts = []
        if self.tool_calls:
            parts.append("tool_calls " + ", ".join(c.name for c in self.tool_calls))
        if self.content is not None:
            text = self.content if len(self.content) <= 60 else self.content[:57] + "..."
            parts.append(f"content {text!r}")
        return "; ".join(parts)


class Script(BaseModel):
    """The steps one conversation consumes, in order."""

    model_config = _MODEL_CONFIG

    steps: list[Step] = Field(min_length=1)
    """The responses, in the order requests receive them."""

    match: str | None = Field(default=None, min_length=1)
    """A substring of the first user message that picks this script; ``None`` takes any request
    that no other script matches. The longest matching ``match`` wins; scripts with the same
    ``match`` are used one after the other (the first with steps left)."""

    name: str | None = None
    """A label used in failure messages."""

    def label(self, index: int) -> str:
        """How failure messages name this script."""
        name = f" {self.name!r}" if self.name else ""
        return f"script {index}{name} (match={self.match!r})"


def text_tool_call(name: str, arguments: dict[str, Any] | None = None) -> str:
    """Render a Qwen/Hermes text-protocol tool call.

    Args:
        name: The tool name.
        arguments: The tool arguments (``{}`` when omitted).

    Returns:
        The JSON object ``{"name": ..., "arguments": {...}}`` on its own line between
        ``<tool_call>`` and ``</tool_call>``.
    """
    call = json.dumps({"name": name, "arguments": arguments or {}}, ensure_ascii=False)
    return f"<tool_call>\n{call}\n</tool_call>"


def text_python_call(code: str, name: str = "PythonInterpreter") -> str:
    """Render a text-protocol Python call: empty arguments, the code in ``<code>`` inside the call.

    Args:
        code: The Python source.
        name: The interpreter tool's name.
    """
    call = json.dumps({"name": name, "arguments": {}}, ensure_ascii=False)
    return f"<tool_call>\n{call}\n<code>\n{code}\n</code>\n</tool_call>"


def text_answer(answer: str) -> str:
    """Render a text-protocol final answer: ``<answer>...</answer>``."""
    return f"<answer>{answer}</answer>"


def _as_script_list(data: Any, path: Path) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if "scripts" in data:
            extra = sorted(set(data) - {"scripts"})
            if extra:
                raise InputFormatError(path, "unknown top-level key", field=extra[0])
            scripts = data["scripts"]
            if not isinstance(scripts, list):
                raise InputFormatError(path, "expected a list of scripts", field="scripts")
            return scripts
        if "steps" in data:
            return [data]
    raise InputFormatError(
        path, "expected a list of scripts, a mapping with 'scripts', or one script with 'steps'"
    )


def parse_scripts(data: Any, path: str | Path = "<scripts>") -> list[Script]:
    """Validate already-parsed script data (what :func:`load_scripts` reads from a file).

    Raises:
        InputFormatError: naming ``path`` and the dotted field of the first invalid value.
    """
    path = Path(path)
    raw = _as_script_list(data, path)
    single = isinstance(data, dict) and "scripts" not in data
    scripts = []
    for i, item in enumerate(raw):
        where = "" if single else f"scripts[{i}]"
        try:
            scripts.append(Script.model_validate(item))
        except ValidationError as err:
            first = err.errors()[0]
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
            field = (where + loc).lstrip(".") or None
            more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
            raise InputFormatError(path, first["msg"] + more, field=field) from err
    if not scripts:
        raise InputFormatError(path, "no scripts in file")
    return scripts


def load_scripts(path: str | Path) -> list[Script]:
    """Load scripts from a YAML or JSON file (JSON is YAML, so one parser reads both).

    The file holds a list of scripts, a mapping ``{"scripts": [...]}``, or a single script
    (a mapping with ``steps``).

    Raises:
        InputFormatError: for a missing or unparsable file, or an invalid field (named).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise InputFormatError(path, "script file not found") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputFormatError(path, f"not valid YAML/JSON: {err}", line=line) from err
    return parse_scripts(data, path)


def as_scripts(scripts: Script | Step | Sequence[Script] | Sequence[Step]) -> list[Script]:
    """Normalise what the server accepts: one script, or steps (one catch-all script).

    Raises:
        TypeError: for a list that mixes scripts and steps, or holds anything else.
    """
    if isinstance(scripts, Script):
        return [scripts]
    if isinstance(scripts, Step):
        return [Script(steps=[scripts])]
    items = list(scripts)
    if items and all(isinstance(s, Step) for s in items):
        return [Script(steps=[s for s in items if isinstance(s, Step)])]
    if all(isinstance(s, Script) for s in items):
        return [s for s in items if isinstance(s, Script)]
    raise TypeError("scripts must be a Script, a Step, or a list of only Scripts or only Steps")
