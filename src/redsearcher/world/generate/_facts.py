"""Column-wise accumulation of facts, so the sampler can add a whole predicate at once."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from redsearcher.world._schema import PRECISION_DAY, PRECISION_YEAR
from redsearcher.world._vocab import PREDICATES

PRED_NAMES: list[str] = list(PREDICATES)
PRED_CODE: dict[str, int] = {name: i for i, name in enumerate(PRED_NAMES)}
PRED_KIND: list[str] = [PREDICATES[n].kind for n in PRED_NAMES]


@dataclass
class FactColumns:
    """All facts of a generated World, sorted by subject; fact id = row index + 1."""

    subj: np.ndarray
    pred: np.ndarray
    obj: np.ndarray
    amount: np.ndarray
    text: np.ndarray  # object array: string value or ISO date, else None
    prec: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    qual: np.ndarray  # object array of JSON strings or None

    def __len__(self) -> int:
        return int(self.subj.shape[0])


def iso_dates(
    rng: np.random.Generator, years: np.ndarray, day_share: float
) -> tuple[list[str], np.ndarray]:
    """ISO dates for ``years``: a ``day_share`` of them at day precision, the rest year only."""
    n = len(years)
    months = rng.integers(1, 13, n)
    days = rng.integers(1, 29, n)
    exact = rng.random(n) < day_share
    text = [
        f"{y:04d}-{m:02d}-{d:02d}" if e else f"{y:04d}"
        for y, m, d, e in zip(
            years.tolist(), months.tolist(), days.tolist(), exact.tolist(), strict=True
        )
    ]
    prec = np.where(exact, PRECISION_DAY, PRECISION_YEAR).astype(np.int8)
    return text, prec


class FactBuilder:
    """Collects blocks of facts per predicate; ``build`` sorts them by subject (stably)."""

    def __init__(self) -> None:
        self._blocks: list[dict[str, object]] = []

    def _add(self, pred: str, subj: np.ndarray, **cols: object) -> None:
        if PRED_KIND[PRED_CODE[pred]] != cols.pop("_kind"):
            raise ValueError(f"predicate {pred} has kind {PREDICATES[pred].kind}")
        if len(subj):
            self._blocks.append({"pred": PRED_CODE[pred], "subj": subj.astype(np.int64), **cols})

    def relation(
        self,
        pred: str,
        subj: np.ndarray,
        obj: np.ndarray,
        qualifier_years: np.ndarray | None = None,
    ) -> None:
        """Relations ``subj[i] pred obj[i]``; rows with ``obj < 0`` are skipped."""
        keep = (obj >= 0) & (subj >= 0)
        qual = None
        if qualifier_years is not None:
            qual = [json.dumps({"point_in_time": str(y)}) for y in qualifier_years[keep].tolist()]
        self._add(pred, subj[keep], obj=obj[keep].astype(np.int64), qual=qual, _kind="entity")

    def dates(self, pred: str, subj: np.ndarray, text: list[str], prec: np.ndarray) -> None:
        """Date attributes (ISO text with Wikidata precision codes)."""
        self._add(pred, subj, text=text, prec=prec, _kind="date")

    def quantity(self, pred: str, subj: np.ndarray, amount: np.ndarray) -> None:
        """Numeric attributes."""
        self._add(pred, subj, amount=amount.astype(np.float64), _kind="quantity")

    def strings(self, pred: str, subj: np.ndarray, values: list[str]) -> None:
        """String attributes."""
        self._add(pred, subj, text=values, _kind="string")

    def coordinates(self, pred: str, subj: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> None:
        """Globe coordinates."""
        self._add(pred, subj, lat=np.round(lat, 5), lon=np.round(lon, 5), _kind="coordinate")

    def build(self) -> FactColumns:
        """Concatenate all blocks and sort by subject, keeping insertion order within one."""
        n = [len(b["subj"]) for b in self._blocks]  # type: ignore[arg-type]
        total = sum(n)

        def col(name: str, fill: object, dtype: object) -> np.ndarray:
            parts = []
            for b, k in zip(self._blocks, n, strict=True):
                v = b.get(name)
                if v is None:
                    parts.append(np.full(k, fill, dtype=dtype))  # type: ignore[call-overload]
                elif isinstance(v, list):
                    arr = np.empty(k, dtype=object)
                    arr[:] = v
                    parts.append(arr)
                else:
                    parts.append(np.asarray(v, dtype=dtype))  # type: ignore[call-overload]
            if not parts:
                empty: np.ndarray = np.empty(0, dtype=dtype)  # type: ignore[call-overload]
                return empty
            return np.concatenate(parts)

        subj = col("subj", -1, np.int64)
        order = np.argsort(subj, kind="stable")
        pred = (
            np.concatenate(
                [
                    np.full(k, b["pred"], dtype=np.int16)
                    for b, k in zip(self._blocks, n, strict=True)
                ]
            )
            if total
            else np.empty(0, np.int16)
        )
        return FactColumns(
            subj=subj[order],
            pred=pred[order],
            obj=col("obj", -1, np.int64)[order],
            amount=col("amount", np.nan, np.float64)[order],
            text=col("text", None, object)[order],
            prec=col("prec", 0, np.int8)[order],
            lat=col("lat", np.nan, np.float64)[order],
            lon=col("lon", np.nan, np.float64)[order],
            qual=col("qual", None, object)[order],
        )
