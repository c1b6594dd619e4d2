"""Fuzzed conditions on attribute values: how they are made, and which entities pass them.

A question never says "born on 9 December 1999"; it says "born in the late 1990s" or "about
1,200 employees" (the paper's attribute fuzzing). The fuzz is decided *before* the uniqueness
check, so the solver tests exactly what the question states. Every condition has a scalar test
(``holds``, for one value) and a vectorized one (``passing``, over every fact of a predicate at
once), because unanchored variables must be filtered over a whole entity type.
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from redsearcher.env import EARTH_RADIUS_KM, MODES
from redsearcher.log import Condition
from redsearcher.synth._kg import KnowledgeGraph

__all__ = [
    "compass",
    "days_between",
    "fuzz",
    "holds",
    "parse_day",
    "parse_year",
    "passing",
    "route_minutes",
]


def parse_year(value: str | None) -> int | None:
    """The year of an ISO-like date string (``-0044-03-15`` and ``1994`` included)."""
    if not value:
        return None
    sign = -1 if value.startswith("-") else 1
    head = value.lstrip("+-").split("-", 1)[0]
    return sign * int(head) if head.isdigit() else None


def parse_day(value: str | None) -> date | None:
    """A full ``YYYY-MM-DD`` date, or None for partial or out-of-range dates."""
    if not value or value.startswith("-") or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def days_between(value: str | None, reference: str) -> int | None:
    """Days from ``value`` to ``reference`` (positive when ``value`` is earlier)."""
    start, end = parse_day(value), parse_day(reference)
    return None if start is None or end is None else (end - start).days


def fuzz(kind: str, value: Any, rng: np.random.Generator, *, precision: int = 11) -> Condition:
    """A fuzzed condition that ``value`` satisfies.

    Dates become a year, a decade or a third of a decade; quantities a range of about ±10-25%
    around the value (rounded to two significant digits, so the bounds read naturally);
    strings stay exact.
    """
    if kind == "date":
        year = parse_year(value)
        if year is None:
            return Condition(op="eq", value=str(value))
        pick = rng.random()
        if pick < 0.25:
            return Condition(op="year", value=float(year), low=year, high=year)
        if pick < 0.55:
            low = year - year % 10
            return Condition(op="decade", low=low, high=low + 9)
        decade, digit = year - year % 10, year % 10
        third = 0 if digit < 3 else 1 if digit < 6 else 2  # early / mid / late
        low, high = decade + (0, 3, 6)[third], decade + (3, 6, 9)[third]
        return Condition(op="year_range", low=low, high=high)
    if kind == "quantity":
        amount = float(value)
        spread = 0.1 + 0.15 * rng.random()
        below = _round2(amount * (1 - spread), math.floor)
        above = _round2(amount * (1 + spread), math.ceil)
        return Condition(op="range", low=min(below, amount), high=max(above, amount))
    return Condition(op="eq", value=str(value))


def _round2(x: float, how: Any) -> float:
    if x <= 0:
        return float(how(x))
    scale = 10 ** max(math.floor(math.log10(x)) - 1, 0)
    return float(how(x / scale) * scale)


def holds(cond: Condition, value: Any) -> bool:
    """Whether one attribute value passes ``cond``."""
    op = cond.op
    if value is None:
        return False
    if op == "eq":
        return str(value).casefold() == str(cond.value).casefold()
    if op in ("year", "decade", "year_range"):
        year = parse_year(str(value))
        return year is not None and _between(year, cond)
    if op in ("range", "approx_route"):
        return isinstance(value, int | float) and _between(float(value), cond)
    if op == "days_between":
        days = days_between(str(value), str(cond.value))
        return days is not None and _between(days, cond)
    raise ValueError(f"unknown condition op {op!r}")


def _between(x: float, cond: Condition) -> bool:
    low = -math.inf if cond.low is None else cond.low
    high = math.inf if cond.high is None else cond.high
    return low <= x <= high


@lru_cache(maxsize=64)
def _pred_rows(kg: KnowledgeGraph, pred: int) -> np.ndarray:
    return np.flatnonzero(kg.f.pred == pred)


@lru_cache(maxsize=64)
def _years(kg: KnowledgeGraph, pred: int) -> np.ndarray:
    rows = _pred_rows(kg, pred)
    dates = kg.f.date.take(rows).to_pylist()
    return np.array([parse_year(d) if d else -(10**9) for d in dates], dtype=np.int64)


@lru_cache(maxsize=64)
def _ordinals(kg: KnowledgeGraph, pred: int) -> np.ndarray:
    rows = _pred_rows(kg, pred)
    days = [parse_day(d) for d in kg.f.date.take(rows).to_pylist()]
    return np.array([d.toordinal() if d else -(10**9) for d in days], dtype=np.int64)


def passing(kg: KnowledgeGraph, pred: int, cond: Condition) -> np.ndarray:
    """Sorted entity rows with *some* value of ``pred`` that passes ``cond`` (vectorized).

    Cached per condition (read-only arrays): a draft re-solved after each added attribute,
    and the reality estimate of every candidate attribute, ask the same questions again.
    """
    return _passing(kg, pred, cond.op, cond.value, cond.low, cond.high)


@lru_cache(maxsize=8192)
def _passing(
    kg: KnowledgeGraph,
    pred: int,
    op: str,
    value: str | float | None,
    low: float | None,
    high: float | None,
) -> np.ndarray:
    out = _passing_rows(
        kg, pred, Condition.model_validate({"op": op, "value": value, "low": low, "high": high})
    )
    out.setflags(write=False)
    return out


def _passing_rows(kg: KnowledgeGraph, pred: int, cond: Condition) -> np.ndarray:
    rows = _pred_rows(kg, pred)
    if cond.op == "eq":
        want = str(cond.value).casefold()
        strings = kg.f.string.take(rows).to_pylist()
        if all(s is None for s in strings):
            strings = kg.f.date.take(rows).to_pylist()
        ok = np.array([s is not None and s.casefold() == want for s in strings], dtype=bool)
    elif cond.op in ("year", "decade", "year_range"):
        years = _years(kg, pred)
        ok = (years >= (cond.low or -(10**9))) & (years <= (cond.high or 10**9))
    elif cond.op == "range":
        amounts = kg.f.amount[rows]
        ok = (amounts >= (cond.low or -math.inf)) & (amounts <= (cond.high or math.inf))
    elif cond.op == "days_between":
        ref = parse_day(str(cond.value))
        if ref is None:
            return np.empty(0, np.int64)
        days = ref.toordinal() - _ordinals(kg, pred)
        ok = (days >= (cond.low or 0)) & (days <= (cond.high or 0)) & (_ordinals(kg, pred) > 0)
    else:
        raise ValueError(f"condition op {cond.op!r} is not a fact filter")
    return np.unique(kg.f.subj[rows[ok]])


# -- routes ------------------------------------------------------------------------------------

_COMPASS = (
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
)


def route_minutes(
    origin: tuple[float, float], lat: np.ndarray, lon: np.ndarray, mode: str = "driving"
) -> np.ndarray:
    """Travel minutes from ``origin`` to each point, as the environment's maps tool computes."""
    spec = MODES[mode]
    lat1, lon1 = np.radians(origin[0]), np.radians(origin[1])
    lat2, lon2 = np.radians(lat), np.radians(lon)
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h))) * spec.detour
    minutes = km / spec.speed_kmh * 60 + np.where(km > 0, spec.overhead_min, 0.0)
    return np.asarray(np.round(minutes, 1))


def compass(origin: tuple[float, float], lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The 8-point compass direction index (0 = north) from ``origin`` to each point."""
    lat1, lat2 = np.radians(origin[0]), np.radians(lat)
    dlon = np.radians(lon - origin[1])
    x = np.sin(dlon) * np.cos(lat2)
    y = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon)
    bearing = (np.degrees(np.arctan2(x, y)) + 360.0) % 360.0
    return np.asarray(np.round(bearing / 45.0).astype(np.int64) % 8)


def compass_name(index: int) -> str:
    """The name of a compass index."""
    return _COMPASS[index]


def compass_index(name: str) -> int:
    """The index of a compass name."""
    return _COMPASS.index(name)
