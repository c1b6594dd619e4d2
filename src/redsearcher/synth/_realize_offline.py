"""Question realizers' shared records and the offline grammar realizer.

A realizer turns a reasoning graph (variables + constraints) into a question text.

The paper's pipeline is a graph-to-text inverse problem (§3.2.1): the graph, its fuzzed
conditions and its uniqueness are decided first, and only then is the question written. A
realizer may therefore never add, drop or loosen a constraint, and must never name a latent
entity or the answer. Two realizers:

- :class:`OfflineRealizer`: a per-predicate grammar (``_grammar``), deterministic per seed. The
  text is built topic by topic, starting at the answer: each sentence is about one variable,
  unknowns are introduced with an indefinite description ("a person (call them A)") and
  referred back to by a handle ("person A", or "the film" when the type is unambiguous), and
  every constraint is stated exactly once, in the sentence of the first variable that can say it.
- :class:`~redsearcher.synth._realize.LLMRealizer`: asks a chat model to rewrite the
  offline draft into one natural question, checks the result (no leaked names, every named
  entity and fuzzed value kept) and falls back to the draft when the model does not comply.

:func:`leaked_names` is the shared leak check (also used by the verifier).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any, Protocol

from redsearcher.errors import RedsearcherError
from redsearcher.log import Constraint, GraphNode
from redsearcher.synth import _grammar as g
from redsearcher.synth._grammar_wikidata import RAW_ID, unit_words
from redsearcher.world import DISCOVERY_ONLY_PREDICATES

__all__ = [
    "OfflineRealizer",
    "Realization",
    "RealizationError",
    "Realizer",
    "leaked_names",
]

_UNARY = ("attribute", "route", "scholar", "compute")
_DATE_OPS = ("year", "decade", "year_range")


@dataclass(frozen=True)
class Realization:
    """A realized question and how each constraint was phrased."""

    question: str
    constraint_texts: tuple[str, ...]
    """One standalone phrase per constraint, in the constraints' order (``Constraint.text``)."""
    source: str = "offline"
    """``offline`` (the grammar), ``llm`` (a model's accepted rewrite) or ``fallback`` (the
    model's outputs were all rejected and the fallback realizer's text was used)."""
    realizer: str = "offline"
    """The name of the realizer that wrote ``question``: what task provenance should record."""
    rejected: tuple[str, ...] = ()
    """Why each rejected model output was rejected, in order."""


