"""The offline concept filter of the seed cascade: fictional and meta entities, by class.

The paper (§3.2.1) keeps seed entities that are concrete, real things and drops list, index,
glossary, disambiguation and other meta pages. An LLM classifier does the concept step there;
offline, the World already says enough: real-data ingest types an item by its mapped class, or
by the English label of its first ``P31`` class when no mapped class is reached ("fictional
human", "comics character", "Wikimedia list article"), and keeps Wikidata's description
("fictional character created by Dr. Seuss"). Those words decide, at synthesis time, so a World
needs no extra column and a user's own type table is honoured as it is.

Precision matters more than recall here: a real entity wrongly dropped costs one seed among
thousands, while a fictional one kept yields a question such as "a person who ... -> Ivan
Drago" that is false in reality. So the patterns are broad on class words (anything "in
fiction", any "character" class) and narrower on free-text descriptions, where "American
character actor" must stay a person.
"""

from __future__ import annotations

import re
from weakref import WeakKeyDictionary

import numpy as np

from redsearcher.synth._kg import KnowledgeGraph

__all__ = ["blocked_entities", "is_fictional_text", "is_meta_text"]

#: Type words (mapped types, or ``P31`` class labels) of fictional or legendary entities.
FICTIONAL_TYPE = re.compile(
    r"\bfiction|\bcharacters?(?: (?:from|in|of)\b|$)|\bsuperhero|\bsupervillain|\blegendar"
    r"|\bmytholog|\bmythical\b|\bin a work of\b|\bwizard\b|\bvampire\b",
    re.IGNORECASE,
)
#: Descriptions of fictional entities ("fictional Russian boxer", "Star Wars character",
#: "character from Disney's Bambi"), not of real ones ("American character actor").
FICTIONAL_DESCRIPTION = re.compile(
    r"\bfictional\b|\bcharacters?(?: (?:from|in|of|appearing|created)\b|$)"
    r"|\b(?:only )?(?:exists?|appearing) (?:only )?in (?:a )?(?:work of )?fiction",
    re.IGNORECASE,
)
#: Type words of works: a real film or book is described by its fictional characters ("1958
#: comedy film starring Rosalind Russell as the title character"), so its description is not read.
WORK_TYPE = re.compile(
    r"\b(?:film|book|album|novel|series|episode|song|game|play|opera|musical|painting|work)s?\b",
    re.IGNORECASE,
)
#: Type words of meta items: Wikimedia pages of every kind, lists, glossaries, indexes.
META_TYPE = re.compile(
    r"^(?:wikimedia|wikipedia|wikidata)\b|\blist article\b|\bdisambiguation\b|^list$|^glossary$"
    r"|^index$|\boutline article\b|\btimeline article\b",
    re.IGNORECASE,
)
#: Labels of list, index, glossary, disambiguation and namespace pages.
META_LABEL = re.compile(
    r"^(?:lists? of|index of|glossary of|outline of|timeline of|category:|template:|portal:"
    r"|wikipedia:|help:|draft:)|\(disambiguation\)$",
    re.IGNORECASE,
)
#: Wikidata's own descriptions of meta items.
META_DESCRIPTION = re.compile(
    r"^(?:wikimedia|wikipedia) (?:disambiguation page|list article|category|template|"
    r"project page|portal|set index article)",
    re.IGNORECASE,
)


def is_fictional_text(type_word: str, description: str | None) -> bool:
    """Whether a type word or description marks a fictional (or legendary) entity.

    The description is read only for entities that are not works (:data:`WORK_TYPE`).
    """
    if FICTIONAL_TYPE.search(type_word):
        return True
    if not description or WORK_TYPE.search(type_word):
        return False
    return bool(FICTIONAL_DESCRIPTION.search(description))


def is_meta_text(label: str, type_word: str, description: str | None) -> bool:
    """Whether a label, type word or description marks a list, index or other meta page."""
    return (
        bool(META_LABEL.search(label))
        or bool(META_TYPE.search(type_word))
        or bool(description and META_DESCRIPTION.search(description))
    )


_CACHE: WeakKeyDictionary[KnowledgeGraph, dict[bool, np.ndarray]] = WeakKeyDictionary()


def blocked_entities(kg: KnowledgeGraph, *, allow_fictional: bool = False) -> np.ndarray:
    """By entity row: True where the entity may be no node of a master graph.

    Meta pages are always blocked; fictional entities unless ``allow_fictional``. Computed
    once per type word (a World has thousands of entities per type) plus the descriptions,
    and cached per graph.
    """
    cached = _CACHE.setdefault(kg, {})
    if allow_fictional in cached:
        return cached[allow_fictional]
    fictional_type = np.array([is_fictional_text(t, None) for t in kg.type_names], dtype=bool)
    meta_type = np.array([is_meta_text("", t, None) for t in kg.type_names], dtype=bool)
    types = kg.types.astype(np.int64)
    blocked = meta_type[types] if len(types) else np.zeros(0, dtype=bool)
    if not allow_fictional and len(types):
        blocked = blocked | fictional_type[types]
    blocked = blocked.copy()
    for row in range(len(kg)):
        if blocked[row]:
            continue
        description = kg.description(row)
        label = kg.label(row)
        if is_meta_text(label, "", description) or (
            not allow_fictional and is_fictional_text(kg.type_of(row), description)
        ):
            blocked[row] = True
    cached[allow_fictional] = blocked
    return blocked
