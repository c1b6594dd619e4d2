"""From a master graph to task drafts: subgraphs, answer roles, constraints made unique.

One master graph yields several tasks (the paper's "one graph, many tasks"): connected
subgraphs of it, each with the answer chosen by topological role — a deep leaf (long-chain
backtracking) or the highest-degree hub (multi-constraint verification). The node farthest
from the answer is observed (named in the question), as is any country; every other node is
latent. Relation and shared-value edges become constraints; when the CSP finds a second
solution, a fuzzed attribute of the intended entity that the rival fails is added, until the
solution is unique or no attribute separates them (the draft is then rejected as ambiguous).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redsearcher.log import Condition, Constraint, NodeRole
from redsearcher.synth._conditions import fuzz, holds
from redsearcher.synth._csp import Solutions, solve
from redsearcher.synth._graph import MasterGraph, edge_key, text_stated
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._reality import MAX_RIVALS, RealityEstimate, estimate_rivals
from redsearcher.synth._strength import COARSE_DATE_OPS, strong_constraints
from redsearcher.synth._treewidth import treewidth

__all__ = ["Draft", "drafts", "make_unique", "text_first", "var_graph"]

_ATTRIBUTE_KINDS = ("date", "quantity", "string")
_ID_VALUE = re.compile(r"\b[QP]\d+\b")  # a raw id as a string value: the question would print it


@dataclass
class Draft:
    """A task in the making: variables bound to entities, roles, constraints."""

    types: dict[str, str]
    rows: dict[str, int]
    roles: dict[str, NodeRole]
    constraints: list[Constraint]
    answer: str
    shape: str
    tool_checks: list[dict[str, Any]] = field(default_factory=list)
    solutions: Solutions | None = None
    reality: RealityEstimate | None = None
    """On a sample World, the answer's estimated rivals in reality (``_reality``)."""

    @property
    def bound(self) -> dict[str, int]:
        """The observed variables and their entities."""
        return {v: r for v, r in self.rows.items() if self.roles[v] == "observed"}

    def new_var(self) -> str:
        """A fresh variable name."""
        return f"x{len(self.rows)}"

    def solve(self, kg: KnowledgeGraph, *, budget: int, limit: int = 2) -> Solutions:
        """Solve the draft's CSP (up to ``limit`` solutions; two prove ambiguity).

        On a sample World only the strong constraints count (``strong_constraints``), and a
        latent node they no longer touch leaves the problem: its existence is a weak clue.
        """
        constraints = strong_constraints(kg, self.constraints, self.roles)
        used = {v for c in constraints for v in (c.subject, c.object) if v is not None}
        keep = {v for v in self.rows if v in used or self.roles[v] != "latent"}
        order = [v for v in treewidth(var_graph(self.constraints, self.rows)).order if v in keep]
        return solve(
            kg,
            {v: t for v, t in self.types.items() if v in keep},
            constraints,
            bound=self.bound,
            answer=self.answer,
            budget=budget,
            limit=limit,
            order_hint=order,
        )

    def estimate(self, kg: KnowledgeGraph) -> RealityEstimate:
        """The answer's expected rivals in reality (meaningful on a sample World)."""
        return estimate_rivals(kg, self.constraints, self.roles, self.rows, self.types, self.answer)

    def count_solutions(self, kg: KnowledgeGraph, *, budget: int, cap: int = 100) -> str:
        """How many solutions the draft has, for the rejection report ("100+" past ``cap``)."""
        sols = self.solve(kg, budget=budget, limit=cap)
        exact = sols.complete and sols.count < cap
        return str(sols.count) if exact else f"{sols.count}+"


def var_graph(constraints: list[Constraint], variables: dict[str, int]) -> dict[str, set[str]]:
    """The constraint graph over variables (binary constraints and routes are edges)."""
    adj: dict[str, set[str]] = {v: set() for v in variables}
    for c in constraints:
        if c.object is not None and c.object != c.subject:
            adj[c.subject].add(c.object)
            adj[c.object].add(c.subject)
    return adj


def _bfs(adj: dict[int, set[int]], start: int) -> dict[int, int]:
    dist = {start: 0}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        for w in sorted(adj[u]):
            if w not in dist:
                dist[w] = dist[u] + 1
                queue.append(w)
    return dist


