"""Draw the provenance gold set's candidate (fact, Wikipedia page) pairs; cut its fixture slice.

The gold set (``tests/fixtures/realgold/``) measures fact-statement detection independently of
any detector: rows are drawn from the facts and pages alone and then judged by reading. This
script does the two mechanical halves, both deterministic:

``sample``  ingests the shared real sample (``--no-kb-pages``; or reads ``--world``), and draws
            candidate pairs where the page is the enwiki lead summary of the fact's subject or
            of its object (pages join to items by ``sitelinks.enwiki``). The draw is stratified
            so that precision *and* recall are measurable:

            - ``subject-match`` (~55%): page about the subject whose text contains the other
              end loosely (a label or alias of the object, the year of a date, a common written
              form of a number, the string) — where true statements and near misses live;
            - ``subject-nomatch`` (~25%): page about the subject whose text does not contain it
              (paraphrases, demonyms such as "Austrian", rounded figures: recall);
            - ``object`` (~20%): page about the object of an entity relation (mostly pages that
              name the subject).

            Within each stratum value kinds get quotas (entity, date, quantity, string) and no
            predicate takes more than a share, so the 40k populations do not crowd out the rest.
            ``links_to`` and inverse predicates are excluded; a page gives at most 3 rows; a page
            whose subject item is large (> 60 kB) is skipped so the fixture slice stays small.
            Rows carry no judgement: ``stated``/``quote``/``note`` are filled in by reading.

``slice``   cuts the fixture slice a judged ``gold.jsonl`` needs: ``pages.jsonl`` (its pages,
            verbatim lines) and ``wikidata.json.gz`` (gzip'ed like the real dumps, official dump
            layout: the full items of every page's entity and every gold fact's subject,
            verbatim lines; the other items their claims point at, trimmed to labels, aliases,
            descriptions and P31).

Usage:
    python benchmarks/gold_sample.py sample --out candidates.jsonl [--seed 12] [--world DIR]
    python benchmarks/gold_sample.py slice --gold tests/fixtures/realgold/gold.jsonl \\
        --out-dir tests/fixtures/realgold
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from redsearcher.world import PREDICATES, World
from redsearcher.world.ingest import IngestConfig, ingest_world

REALDATA = Path("/work/shared/realdata")
WIKIDATA = REALDATA / "wikidata-sample.json.gz"
WIKIPEDIA = REALDATA / "enwiki-vital-summaries.jsonl"
DEV_PERCENT = 20
"""Pages whose title hash falls below this percentile form the ``dev`` split."""
MAX_ITEM_BYTES = 80_000
PER_PAGE = 3
#: stratum -> (share of rows, kind quotas as shares)
STRATA: dict[str, tuple[float, dict[str, float]]] = {
    "subject-match": (0.55, {"entity": 0.45, "date": 0.2, "quantity": 0.25, "string": 0.1}),
    "subject-nomatch": (0.25, {"entity": 0.45, "date": 0.25, "quantity": 0.2, "string": 0.1}),
    "object": (0.20, {"entity": 1.0}),
}
PREDICATE_SHARE = {"entity": 0.15, "date": 0.5, "quantity": 0.6, "string": 0.4}
#: String properties sampled besides the vocabulary's (``--all-properties`` ingests them).
STRING_PROPERTIES = ("P106", "P37", "P136", "P452", "P1549", "P1448", "P1449", "P1477")
"""At most this share of a stratum's kind quota comes from one predicate."""


def split_of(title: str) -> str:
    """``dev`` or ``test``, by a hash of the page title (so splits are disjoint by page)."""
    bucket = int(hashlib.sha1(title.encode("utf-8")).hexdigest(), 16) % 100
    return "dev" if bucket < DEV_PERCENT else "test"


def property_labels() -> dict[str, str]:
    """English labels of Wikidata properties from the bundled table ingest uses."""
    text = files("redsearcher.world.ingest").joinpath("data/properties.tsv").read_text("utf-8")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            pid, _datatype, label, _bulk = line.split("\t")
            out[pid] = label
    out.setdefault("P190", "twinned administrative body")  # not in the bundled table
    return out


