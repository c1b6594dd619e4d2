"""Training formats of mid-training samples: ShareGPT, OpenAI messages, plain text; buckets.

The same conventions as the SFT export (``redsearcher.export``), applied to
:class:`MidtrainSample` rather than to trajectory segments:

- **ShareGPT** (ms-swift): ``system`` / ``human`` / ``gpt`` / ``function_call`` /
  ``observation`` turns; a ``tool`` message is an ``observation``; an assistant turn whose loss
  weight is 0 carries ``"loss": false`` (ms-swift's per-message switch), a trained one no key.
- **OpenAI messages**: the chat schema plus ``loss_weight`` (the sample's float) and ``train``
  (``loss_weight > 0``) on every message, so both trainers with a weight and trainers with a
  boolean read it. Observations (documents, tool responses, results) always weigh 0.
- **Plain text** for continued pre-training: the sample's ``text``; optionally packed into
  documents of at most the bucket's tokens.

Buckets: a Stage I sample goes to ``32k`` when its tokens fit 32,768, a Stage II one to
``128k`` when they fit 131,072 (a Stage I sample longer than 32K is moved to ``128k``, never
cut); a longer sample is rejected as ``too_long`` by the driver.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from redsearcher.log import Message
from redsearcher.midtrain._sample import MidtrainMessage, MidtrainSample
from redsearcher.model import TokenCounter

__all__ = [
    "BUCKETS",
    "bucket_of",
    "count_sample_tokens",
    "pack_texts",
    "to_openai",
    "to_sharegpt",
    "to_text",
]

BUCKETS: dict[str, int] = {"32k": 32_768, "128k": 131_072}
_SHAREGPT_ROLE = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def _log_message(m: MidtrainMessage) -> Message:
    return Message(
        role=m.role,
        content=m.content,
        tool_calls=m.tool_calls,
        tool_call_id=m.tool_call_id,
        train=m.loss_weight > 0,
    )


def count_sample_tokens(sample: MidtrainSample, counter: TokenCounter) -> int:
    """The sample's tokens as a chat (its messages), or of its text when it has no messages."""
    if sample.messages:
        return counter.count([_log_message(m) for m in sample.messages])
    return counter.count_text(sample.text or "")


def bucket_of(sample: MidtrainSample) -> str | None:
    """``32k`` or ``128k`` (see the module docstring); ``None`` when it fits neither."""
    if sample.stage == "I" and sample.tokens <= BUCKETS["32k"]:
        return "32k"
    if sample.tokens <= BUCKETS["128k"]:
        return "128k"
    return None


def _call_value(call: dict[str, Any]) -> str:
    function = call.get("function", call)
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        with contextlib.suppress(json.JSONDecodeError):
            arguments = json.loads(arguments)
    return json.dumps({"name": function.get("name"), "arguments": arguments}, ensure_ascii=False)


def to_sharegpt(sample: MidtrainSample) -> dict[str, Any]:
    """One ms-swift ShareGPT row."""
    turns: list[dict[str, Any]] = []
    for m in sample.messages:
        if m.role == "assistant" and m.tool_calls:
            if m.content:
                turns.append(_turn("gpt", m.content, m.loss_weight))
            turns += [_turn("function_call", _call_value(c), m.loss_weight) for c in m.tool_calls]
            continue
        turns.append(_turn(_SHAREGPT_ROLE[m.role], m.content, m.loss_weight))
    row: dict[str, Any] = {"id": sample.id, "conversations": turns}
    tools = sample.source.get("tools")
    if tools:
        row["tools"] = json.dumps(tools, ensure_ascii=False)
    return row


def _turn(role: str, value: str, weight: float) -> dict[str, Any]:
    turn: dict[str, Any] = {"from": role, "value": value}
    if role in ("gpt", "function_call") and weight <= 0:
        turn["loss"] = False
    return turn


def to_openai(sample: MidtrainSample) -> dict[str, Any]:
    """One OpenAI-messages row with ``loss_weight`` and ``train`` on each message."""
    messages: list[dict[str, Any]] = []
    for m in sample.messages:
        out: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.tool_calls:
            out["tool_calls"] = m.tool_calls
        if m.tool_call_id is not None:
            out["tool_call_id"] = m.tool_call_id
        if m.name is not None:
            out["name"] = m.name
        out["loss_weight"] = m.loss_weight
        out["train"] = m.loss_weight > 0
        messages.append(out)
    row: dict[str, Any] = {"id": sample.id, "messages": messages}
    tools = sample.source.get("tools")
    if tools:
        row["tools"] = tools
    return row


def to_text(sample: MidtrainSample) -> dict[str, Any] | None:
    """One continued-pre-training document (``None`` when the sample has no text)."""
    if not sample.text:
        return None
    return {"id": sample.id, "text": sample.text, "tokens": sample.tokens}


def pack_texts(
    rows: Iterable[dict[str, Any]], counter: TokenCounter, limit: int, separator: str = "\n\n"
) -> Iterator[dict[str, Any]]:
    """Greedily pack text documents, in order, into documents of at most ``limit`` tokens.

    A document longer than ``limit`` is passed through alone (never cut).
    """
    ids: list[str] = []
    parts: list[str] = []
    tokens = 0
    sep = counter.count_text(separator)
    for row in rows:
        n = counter.count_text(row["text"])
        if parts and tokens + sep + n > limit:
            yield {"id": "+".join(ids), "text": separator.join(parts), "tokens": tokens}
            ids, parts, tokens = [], [], 0
        tokens += (sep if parts else 0) + n
        ids.append(row["id"])
        parts.append(row["text"])
    if parts:
        yield {"id": "+".join(ids), "text": separator.join(parts), "tokens": tokens}


def write_rows(handle: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Write JSON lines to an open text file."""
    for row in rows:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")
