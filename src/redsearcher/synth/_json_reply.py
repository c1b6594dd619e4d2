"""``json_reply``: the JSON value a model's reply carries, or ``None``.

Models wrap JSON in Markdown fences or add a sentence around it; the LLM steps of synthesis
(graph agent, concept filter) read their replies through this one tolerant reader and then
validate the value strictly themselves: the reply is untrusted input either way.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_reply"]

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def json_reply(text: str) -> Any:
    """The reply's JSON value, or ``None`` when nothing parses.

    Tried in order: inside a fence if there is one, else the whole text, then its outermost
    ``{...}``. A JSON ``null`` reads as ``None`` too.
    """
    body = text.strip()
    fenced = _FENCE.search(body)
    if fenced:
        body = fenced.group(1).strip()
    for candidate in (body, body[body.find("{") : body.rfind("}") + 1]):
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            continue
    return None