def dump_lines(path: Path) -> Iterator[tuple[str, str]]:
    """``(id, verbatim line)`` of every item line of a dump (``[``/``]`` lines skipped)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            body = line.rstrip("\n")
            if body in ("[", "]", ""):
                continue
            m = re.search(r'"id":\s*"(Q\d+)"', body)
            if m:
                yield m.group(1), body.rstrip(",")


# -- values ----------------------------------------------------------------------------------
def raw_value(snak: dict[str, Any]) -> tuple[str, Any] | None:
    """``(datavalue type, stable value)`` of a dump snak, or None for values we do not sample."""
    if snak.get("snaktype") != "value":
        return None
    dv = snak["datavalue"]
    v = dv["value"]
    if dv["type"] == "wikibase-entityid":
        return "entity", v["id"]
    if dv["type"] == "time":
        return "date", {"time": v["time"], "precision": v["precision"]}
    if dv["type"] == "quantity":
        unit = v.get("unit", "1")
        return "quantity", {
            "amount": v["amount"],
            "unit": None if unit == "1" else unit.rsplit("/", 1)[-1],
        }
    if dv["type"] == "string":
        return "string", {"string": v}
    if dv["type"] == "monolingualtext" and v.get("language") == "en":
        return "string", {"text": v["text"], "language": "en"}
    return None


def world_value_key(kind: str, value: Any) -> tuple[Any, ...]:
    """The key a World fact's value has, computed from a gold row's value (for joining)."""
    if kind == "entity":
        return (value,)
    if kind == "date":
        time, prec = value["time"], min(int(value["precision"]), 11)
        m = re.match(r"^([+-])(\d+)-(\d{2})-(\d{2})", time)
        assert m
        sign = "-" if m.group(1) == "-" and int(m.group(2)) != 0 else ""
        year = f"{sign}{int(m.group(2)):04d}"
        iso = (
            year
            if prec <= 9
            else f"{year}-{m.group(3)}"
            if prec == 10
            else f"{year}-{m.group(3)}-{m.group(4)}"
        )
        return (iso, prec)
    if kind == "quantity":
        return (float(value["amount"]), value["unit"])
    return (value.get("string", value.get("text")),)


def fact_value_key(f: dict[str, Any]) -> tuple[Any, ...]:
    """The value key of a World fact row."""
    if f["kind"] == "entity":
        return (f["object"],)
    if f["kind"] == "date":
        return (f["date"], int(f["date_precision"]))
    if f["kind"] == "quantity":
        return (float(f["amount"]), f["unit"])
    return (f["string"],)


def human_value(kind: str, value: Any, labels: dict[str, str]) -> str:
    """A readable rendering of a literal value (``object_label``)."""
    if kind == "date":
        iso, prec = world_value_key(kind, value)
        word = {11: "day", 10: "month", 9: "year"}.get(prec, str(prec))
        return f"{iso} (precision {word})"
    if kind == "quantity":
        amount = float(value["amount"])
        text = f"{amount:,.0f}" if amount == int(amount) else f"{amount:,}"
        unit = value["unit"]
        return f"{text} {labels.get(unit, unit)}" if unit else text
    return str(value.get("string", value.get("text")))


def number_forms(amount: float) -> list[str]:
    """Loose written forms of a number: digits with/without commas, rounded millions/billions."""
    forms = set()
    if amount == int(amount):
        n = int(amount)
        forms |= {str(n), f"{n:,}"}
    for scale, word in ((1e9, "billion"), (1e6, "million")):
        if amount >= scale:
            x = amount / scale
            for digits in (0, 1, 2):
                s = f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"
                forms.add(f"{s} {word}")
            break
    return [f for f in forms if len(f) >= 2]


def loose_match(text: str, kind: str, value: Any, names: dict[str, list[str]]) -> bool:
    """Whether the other end of a fact occurs anywhere in ``text`` (case-insensitive)."""
    # Raw lower-cased text, as the committed sample was drawn: a no-break space ("1.1\xa0million")
    # hides a match, so a few ``subject-nomatch`` rows do contain the value. Strata only steer
    # the draw; the judgement is by reading.
    low = text.lower()
    if kind == "entity":
        return any(_word_in(n.lower(), low) for n in names.get(value, []) if len(n) >= 3)
    if kind == "date":
        year = world_value_key(kind, value)[0].lstrip("-").split("-")[0].lstrip("0")
        return bool(year) and _word_in(year, low)
    if kind == "quantity":
        return any(_word_in(f.lower(), low) for f in number_forms(float(value["amount"])))
    return _word_in(str(value.get("string", value.get("text"))).lower(), low)


def _word_in(needle: str, hay: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(needle) + r"(?![\w])", hay) is not None


# -- sample ----------------------------------------------------------------------------------
def ingest(out: Path) -> None:
    """Ingest the shared real sample into ``out`` (no KB pages, ``--all-properties``)."""
    config = IngestConfig(kb_pages=False, all_properties=True)
    ingest_world(out, wikidata=[WIKIDATA], wikipedia=[WIKIPEDIA], config=config, progress=False)


def predicate_of() -> dict[str, tuple[str, str]]:
    """``{property id: (World predicate, World value kind)}`` of the properties sampled.

    The vocabulary's properties (not the inverse ones, whose facts point the other way) as
    ingest names them, plus a few string properties that ``--all-properties`` ingests, named by
    their snake-cased English label like ingest does (item values become the item's label).
    """
    out = {
        p.wikidata: (p.name, p.kind) for p in PREDICATES.values() if p.wikidata and not p.inverse
    }
    labels = property_labels()
    for pid in STRING_PROPERTIES:
        out[pid] = (re.sub(r"[^a-z0-9]+", "_", labels[pid].lower()).strip("_"), "string")
    return out


def sample(world_dir: Path, seed: int, total: int) -> list[dict[str, Any]]:
    """Candidate rows (unjudged), deterministic for a seed and a World."""
    world = World.open(world_dir)
    pred_of = predicate_of()
    plabels = property_labels()
    docs = {
        d["about"]: d
        for d in world.table("documents", ["title", "text", "about"]).to_pylist()
        if d["about"]
    }
    names: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for e in world.table("entities", ["id", "label", "aliases"]).to_pylist():
        labels[e["id"]] = e["label"]
        names[e["id"]] = [e["label"], *(e["aliases"] or [])]
    wanted = {name for name, _ in pred_of.values()}
    world_facts: dict[tuple[str, str], set[tuple[Any, ...]]] = defaultdict(set)
    for f in world.table("facts").to_pylist():
        if f["predicate"] in wanted:
            world_facts[(f["subject"], f["predicate"])].add(fact_value_key(f))
    item_size: dict[str, int] = {}
    claims: dict[str, dict[str, Any]] = {}
    for qid, line in dump_lines(WIKIDATA):
        item_size[qid] = len(line)
        cl = {p: c for p, c in json.loads(line).get("claims", {}).items() if p in pred_of}
        if cl:
            claims[qid] = cl
    # every (fact, page) pair, keyed by stratum and kind
    pools: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for subject, props in sorted(claims.items()):
        if item_size[subject] > MAX_ITEM_BYTES:
            continue
        for pid, statements in sorted(props.items()):
            predicate, kind = pred_of[pid]
            seen = set()
            for st in statements:
                got = raw_value(st["mainsnak"])
                if got is None:
                    continue
                dtype, raw = got
                if kind == "string" and dtype == "entity":  # an item value named by its label
                    obj, value = raw, {"string": labels.get(raw, "")}
                elif dtype != kind:
                    continue
                else:
                    obj, value = (raw, None) if kind == "entity" else (None, raw)
                key = world_value_key(kind, obj if kind == "entity" else value)
                if key in seen or key not in world_facts.get((subject, predicate), set()):
                    continue
                seen.add(key)
                base = {"subject": subject, "property": pid, "predicate": predicate, "kind": kind,
                        "object": obj, "value": value}  # fmt: skip
                ends = [(subject, "subject")] + ([(obj, "object")] if kind == "entity" else [])
                for page_entity, side in ends:
                    doc = docs.get(page_entity)
                    if doc is None or item_size.get(page_entity, 0) > MAX_ITEM_BYTES:
                        continue
                    if side == "subject":
                        hit = loose_match(
                            doc["text"], kind, obj if kind == "entity" else value, names
                        )
                        stratum = "subject-match" if hit else "subject-nomatch"
                    else:
                        hit = loose_match(doc["text"], "entity", subject, names)
                        stratum = "object"
                    pools[(stratum, kind)].append(
                        {**base, "doc_title": doc["title"], "side": side, "loose_match": hit}
                    )
    rng = random.Random(seed)
    per_page: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for stratum, (share, kinds) in STRATA.items():
        for kind, kshare in kinds.items():
            quota = round(total * share * kshare)
            pool = sorted(pools[(stratum, kind)], key=row_key)
            if stratum == "object":  # mostly pages that name the subject
                named = [r for r in pool if r["loose_match"]]
                unnamed = [r for r in pool if not r["loose_match"]]
                rng.shuffle(named)
                rng.shuffle(unnamed)
                pool = named[: round(quota * 0.75)] + unnamed + named[round(quota * 0.75) :]
            else:
                rng.shuffle(pool)
            per_pred: Counter[str] = Counter()
            cap = max(2, round(quota * PREDICATE_SHARE[kind]))
            taken = 0
            for r in pool:
                if taken >= quota:
                    break
                if per_page[r["doc_title"]] >= PER_PAGE or per_pred[r["property"]] >= cap:
                    continue
                per_page[r["doc_title"]] += 1
                per_pred[r["property"]] += 1
                taken += 1
                rows.append({**r, "stratum": stratum})
    out = []
    for r in rows:
        kind = r["kind"]
        out.append(
            {
                "split": split_of(r["doc_title"]),
                "doc_title": r["doc_title"],
                "page_about": r["side"],
                "stratum": r["stratum"],
                "kind": kind,
                "subject": r["subject"],
                "subject_label": labels.get(r["subject"], r["subject"]),
                "property": r["property"],
                "property_label": plabels.get(r["property"], r["property"]),
                "predicate": r["predicate"],
                "object": r["object"],
                "value": r["value"],
                "object_label": labels.get(r["object"], r["object"])
                if kind == "entity"
                else human_value(kind, r["value"], labels),
                "stated": None,
                "quote": None,
                "note": None,
            }
        )
    out.sort(key=lambda r: (r["split"], *row_key(r)))
    return out


def row_key(r: dict[str, Any]) -> tuple[str, ...]:
    """A total order on rows (title, subject, property, value)."""
    return (
        r["doc_title"],
        r["subject"],
        r["property"],
        json.dumps([r["object"], r["value"]], sort_keys=True),
    )


# -- slice -----------------------------------------------------------------------------------
def cut_slice(gold: list[dict[str, Any]], out_dir: Path) -> None:
    """Write ``pages.jsonl`` and ``wikidata.json`` for the gold rows (see the module doc)."""
    titles = {r["doc_title"] for r in gold}
    page_lines = []
    with WIKIPEDIA.open(encoding="utf-8") as fh:
        for line in fh:
            if json.loads(line)["title"] in titles:
                page_lines.append(line.rstrip("\n"))
    assert len(page_lines) == len(titles), "a gold page is missing from the summaries"
    full_ids = {r["subject"] for r in gold}
    raw: dict[str, str] = {}
    for qid, line in dump_lines(WIKIDATA):
        sitelink = json.loads(line).get("sitelinks", {}).get("enwiki", {})
        if qid in full_ids or (sitelink and sitelink.get("title") in titles):
            full_ids.add(qid)
            raw[qid] = line
    referenced = set()
    for qid in full_ids:
        for statements in json.loads(raw[qid]).get("claims", {}).values():
            for st in statements:
                dv = st["mainsnak"].get("datavalue", {})
                if dv.get("type") == "wikibase-entityid":
                    referenced.add(dv["value"]["id"])
    trimmed: dict[str, str] = {}
    for qid, line in dump_lines(WIKIDATA):
        if qid in referenced and qid not in full_ids:
            item = json.loads(line)
            keep = {
                k: item[k] for k in ("type", "id", "labels", "descriptions", "aliases") if k in item
            }
            keep["claims"] = (
                {"P31": item["claims"]["P31"]} if "P31" in item.get("claims", {}) else {}
            )
            keep["sitelinks"] = {}
            trimmed[qid] = json.dumps(keep, ensure_ascii=False, separators=(",", ":"))
    lines = [raw[q] for q in sorted(full_ids, key=lambda q: int(q[1:]))]
    lines += [trimmed[q] for q in sorted(trimmed, key=lambda q: int(q[1:]))]
    body = ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")
    with (
        (out_dir / "wikidata.json.gz").open("wb") as raw_fh,
        gzip.GzipFile(filename="", fileobj=raw_fh, mode="wb", compresslevel=9, mtime=0) as gz,
    ):  # mtime 0 and no name: byte-reproducible
        gz.write(body)
    (out_dir / "pages.jsonl").write_text("\n".join(sorted(page_lines)) + "\n", encoding="utf-8")
    print(f"{len(page_lines)} pages, {len(full_ids)} full items, {len(trimmed)} trimmed items")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=12)
    s.add_argument("--total", type=int, default=280)
    s.add_argument("--world", type=Path, help="an ingested real-sample World (default: ingest one)")
    c = sub.add_parser("slice")
    c.add_argument("--gold", type=Path, required=True)
    c.add_argument("--out-dir", type=Path, required=True)
    args = parser.parse_args()
    if args.cmd == "sample":
        with tempfile.TemporaryDirectory() as tmp:
            world = args.world
            if world is None:
                world = Path(tmp) / "world"
                ingest(world)
            rows = sample(world, args.seed, args.total)
        with args.out.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        cells = Counter((r["split"], r["stratum"], r["kind"]) for r in rows)
        print(f"{len(rows)} rows: {dict(sorted(cells.items()))}")
    else:
        gold = [json.loads(x) for x in args.gold.read_text("utf-8").splitlines() if x.strip()]
        cut_slice(gold, args.out_dir)


if __name__ == "__main__":
    main()
