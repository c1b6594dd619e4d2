r"""Every string of a JSON request body, checked once: valid UTF-8, no stray control characters.

Why here, once, and not in each request model: a JSON string may legally hold a lone surrogate
(``"\ud800"``), which Python decodes without complaint and which then fails the first
``.encode("utf-8")`` far downstream (the index, the URL map, the JSON answer), as a 500 and a
dropped connection. Every endpoint had its own path to that crash, so the guard runs this check
on every JSON body before any route sees it, and answers 400 naming the field.

What is refused, per string (keys included):

- text that cannot be UTF-8 encoded: a lone surrogate escape, or raw bytes that are not UTF-8
  (the body is decoded with ``surrogateescape``, so such bytes inside a string show up as lone
  surrogates and the field can still be named);
- C0 control characters other than tab, newline and carriage return, and DEL: no query, URL,
  country code or goal holds a NUL or an ESC, and a NUL reaching a C library truncates text.
  Endpoints whose strings are program text or raw input (``/run_code``'s ``code`` and
  ``stdin``) skip this part.

The common body (ASCII, no backslash, no DEL) cannot hold any of these and is not parsed here:
the check costs one scan of the bytes on the hot path.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["body_text_problem"]

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _name(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "request body"


def _string_problem(text: str, controls: bool) -> str | None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return (
                "is not valid UTF-8 text (a lone surrogate such as \\ud800, or bytes that are "
                "not UTF-8)"
            )
    if controls:
        found = _CONTROL.search(text)
        if found is not None:
            return (
                f"contains the control character U+{ord(found.group()):04X}; only tab, newline "
                "and carriage return are allowed"
            )
    return None


def body_text_problem(raw: bytes, *, controls: bool = True) -> str | None:
    """What is wrong with the strings of a JSON body, naming the field; None when nothing is.

    Args:
        raw: The request body.
        controls: Also refuse control characters (off for program text).

    Returns:
        ``field 'queries[0]': is not valid UTF-8 text ...`` for the first bad string, or None
        when every string is fine or the body is not JSON at all (the app words that error).
    """
    if raw.isascii() and b"\\" not in raw and b"\x7f" not in raw:
        return None
    # Decoded as ``json.loads(bytes)`` (the app's parser) decodes: the detected encoding with
    # ``surrogatepass``, so an encoded surrogate (``ED A0 80``, or a UTF-16 code unit) is seen
    # here as the app would see it; bytes the encoding rejects become lone surrogates too.
    encoding = json.detect_encoding(raw)
    try:
        text = raw.decode(encoding, "surrogatepass")
    except UnicodeDecodeError:
        try:
            text = raw.decode(encoding, "surrogateescape")
        except UnicodeDecodeError:
            return None  # not JSON the app can read either: it words the error
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    # Iterative: a body nested thousands deep parsed fine, and must not recurse here.
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            problem = _string_problem(item, controls)
            if problem is not None:
                return f"field '{_name(path)}': {problem}"
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                problem = _string_problem(key, controls)
                if problem is not None:
                    where = f"a key in '{_name(path)}'" if path else "a key of the request body"
                    return f"{where}: {problem}"
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, i), child) for i, child in reversed(list(enumerate(item))))
    return None
