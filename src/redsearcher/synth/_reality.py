"""How many rivals a draft's answer would have in reality, estimated on a sample World.

A sample World holds a slice of reality, so a draft with one solution in it may have hundreds
on the web: "a 2010 film with an American cast member who studied at X" is unique in the
sample only because the sample holds a few of X's alumni. Reading real tasks showed that what
makes a task unique in reality is a clue that reaches few entities *in reality*: a relation
read in its small direction (the director of a film, the spouse of a person, the capital of a
country), a day-precision date, a narrow quantity; an intersection of crowds (alumni of a
university, films of a year, citizens of a country) is not.

So on a sample World the uniqueness check gains a second test. Each hidden node starts from
its type's population in reality (``data/populations.tsv``) and each clue multiplies in the
share of that population it keeps:

- a relation to a node already placed keeps ``cardinality × size / population``, where the
  cardinality is how many entities the relation reaches in reality in the direction the
  question reads it (``data/cardinality.tsv``: a film has 1 director, a director 20 films),
  scaled up when the sample shows the value to be a hub (born in London);
- an attribute keeps the share of the World's entities with that predicate whose value passes
  it (the sample's distribution stands in for reality's: a year of birth keeps about 1%, a
  day about 0.01%);
- a shared value keeps the share of the World's entities that share one with the other node.

Nodes are placed smallest-estimate first, starting from the named ones (size 1), and a placed
node counts as ``1 + its rivals``. Crowds are floored (``CROWD``, ``CROWD_SHARE``) because
they correlate, and date clues are capped (``_DATE_CAPS``) because a small World cannot tell
that a birthday is rare. The answer's estimate when it is placed is its expected number of
rivals in reality; a task keeps it at most ``MAX_RIVALS``. Otherwise independence is assumed,
so the estimate is an order of magnitude, not a count; it is recorded per task (the
structural verdict's ``reality``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files

import numpy as np

from redsearcher.log import Condition, Constraint, NodeRole
from redsearcher.synth._conditions import passing
from redsearcher.synth._kg import KnowledgeGraph

__all__ = [
    "CROWD",
    "CROWD_REVERSE",
    "CROWD_SHARE",
    "MAX_RIVALS",
    "Cardinality",
    "RealityEstimate",
    "cardinality",
    "estimate_rivals",
    "population",
]

MAX_RIVALS = 0.3
"""Expected rivals in reality a sample World's task may keep (an estimate, see the module)."""

_DEFAULT_FORWARD = 5.0
_DEFAULT_REVERSE = 1000.0
_DEFAULT_POPULATION = 100_000.0
_WORLD_SCALE = 30.0
"""A type's population in reality is at least this many times its count in the World."""
_HUB_CAP = 50.0
"""The most a sample's in-degree may scale a reverse cardinality (London's births)."""
CROWD = 100.0
"""A relation clue that leaves at least this many candidates in reality is a crowd..."""
CROWD_SHARE = 0.1
"""...and keeps at least this share whatever its nominal share: crowds correlate (alumni of
the University of Vienna are mostly Austrian and die in Vienna), so intersecting them
divides far less than independence says. A second clue over the same predicate (a film
starring A and starring B) is floored the same way: co-stars share many films."""
CROWD_REVERSE = 100_000.0
"""A predicate reaching this many subjects per value (citizenship, country, genre) makes a
"same value" clue that keeps everything."""
_OTHER_CLUE = 0.1
"""Share kept by a clue the estimate cannot read (a tool condition): a cautious guess."""


@dataclass(frozen=True)
class Cardinality:
    """Entities a relation reaches in reality: values per subject, subjects per value."""

    forward: float
    reverse: float


@dataclass
class RealityEstimate:
    """The estimate for one draft: the answer's rivals and each hidden node's."""

    rivals: float
    nodes: dict[str, float] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def record(self) -> dict[str, object]:
        """The decision as written into the task's structural verdict."""
        return {
            "estimated_rivals": float(f"{self.rivals:.3g}"),
            "max_rivals": MAX_RIVALS,
            "placement": [f"{v}:{self.nodes[v]:.3g}" for v in self.order],
        }


def _rows(name: str) -> list[list[str]]:
    text = files("redsearcher.synth").joinpath(f"data/{name}").read_text("utf-8")
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            raise ValueError(f"synth/data/{name} line {lineno}: expected tab-separated columns")
        out.append(cells)
    return out


@cache
def _cardinalities() -> dict[str, Cardinality]:
    return {c[0]: Cardinality(float(c[1]), float(c[2])) for c in _rows("cardinality.tsv")}


@cache
def _populations() -> dict[str, float]:
    return {c[0]: float(c[1]) for c in _rows("populations.tsv")}


def cardinality(predicate: str) -> Cardinality:
    """The predicate's cardinality in reality (a crowd when the table does not list it)."""
    return _cardinalities().get(predicate, Cardinality(_DEFAULT_FORWARD, _DEFAULT_REVERSE))


@lru_cache(maxsize=256)
def population(kg: KnowledgeGraph, type_name: str) -> float:
    """Entities of ``type_name`` in reality: the table, at least 30 times the World's count."""
    table = _populations().get(type_name, _DEFAULT_POPULATION)
    return max(table, _WORLD_SCALE * len(kg.of_type(type_name)))


@lru_cache(maxsize=256)
def _with_pred(kg: KnowledgeGraph, pred: int) -> int:
    return max(1, len(np.unique(kg.f.subj[kg.f.pred == pred])))


