"""Provenance precision and recall of fact detection against a gold set judged by reading.

Each gold row is one (fact, page, stated?) judgement on the shared real sample. The row's fact
is rebuilt from its dump value, the page's entity from its title, and the detector
(``_statements.detect``) is run on that page with the names the ingest would give it (label and
aliases from a World built from the same sample, aliases that are another entity's label
vetoed). Precision = stated by both / stated by the detector; recall = stated by both / stated
by the gold.

Usage: python benchmarks/bench_provenance.py --world WORLD --gold GOLD.jsonl --pages PAGES.jsonl
       [--show]   (prints every disagreement with its sentence)

WORLD is ``redsearcher world ingest`` of the shared sample (entities and facts are read; the
World's own provenance is not used); PAGES holds the pages' text (``{title, text}`` lines).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from redsearcher.world._records import Fact
from redsearcher.world.ingest._statements import detect
from redsearcher.world.ingest._values import parse_amount, parse_time, parse_unit


def _fact(row: dict[str, Any]) -> Fact | None:
    subject, predicate, value = row["subject"], row["predicate"], row.get("value")
    kind = row["kind"]
    if kind == "entity":
        return Fact.relation(1, subject, predicate, row["object"])
    if kind == "date" and isinstance(value, dict):
        iso, precision = parse_time(value["time"], value["precision"])
        return Fact(1, subject, predicate, "date", date=iso, date_precision=precision)
    if kind == "quantity" and isinstance(value, dict):
        amount = parse_amount(value["amount"])
        return Fact(
            1, subject, predicate, "quantity", amount=amount, unit=parse_unit(value.get("unit"))
        )
    if kind == "string" and isinstance(value, dict):
        value = value.get("text", value.get("string"))  # monolingual text, or a string
    if kind == "string" and isinstance(value, str):
        return Fact(1, subject, predicate, "string", string=value)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--pages", type=Path, required=True)
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    entities = {r["id"]: r for r in pq.read_table(args.world / "entities.parquet").to_pylist()}
    owners: dict[str, set[str]] = collections.defaultdict(set)
    for e in entities.values():
        owners[e["label"]].add(e["id"])

    def names(eid: str) -> tuple[str, ...]:
        e = entities.get(eid)
        if e is None:
            return ()
        own = [
            a
            for a in e["aliases"] or []
            if all(
                owners.get(f, {eid}) <= {eid}
                for f in (a, a[4:] if a.lower().startswith("the ") else a)
            )
        ]
        return (e["label"], *own)

    pages = {}
    for line in args.pages.open(encoding="utf-8"):
        page = json.loads(line)
        pages[page["title"]] = page["text"]
    counts = collections.Counter()
    by_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in args.gold.open(encoding="utf-8"):
        row = json.loads(line)
        fact = _fact(row)
        text = pages.get(row["doc_title"])
        if fact is None or text is None:
            counts["skipped"] += 1
            continue
        about = row["subject"] if row["page_about"] == "subject" else row["object"]
        nameable = {row["subject"]} | ({row["object"]} if row.get("object") else set())
        found = detect(text, about, [], [fact], {e: names(e) for e in nameable})
        got, want = bool(found), bool(row["stated"])
        cell = {(True, True): "tp", (True, False): "fp", (False, True): "fn"}.get((got, want), "tn")
        counts[cell] += 1
        by_kind[row["kind"]][cell] += 1
        if args.show and cell in ("fp", "fn"):
            where = text[found[0].sentence[0] : found[0].sentence[1]] if found else row["quote"]
            print(
                f"{cell.upper()} [{row['doc_title']}] {row['subject_label']} {row['predicate']} "
                f"{row['object_label']}\n    {where}\n    note: {row['note']}"
            )
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    print(f"rows {sum(counts.values())}  {dict(counts)}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    for kind, c in sorted(by_kind.items()):
        print(f"  {kind:9s} {dict(c)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
