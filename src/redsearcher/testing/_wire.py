"""The OpenAI chat-completions wire shapes the scripted server reads and writes.

Kept apart from the server so the shapes can be read (and checked against the OpenAI reference)
in one place, with no HTTP framework in sight: request validation, the ``chat.completion``
object, the ``chat.completion.chunk`` SSE stream, the error body, and the token estimate.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from redsearcher.testing._script import Step

#: Characters per token of the usage estimate: the usual rule of thumb for English BPE text.
CHARS_PER_TOKEN = 4
#: Tokens added per message for the role and separators, as chat templates do.
TOKENS_PER_MESSAGE = 4

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class AnswerIds(NamedTuple):
    """The identifiers of one answer."""

    completion_id: str
    """``id`` of the completion (and of every chunk of a stream)."""
    created: int
    """``created``: Unix seconds."""
    call_prefix: str
    """Tool-call ids are ``<call_prefix>_<i>`` unless the step fixes them."""


class RequestError(Exception):
    """A request the server refuses; becomes an OpenAI error body with ``status``."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


def error_body(
    status: int,
    message: str,
    *,
    type_: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The OpenAI error shape ``{"error": {"message", "type", "param", "code"}}``."""
    default_type = "server_error" if status >= 500 else _ERROR_TYPES.get(status, "api_error")
    return {
        "error": {
            "message": message,
            "type": type_ or default_type,
            "param": param,
            "code": code,
        }
    }


def estimate_tokens(text: str) -> int:
    """Estimate the token count of ``text`` as ``ceil(len(text) / CHARS_PER_TOKEN)``.

    Deterministic and tokenizer-free on purpose: tests need stable numbers, not exact ones.
    """
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def message_text(message: dict[str, Any]) -> str:
    """The text of a request message: a string ``content``, or its ``text`` parts joined."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def validate_request(body: Any) -> dict[str, Any]:
    """Check the fields the server relies on; return the body as a dict.

    Raises:
        RequestError: 400 naming the offending field.
    """
    if not isinstance(body, dict):
        raise RequestError(400, "request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise RequestError(400, "'model' is required and must be a non-empty string", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(
            400, "'messages' is required and must be a non-empty list", param="messages"
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise RequestError(400, f"messages[{i}] must be an object", param=f"messages[{i}]")
        if not isinstance(message.get("role"), str):
            raise RequestError(
                400,
                f"messages[{i}].role is required and must be a string",
                param=f"messages[{i}].role",
            )
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise RequestError(400, "'stream' must be a boolean", param="stream")
    tools = body.get("tools")
    if tools is not None and not (
        isinstance(tools, list) and all(isinstance(t, dict) for t in tools)
    ):
        raise RequestError(400, "'tools' must be a list of objects", param="tools")
    return body


def tool_names(body: dict[str, Any]) -> list[str]:
    """Names of the tools a (validated) request offers."""
    names = []
    for tool in body.get("tools") or []:
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else tool.get("name")
        if isinstance(name, str):
            names.append(name)
    return names


def first_user_text(body: dict[str, Any]) -> str | None:
    """Text of the first ``user`` message, or ``None`` when there is none."""
    for message in body["messages"]:
        if message.get("role") == "user":
            return message_text(message)
    return None


def check_expectations(step: Step, body: dict[str, Any]) -> list[str]:
    """Return what the request got wrong against ``step.expect`` (empty when all checks pass)."""
    expect = step.expect
    if expect is None:
        return []
    problems = []
    last = body["messages"][-1]
    if expect.last_message_contains is not None and (
        expect.last_message_contains not in message_text(last)
    ):
        preview = message_text(last)[:120]
        problems.append(
            f"last message should contain {expect.last_message_contains!r}, got {preview!r}"
        )
    if expect.last_role is not None and last.get("role") != expect.last_role:
        problems.append(f"last message role should be {expect.last_role!r}, got {last['role']!r}")
    offered = tool_names(body)
    missing = [name for name in expect.tools_include if name not in offered]
    if missing:
        problems.append(f"tools should include {missing}, offered {offered}")
    if expect.message_count is not None and len(body["messages"]) != expect.message_count:
        problems.append(f"expected {expect.message_count} messages, got {len(body['messages'])}")
    if expect.model is not None and body["model"] != expect.model:
        problems.append(f"model should be {expect.model!r}, got {body['model']!r}")
    for key, value in expect.params.items():
        if body.get(key) != value:
            problems.append(f"request field {key!r} should be {value!r}, got {body.get(key)!r}")
    return problems


def _tool_call_dicts(step: Step, call_prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "id": call.id or f"{call_prefix}_{i}",
            "type": "function",
            "function": {
                "name": call.name,
                "arguments": json.dumps(call.arguments, ensure_ascii=False),
            },
        }
        for i, call in enumerate(step.tool_calls)
    ]


def _finish_reason(step: Step) -> str:
    return step.finish_reason or ("tool_calls" if step.tool_calls else "stop")


def usage(step: Step, body: dict[str, Any]) -> dict[str, int]:
    """``usage`` of the answer: the step's overrides, else the documented estimate.

    Prompt: ``TOKENS_PER_MESSAGE`` per message plus the estimate of all message text, the
    arguments of assistant tool calls and the JSON of ``tools``. Completion: the estimate of the
    content, the reasoning and each tool call's name plus JSON arguments.
    """
    if step.prompt_tokens is not None:
        prompt = step.prompt_tokens
    else:
        texts = [message_text(m) for m in body["messages"]]
        for m in body["messages"]:
            texts.extend(json.dumps(c, ensure_ascii=False) for c in m.get("tool_calls") or [])
        if body.get("tools"):
            texts.append(json.dumps(body["tools"], ensure_ascii=False))
        prompt = TOKENS_PER_MESSAGE * len(body["messages"]) + estimate_tokens("".join(texts))
    if step.completion_tokens is not None:
        completion = step.completion_tokens
    else:
        texts = [step.content or "", step.reasoning_content or ""]
        texts.extend(c.name + json.dumps(c.arguments, ensure_ascii=False) for c in step.tool_calls)
        completion = estimate_tokens("".join(texts))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(step: Step, body: dict[str, Any], ids: AnswerIds) -> dict[str, Any]:
    """The ``chat.completion`` object answering ``body`` with ``step``."""
    message: dict[str, Any] = {"role": "assistant", "content": step.content}
    if step.reasoning_content is not None:
        message["reasoning_content"] = step.reasoning_content
    if step.tool_calls:
        message["tool_calls"] = _tool_call_dicts(step, ids.call_prefix)
    return {
        "id": ids.completion_id,
        "object": "chat.completion",
        "created": ids.created,
        "model": body["model"],
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(step),
            }
        ],
        "usage": usage(step, body),
    }