def _subgraphs(g: MasterGraph, min_nodes: int, limit: int) -> list[set[int]]:
    """The whole graph, then connected subgraphs without one leaf each."""
    full = set(range(len(g.rows)))
    out = [full]
    adj = g.adjacency()
    for leaf in sorted(v for v, ns in adj.items() if len(ns) == 1):
        rest = full - {leaf}
        if len(out) >= limit or len(rest) < min_nodes:
            break
        sub = g.adjacency(rest)
        if len(_bfs(sub, min(rest))) == len(rest):
            out.append(rest)
    return out


def drafts(
    kg: KnowledgeGraph, g: MasterGraph, *, min_nodes: int, per_graph: int
) -> Iterator[Draft]:
    """Drafts from the subgraphs of ``g``: one per (subgraph, answer role), distinct answers."""
    seen: set[tuple[frozenset[int], int]] = set()
    for nodes in _subgraphs(g, min_nodes, per_graph):
        adj = g.adjacency(nodes)
        depth = _bfs(adj, min(nodes))
        leaves = [v for v in nodes if len(adj[v]) == 1] or list(nodes)
        chain = max(sorted(leaves), key=lambda v: depth.get(v, 0))
        hub = max(sorted(nodes), key=lambda v: len(adj[v]))
        for shape, answer in (("chain", chain), ("hub", hub)):
            key = (frozenset(nodes), answer)
            if key in seen:
                continue
            seen.add(key)
            yield _draft(kg, g, nodes, adj, answer, shape)


def _draft(
    kg: KnowledgeGraph,
    g: MasterGraph,
    nodes: set[int],
    adj: dict[int, set[int]],
    answer: int,
    shape: str,
) -> Draft:
    dist = _bfs(adj, answer)
    order = sorted(nodes, key=lambda v: (dist.get(v, 99), v))
    name = {v: f"x{i}" for i, v in enumerate(order)}
    # the named node: the farthest from the answer whose name picks one entity
    far = max(order, key=lambda v: (not kg.shared_name[g.rows[v]], dist.get(v, 0), -v))
    roles: dict[str, NodeRole] = {}
    # A country is named outright, except in a World whose facts mostly lack a source (text
    # only): there the few stated relations are mostly a person's citizenship and a country's
    # capital, and only a hidden country chains them ("the capital of the country of which
    # Ingmar Bergman is a citizen"); a named one leaves a one-hop lookup or a crowd.
    named_country = not kg.sparse_provenance
    for v in order:
        if v == answer:
            roles[name[v]] = "answer"
        elif v == far or (named_country and kg.type_of(g.rows[v]) == "country"):
            roles[name[v]] = "observed"
        else:
            roles[name[v]] = "latent"
    said: set[tuple[str, int, int, int]] = set()
    constraints = []
    for e in g.edges:
        # one constraint per edge key (a symmetric fact's two directions are one clause), and
        # none from a discovery-only predicate: graphs built elsewhere may still carry them
        key = edge_key(kg, e)
        if e.a not in nodes or e.b not in nodes or kg.discovery_only[e.pred] or key in said:
            continue
        said.add(key)
        constraints.append(
            Constraint(
                kind="relation" if e.kind == "relation" else "same",
                predicate=kg.predicates[e.pred],
                subject=name[e.a],
                object=name[e.b],
                fact_ids=[kg.fact_id(f) for f in e.facts],
            )
        )
    # a clause between two named entities ("Oaxaca lies in Mexico") says nothing about the
    # answer: it is left out, and so is a named entity no other clause mentions
    constraints = [
        c
        for c in constraints
        if roles[c.subject] != "observed" or roles[c.object or ""] != "observed"
    ]
    used = {v for c in constraints for v in (c.subject, c.object)} | {name[answer]}
    kept = [v for v in order if name[v] in used]
    rename = {name[v]: f"x{i}" for i, v in enumerate(kept)}
    return Draft(
        types={rename[name[v]]: kg.type_of(g.rows[v]) for v in kept},
        rows={rename[name[v]]: g.rows[v] for v in kept},
        roles={rename[name[v]]: roles[name[v]] for v in kept},
        constraints=[
            c.model_copy(
                update={
                    "subject": rename[c.subject],
                    "object": rename[c.object] if c.object else None,
                }
            )
            for c in constraints
        ],
        answer=rename[name[answer]],
        shape=shape,
    )


