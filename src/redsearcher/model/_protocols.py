r"""The two ways tool calls travel between the agent and a model, one object each.

* ``native`` — OpenAI tool calling: the request carries ``tools``; the server's tool parser
  returns ``tool_calls[{id, type: "function", function: {name, arguments: <JSON string>}}]``;
  each result goes back as ``{"role": "tool", "tool_call_id", "content"}``.
* ``text`` — the Qwen/Hermes protocol of Tongyi DeepResearch and DeepTraceHub: the tools are
  listed as JSON lines in a ``<tools>`` block of the system prompt (nothing in the request's
  ``tools``); the model writes ``<tool_call>{"name": …, "arguments": {…}}</tool_call>``, Python
  code possibly in a ``<code>…</code>`` block inside the call with empty arguments (Tongyi's
  form); results come back wrapped in ``<tool_response>…</tool_response>``, as role ``user``
  (Tongyi, the default) or ``tool`` (DeepTraceHub).

Both end an episode with ``<answer>…</answer>`` in the content. Each protocol is a class
registered under kind ``"protocol"``; the agent loop picks one by the model's configured
``protocol`` and never branches on its name. A malformed call is not an exception: it becomes a
:class:`ParsedCall` with ``error`` set, whose text the loop sends back to the model. Arguments
holding a lone surrogate (JSON's ``"\ud800"``: Python decodes it, UTF-8 cannot encode it) are
malformed too, named by :func:`bad_text_error`, so such text never reaches a tool.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from redsearcher._util import surrogate_path
from redsearcher.log import Message, ToolCallRecord
from redsearcher.registry import lookup, register

__all__ = [
    "TOOLS_BLOCK_HEADER",
    "MessageProtocol",
    "NativeProtocol",
    "ParsedCall",
    "ParsedTurn",
    "ProtocolOptions",
    "TextProtocol",
    "bad_text_error",
    "extract_answer",
    "get_protocol",
    "split_reasoning",
]

#: The Qwen/Hermes chat template's tool section, before the JSON lines of the tools.
TOOLS_BLOCK_HEADER = (
    "# Tools\n\n"
    "You may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
_TOOLS_BLOCK_FOOTER = (
    "</tools>\n\n"
    "For each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n"
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
)

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
_CODE = re.compile(r"<code>(.*?)</code>", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"\\]{1,200})"')
_DECODER = json.JSONDecoder()
_CALL_FORMAT = '{"name": <tool name>, "arguments": {…}}'


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Split ``<think>…</think>`` reasoning off the front of a model's text.

    Also handles templates that put ``<think>`` in the prompt (the text then starts with the
    reasoning and only has ``</think>``) and an unclosed ``<think>`` (an answer cut off while
    thinking: all of it is reasoning).

    Returns:
        ``(reasoning or None, the remaining content)``, both stripped.
    """
    end = text.find("</think>")
    if end >= 0:
        reasoning = text[:end].strip().removeprefix("<think>").strip()
        return reasoning, text[end + len("</think>") :].strip()
    stripped = text.lstrip()
    if stripped.startswith("<think>"):
        return stripped.removeprefix("<think>").strip(), ""
    return None, text


def extract_answer(content: str) -> str | None:
    """The text of the last complete ``<answer>…</answer>`` in ``content``, stripped."""
    found = _ANSWER.findall(content)
    return found[-1].strip() if found else None


@dataclass(frozen=True)
class ParsedCall:
    """One tool call read from an assistant message."""

    id: str
    """The native call id, or ``call_<turn>_<i>`` when the protocol (or server) has none."""
    name: str
    """The tool name (empty when it could not be read)."""
    arguments: dict[str, Any] | str
    """Parsed arguments, or the raw text when they did not parse."""
    error: str | None = None
    """Why the call is malformed, written for the model; ``None`` for a well-formed call."""


@dataclass(frozen=True)
class ParsedTurn:
    """What an assistant message asks for."""

    message: Message
    """The message as it stays in the context (native call ids filled in)."""
    calls: list[ParsedCall] = field(default_factory=list)
    """Tool calls, in order."""
    answer: str | None = None
    """The final answer, when the message gives one."""


