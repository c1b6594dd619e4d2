"""Reading an OpenAI-compatible server's error answer: its message, code, and context overflow.

Servers word a context overflow differently, and the client must recognise every wording: it is
what turns a 400 into :class:`~redsearcher.model.ContextLengthExceeded`, on which the agent's
context strategy makes room and the visit summarizer shrinks the page. It lives beside the one
chat client, the only code that reads these answers (the summarizer gets the typed exception).
"""

from __future__ import annotations

import re

import httpx

__all__ = ["error_fields", "is_context_length_error"]

# vLLM ("maximum context length", "longer than the maximum model length"), SGLang ("longer
# than the model's context length"), OpenAI (code context_length_exceeded), llama.cpp server
# ("the request exceeds the available context size", type exceed_context_size_error) and
# others ("too many tokens", "prompt is too long").
_CONTEXT_ERROR = re.compile(
    r"context.length|context window|maximum model length|max_model_len|too many tokens"
    r"|prompt is too long|exceeds? the available context size",
    re.IGNORECASE,
)


def is_context_length_error(status: int, message: str, code: str | None = None) -> bool:
    """Whether an error answer says the prompt does not fit the model's context window."""
    if status not in (400, 413, 422):
        return False
    return code == "context_length_exceeded" or bool(_CONTEXT_ERROR.search(message))


def error_fields(response: httpx.Response) -> tuple[str, str | None]:
    """``(message, code)`` of an error answer in OpenAI's, FastAPI's or a plain shape."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return str(error.get("message") or error), str(code) if code is not None else None
    if isinstance(data, dict):
        for key in ("message", "detail", "error"):
            if data.get(key):
                return str(data[key]), None
    return str(data)[:500], None
