"""Wikidata snak values <-> World fact values, in both directions.

Ingest reads snaks into fact columns; the dump exporter writes fact columns back as snaks. Both
directions live here so that what one writes the other reads, and the round trip is tested
against one definition.

Conventions: a time ``+1952-03-11T00:00:00Z`` with precision 9/10/11 becomes ``1952`` /
``1952-03`` / ``1952-03-11`` (negative years keep their sign, ``-0490``; precisions coarser than
a year keep the year and their precision; finer than a day are cut to the day). A quantity's
unit is the Q-id at the end of the unit URL, or ``None`` for the unit ``"1"``. Coordinates on
another globe than Earth (Q2) are skipped.
"""

from __future__ import annotations

import math
import re
from typing import Any

from redsearcher.world._schema import PRECISION_DAY, PRECISION_MONTH, PRECISION_YEAR

ENTITY_URL = "http://www.wikidata.org/entity/"
EARTH = ENTITY_URL + "Q2"
GREGORIAN = ENTITY_URL + "Q1985727"
#: Unit names that synthetic Worlds use, with the Wikidata item of the unit (for the exporter).
UNIT_ITEMS: dict[str, str] = {"minute": "Q7727", "second": "Q11574", "hour": "Q25235"}

_TIME = re.compile(r"^([+-])(\d+)-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}Z$")
_QID = re.compile(r"^Q[1-9][0-9]*$")
_ISO = re.compile(r"^(-?)(\d+)(?:-(\d{2}))?(?:-(\d{2}))?$")