def attribute_options(
    kg: KnowledgeGraph, draft: Draft, var: str, rng: np.random.Generator, *, exact: bool = False
) -> list[Constraint]:
    """Fuzzed attribute constraints the intended entity of ``var`` satisfies.

    With ``exact``, a date known to the day is also offered as that day ("born on 3 May
    1950"): the clue that pins a person or an event in reality, where a fuzzed year keeps
    thousands.
    """
    used = {(c.subject, c.predicate) for c in draft.constraints}
    out: list[Constraint] = []
    for f in kg.facts_of(draft.rows[var]).tolist():
        kind = kg.kind(f)
        pred = kg.pred(f)
        if kind not in _ATTRIBUTE_KINDS or kg.is_tool_only(f) or (var, pred) in used:
            continue
        if not kg.stated_by(f) or not kg.constraint_ok[f]:
            continue  # unstated, or one of several undated values (population by year)
        value = kg.value(f)
        if kind == "string" and _ID_VALUE.search(str(value)):
            continue  # an unresolved item id: no question may print it
        if kind == "string" and _names_entity(kg, draft.rows[var], pred, str(value)):
            continue  # "whose birth name is Eugene Curran Kelly": the question names it
        precision = int(kg.f.precision[f])
        conds = [fuzz(kind, value, rng, precision=precision)]
        if exact and kind == "date" and precision >= _DAY and _DAY_VALUE.match(str(value)):
            conds.append(Condition(op="eq", value=str(value)[:10]))
        for cond in conds:
            if kg.time_varying[f]:  # one of a dated series: the question says which time
                cond.at = kg.time_of(f)
            out.append(
                Constraint(
                    kind="attribute",
                    predicate=pred,
                    subject=var,
                    condition=cond,
                    fact_ids=[kg.fact_id(f)],
                )
            )
    return out


#: String predicates whose value is a name of the subject itself (``--all-properties``
#: Worlds): a clause with one spells the hidden entity ("has Bolivarian Republic of Venezuela
#: as its official name", "has Venezuelan as its demonym") and the structural or shortcut
#: verifier would drop the task after the fact; they never separate a draft.
NAME_PREDICATES = frozenset(
    {
        "birth_name",
        "official_name",
        "native_label",
        "name_in_native_language",
        "name",
        "short_name",
        "nickname",
        "pseudonym",
        "title",
        "demonym",
        "female_form_of_label",
        "male_form_of_label",
        "ipa_transcription",
        "motto_text",
    }
)


def _names_entity(kg: KnowledgeGraph, row: int, pred: str, value: str) -> bool:
    """Whether a string value names the entity.

    A name predicate does; so does a value holding the entity's label or an alias, or held
    by one (any case, whole words): "the Ada Marsh manoeuvre" names Ada Marsh.
    """
    if pred in NAME_PREDICATES:
        return True
    text = " ".join(value.split()).casefold()
    for name in (kg.label(row), *kg.aliases(row)):
        key = " ".join(name.split()).casefold()
        if len(key) >= 3 and (_word_in(key, text) or _word_in(text, key)):
            return True
    return False


def _word_in(part: str, whole: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(part)}(?!\w)", whole) is not None


