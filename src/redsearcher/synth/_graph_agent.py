"""The graph agent (§3.2.1): a model reads a page and states how two linked entities relate.

Densifying a graph only with the relations Wikidata happens to hold leaves it tree-like; the
paper's "Graph Agent" reads pages to add the relations text states, which closes cycles. Here
the agent gets one page and the candidate pairs hyperlink discovery found on it
(:mod:`redsearcher.synth._discovery`) and answers, per pair, a relation, its direction and a
verbatim quote.

The answer is untrusted input — from a model, about a page that may itself hold anything — so
nothing is taken on trust (:func:`check_relation`): the quote must occur in the page (after
normalizing whitespace, quotes and dashes) and name both entities; the direction must be one of
the two; the relation must be a clean English label (lowercase words, no digits or ids, no
entity name, not vague like "related to", never ``links_to`` or another discovery- or tool-only
predicate). A label that matches a relation predicate the World already has ("educated at" ->
``educated_at``; "place of birth" -> ``born_in``; the verb phrases models like to write,
"worked for" -> ``employer`` and "founded" -> ``founded_by`` turned around) maps to it; any
other becomes a new predicate named from the label, which the question grammar reads from its
words. Every pair
gets a :class:`Judgment` — accepted, unrelated, or rejected with its reasons — recorded with
the model and the prompt's sha256, so a derived World can be audited line by line.

A reply that is not the JSON asked for is answered with the problem and tried again
(``max_attempts``); model failures propagate (:class:`~redsearcher.model.ModelUnavailable`): a
dead endpoint must stop the run, not be recorded as "no relation".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from redsearcher.errors import ConfigError
from redsearcher.log import Message
from redsearcher.model import ChatModel
from redsearcher.synth._discovery import Candidate, Page, name_forms, names_in, normalize_text
from redsearcher.synth._json_reply import json_reply
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.world import (
    DISCOVERY_ONLY_PREDICATES,
    PREDICATES,
    SYMMETRIC_PREDICATES,
    TOOL_ONLY_PREDICATES,
)

__all__ = [
    "GRAPH_AGENT_PROMPT_VERSION",
    "GraphAgent",
    "Judgment",
    "PredicateMap",
    "check_relation",
    "clean_label",
    "load_prompt",
    "parse_reply",
]

GRAPH_AGENT_PROMPT_VERSION = "v1"
_RETRY_MARKER = "---- retry ----"
_MIN_QUOTE, _MAX_QUOTE = 12, 600
_MAX_LABEL_WORDS = 5
_LABEL = re.compile(r"^[a-z][a-z' -]*[a-z]$")
_LEAD = re.compile(r"^(?:is|was|are|were|has been|had been|the|a|an)\s+")
#: Labels that say only that two things are connected: no question can be asked with them.
VAGUE_LABELS = frozenset(
    {
        "related to",
        "related",
        "relation",
        "relationship",
        "associated with",
        "association",
        "connected to",
        "connected with",
        "connection",
        "linked to",
        "link",
        "links",
        "links to",
        "mentions",
        "mentioned in",
        "mentioned by",
        "see also",
        "same as",
        "involves",
        "about",
    }
)
#: Wikidata property labels of vocabulary predicates whose name is not the label itself.
_LABEL_ALIASES = {
    "place of birth": "born_in",
    "birthplace": "born_in",
    "place of death": "died_in",
    "country of citizenship": "citizen_of",
    "citizenship": "citizen_of",
    "located in the administrative territorial entity": "located_in",
    "headquarters location": "headquartered_in",
    "headquarters": "headquartered_in",
    "record label": "record_label",
    "twinned administrative body": "twinned_with",
    "twin town": "twinned_with",
    "sister city": "twinned_with",
    "cast member": "cast_member",
    "award received": "award_received",
    "parent organization": "parent_organization",
    "production company": "production_company",
    "filming location": "filming_location",
}


#: Verb phrases models write for relations the vocabulary has under a property label:
#: (predicate, whether the pair turns around). The grammar reads a new predicate from its
#: words, and "is worked for X" is no English; "has X as employer" is.
_VERB_LABELS: dict[str, tuple[str, bool]] = {
    **dict.fromkeys(
        ("worked for", "works for", "worked at", "works at", "employed by", "employee of"),
        ("employer", False),
    ),
    **dict.fromkeys(
        ("studied at", "attended", "graduated from", "alumnus of", "alumna of", "student at"),
        ("educated_at", False),
    ),
    **dict.fromkeys(("married to", "married", "wife of", "husband of"), ("spouse", False)),
    **dict.fromkeys(("born in", "was born in"), ("born_in", False)),
    **dict.fromkeys(("died in",), ("died_in", False)),
    **dict.fromkeys(("founded", "founder of", "co-founded", "cofounder of"), ("founded_by", True)),
    **dict.fromkeys(("wrote", "author"), ("author_of", False)),
    **dict.fromkeys(("directed",), ("director", True)),
    **dict.fromkeys(("parent of", "father of", "mother of"), ("child", False)),
    **dict.fromkeys(("son of", "daughter of", "child of"), ("child", True)),
    **dict.fromkeys(("capital of",), ("capital", True)),
    **dict.fromkeys(("based in", "headquartered in"), ("headquartered_in", False)),
    **dict.fromkeys(("published by",), ("publisher", False)),
}


def load_prompt(name: str, version: str) -> tuple[str, str, str]:
    """``prompts/<name>.<version>.txt``: (first request, retry request, sha256 of the file).

    Raises:
        ConfigError: for an unknown version.
    """
    path = resources.files("redsearcher.synth").joinpath("prompts", f"{name}.{version}.txt")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"no {name} prompt version {version!r}") from err
    first, _, retry = text.partition(_RETRY_MARKER)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return first.strip() + "\n", retry.strip() + "\n", digest


def fill(template: str, values: dict[str, str]) -> str:
    """Substitute ``{name}`` placeholders in one pass (values may hold braces)."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], m[0]), template)


