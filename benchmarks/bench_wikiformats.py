"""Ingest time of the shared real sample with its Wikipedia pages in each supported format.

The 10k lead summaries of ``/work/shared/realdata`` are written as JSON Lines (as shipped),
Hugging Face Parquet, WikiExtractor ``--json --links``, a CirrusSearch dump (gz) and an
Enterprise HTML dump (tar.gz). The summaries carry no links, so the converter adds the ones a
reader would expect: every other sample title that occurs in a page's text (up to four words,
case-sensitive, whole words) becomes a link with that text as its anchor; Cirrus and
Enterprise pages name their item (from the sample's sitelinks) and list one redirect
(``<title> (redirect)``), so the two-pass reading is exercised. Each format is ingested together
with the Wikidata sample, ``--quiet``, best of ``--rounds`` runs, timed in CPU seconds of the
ingest process (user + system: the shared machine's load inflates wall time); the ratio is
against the same run's JSON Lines ingest (the format and code path used before the format
readers existed).

Usage: python benchmarks/bench_wikiformats.py [--shared /work/shared/realdata] [--rounds 2]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def _pages(shared: Path) -> list[dict[str, str]]:
    with (shared / "enwiki-vital-summaries.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _sitelinks(shared: Path) -> dict[str, str]:
    out = {}
    with gzip.open(shared / "wikidata-sample.json.gz", "rt", encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip().rstrip(",")
            if line in ("[", "]"):
                continue
            item = json.loads(line)
            title = item.get("sitelinks", {}).get("enwiki", {}).get("title")
            if title:
                out[title] = item["id"]
    return out


def _links(text: str, titles: set[str], own: str) -> list[tuple[int, int, str]]:
    words = text.split(" ")
    spans, pos, starts = [], 0, []
    for word in words:
        starts.append(pos)
        pos += len(word) + 1
    taken = -1
    for i in range(len(words)):
        if starts[i] < taken:
            continue
        for n in (4, 3, 2, 1):
            phrase = " ".join(words[i : i + n]).rstrip(".,;:")
            if phrase in titles and phrase != own:
                start = starts[i]
                spans.append((start, start + len(phrase), phrase))
                taken = start + len(phrase)
                break
    return spans


def _marked(text: str, spans: list[tuple[int, int, str]], make: Any) -> str:
    out, pos = [], 0
    for start, end, target in spans:
        out.append(escape(text[pos:start], quote=False))
        out.append(make(target, text[start:end]))
        pos = end
    out.append(escape(text[pos:], quote=False))
    return "".join(out)


def write_inputs(shared: Path, tmp: Path) -> dict[str, Path]:
    pages = _pages(shared)
    items = _sitelinks(shared)
    titles = {p["title"] for p in pages}
    paths = {"jsonl": shared / "enwiki-vital-summaries.jsonl"}
    paths["parquet"] = tmp / "train-00000-of-00001.parquet"
    pq.write_table(
        pa.table(
            {
                "id": [str(i) for i in range(len(pages))],
                "url": [p["url"] for p in pages],
                "title": [p["title"] for p in pages],
                "text": [p["text"] for p in pages],
            }
        ),
        paths["parquet"],
    )
    extractor, cirrus, enterprise = [], [], []
    for n, page in enumerate(pages, start=1):
        title, text = page["title"], page["text"]
        spans = _links(text, titles, title)
        item = items.get(title)
        marked = _marked(text, spans, lambda t, a: f'<a href="{quote(t)}">{escape(a)}</a>')
        extractor.append(
            json.dumps(
                {
                    "id": str(n),
                    "revid": str(n),
                    "url": f"https://en.wikipedia.org/wiki?curid={n}",
                    "title": title,
                    "text": marked,
                }
            )
        )
        doc: dict[str, Any] = {
            "namespace": 0,
            "title": title,
            "text": text,
            "opening_text": text,
            "outgoing_link": [t.replace(" ", "_") for _, _, t in spans],
            "redirect": [{"namespace": 0, "title": f"{title} (redirect)"}],
            "category": [],
        }
        if item:
            doc["wikibase_item"] = item
        cirrus.append(json.dumps({"index": {"_id": str(n)}}))
        cirrus.append(json.dumps(doc, ensure_ascii=False))
        body = _marked(
            text,
            spans,
            lambda t, a: (
                f'<a rel="mw:WikiLink" href="./{quote(t.replace(" ", "_"))}" '
                f'title="{escape(t)}">{escape(a)}</a>'
            ),
        )
        html = (
            f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>"
            f'<section data-mw-section-id="0"><table class="infobox"><tr><td>{escape(title)}'
            f'</td></tr></table><p>{body}<sup class="mw-ref reference" '
            'typeof="mw:Extension/ref"><a href="#cite_note-1">[1]</a></sup></p></section>'
            '<section data-mw-section-id="1"><h2>References</h2><ol class="references"><li>'
            "A source.</li></ol></section></body></html>"
        )
        article: dict[str, Any] = {
            "name": title,
            "identifier": n,
            "url": page["url"],
            "namespace": {"identifier": 0},
            "redirects": [{"name": f"{title} (redirect)", "url": ""}],
            "article_body": {"html": html},
        }
        if item:
            article["main_entity"] = {"identifier": item, "url": ""}
        enterprise.append(json.dumps(article, ensure_ascii=False))
    (tmp / "AA").mkdir()
    paths["wikiextractor"] = tmp / "AA" / "wiki_00"
    paths["wikiextractor"].write_text("\n".join(extractor) + "\n", encoding="utf-8")
    paths["cirrus"] = tmp / "enwiki-cirrussearch-content.json.gz"
    paths["cirrus"].write_bytes(gzip.compress(("\n".join(cirrus) + "\n").encode("utf-8")))
    member = ("\n".join(enterprise) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("enwiki_namespace_0_0.ndjson")
        info.size = len(member)
        archive.addfile(info, io.BytesIO(member))
    paths["enterprise"] = tmp / "enwiki-NS0-ENTERPRISE-HTML.json.tar.gz"
    paths["enterprise"].write_bytes(buffer.getvalue())
    return paths


def ingest(shared: Path, wikipedia: Path, out: Path) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [
        sys.executable,
        "-c",
        "from redsearcher._cli import main; main()",
        "world",
        "ingest",
        "--wikidata",
        str(shared / "wikidata-sample.json.gz"),
        "--wikipedia",
        str(wikipedia),
        "--out",
        str(out),
        "--overwrite",
        "--quiet",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"ingest of {wikipedia} failed: {done.stderr}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return cpu, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--shared", type=Path, default=Path("/work/shared/realdata"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        paths = write_inputs(args.shared, tmp)
        best: dict[str, float] = {}
        manifests: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):  # interleaved, so load changes hit every format alike
            for fmt, path in paths.items():
                wall, manifest = ingest(args.shared, path, tmp / f"world-{fmt}")
                best[fmt] = min(best.get(fmt, wall), wall)
                manifests[fmt] = manifest
    print("| format | CPU s (best) | ratio to jsonl | documents | links_to | provenance |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for fmt, wall in best.items():
        counts = manifests[fmt]["report"]["counts"]
        print(
            f"| {fmt} | {wall:.2f} | {wall / best['jsonl']:.2f}x | "
            f"{counts.get('wikipedia_documents', 0):,} | {counts.get('links_to', 0):,} | "
            f"{manifests[fmt]['counts']['provenance']:,} |"
        )


if __name__ == "__main__":
    main()
