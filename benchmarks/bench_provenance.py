"""Provenance quality: precision and recall of a World's (fact, page) provenance on the gold set.

The gold set (``tests/fixtures/realgold/gold.jsonl``, see its README) holds (fact, Wikipedia
page, stated?) judgements made by reading the real sample's lead summaries. A World predicts
"stated" for a row when its provenance table links the page's document (``wiki_doc_id`` of
the title) to the row's fact; precision, recall and F1 of that prediction are reported overall
and per value kind, for one split.

A row is mapped to the World's fact by subject, predicate (the gold row's ``predicate``: the
vocabulary's name of the property, else its snake-cased English label, as ingest names it) and
value (object id; ISO date and precision; amount and unit; string). Rows whose fact the World
does not hold are listed as unmapped and left out of the counts, never silently: a World that
drops a gold fact should be noticed, not scored as a miss or a hit.

Usage:
    python benchmarks/bench_provenance.py [--split test|dev|all] [--slice] [--world DIR]
        [--show-errors]

By default the full shared real sample is ingested (``--no-kb-pages --all-properties``: the
gold set has string rows only ``--all-properties`` ingests; ~15 s); ``--slice`` ingests the
committed fixture slice instead, ``--world`` scores an existing World.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from redsearcher.world import World
from redsearcher.world.ingest import IngestConfig, ingest_world, wiki_doc_id

ROOT = Path(__file__).resolve().parents[1]
GOLD_DIR = ROOT / "tests" / "fixtures" / "realgold"
GOLD = GOLD_DIR / "gold.jsonl"
REALDATA = Path("/work/shared/realdata")
KINDS = ("entity", "date", "quantity", "string")
#: The ingest settings the gold set is scored under.
GOLD_CONFIG = IngestConfig(kb_pages=False, all_properties=True)


def load_gold(path: Path = GOLD, split: str = "all") -> list[dict[str, Any]]:
    """The gold rows of ``split`` (``dev``, ``test`` or ``all``)."""
    rows = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON: {exc}") from exc
        if split in ("all", row["split"]):
            rows.append(row)
    return rows


def ingest(out: Path, *, use_slice: bool) -> Path:
    """Ingest the fixture slice or the full shared sample into ``out``."""
    if use_slice:
        wikidata, wikipedia = GOLD_DIR / "wikidata.json.gz", GOLD_DIR / "pages.jsonl"
    else:
        wikidata = REALDATA / "wikidata-sample.json.gz"
        wikipedia = REALDATA / "enwiki-vital-summaries.jsonl"
    ingest_world(
        out, wikidata=[wikidata], wikipedia=[wikipedia], config=GOLD_CONFIG, progress=False
    )
    return out


# -- mapping a gold row to the World's facts --------------------------------------------------
def gold_value_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """The value of a gold row in the World's terms (see ``fact_value_key``)."""
    kind, value = row["kind"], row["value"]
    if kind == "entity":
        return (row["object"],)
    if kind == "date":
        m = re.match(r"^([+-])(\d+)-(\d{2})-(\d{2})T", value["time"])
        if m is None:
            raise ValueError(f"gold row {row['doc_title']!r}: bad time {value['time']!r}")
        precision = min(int(value["precision"]), 11)
        sign = "-" if m.group(1) == "-" and int(m.group(2)) != 0 else ""
        year = f"{sign}{int(m.group(2)):04d}"
        iso = {11: f"{year}-{m.group(3)}-{m.group(4)}", 10: f"{year}-{m.group(3)}"}.get(
            precision, year
        )
        return (iso, precision)
    if kind == "quantity":
        return (float(value["amount"]), value["unit"])
    if kind == "string":
        return (value.get("string", value.get("text")),)
    raise ValueError(f"gold row {row['doc_title']!r}: unknown kind {kind!r}")


def fact_value_key(fact: dict[str, Any]) -> tuple[Any, ...]:
    """The value of a World fact row: ``(object,)``, ``(date, precision)``, ``(amount, unit)``
    or ``(string,)``."""
    kind = fact["kind"]
    if kind == "entity":
        return (fact["object"],)
    if kind == "date":
        return (fact["date"], fact["date_precision"])
    if kind == "quantity":
        return (fact["amount"], fact["unit"])
    return (fact["string"],)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if len(a) == 2 and isinstance(a[0], float) and isinstance(b[0], float):
        return math.isclose(a[0], b[0], rel_tol=1e-9, abs_tol=1e-9) and a[1] == b[1]
    return a == b


class FactIndex:
    """The World's facts by (subject, predicate), for mapping gold rows."""

    def __init__(self, world: World, subjects: Iterable[str]) -> None:
        wanted = set(subjects)
        self.by_key: dict[tuple[str, str], list[tuple[int, tuple[Any, ...]]]] = defaultdict(list)
        for batch in world.iter_batches("facts"):
            for fact in batch.to_pylist():
                if fact["subject"] in wanted:
                    key = (fact["subject"], fact["predicate"])
                    self.by_key[key].append((fact["id"], fact_value_key(fact)))

    def fact_ids(self, row: dict[str, Any]) -> list[int]:
        """Ids of the World's facts that are the row's fact (duplicates share a value)."""
        want = gold_value_key(row)
        kind_ok = (row["kind"] == "quantity") == isinstance(want[0], float)
        return [
            fid
            for fid, got in self.by_key.get((row["subject"], row["predicate"]), [])
            if kind_ok and _same(got, want)
        ]