class Judgment(BaseModel):
    """The agent's answer about one candidate pair, as checked (one line of the judgments file)."""

    id: str
    """``doc|a|b``: the page and the pair's entity ids (:attr:`Candidate.key`)."""
    doc_id: str
    a: str
    b: str
    verdict: Literal["accepted", "unrelated", "rejected"]
    reasons: list[str] = Field(default_factory=list)
    """Why a ``rejected`` answer was not taken (every problem found)."""
    subject: str | None = None
    object: str | None = None
    predicate: str | None = None
    """The fact's predicate: an existing one, or a new one named from ``label``."""
    label: str | None = None
    """The relation label as the model gave it, cleaned (``educated at``)."""
    new_predicate: bool = False
    quote: str | None = None
    model: str
    prompt_version: str
    prompt_sha256: str
    reply: str | None = None
    """The model's raw item for this pair (JSON, at most 1,000 characters), for audits."""


class PredicateMap:
    """Relation labels to predicates: the World's relation predicates and the vocabulary's."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        entity = KnowledgeGraph.KINDS.index("entity")
        kinds: dict[str, set[int]] = {}
        if len(kg.f.pred):
            for code in np.unique(kg.f.pred).tolist():
                found = np.unique(kg.f.kind[kg.f.pred == code]).tolist()
                kinds[kg.predicates[code]] = {int(k) for k in found}
        self.relations = {p for p, k in kinds.items() if entity in k}
        self.attributes = {p for p, k in kinds.items() if entity not in k}
        self.relations |= {p.name for p in PREDICATES.values() if p.kind == "entity"}
        self.attributes |= {p.name for p in PREDICATES.values() if p.kind != "entity"}
        self.forbidden = set(DISCOVERY_ONLY_PREDICATES) | set(TOOL_ONLY_PREDICATES)

    def resolve(self, label: str) -> tuple[str | None, bool, str | None, bool]:
        """``(predicate, is_new, problem, flip)`` for a clean label.

        ``flip``: the predicate reads the other way ("A founded B" is ``B founded_by A``).
        """
        flip = False
        if label in _VERB_LABELS and _VERB_LABELS[label][0] in self.relations:
            name, flip = _VERB_LABELS[label]
        else:
            name = _LABEL_ALIASES.get(label) or re.sub(r"[^a-z0-9]+", "_", label).strip("_")
        if name in self.forbidden:
            return None, False, f"forbidden_relation: {label!r} is never a constraint", False
        if name in self.relations:
            return name, False, None, flip
        if name in self.attributes:
            problem = f"attribute_relation: {label!r} names a value, not a relation"
            return None, False, problem, False
        return name, True, None, False


def clean_label(raw: object, names: Sequence[str]) -> tuple[str | None, str | None]:
    """``(label, None)`` for an acceptable relation label, else ``(None, why not)``."""
    if not isinstance(raw, str) or not raw.strip():
        return None, "no_relation"
    label = " ".join(raw.strip().strip(".").lower().replace("_", " ").split())
    label = _LEAD.sub("", label)
    if not _LABEL.match(label):
        return None, f"unclean_relation: {raw[:80]!r} (lowercase words only)"
    if len(label.split()) > _MAX_LABEL_WORDS:
        return None, f"unclean_relation: {raw[:80]!r} is longer than {_MAX_LABEL_WORDS} words"
    if label in VAGUE_LABELS:
        return None, f"vague_relation: {label!r}"
    for name in names:
        if len(name) >= 3 and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", label):
            return None, f"unclean_relation: {label!r} holds the name {name!r}"
    return label, None


@dataclass(frozen=True)
class _Context:
    model: str
    prompt_version: str
    prompt_sha256: str


def check_relation(
    kg: KnowledgeGraph,
    cand: Candidate,
    item: object,
    predicates: PredicateMap,
    context: _Context,
) -> Judgment:
    """Judge one reply item about ``cand``: accepted, unrelated, or rejected with reasons."""
    base: dict[str, Any] = {
        "id": cand.key,
        "doc_id": cand.page.doc_id,
        "a": cand.a_id,
        "b": cand.b_id,
        "model": context.model,
        "prompt_version": context.prompt_version,
        "prompt_sha256": context.prompt_sha256,
        "reply": json.dumps(item, ensure_ascii=False)[:1000] if item is not None else None,
    }
    if item is None:
        return Judgment(**base, verdict="rejected", reasons=["no_answer: the pair is missing"])
    if not isinstance(item, dict):
        return Judgment(**base, verdict="rejected", reasons=["bad_item: not a JSON object"])
    related = item.get("related", True if item.get("relation") else None)
    if related is False:
        return Judgment(**base, verdict="unrelated")
    if related is not True:
        return Judgment(**base, verdict="rejected", reasons=["bad_item: related is not a bool"])
    reasons: list[str] = []
    page = normalize_text(cand.page.text)
    quote_raw = item.get("quote")
    quote = normalize_text(quote_raw) if isinstance(quote_raw, str) else ""
    if not quote:
        reasons.append("no_quote")
    elif len(quote) < _MIN_QUOTE or len(quote) > _MAX_QUOTE:
        reasons.append(f"quote_length: {len(quote)} characters (want {_MIN_QUOTE}-{_MAX_QUOTE})")
    elif quote.casefold() not in page.casefold():
        reasons.append("quote_not_in_page")
    else:
        for row in (cand.a, cand.b):
            if not names_in(quote, name_forms(kg, row, about=row == cand.page.about)):
                reasons.append(f"quote_misses_entity: {kg.label(row)}")
    labels = (kg.label(cand.a), kg.label(cand.b))
    subject = _direction(item.get("subject"), labels)
    if subject is None:
        reasons.append(f"bad_direction: subject {str(item.get('subject'))[:60]!r} is not A or B")
    label, problem = clean_label(item.get("relation"), labels)
    predicate, new, flip = None, False, False
    if problem:
        reasons.append(problem)
    elif label is not None:
        predicate, new, problem, flip = predicates.resolve(label)
        if problem:
            reasons.append(problem)
    if reasons or subject is None or predicate is None:
        return Judgment(**base, verdict="rejected", reasons=reasons, quote=quote or None)
    subj, obj = (cand.a_id, cand.b_id) if (subject == 0) != flip else (cand.b_id, cand.a_id)
    return Judgment(
        **base,
        verdict="accepted",
        subject=subj,
        object=obj,
        predicate=predicate,
        label=label,
        new_predicate=new,
        quote=quote,
    )


def _direction(value: object, labels: tuple[str, str]) -> int | None:
    """0 when the subject is A, 1 when B, None otherwise (the letter or the exact label)."""
    if not isinstance(value, str):
        return None
    text = value.strip().casefold()
    for k, (letter, label) in enumerate(zip(("a", "b"), labels, strict=True)):
        if text in (letter, label.casefold()):
            return k
    return None


def parse_reply(text: str) -> tuple[dict[int, object] | None, str | None]:
    """``({pair number: item}, None)`` from a reply, else ``(None, what is wrong)``.

    The reply is one JSON object with a ``relations`` list (a bare list is accepted too);
    Markdown fences around it are ignored. The first item for a pair number counts.
    """
    data: Any = json_reply(text)
    if data is None:
        return None, "malformed_json: the reply is not a JSON object"
    items = data.get("relations") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None, "malformed_json: no 'relations' list"
    out: dict[int, object] = {}
    for item in items:
        number = item.get("pair") if isinstance(item, dict) else None
        try:
            key = int(number) if isinstance(number, int | str) else None
        except ValueError:
            key = None
        if key is not None and key not in out:
            out[key] = item
    return out, None


class GraphAgent:
    """Asks a model how the candidate pairs of a page relate, and checks every answer.

    Args:
        model: Any :class:`~redsearcher.model.ChatModel`.
        prompt_version: Which packaged ``prompts/graph_agent.<version>.txt``.
        max_attempts: Calls per batch of pairs when a reply is not the JSON asked for.
        max_page_chars: Page text shown to the model (longer pages are cut; a quote must
            still occur in the page).

    Raises:
        ConfigError: for an unknown prompt version or ``max_attempts`` below 1.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        prompt_version: str = GRAPH_AGENT_PROMPT_VERSION,
        max_attempts: int = 2,
        max_page_chars: int = 12_000,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, got {max_attempts}")
        self.model = model
        self.name: str = model.name
        self.prompt_version = prompt_version
        self.max_attempts = max_attempts
        self.max_page_chars = max_page_chars
        self._prompt, self._retry, self.prompt_sha256 = load_prompt("graph_agent", prompt_version)
        self.calls = 0
        """Model calls made so far."""

    def request(self, kg: KnowledgeGraph, page: Page, pairs: Sequence[Candidate]) -> str:
        """The first request about ``pairs`` of ``page``."""
        lines = []
        for k, cand in enumerate(pairs, 1):
            lines.append(f"{k}. A = {_describe(kg, cand.a)}; B = {_describe(kg, cand.b)}")
        text = page.text[: self.max_page_chars]
        values = {"title": page.title, "text": text, "pairs": "\n".join(lines)}
        return fill(self._prompt, values)

    async def judge(
        self, kg: KnowledgeGraph, page: Page, pairs: Sequence[Candidate], predicates: PredicateMap
    ) -> list[Judgment]:
        """One judgment per pair (in order); a reply unreadable every time rejects them all."""
        context = _Context(self.name, self.prompt_version, self.prompt_sha256)
        messages = [Message(role="user", content=self.request(kg, page, pairs))]
        problem = "no reply"
        for _ in range(self.max_attempts):
            self.calls += 1
            done = await self.model.complete(messages, [])
            reply = done.message.content or ""
            items, problem_or_none = parse_reply(reply)
            if items is not None:
                return [
                    check_relation(kg, cand, items.get(k), predicates, context)
                    for k, cand in enumerate(pairs, 1)
                ]
            problem = problem_or_none or problem
            messages += [
                Message(role="assistant", content=reply),
                Message(role="user", content=fill(self._retry, {"problem": problem})),
            ]
        return [
            Judgment(
                id=cand.key,
                doc_id=page.doc_id,
                a=cand.a_id,
                b=cand.b_id,
                verdict="rejected",
                reasons=[problem],
                model=self.name,
                prompt_version=self.prompt_version,
                prompt_sha256=self.prompt_sha256,
            )
            for cand in pairs
        ]


def _describe(kg: KnowledgeGraph, row: int) -> str:
    """An entity as the prompt shows it: label and, where known, its description."""
    description = kg.description(row)
    return f"{kg.label(row)} ({description})" if description else kg.label(row)


def symmetric(predicate: str) -> bool:
    """Whether facts of ``predicate`` are stored in both directions."""
    return predicate in SYMMETRIC_PREDICATES
