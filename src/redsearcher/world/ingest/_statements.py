"""Which facts one Wikipedia page states: the seam between page reading and fact detection.

Page reading (``_wikipedia``: formats, joins, redirects, hyperlinks) resolves a page to the
entity it is about and the entities it links, each with the anchor texts that linked it; this
module decides which facts of the World the page's text states. Keeping the seam this narrow
lets the formats grow without touching the detection rule, and the rule be measured on its own
(against the committed gold set) without any reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redsearcher.world.ingest._mentions import TextMatcher, states
from redsearcher.world.ingest._scratch import Scratch


@dataclass(frozen=True, slots=True)
class LinkedEntity:
    """An entity a page hyperlinks, with the anchor texts of those links (may be empty)."""

    id: str
    anchors: tuple[str, ...] = ()


def page_statements(
    scratch: Scratch, text: str, about: str | None, linked: Sequence[LinkedEntity]
) -> list[int]:
    """Ids of the facts the page ``text`` states, in increasing order.

    Args:
        scratch: The ingest store (entities, names, numbered facts).
        text: The page's plain text.
        about: The entity the page is about, when it joined to one.
        linked: The entities the page hyperlinks (``about`` excluded), in link order.
    """
    mentions = ([about] if about else []) + [e.id for e in linked]
    if not mentions:
        return []
    names = scratch.names(mentions)
    matcher = TextMatcher(text)
    mention_set, linked_set = set(mentions), {e.id for e in linked}
    return [
        fact.id
        for fact in scratch.facts_about(mentions)
        if states(fact, matcher, mention_set, linked_set, names)
    ]