class ProtocolOptions(BaseModel):
    """Options of the message protocols (each protocol reads the ones it knows)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    tool_response_role: Literal["user", "tool"] = "user"
    """Text protocol: the role of ``<tool_response>`` messages, ``user`` as in Tongyi
    DeepResearch or ``tool`` as in DeepTraceHub."""


class MessageProtocol(Protocol):
    """How one protocol writes the system prompt, reads tool calls and returns results."""

    name: str
    sends_tools: bool
    """Whether the request carries ``tools`` (else they are described in the system prompt)."""
    stop: tuple[str, ...]
    """Stop sequences every request of this protocol needs."""

    def system_message(self, prompt: str, tools: Sequence[dict[str, Any]]) -> Message:
        """The system message for ``prompt`` offering ``tools`` (OpenAI ``tools`` entries)."""
        ...

    def parse(self, message: Message, *, turn: int) -> ParsedTurn:
        """Read the tool calls and the answer of assistant ``message`` of turn ``turn``."""
        ...

    def tool_results(self, records: Sequence[ToolCallRecord]) -> list[Message]:
        """The messages returning the outputs of one turn's calls, in call order."""
        ...


def get_protocol(name: str, options: ProtocolOptions | None = None) -> MessageProtocol:
    """The registered protocol ``name`` with ``options``.

    Raises:
        ConfigError: for an unknown protocol, listing the known ones.
    """
    factory = lookup("protocol", name)
    protocol: MessageProtocol = factory(options or ProtocolOptions())
    return protocol


def bad_text_error(name: str, arguments: Any) -> str | None:
    r"""The model's error text when ``arguments`` hold a lone surrogate, else ``None``.

    Why: ``"\ud800"`` is valid JSON that decodes into a string no UTF-8 encoder accepts; run,
    it would crash the tool, its cache key or the run log instead of telling the model. The
    argument is named (dotted as pydantic names fields) with the surrogate escaped.
    """
    if surrogate_path(name) is not None:
        return (
            f"The tool name '{_printable(name)}' is not valid Unicode text: it holds a lone "
            "surrogate. Call a tool by its name."
        )
    where = surrogate_path(arguments)
    if where is None:
        return None
    shown = where.encode("utf-8", "backslashreplace").decode("utf-8") or "arguments"
    return (
        f"The argument '{shown}' of {_printable(name)} is not valid Unicode text: it holds a "
        "lone surrogate (an escape such as \\ud800 without its pair). Send that text without it."
    )


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _call_id(turn: int, index: int) -> str:
    return f"call_{turn}_{index}"


@register("protocol", "native")
class NativeProtocol:
    """OpenAI tool calling: ``tools`` in the request, ``tool_calls`` back, ``tool`` results."""

    name: ClassVar[str] = "native"
    sends_tools: ClassVar[bool] = True
    stop: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: ProtocolOptions | None = None) -> None:
        self.options = options or ProtocolOptions()

    def system_message(self, prompt: str, tools: Sequence[dict[str, Any]]) -> Message:
        """The plain system prompt: the tools travel in the request."""
        return Message(role="system", content=prompt)

    def parse(self, message: Message, *, turn: int) -> ParsedTurn:
        """Read ``tool_calls`` (arguments are a JSON string) and an ``<answer>`` in the content."""
        calls: list[ParsedCall] = []
        normalized: list[dict[str, Any]] = []
        for i, raw in enumerate(message.tool_calls or []):
            function = raw.get("function") if isinstance(raw, dict) else None
            function = function if isinstance(function, dict) else {}
            name = function.get("name") if isinstance(function.get("name"), str) else ""
            call_id = raw.get("id") if isinstance(raw, dict) else None
            call_id = call_id if isinstance(call_id, str) and call_id else _call_id(turn, i)
            arguments, error = _native_arguments(function.get("arguments"))
            if error is None:
                error = bad_text_error(name or "", arguments)
            if not name:
                error = "The tool call names no function; give the tool's name."
            calls.append(ParsedCall(call_id, name or "", arguments, error))
            text = arguments if isinstance(arguments, str) else json.dumps(arguments)
            normalized.append(
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}
            )
        kept = message.model_copy(update={"tool_calls": normalized}) if normalized else message
        return ParsedTurn(kept, calls, extract_answer(message.content))

    def tool_results(self, records: Sequence[ToolCallRecord]) -> list[Message]:
        """One ``tool`` message per call, answering its ``tool_call_id``."""
        return [Message(role="tool", content=r.output, tool_call_id=r.id) for r in records]


