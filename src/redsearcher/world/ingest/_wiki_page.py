"""One Wikipedia page as every reader yields it, whatever the input format.

The formats differ in what they carry: plain extracts have title and text only, WikiExtractor
keeps anchors in the text, the CirrusSearch dump names the page's Wikidata item and the
redirects to it, the Enterprise HTML dump has all of that in HTML. A reader turns one record
into a ``WikiPage`` (or raises ``BadPage`` naming the field), so joining, link resolution and
fact detection never look at a format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ITEM_ID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True, slots=True)
class WikiLink:
    """A hyperlink to another page: its target title as written, and the anchor text if known."""

    target: str
    anchor: str | None = None


@dataclass(frozen=True, slots=True)
class WikiPage:
    """One page of a Wikipedia input.

    Attributes:
        title: The page title.
        text: Plain text (markup removed).
        url: The page's URL, when the input has or implies one.
        links: Hyperlinks in page order (duplicates kept; each may have an anchor).
        item: The Wikidata item the input says the page is about (``wikibase_item``,
            ``main_entity.identifier``), if any.
        redirects: Titles that redirect to this page (namespace 0 only).
    """

    title: str
    text: str
    url: str | None = None
    links: tuple[WikiLink, ...] = ()
    item: str | None = None
    redirects: tuple[str, ...] = ()


class BadPage(Exception):
    """A record that is not a usable page: skipped and reported with file, line and field."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def field(row: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``article_body.html``), ``None`` where any step is missing.

    Raises:
        BadPage: when a step on the way is not an object.
    """
    value: Any = row
    walked: list[str] = []
    for step in path.split("."):
        if value is None:
            return None
        if not isinstance(value, Mapping):
            where = ".".join(walked)
            raise BadPage("wrong_type", f"{where} is a {type(value).__name__}, not an object")
        value = value.get(step)
        walked.append(step)
    return value


def required_str(row: Mapping[str, Any], path: str) -> str:
    """A string field that must be present (an empty title counts as missing).

    Raises:
        BadPage: ``missing_field`` or ``wrong_type``, naming ``path``.
    """
    value = field(row, path)
    if value is None:
        raise BadPage("missing_field", path)
    if not isinstance(value, str):
        raise BadPage("wrong_type", f"{path} is a {type(value).__name__}, not a string")
    if path in ("title", "name") and not value.strip():
        raise BadPage("missing_field", f"{path} is empty")
    return value


def optional_str(row: Mapping[str, Any], path: str) -> str | None:
    """A string field that may be absent or null (an empty string counts as absent).

    Raises:
        BadPage: ``wrong_type`` naming ``path``.
    """
    value = field(row, path)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadPage("wrong_type", f"{path} is a {type(value).__name__}, not a string")
    return value


def optional_item(row: Mapping[str, Any], path: str) -> str | None:
    """A Wikidata item id field (``Q123``) that may be absent.

    Raises:
        BadPage: ``wrong_type`` naming ``path`` for anything but a ``Q``-id string.
    """
    value = optional_str(row, path)
    if value is not None and not _ITEM_ID.match(value):
        raise BadPage("wrong_type", f"{path} is {value!r}, not a Wikidata item id (Q123)")
    return value


def string_list(row: Mapping[str, Any], path: str) -> list[str]:
    """A list-of-strings field that may be absent.

    Raises:
        BadPage: ``wrong_type`` naming ``path``.
    """
    value = field(row, path)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadPage("wrong_type", f"{path} is not a list of strings")
    return value


def object_list(row: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    """A list-of-objects field that may be absent.

    Raises:
        BadPage: ``wrong_type`` naming ``path``.
    """
    value = field(row, path)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise BadPage("wrong_type", f"{path} is not a list of objects")
    return value