class Realizer(Protocol):
    """Anything that writes a question for a reasoning graph."""

    name: str
    """``offline`` or the LLM model name; recorded in task provenance."""

    async def realize(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        *,
        seed: int,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> Realization:
        """Write the question.

        ``aliases`` (by entity id or variable) feed the leak check; ``descriptions`` (by
        entity id or variable: a Wikidata description) name unknowns whose type is no word.
        """
        ...


class RealizationError(RedsearcherError):
    """The model wrote no acceptable question and no fallback realizer was configured."""


# -- leak check --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _name_pattern(name: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in name.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _spans(text: str, name: str) -> list[tuple[int, int]]:
    return [m.span() for m in _name_pattern(name).finditer(text)] if name.strip() else []


def leaked_names(
    question: str,
    nodes: Sequence[GraphNode],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Labels and aliases of answer/latent nodes that occur in ``question``.

    Matching is case-insensitive on word boundaries ("Ann" is not found in "Annual"). An
    occurrence inside a *longer* observed name does not count ("Velden" inside "the Velden
    Prize" names the prize, not the person); a latent name equal to an observed one does, since
    the question then spells the hidden entity's name. Aliases written all in lower case
    ("jazz festival", "award for physics": the generator's descriptive aliases) are not names
    and are skipped; they would flag every question that states the category.

    Args:
        question: The question text.
        nodes: The graph's variables.
        aliases: Alternative names, keyed by entity id (or variable name).
    """
    aliases = aliases or {}
    named = [
        span for node in nodes if node.role == "observed" for span in _spans(question, node.label)
    ]
    found: list[str] = []
    seen: set[str] = set()
    for node in nodes:
        if node.role == "observed":
            continue
        others = (*aliases.get(node.entity, ()), *aliases.get(node.var, ()))
        for name in (node.label, *(a for a in others if a.lower() != a or a.upper() == a)):
            key = " ".join(name.split()).casefold()
            if not key or key in seen:
                continue
            seen.add(key)
            for start, end in _spans(question, name):
                inside = any(s <= start and end <= e and e - s > end - start for s, e in named)
                if not inside:
                    found.append(name)
                    break
    return found


# -- the offline grammar -----------------------------------------------------------------------


_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(clauses: Sequence[str]) -> str:
    if len(clauses) <= 2:
        return " and ".join(clauses)
    return ", ".join(clauses[:-1]) + ", and " + clauses[-1]


def _letter(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[index % 26] + (str(index // 26 + 1) if index >= 26 else "")


class _Writer:
    """One realization in progress: who has been introduced, and under which handle.

    Every type word comes from :func:`_grammar.readable_type`, else the node's description
    (shortened, and refused when it spells a hidden entity's name), else "entity"; so a raw
    id type (``Q19020``) or ``item`` never reaches the text.
    """

    def __init__(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        seed: int,
        *,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        self.nodes = {n.var: n for n in nodes}
        for c in constraints:
            for var in (c.subject, c.object):
                if var is not None and var not in self.nodes:
                    raise ValueError(f"{c.kind} constraint {c.predicate!r} names unknown {var!r}")
        for n in nodes:
            if n.role == "observed" and RAW_ID.search(n.label):
                raise ValueError(f"observed node {n.var} is labelled with an id: {n.label!r}")
        self.constraints = constraints
        self.rng = random.Random(seed)
        self.variant = [self.rng.randrange(720) for _ in constraints]
        self.words = _type_words(nodes, aliases or {}, descriptions or {})
        unknown = [n for n in nodes if n.role != "observed"]
        counts = Counter(self.words[n.var] for n in unknown)
        self.lettered = {n.var for n in unknown if counts[self.words[n.var]] > 1}
        self.letters: dict[str, str] = {}
        self.introduced: set[str] = set()
        self.queue: list[str] = []

    # mentions ----------------------------------------------------------------------------
    def word(self, var: str) -> str:
        return self.words[var]

    def handle(self, var: str) -> str:
        """The definite mention of an unknown: ``person A`` or ``the film``."""
        if var not in self.lettered:
            return f"the {self.word(var)}"
        if var not in self.letters:
            self.letters[var] = _letter(len(self.letters))
        return f"{self.word(var)} {self.letters[var]}"

    def named(self, var: str) -> str:
        node = self.nodes[var]
        if node.type in g.QUOTED_TYPES:
            return f'"{node.label}"'
        if node.type in g.DEFINITE_TYPES and not node.label.lower().startswith("the "):
            return f"the {node.label}"
        return node.label

    def intro(self, var: str) -> str:
        """The first, indefinite mention of an unknown; queues it as a later topic."""
        self.introduced.add(var)
        self.queue.append(var)
        text = g.article(self.word(var))
        if var in self.lettered:
            self.handle(var)
            pronoun = "them" if self.nodes[var].type == "person" else "it"
            text += f" (call {pronoun} {self.letters[var]})"
        return text

    def mention(self, var: str) -> str:
        if self.nodes[var].role == "observed":
            return self.named(var)
        return self.handle(var) if var in self.introduced else self.intro(var)

    def definite(self, var: str) -> str:
        return self.named(var) if self.nodes[var].role == "observed" else self.handle(var)

    # clauses -----------------------------------------------------------------------------
    def pick(self, i: int, templates: Sequence[str]) -> str:
        return templates[self.variant[i] % len(templates)]

    def clause(self, i: int, side: str, ref: Callable[[str], str]) -> str | None:
        """Constraint ``i`` as a verb phrase about its ``side`` end; None if it cannot be."""
        c = self.constraints[i]
        if c.predicate in DISCOVERY_ONLY_PREDICATES:
            raise ValueError(f"{c.predicate!r} is discovery-only: it is never a constraint")
        topic = c.subject if side == "subject" else (c.object or c.subject)
        other = c.object if side == "subject" else c.subject
        noun = g.noun(c.predicate)
        fields: dict[str, Any] = {
            "t": self.word(topic),
            "p": "their" if self.nodes[topic].type == "person" else "its",
            "n": noun,
        }
        if c.kind in ("relation", "same"):
            if other is None:
                raise ValueError(f"{c.kind} constraint {c.predicate!r} has no object")
            if c.kind == "same":
                template = self.pick(i, g.same_phrases(c.predicate))
            else:
                forward, inverse = g.relation_phrases(c.predicate)
                template = self.pick(i, forward if side == "subject" else inverse)
            key = "o" if side == "subject" or c.kind == "same" else "s"
            fields[key] = ref(other)
            return template.format_map(fields)
        if side != "subject":
            return None
        return self.unary(i, c, fields, ref)

    def unary(
        self, i: int, c: Constraint, fields: dict[str, Any], ref: Callable[[str], str]
    ) -> str:
        cond = c.condition
        if cond is None:
            raise ValueError(f"{c.kind} constraint {c.predicate!r} on {c.subject} has no condition")
        if c.kind == "route":
            window, mode = g.route_window(cond.low, cond.high), g.travel_mode(cond.unit)
            anchor = ref(c.object) if c.object else "the reference point"
            if not cond.value:
                return f"is {window} {mode} from {anchor}"
            where = f"{cond.value} of {anchor}"
            return self.pick(i, g.ROUTES).format(d=where, r=window, m=mode)
        if c.kind == "scholar":
            return self.pick(i, g.SCHOLAR).format(q=g.amount_phrase(cond))
        date_verbs = g.date_verbs(c.predicate, self.nodes[c.subject].type)
        if c.kind == "compute" or cond.op == "days_between":
            verb = date_verbs[0] if date_verbs else g.GENERIC_DATE[0].format_map(fields)
            return g.days_phrase(cond, verb)
        is_date = cond.op in _DATE_OPS or (
            cond.op == "eq" and (date_verbs is not None or g.day_text(str(cond.value)) is not None)
        )
        if is_date:
            verb = self.pick(i, date_verbs or g.GENERIC_DATE).format_map(fields)
            return f"{verb} {g.date_phrase(cond)}"
        quantities = g.quantity_phrases(c.predicate)
        if cond.op in ("range", "approx_route") or (cond.op == "eq" and quantities is not None):
            fields.update(q=g.amount_phrase(cond), u=unit_words(cond.unit))
            text = self.pick(i, quantities or g.GENERIC_QUANTITY).format_map(fields)
            return f"{text} in {cond.at}" if cond.at else text
        value = str(cond.value)
        if RAW_ID.search(value):
            raise ValueError(f"{c.kind} constraint {c.predicate!r} on {c.subject} has an id value")
        fields.update(v=value, a=g.article(value))
        return self.pick(i, g.string_phrases(c.predicate)).format_map(fields)

    def statement(self, i: int, ref: Callable[[str], str]) -> str:
        """Constraint ``i`` as a standalone proposition, subject first."""
        subject = ref(self.constraints[i].subject)  # first: mentions introduce in text order
        return f"{subject} {self.clause(i, 'subject', ref)}"

    # sentences ---------------------------------------------------------------------------
    def topic_clauses(self, topic: str, pending: list[int]) -> list[str]:
        """Render (and take from ``pending``) every constraint ``topic`` can state."""
        groups: list[list[int]] = [[], [], [], []]
        for i in pending:
            c = self.constraints[i]
            if c.subject != topic and c.object != topic:
                continue
            if c.kind in _UNARY:
                if c.subject == topic:
                    groups[0].append(i)
                continue
            other = c.object if c.subject == topic else c.subject
            if other is None or self.nodes[other].role == "observed":
                groups[1].append(i)
            else:
                groups[2 if other in self.introduced or other == topic else 3].append(i)
        clauses: list[str] = []
        for group in groups:
            self.rng.shuffle(group)
            for i in group:
                side = "subject" if self.constraints[i].subject == topic else "object"
                text = self.clause(i, side, self.mention)
                if text is not None:
                    clauses.append(text)
                    pending.remove(i)
        return clauses

    def sentences_about(self, topic: str, pending: list[int], first: bool) -> list[str]:
        fresh = topic not in self.introduced
        intro = self.intro(topic) if fresh else ""
        if fresh:
            self.queue.remove(topic)
        clauses = self.topic_clauses(topic, pending)
        parts = max(1, -(-len(clauses) // 3))  # sentences of at most three clauses, balanced
        bounds = [len(clauses) * k // parts for k in range(parts + 1)]
        chunks = [clauses[a:b] for a, b in pairwise(bounds) if b > a]
        handle = _cap(self.handle(topic))
        out: list[str] = []
        if fresh:
            who = "who" if self.nodes[topic].type == "person" else "that"
            head = chunks.pop(0) if chunks else []
            if first and head:
                out.append(self.pick_opener().format(i=intro, r=who, c=_join(head)))
            elif head:
                out.append(f"There is also {intro} {who} {_join(head)}.")
            else:
                out.append(f"There is {'' if first else 'also '}{intro}.")
        out.extend(f"{handle} {_join(chunk)}." for chunk in chunks)
        return out

    def pick_opener(self) -> str:
        return g.OPENERS[self.rng.randrange(len(g.OPENERS))]

    def ending(self, answer: str | None) -> str:
        if answer is None:
            return "What is it?"
        person = self.nodes[answer].type == "person"
        options = g.ENDINGS[(answer not in self.lettered, person)]
        template = options[self.rng.randrange(len(options))]
        return template.format(
            t=self.word(answer), h=self.handle(answer), l=self.letters.get(answer, "")
        )

    def realize(self) -> tuple[str, tuple[str, ...]]:
        nodes = list(self.nodes.values())
        unknown = [n.var for n in nodes if n.role != "observed"]
        answer = next((n.var for n in nodes if n.role == "answer"), unknown[0] if unknown else None)
        pending = list(range(len(self.constraints)))
        sentences: list[str] = []
        done: set[str] = set()
        order = [answer] if answer else []
        while True:
            if order:
                topic = order.pop(0)
            elif self.queue:
                topic = self.queue[0]
                self.queue.pop(0)
            else:
                rest = [v for v in unknown if v not in done]
                if not rest:
                    break
                topic = rest[0]
            if topic in done:
                continue
            done.add(topic)
            sentences += self.sentences_about(topic, pending, first=not sentences)
        for i in pending:  # nothing unknown can state these (both ends named)
            sentences.append(_cap(self.statement(i, self.mention)) + ".")
        # a name ending in a full stop ("Warner Bros.") ends its sentence without a second one
        question = _DOUBLE_STOP.sub(".", " ".join([*sentences, self.ending(answer)]))
        texts = tuple(self.statement(i, self.definite) for i in range(len(self.constraints)))
        return question, texts


def _type_words(
    nodes: Sequence[GraphNode],
    aliases: Mapping[str, Sequence[str]],
    descriptions: Mapping[str, str],
) -> dict[str, str]:
    """Each variable's type word: its type's, else its checked description, else "entity"."""
    hidden = [
        name
        for n in nodes
        if n.role != "observed"
        for name in (n.label, *aliases.get(n.entity, ()), *aliases.get(n.var, ()))
        if name.strip()
    ]
    words: dict[str, str] = {}
    for n in nodes:
        word = g.readable_type(n.type)
        if word is None:
            text = descriptions.get(n.entity) or descriptions.get(n.var)
            word = g.description_handle(text)
            if word and any(_spans(word, name) for name in (*hidden, n.label)):
                word = None
        words[n.var] = word or "entity"
    return words


class OfflineRealizer:
    """The per-predicate grammar: deterministic (same graph and seed, same text), no model."""

    name = "offline"

    async def realize(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        *,
        seed: int,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> Realization:
        """Write the question.

        The grammar never names an unknown; ``aliases`` only keep a description that spells
        a hidden entity's name from becoming its handle.

        Raises:
            ValueError: when a constraint names a variable that is not in ``nodes``, a
                unary constraint has no condition, or an observed label or a string value is
                a raw id (a malformed graph, not a phrasing problem).
        """
        return self.realize_sync(
            nodes, constraints, seed=seed, aliases=aliases, descriptions=descriptions
        )

    def realize_sync(
        self,
        nodes: Sequence[GraphNode],
        constraints: Sequence[Constraint],
        *,
        seed: int,
        aliases: Mapping[str, Sequence[str]] | None = None,
        descriptions: Mapping[str, str] | None = None,
    ) -> Realization:
        """The same as :meth:`realize`, for synchronous callers."""
        writer = _Writer(nodes, constraints, seed, aliases=aliases, descriptions=descriptions)
        question, texts = writer.realize()
        return Realization(question, texts, source="offline", realizer=self.name)