@lru_cache(maxsize=256)
def _mean_in_degree(kg: KnowledgeGraph, pred: int) -> float:
    objs = kg.f.obj[(kg.f.pred == pred) & (kg.f.obj >= 0)]
    return len(objs) / max(1, len(np.unique(objs)))


def _attribute_share(kg: KnowledgeGraph, c: Constraint) -> float:
    cond = c.condition
    assert cond is not None
    pred = kg.pred_code(c.predicate)
    if pred < 0:
        return 1.0
    return _condition_share(kg, pred, cond.op, cond.value, cond.low, cond.high, cond.unit, cond.at)


@lru_cache(maxsize=65536)
def _condition_share(
    kg: KnowledgeGraph,
    pred: int,
    op: str,
    value: str | float | None,
    low: float | None,
    high: float | None,
    unit: str | None,
    at: str | None,
) -> float:
    """One condition's share (cached: a draft is estimated once per candidate attribute)."""
    cond = Condition.model_validate(
        {"op": op, "value": value, "low": low, "high": high, "unit": unit, "at": at}
    )
    try:
        count = len(passing(kg, pred, cond))
    except ValueError:
        return _OTHER_CLUE
    share = max(count - 1, 0.5) / _with_pred(kg, pred)  # the intended entity is not a rival
    cap = _DATE_CAPS.get(op if op != "eq" else _eq_kind(cond))
    return share if cap is None else min(share, cap)


_DATE_CAPS = {"day": 1 / 3650, "year": 1 / 20, "year_range": 1 / 5, "decade": 1 / 3}
"""The most a date clue may keep, whatever a small World's own distribution says (22
entities cannot tell that a birthday is rare): a day in ten years, a year in twenty, ..."""


def _eq_kind(cond: Condition) -> str:
    return "day" if _DAY.match(str(cond.value)) else "eq"


_DAY = re.compile(r"^-?\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=65536)
def _same_share(kg: KnowledgeGraph, pred: int, row: int) -> float:
    values = kg.objects(row, pred)
    sharing = {int(s) for v in values.tolist() for s in kg.subjects(int(v), pred).tolist()}
    return max(len(sharing) - 1, 0.5) / _with_pred(kg, pred)


def _relation_reach(
    kg: KnowledgeGraph, c: Constraint, placed: str, rows: Mapping[str, int]
) -> float:
    """Entities the relation reaches from the placed end, in reality, per placed entity."""
    card = cardinality(c.predicate)
    if placed == c.subject:
        return card.forward
    pred = kg.pred_code(c.predicate)
    hub = 1.0
    if pred >= 0:
        degree = len(kg.subjects(rows[placed], pred))
        hub = min(_HUB_CAP, max(1.0, degree / max(_mean_in_degree(kg, pred), 1.0)))
    return card.reverse * hub


def _share(
    kg: KnowledgeGraph,
    c: Constraint,
    var: str,
    size: Mapping[str, float],
    rows: Mapping[str, int],
    pop: float,
) -> float | None:
    """The share of ``var``'s population that ``c`` keeps.

    None when ``c`` cannot be read yet (its other end is not placed).
    """
    if c.object is None or c.kind not in ("relation", "same"):
        if c.subject != var:
            return None
        if c.kind == "attribute" and c.condition is not None:
            return _attribute_share(kg, c)
        return _OTHER_CLUE
    other = c.object if c.subject == var else c.subject
    if other not in size:
        return None
    if c.kind == "same":
        if cardinality(c.predicate).reverse >= CROWD_REVERSE:
            return 1.0  # "same citizenship as B": nothing in reality
        pred = kg.pred_code(c.predicate)
        share = _same_share(kg, pred, rows[other]) if pred >= 0 else 1.0
        return max(CROWD_SHARE, min(1.0, share * size[other]))
    reach = _relation_reach(kg, c, other, rows) * size[other]
    share = min(1.0, reach / pop)
    return share if reach < CROWD else max(CROWD_SHARE, share)


def estimate_rivals(
    kg: KnowledgeGraph,
    constraints: Sequence[Constraint],
    roles: Mapping[str, NodeRole],
    rows: Mapping[str, int],
    types: Mapping[str, str],
    answer: str,
) -> RealityEstimate:
    """The answer's expected rivals in reality (see the module); ``inf`` when unreachable."""
    size: dict[str, float] = {v: 1.0 for v, r in roles.items() if r == "observed"}
    left = [v for v, r in roles.items() if r != "observed"]
    out = RealityEstimate(rivals=math.inf)
    touching = {v: [c for c in constraints if v in (c.subject, c.object)] for v in left}
    while left:
        best, best_est = left[0], math.inf
        for v in left:
            pop = population(kg, types[v])
            est = pop
            seen: set[str] = set()
            for c in sorted(touching[v], key=lambda c: c.kind != "relation"):
                share = _share(kg, c, v, size, rows, pop)
                if share is None:
                    continue
                if c.kind == "relation" and c.predicate in seen:
                    share = max(share, CROWD_SHARE)  # co-stars share films: correlated
                seen.add(c.predicate)
                est *= share
            if est < best_est or (est == best_est and v == answer):
                best, best_est = v, est
        left.remove(best)
        size[best] = 1.0 + best_est
        out.nodes[best] = best_est
        out.order.append(best)
        if best == answer:
            out.rivals = best_est
            return out
    return out