def _native_arguments(raw: Any) -> tuple[dict[str, Any] | str, str | None]:
    if isinstance(raw, dict):
        return raw, None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}, None
    text = raw if isinstance(raw, str) else json.dumps(raw)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        return text, f"The arguments are not valid JSON ({err.msg}); send a JSON object."
    if not isinstance(value, dict):
        return text, "The arguments must be a JSON object."
    return value, None


@register("protocol", "text")
class TextProtocol:
    """The Qwen/Hermes text protocol: ``<tools>`` in the system prompt, ``<tool_call>`` text."""

    name: ClassVar[str] = "text"
    sends_tools: ClassVar[bool] = False
    stop: ClassVar[tuple[str, ...]] = ("<tool_response>",)
    """Stops the model before it writes a tool response of its own invention."""

    def __init__(self, options: ProtocolOptions | None = None) -> None:
        self.options = options or ProtocolOptions()

    def system_message(self, prompt: str, tools: Sequence[dict[str, Any]]) -> Message:
        """The prompt followed by the ``<tools>`` block (one JSON line per tool)."""
        if not tools:
            return Message(role="system", content=prompt)
        lines = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
        block = f"{TOOLS_BLOCK_HEADER}\n{lines}\n{_TOOLS_BLOCK_FOOTER}"
        return Message(role="system", content=f"{prompt.rstrip()}\n\n{block}")

    def parse(self, message: Message, *, turn: int) -> ParsedTurn:
        """Read every ``<tool_call>`` and the ``<answer>`` of the content.

        Text after an invented ``<tool_response>`` is ignored (a server that did not apply
        the stop sequence). An unclosed last ``<tool_call>`` is a malformed call.
        """
        content = message.content.split("<tool_response>", 1)[0]
        calls = [
            _text_call(body, _call_id(turn, i))
            for i, body in enumerate(_TOOL_CALL.findall(content))
        ]
        last_close = content.rfind("</tool_call>")
        tail = content[last_close + len("</tool_call>") :] if last_close >= 0 else content
        if "<tool_call>" in tail:
            calls.append(
                ParsedCall(
                    _call_id(turn, len(calls)),
                    _recover_name(tail),
                    tail[tail.find("<tool_call>") + len("<tool_call>") :].strip(),
                    "The tool call is not closed with </tool_call>; write the whole call.",
                )
            )
        return ParsedTurn(message, calls, extract_answer(content))

    def tool_results(self, records: Sequence[ToolCallRecord]) -> list[Message]:
        """``<tool_response>`` blocks: one ``user`` message per turn, or one ``tool`` per call.

        A single user message per turn is what Qwen's chat template produces for consecutive
        tool results, and avoids a run of user messages.
        """
        blocks = [f"<tool_response>\n{r.output}\n</tool_response>" for r in records]
        if self.options.tool_response_role == "user":
            return [Message(role="user", content="\n".join(blocks))] if blocks else []
        return [Message(role="tool", content=b) for b in blocks]


def _recover_name(text: str) -> str:
    found = _NAME.search(text)
    return found.group(1) if found else ""


def _text_call(body: str, call_id: str) -> ParsedCall:
    """One ``<tool_call>`` body: JSON ``{"name", "arguments"}``, maybe with a ``<code>`` block."""
    code_match = _CODE.search(body)
    code = None
    if code_match is not None:
        code = code_match.group(1).strip("\r\n")
        body = body[: code_match.start()] + body[code_match.end() :]
    text = body.strip()
    start = text.find("{")
    try:
        if start < 0:
            raise ValueError("no JSON object")
        value, _ = _DECODER.raw_decode(text, start)
    except ValueError as err:
        reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        return ParsedCall(
            call_id,
            _recover_name(text),
            text,
            f"The tool call is not valid JSON ({reason}). Write {_CALL_FORMAT} "
            "between <tool_call> and </tool_call>.",
        )
    name = value.get("name") if isinstance(value, dict) else None
    if not isinstance(name, str) or not name:
        return ParsedCall(
            call_id, "", text, f'The tool call needs a string "name"; write {_CALL_FORMAT}.'
        )
    arguments: Any = value.get("arguments", {})
    if isinstance(arguments, str):  # some models double-encode the arguments
        with contextlib.suppress(json.JSONDecodeError):
            arguments = json.loads(arguments) if arguments.strip() else {}
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return ParsedCall(call_id, name, text, f'The "arguments" of {name} must be a JSON object.')
    if code is not None:
        arguments = {**arguments, "code": code}
    return ParsedCall(call_id, name, arguments, bad_text_error(name, arguments))
