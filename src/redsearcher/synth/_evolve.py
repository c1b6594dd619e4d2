"""Tool-enforced evolution (§3.2.1): rewrite mentions into constraints only a tool resolves.

- **maps**: a named place becomes latent, pinned by a route from a new named anchor city ("the
  city about two hours' drive west of Kessel"). Coordinates are stated by no document, so only
  the maps tool answers it.
- **scholar**: a named person becomes latent, pinned through one of their papers: its year and
  its citation count, which only the scholar tool shows (a latent person, when no named one has
  papers, is described through a paper the same way).
- **python**: a date becomes an exact day count from a reference date ("born exactly 9,000
  days before 1 March 2024"): the day count appears in no document; it must be computed.

Every rewrite is undone unless the draft stays unique, and each records which facts it
replaced and how many documents state them (0 for maps and scholar), so the tool's necessity
is on the task record.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np

from redsearcher.log import Condition, Constraint
from redsearcher.synth._conditions import (
    compass,
    compass_name,
    days_between,
    parse_day,
    route_minutes,
)
from redsearcher.synth._draft import Draft
from redsearcher.synth._kg import KnowledgeGraph

__all__ = ["EVOLUTIONS", "evolve"]

_PLACE_TYPES = ("city", "place", "university")
_ROUTE_MINUTES = (40.0, 300.0)
_DAY_PREDICATES = (
    "date_of_birth",
    "date_of_death",
    "inception",
    "publication_date",
    "point_in_time",
)


def _coordinate_fact(kg: KnowledgeGraph, row: int) -> int:
    facts = kg.facts_of(row)
    hit = facts[kg.f.pred[facts] == kg.pred_code("coordinates")]
    return int(hit[0]) if len(hit) else -1


def _maps(kg: KnowledgeGraph, draft: Draft, rng: np.random.Generator) -> bool:
    targets = [
        v
        for v, r in draft.roles.items()
        if r == "observed"
        and draft.types[v] in _PLACE_TYPES
        and _coordinate_fact(kg, draft.rows[v]) >= 0
    ]
    if not targets:
        return False
    var = targets[int(rng.integers(len(targets)))]
    target_fact = _coordinate_fact(kg, draft.rows[var])
    origin = (float(kg.f.lat[target_fact]), float(kg.f.lon[target_fact]))
    coords = np.flatnonzero(kg.f.pred == kg.pred_code("coordinates"))
    cities = coords[np.isin(kg.f.subj[coords], kg.of_type("city"))]
    cities = cities[~kg.is_distractor[kg.f.subj[cities]]]
    lat, lon = kg.f.lat[cities], kg.f.lon[cities]
    minutes = route_minutes(origin, lat, lon)
    near = cities[(minutes >= _ROUTE_MINUTES[0]) & (minutes <= _ROUTE_MINUTES[1])]
    near = near[~np.isin(kg.f.subj[near], list(draft.rows.values()))]
    if not len(near):
        return False
    anchor_fact = int(near[rng.integers(len(near))])
    anchor = int(kg.f.subj[anchor_fact])
    a_origin = (float(kg.f.lat[anchor_fact]), float(kg.f.lon[anchor_fact]))
    m = float(route_minutes(a_origin, np.array([origin[0]]), np.array([origin[1]]))[0])
    direction = compass_name(
        int(compass(a_origin, np.array([origin[0]]), np.array([origin[1]]))[0])
    )
    low, high = 5 * math.floor(m * 0.88 / 5), 5 * math.ceil(m * 1.12 / 5)
    anchor_var = draft.new_var()
    draft.rows[anchor_var] = anchor
    draft.types[anchor_var] = kg.type_of(anchor)
    draft.roles[anchor_var] = "observed"
    draft.roles[var] = "latent"
    draft.constraints.append(
        Constraint(
            kind="route",
            predicate="coordinates",
            subject=var,
            object=anchor_var,
            condition=Condition(
                op="approx_route", value=direction, low=low, high=high, unit="driving"
            ),
            tool="maps",
            fact_ids=[kg.fact_id(target_fact), kg.fact_id(anchor_fact)],
        )
    )
    draft.tool_checks.append(_check(kg, "maps", [target_fact, anchor_fact], replaced=var))
    return True


def _scholar(kg: KnowledgeGraph, draft: Draft, rng: np.random.Generator) -> bool:
    author_of = kg.pred_code("author_of")
    cites = kg.pred_code("citation_count")
    year = kg.pred_code("publication_date")
    options: list[tuple[str, int, int, int]] = []
    for v, r in draft.roles.items():
        if r == "answer" or draft.types[v] != "person":
            continue
        for f in kg.facts_of(draft.rows[v]).tolist():
            if kg.f.pred[f] != author_of or kg.f.obj[f] < 0:
                continue
            paper = int(kg.f.obj[f])
            count = kg.facts_of(paper)
            count = count[kg.f.pred[count] == cites]
            dated = kg.facts_of(paper)
            dated = dated[kg.f.pred[dated] == year]
            if len(count) and len(dated) and paper not in draft.rows.values():
                options.append((v, f, int(count[0]), int(dated[0])))
    if not options:
        return False
    named = [o for o in options if draft.roles[o[0]] == "observed"]
    pick = named or options  # a named person is the rewrite the paper describes; else enrich
    var, authored, count_fact, date_fact = pick[int(rng.integers(len(pick)))]
    paper = int(kg.f.obj[authored])
    cited = float(kg.f.amount[count_fact])
    spread = max(2.0, round(cited * 0.06))
    pvar = draft.new_var()
    draft.rows[pvar] = paper
    draft.types[pvar] = kg.type_of(paper)
    draft.roles[pvar] = "latent"
    draft.roles[var] = "latent"
    draft.constraints += [
        Constraint(
            kind="relation",
            predicate="author_of",
            subject=var,
            object=pvar,
            fact_ids=[kg.fact_id(authored)],
        ),
        Constraint(
            kind="attribute",
            predicate="publication_date",
            subject=pvar,
            condition=_year(kg.value(date_fact)),
            fact_ids=[kg.fact_id(date_fact)],
        ),
        Constraint(
            kind="scholar",
            predicate="citation_count",
            subject=pvar,
            condition=Condition(op="range", low=max(0.0, cited - spread), high=cited + spread),
            tool="scholar",
            fact_ids=[kg.fact_id(count_fact)],
        ),
    ]
    draft.tool_checks.append(_check(kg, "scholar", [count_fact], replaced=var))
    return True


def _year(value: str) -> Condition:
    year = int(value.lstrip("+")[:4])
    return Condition(op="year", value=float(year), low=year, high=year)


def _python(kg: KnowledgeGraph, draft: Draft, rng: np.random.Generator) -> bool:
    options: list[tuple[str, int]] = []
    for v, r in draft.roles.items():
        if r == "observed":
            continue
        for f in kg.facts_of(draft.rows[v]).tolist():
            exact_day = kg.f.precision[f] == 11 and parse_day(kg.value(f)) is not None
            usable = exact_day and kg.constraint_ok[f] and kg.stated_by(f)
            if kg.pred(f) in _DAY_PREDICATES and usable:
                options.append((v, f))
    if not options:
        return False
    var, fact = options[int(rng.integers(len(options)))]
    pred = kg.pred(fact)
    reference = date(2020, 1, 1) + timedelta(days=int(rng.integers(0, 6 * 365)))
    days = days_between(kg.value(fact), reference.isoformat())
    if days is None:
        return False
    draft.constraints = [
        c
        for c in draft.constraints
        if not (c.kind == "attribute" and c.subject == var and c.predicate == pred)
    ]
    draft.constraints.append(
        Constraint(
            kind="compute",
            predicate=pred,
            subject=var,
            condition=Condition(
                op="days_between", value=reference.isoformat(), low=days, high=days
            ),
            tool="python",
            fact_ids=[kg.fact_id(fact)],
        )
    )
    check = _check(kg, "python", [], replaced=var)
    check["computed"] = {
        "days": days,
        "reference": reference.isoformat(),
        "fact_id": kg.fact_id(fact),
    }
    draft.tool_checks.append(check)
    return True


def _check(kg: KnowledgeGraph, tool: str, facts: list[int], *, replaced: str) -> dict[str, object]:
    return {
        "tool": tool,
        "replaced": replaced,
        "facts": [kg.fact_id(f) for f in facts],
        "documents_stating": sum(len(kg.stated_by(f)) for f in facts),
    }


EVOLUTIONS: dict[str, Callable[[KnowledgeGraph, Draft, np.random.Generator], bool]] = {
    "maps": _maps,
    "scholar": _scholar,
    "python": _python,
}


def evolve(
    kg: KnowledgeGraph, draft: Draft, tool: str, rng: np.random.Generator, *, budget: int
) -> bool:
    """Apply one tool rewrite if the draft stays unique; leave the draft unchanged otherwise.

    The python rewrite only narrows (an exact day count of a date implies its year, decade or
    range), so a unique draft stays unique without a new solve; maps and scholar turn a named
    entity latent, which can admit rivals, so they are solved again.
    """
    saved = (
        dict(draft.rows),
        dict(draft.types),
        dict(draft.roles),
        list(draft.constraints),
        list(draft.tool_checks),
    )
    if not EVOLUTIONS[tool](kg, draft, rng):
        return False
    if tool == "python" or draft.solve(kg, budget=budget).unique:
        return True
    draft.rows, draft.types, draft.roles, draft.constraints, draft.tool_checks = saved
    return False