_DAY = 11  # Wikidata's day precision
_DAY_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def make_unique(
    kg: KnowledgeGraph,
    draft: Draft,
    rng: np.random.Generator,
    *,
    max_attributes: int,
    budget: int,
) -> str | None:
    """Add separating attributes until the draft has one solution; the reason if it cannot.

    On a sample World a unique draft also needs ``MIN_STRONG`` strong constraints and an
    answer with at most ``MAX_RIVALS`` estimated rivals in reality (``_reality``); while it
    falls short, attributes are added as for a rival (for the estimate, the one that lowers
    it most, a day-precision date allowed), and a draft that cannot get there is rejected as
    ``thin_strong`` or ``crowd_in_reality``.
    """
    sample = kg.completeness == "sample"
    for added_so_far in range(max_attributes + 1):
        sols = draft.solve(kg, budget=budget)
        draft.solutions = sols
        thin = sols.unique and _thin(kg, draft)
        crowd = False
        if sols.unique and not thin and sample:
            draft.reality = draft.estimate(kg)
            crowd = draft.reality.rivals > MAX_RIVALS
        if sols.unique and not thin and not crowd:
            return None
        if sols.count == 0 and sols.complete:
            return "unsatisfiable"
        if added_so_far == max_attributes:
            break  # the last attribute allowed is in and a rival still stands
        if crowd:
            if not _pin_in_reality(kg, draft, rng):
                return "crowd_in_reality"
            continue
        rival = next((a for a in sols.assignments if a != draft.rows), None)
        candidates = [v for v, r in draft.roles.items() if r != "observed"]
        if rival is not None:
            differ = [v for v in candidates if rival.get(v) != draft.rows[v]]
            candidates = differ + [v for v in candidates if v not in differ]
        candidates.sort(key=lambda v: v != draft.answer)
        added = False
        for var in candidates:
            options = attribute_options(kg, draft, var, rng)
            if rival is not None and var in rival:
                options = [o for o in options if not _passes(kg, o, rival[var])]
            if sample:  # a coarse date cannot separate on a sample World
                options = [o for o in options if not _coarse(o)]
            options = text_first(kg, options)
            if options:
                draft.constraints.append(options[int(rng.integers(len(options)))])
                added = True
                break
        if not added:
            return "thin_strong" if thin else "ambiguous" if sols.complete else "search_budget"
    if crowd:
        return "crowd_in_reality"
    return "thin_strong" if thin else "ambiguous"


def _pin_in_reality(kg: KnowledgeGraph, draft: Draft, rng: np.random.Generator) -> bool:
    """Add an attribute that lowers the answer's estimated rivals in reality.

    Any hidden node's attribute may (the answer's or a latent node's). The least specific
    one that brings the estimate within ``MAX_RIVALS`` wins (a fuzzed year before a day,
    which a search engine finds at once); when none does, the one that lowers it most, if
    it lowers it by a tenth at all (else False).
    """
    assert draft.reality is not None
    scored: list[tuple[float, int, Constraint]] = []
    for var in [v for v, r in draft.roles.items() if r != "observed"]:
        for option in attribute_options(kg, draft, var, rng, exact=True):
            if _coarse(option):
                continue
            rivals = estimate_rivals(
                kg,
                [*draft.constraints, option],
                draft.roles,
                draft.rows,
                draft.types,
                draft.answer,
            ).rivals
            if rivals < draft.reality.rivals * 0.9:
                scored.append((rivals, len(scored), option))
    if not scored:
        return False
    enough = [x for x in scored if x[0] <= MAX_RIVALS]
    texts = [x for x in enough if _text(kg, x[2])]
    pick = max(texts or enough) if enough else min(scored)
    draft.constraints.append(pick[2])
    return True


MIN_STRONG = 2
"""Strong constraints a sample World's unique draft needs: one clue that pins the answer in a
sample ("employed by University of Edinburgh") is a crowd on the real web, because the sample
holds few of the entities that point at a hub; two independent clues intersect crowds."""


def _thin(kg: KnowledgeGraph, draft: Draft) -> bool:
    """A sample World's draft pinned by fewer than ``MIN_STRONG`` strong constraints."""
    if kg.completeness != "sample":
        return False
    return len(strong_constraints(kg, draft.constraints, draft.roles)) < MIN_STRONG


def _text(kg: KnowledgeGraph, c: Constraint) -> bool:
    return bool(kg.database_docs) and all(text_stated(kg, kg.fact_row(f)) for f in c.fact_ids)


def text_first(kg: KnowledgeGraph, options: list[Constraint]) -> list[Constraint]:
    """The options whose facts a text page states, when there are any (else all of them).

    In a World with knowledge-base pages, an attribute only its entity's database page
    states keeps that page in every cover; one a Wikipedia page states lets the cover name
    the page instead (issue 12: text carries evidence).
    """
    texts = [o for o in options if _text(kg, o)]
    return texts or options


def _coarse(c: Constraint) -> bool:
    return c.condition is not None and c.condition.op in COARSE_DATE_OPS


def _passes(kg: KnowledgeGraph, c: Constraint, row: int) -> bool:
    assert c.condition is not None
    pred = kg.pred_code(c.predicate)
    return any(holds(c.condition, v) for v in kg.values(row, pred))