def _pieces(text: str) -> list[str]:
    # Word by word (whitespace kept), so clients must really accumulate deltas.
    return re.findall(r"\s*\S+\s*|\s+", text) or [text]


def stream_events(step: Step, body: dict[str, Any], ids: AnswerIds) -> Iterator[str]:
    """The server-sent events of a streamed answer, each ``data: <json>``, ending in ``[DONE]``.

    Order, as OpenAI and vLLM send it: a role delta, reasoning deltas, content deltas, then per
    tool call a header delta (id, type, name) and argument deltas, a final delta carrying the
    finish reason, and a usage chunk when ``stream_options.include_usage`` is set.
    """

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        data = {
            "id": ids.completion_id,
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": body["model"],
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in _pieces(step.reasoning_content) if step.reasoning_content else []:
        yield chunk({"reasoning_content": piece})
    for piece in _pieces(step.content) if step.content else []:
        yield chunk({"content": piece})
    for i, call in enumerate(_tool_call_dicts(step, ids.call_prefix)):
        header = {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        yield chunk({"tool_calls": [{"index": i, **header}]})
        arguments: str = call["function"]["arguments"]
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            if piece:
                yield chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
    yield chunk({}, _finish_reason(step))
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        data = {
            "id": ids.completion_id,
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": body["model"],
            "choices": [],
            "usage": usage(step, body),
        }
        yield f"data: {json.dumps(data, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"