class SkipValue(Exception):
    """A snak that is valid but carries no value we keep (``novalue``, another globe, ...).

    Args:
        reason: The counter the skip is reported under.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadValue(ValueError):
    """A snak whose value does not have the documented shape."""


# -- reading ---------------------------------------------------------------------------------
def parse_time(time: Any, precision: Any) -> tuple[str, int]:
    """A Wikidata time value as ``(iso_date, precision)``."""
    if not isinstance(time, str) or not isinstance(precision, int):
        raise BadValue(f"time {time!r} / precision {precision!r}")
    match = _TIME.match(time)
    if match is None:
        raise BadValue(f"time {time!r} is not +YYYY-MM-DDThh:mm:ssZ")
    sign, year, month, day = match.group(1), int(match.group(2)), match.group(3), match.group(4)
    prefix = "-" if sign == "-" and year != 0 else ""
    precision = min(precision, PRECISION_DAY)
    if precision >= PRECISION_MONTH and month == "00":
        precision = PRECISION_YEAR
    if precision >= PRECISION_DAY and day == "00":
        precision = PRECISION_MONTH
    iso = f"{prefix}{year:04d}"
    if precision >= PRECISION_MONTH:
        iso += f"-{month}"
    if precision >= PRECISION_DAY:
        iso += f"-{day}"
    return iso, precision


def parse_amount(amount: Any) -> float:
    """A Wikidata quantity amount (``"+1234.5"``) as a float."""
    if not isinstance(amount, str | int | float) or isinstance(amount, bool):
        raise BadValue(f"amount {amount!r}")
    try:
        value = float(amount)
    except ValueError:
        raise BadValue(f"amount {amount!r} is not a number") from None
    if not math.isfinite(value):
        raise BadValue(f"amount {amount!r} is not finite")
    return value


def parse_unit(unit: Any) -> str | None:
    """The unit Q-id of a quantity (``None`` for the dimensionless ``"1"``)."""
    if unit is None or unit == "1":
        return None
    if not isinstance(unit, str):
        raise BadValue(f"unit {unit!r}")
    return unit.rsplit("/", 1)[-1]


def snak_value(snak: Any) -> tuple[str, Any]:
    """The ``(kind, value)`` of a snak.

    Kinds and values: ``entity`` -> id; ``date`` -> ``(iso, precision)``; ``quantity`` ->
    ``(amount, unit)``; ``coordinate`` -> ``(latitude, longitude)``; ``string`` -> text.

    Raises:
        SkipValue: ``novalue``/``somevalue`` snaks, other globes, unsupported datatypes.
        BadValue: a malformed snak.
    """
    if not isinstance(snak, dict):
        raise BadValue("snak is not an object")
    snaktype = snak.get("snaktype", "value")
    if snaktype in ("novalue", "somevalue"):
        raise SkipValue(snaktype)
    datavalue = snak.get("datavalue")
    if not isinstance(datavalue, dict):
        raise BadValue("snak has no datavalue")
    kind, value = datavalue.get("type"), datavalue.get("value")
    if kind == "string":
        if not isinstance(value, str):
            raise BadValue(f"string value {value!r}")
        return "string", value
    if not isinstance(value, dict):
        raise BadValue(f"{kind} value is not an object")
    if kind == "wikibase-entityid":
        eid = value.get("id")
        if not isinstance(eid, str):
            numeric = value.get("numeric-id")
            if not isinstance(numeric, int):
                raise BadValue("entity value without id")
            eid = f"Q{numeric}"
        return "entity", eid
    if kind == "time":
        return "date", parse_time(value.get("time"), value.get("precision"))
    if kind == "quantity":
        return "quantity", (parse_amount(value.get("amount")), parse_unit(value.get("unit")))
    if kind == "globecoordinate":
        if value.get("globe", EARTH) != EARTH:
            raise SkipValue("non_earth_coordinate")
        lat, lon = value.get("latitude"), value.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            raise BadValue(f"coordinate {lat!r}, {lon!r}")
        return "coordinate", (float(lat), float(lon))
    if kind == "monolingualtext":
        text = value.get("text")
        if not isinstance(text, str):
            raise BadValue(f"monolingual text {text!r}")
        return "string", text
    raise SkipValue("unsupported_datatype")


def format_amount(amount: float) -> str:
    """An amount as a plain decimal string (``3.0`` -> ``3``)."""
    if amount.is_integer() and abs(amount) < 1e16:
        return str(int(amount))
    return repr(amount)


def simple_string(kind: str, value: Any) -> str:
    """A snak value simplified to a string (for qualifiers)."""
    if kind == "date":
        return str(value[0])
    if kind == "quantity":
        return format_amount(value[0])
    if kind == "coordinate":
        return f"{value[0]},{value[1]}"
    return str(value)


# -- writing ---------------------------------------------------------------------------------
def entity_value(eid: str) -> dict[str, Any]:
    """A ``wikibase-entityid`` datavalue (``numeric-id`` only for Q-ids)."""
    value: dict[str, Any] = {"entity-type": "item", "id": eid}
    if _QID.match(eid):
        value["numeric-id"] = int(eid[1:])
    return {"value": value, "type": "wikibase-entityid"}


def time_value(date: str, precision: int | None) -> dict[str, Any]:
    """A ``time`` datavalue from an ISO date and its precision."""
    match = _ISO.match(date)
    if match is None:
        raise ValueError(f"not an ISO date: {date!r}")
    sign = "-" if match.group(1) else "+"
    year, month, day = match.group(2), match.group(3) or "00", match.group(4) or "00"
    if precision is None:
        precision = PRECISION_DAY if match.group(4) else PRECISION_MONTH if match.group(3) else 9
    time = f"{sign}{int(year):04d}-{month}-{day}T00:00:00Z"
    return {
        "value": {
            "time": time,
            "timezone": 0,
            "before": 0,
            "after": 0,
            "precision": precision,
            "calendarmodel": GREGORIAN,
        },
        "type": "time",
    }


def quantity_value(amount: float, unit: str | None) -> dict[str, Any]:
    """A ``quantity`` datavalue; unit names without a known item are written as ``"1"``."""
    item = unit if unit and _QID.match(unit) else UNIT_ITEMS.get(unit or "")
    text = format_amount(amount)
    return {
        "value": {
            "amount": text if text.startswith("-") else "+" + text,
            "unit": ENTITY_URL + item if item else "1",
        },
        "type": "quantity",
    }


def coordinate_value(latitude: float, longitude: float) -> dict[str, Any]:
    """A ``globecoordinate`` datavalue on Earth."""
    return {
        "value": {
            "latitude": latitude,
            "longitude": longitude,
            "altitude": None,
            "precision": 0.0001,
            "globe": EARTH,
        },
        "type": "globecoordinate",
    }


def string_value(text: str) -> dict[str, Any]:
    """A ``string`` datavalue."""
    return {"value": text, "type": "string"}


DATATYPES: dict[str, str] = {
    "wikibase-entityid": "wikibase-item",
    "time": "time",
    "quantity": "quantity",
    "globecoordinate": "globe-coordinate",
    "string": "string",
}


def value_snak(pid: str, datavalue: dict[str, Any]) -> dict[str, Any]:
    """A ``value`` snak of property ``pid``."""
    return {
        "snaktype": "value",
        "property": pid,
        "datavalue": datavalue,
        "datatype": DATATYPES[datavalue["type"]],
    }
