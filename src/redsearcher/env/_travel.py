"""The travel model shared by the maps tool and task synthesis.

The environment has no road network, so a route is a documented model: the great-circle
(haversine) distance times a per-mode detour factor, and a duration from a per-mode average
speed plus a fixed overhead. It lives outside ``redsearcher.env`` so that task synthesis writes
route constraints with exactly the numbers the maps tool will answer, without importing the
search engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from redsearcher.errors import UserError

__all__ = ["EARTH_RADIUS_KM", "MODES", "MODE_ALIASES", "Mode", "haversine_km", "travel_mode"]

EARTH_RADIUS_KM: Final = 6371.0088  # IUGG mean Earth radius


@dataclass(frozen=True, slots=True)
class Mode:
    """How a travel mode turns a great-circle distance into a route.

    Attributes:
        detour: Route length / great-circle distance (road networks are not straight lines;
            1.2-1.4 is typical of real road and path networks).
        speed_kmh: Average speed over the whole route.
        overhead_min: Fixed minutes added per trip (waiting for transit, airport procedures).
    """

    detour: float
    speed_kmh: float
    overhead_min: float = 0.0


MODES: Final = {
    "driving": Mode(1.25, 80.0),
    "walking": Mode(1.2, 5.0),
    "bicycling": Mode(1.2, 15.0),
    "transit": Mode(1.3, 35.0, 10.0),
    "flying": Mode(1.0, 800.0, 90.0),
}
MODE_ALIASES: Final = {
    "drive": "driving", "car": "driving", "walk": "walking", "foot": "walking",
    "bike": "bicycling", "bicycle": "bicycling", "cycling": "bicycling", "bus": "transit",
    "train": "transit", "public_transport": "transit", "fly": "flying", "flight": "flying",
    "plane": "flying", "air": "flying",
}  # fmt: skip


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points in kilometres."""
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def travel_mode(mode: str) -> str:
    """The canonical name of a travel mode (``drive`` -> ``driving``).

    Raises:
        UserError: for a mode that is not one of ``MODES`` or their aliases.
    """
    name = mode.strip().lower().replace("-", "_").replace(" ", "_")
    name = MODE_ALIASES.get(name, name)
    if name not in MODES:
        raise UserError(f"unknown travel mode {mode!r}; use one of {', '.join(MODES)}")
    return name
