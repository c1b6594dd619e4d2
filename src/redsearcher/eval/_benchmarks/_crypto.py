"""The two encryption schemes public deep-search benchmarks ship their questions under.

Benchmarks encrypt their rows so that a crawl of the repository does not put the answers into
the next model's pretraining data. Each row carries its own *canary* string, which is the key:

- BrowseComp (OpenAI simple-evals) and BrowseComp-ZH: the key stream is the SHA-256 digest of
  the canary, repeated to the ciphertext's length; the field is ``base64(plaintext XOR key)``.
- xbench-DeepSearch: the key stream is the canary's UTF-8 bytes themselves, repeated.

Reimplemented from the published algorithms (not copied). Encryption is offered too, because
the tests build their fixtures by encrypting plaintext they write, and because XOR with the
same key stream is its own inverse.

XOR never fails, so a wrong key is detected from what comes out: text that is not UTF-8, or
that holds control, unassigned or private-use characters, is not a question anyone wrote. The
check is a heuristic (a 1-2 byte field decrypted with a wrong key can pass by chance); the
loaders therefore check every encrypted field of a row, the long question included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from typing import Literal

__all__ = ["DecryptionError", "Scheme", "decrypt", "encrypt", "key_stream"]

Scheme = Literal["sha256", "raw"]
"""``sha256``: BrowseComp's key (SHA-256 of the canary); ``raw``: xbench's (the canary bytes)."""

_ALLOWED_CONTROLS = frozenset("\t\n\r")


class DecryptionError(ValueError):
    """A field that does not decrypt to text with the row's canary (wrong key or not base64)."""


def key_stream(password: str, length: int, scheme: Scheme) -> bytes:
    """The key bytes XORed with a ``length``-byte ciphertext."""
    block = (
        hashlib.sha256(password.encode("utf-8")).digest()
        if scheme == "sha256"
        else password.encode("utf-8")
    )
    if not block:
        raise DecryptionError("the canary (key) is empty")
    repeats, rest = divmod(length, len(block))
    return block * repeats + block[:rest]


def _xor(data: bytes, password: str, scheme: Scheme) -> bytes:
    key = key_stream(password, len(data), scheme)
    return bytes(a ^ b for a, b in zip(data, key, strict=True))


def encrypt(plaintext: str, password: str, scheme: Scheme = "sha256") -> str:
    """``base64(utf8(plaintext) XOR key)``: a field as the benchmark files store it."""
    return base64.b64encode(_xor(plaintext.encode("utf-8"), password, scheme)).decode("ascii")


def decrypt(ciphertext: str, password: str, scheme: Scheme = "sha256") -> str:
    """The plaintext of one encrypted field.

    Raises:
        DecryptionError: when the field is not base64, or the result is not plausible text
            (the canary is not the key it was encrypted with).
    """
    try:
        data = base64.b64decode(ciphertext.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise DecryptionError(f"not base64 ciphertext ({err})") from err
    try:
        text = _xor(data, password, scheme).decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecryptionError(
            "decrypts to bytes that are not UTF-8 text: the canary is not the key it was "
            "encrypted with"
        ) from err
    for char in text:
        if char in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs"):
            raise DecryptionError(
                f"decrypts to text with the control character U+{ord(char):04X}: the canary is "
                "not the key it was encrypted with"
            )
    return text