# -- scoring -----------------------------------------------------------------------------------
def _prf(tp: int, fp: int, fn: int) -> dict[str, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {"precision": precision, "recall": recall, "f1": f1}


def score(world_path: str | Path, gold_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision, recall and F1 of a World's provenance against judged gold rows.

    Args:
        world_path: An ingested World (the rows' facts and pages must be in it).
        gold_rows: Rows of ``gold.jsonl`` (any split; see ``load_gold``).

    Returns:
        ``{"rows", "mapped", "tp", "fp", "fn", "tn", "precision", "recall", "f1",
        "per_kind": {kind: {...same counts and ratios}}, "unmapped": [rows],
        "errors": [{"row", "predicted"} for false positives and misses]}``. Precision or
        recall is ``None`` when undefined (no predicted / no stated rows).
    """
    world = World.open(world_path)
    index = FactIndex(world, (r["subject"] for r in gold_rows))
    provenance: set[tuple[str, int]] = set()
    for batch in world.iter_batches("provenance"):
        provenance.update(
            zip(
                batch.column("doc_id").to_pylist(), batch.column("fact_id").to_pylist(), strict=True
            )
        )
    counts: dict[str, dict[str, int]] = {
        k: dict.fromkeys(("tp", "fp", "fn", "tn"), 0) for k in ("all", *KINDS)
    }
    unmapped, errors = [], []
    for row in gold_rows:
        ids = index.fact_ids(row)
        if not ids:
            unmapped.append(row)
            continue
        doc = wiki_doc_id(row["doc_title"])
        predicted = any((doc, fid) in provenance for fid in ids)
        cell = {(True, True): "tp", (True, False): "fn", (False, True): "fp", (False, False): "tn"}[
            (bool(row["stated"]), predicted)
        ]
        for key in ("all", row["kind"]):
            counts[key][cell] += 1
        if cell in ("fp", "fn"):
            errors.append({"row": row, "predicted": predicted})
    out: dict[str, Any] = {"rows": len(gold_rows), "mapped": len(gold_rows) - len(unmapped)}
    out.update(counts["all"])
    out.update(_prf(counts["all"]["tp"], counts["all"]["fp"], counts["all"]["fn"]))
    out["per_kind"] = {
        k: {**counts[k], **_prf(counts[k]["tp"], counts[k]["fp"], counts[k]["fn"])} for k in KINDS
    }
    out["unmapped"] = unmapped
    out["errors"] = errors
    return out


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def report(result: dict[str, Any], split: str, show_errors: bool) -> str:
    """A plain-text table of a ``score`` result."""
    lines = [
        f"split {split}: {result['rows']} rows, {result['mapped']} mapped to World facts, "
        f"{len(result['unmapped'])} unmapped",
        f"{'kind':<9} {'rows':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4} "
        f"{'precision':>9} {'recall':>7} {'f1':>6}",
    ]
    for kind, c in [("all", result), *result["per_kind"].items()]:
        n = c["tp"] + c["fp"] + c["fn"] + c["tn"]
        lines.append(
            f"{kind:<9} {n:>5} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4} {c['tn']:>4} "
            f"{_fmt(c['precision']):>9} {_fmt(c['recall']):>7} {_fmt(c['f1']):>6}"
        )
    for row in result["unmapped"]:
        fact = f"{row['subject']} {row['predicate']} {row['object_label']}"
        lines.append(f"UNMAPPED {row['doc_title']!r}: {fact}")
    if show_errors:
        for e in result["errors"]:
            r = e["row"]
            tag = "FP" if e["predicted"] else "FN"
            fact = f"{r['subject_label']} | {r['property_label']} | {r['object_label']}"
            lines.append(f"{tag} {r['doc_title']!r}: {fact} — {r['note']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("test", "dev", "all"), default="test")
    parser.add_argument("--slice", action="store_true", help="ingest the committed fixture slice")
    parser.add_argument("--world", type=Path, help="score an existing World (no ingest)")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument(
        "--show-errors", action="store_true", help="list false positives and misses"
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    rows = load_gold(args.gold, args.split)
    with tempfile.TemporaryDirectory() as tmp:
        world = args.world or ingest(Path(tmp) / "world", use_slice=args.slice)
        result = score(world, rows)
    if args.json:
        slim = {k: v for k, v in result.items() if k not in ("unmapped", "errors")}
        slim["unmapped"] = len(result["unmapped"])
        print(json.dumps(slim, indent=2))
    else:
        print(report(result, args.split, args.show_errors))


if __name__ == "__main__":
    main()
