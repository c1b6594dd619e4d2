"""Rendering planned documents to text: titles, layouts by kind, and fact sentences.

Each document draws from its own ``random.Random`` seeded by (seed, document index), so the
text of a document does not depend on which worker renders it or in what order.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from redsearcher.world._schema import DOCUMENT_KINDS, PRECISION_DAY
from redsearcher.world.generate._facts import PRED_KIND, PRED_NAMES
from redsearcher.world.generate._phrases import LEADS, MONTHS, PHRASES
from redsearcher.world.generate._plan import Plan
from redsearcher.world.generate._sampler import TYPE_NAMES, Graph

_LEAD_PREDICATES = {
    "occupation",
    "category",
    "genre",
    "industry",
    "venue_type",
    "event_category",
    "award_field",
    "main_subject",
}
_HEADLINES = (
    "what we know",
    "a closer look",
    "new details",
    "the story so far",
    "in profile",
    "five things to know",
)
_NOISE = (
    "Has anyone come across {a}? I keep mixing it up with {b}.",
    "Our weekly roundup mentions {a}, {b} and more.",
    "Not sure whether {a} and {b} are connected at all.",
    "Someone at dinner brought up {a}; later the talk turned to {b}.",
    "Searching for {a} mostly turns up pages about {b}.",
    "Notes to self: look into {a}. Also {b}?",
)


def doc_id(d: int) -> str:
    """Stable document id."""
    return f"D{d}"


def entity_id(e: int) -> str:
    """Stable entity id."""
    return f"E{e}"


@dataclass
class TextRealizer:
    """Renders documents ``[lo, hi)`` of a plan to Arrow-ready columns."""

    graph: Graph
    plan: Plan
    seed: int

    def batch(self, lo: int, hi: int) -> dict[str, list[Any]]:
        """Render documents ``lo .. hi-1``."""
        cols: dict[str, list[Any]] = {
            k: []
            for k in ("id", "title", "text", "kind", "published", "language", "mentions", "about")
        }
        prov_doc: list[str] = []
        prov_fact: list[int] = []
        for d in range(lo, hi):
            rng = random.Random(self.seed * 1_000_003 + d)
            kind = DOCUMENT_KINDS[int(self.plan.doc_kind[d])]
            facts = self.plan.fact[self.plan.ptr[d] : self.plan.ptr[d + 1]].tolist()
            e = int(self.plan.doc_entity[d])
            if e < 0:
                title, text, mentions, published = self._noise(
                    d - self.plan.n_entity_docs, kind, rng
                )
                about = None
            else:
                title, text, mentions, published = self._page(e, kind, facts, rng)
                about = entity_id(e)
            did = doc_id(d)
            cols["id"].append(did)
            cols["title"].append(title)
            cols["text"].append(text)
            cols["kind"].append(kind)
            cols["published"].append(published)
            cols["language"].append("en")
            cols["mentions"].append([entity_id(m) for m in mentions])
            cols["about"].append(about)
            prov_doc.extend([did] * len(facts))
            prov_fact.extend(f + 1 for f in facts)
        cols["source_url"] = [None] * (hi - lo)
        cols["_prov_doc"] = prov_doc
        cols["_prov_fact"] = prov_fact
        return cols

    # -- pages about an entity ---------------------------------------------------------------
    def _page(
        self, e: int, kind: str, facts: list[int], rng: random.Random
    ) -> tuple[str, str, list[int], str | None]:
        g, fc = self.graph, self.graph.facts
        label = g.labels[e]
        etype = TYPE_NAMES[int(g.etype[e])]
        own = [f for f in facts if int(fc.subj[f]) == e]
        lead = [f for f in own if PRED_NAMES[fc.pred[f]] in _LEAD_PREDICATES][:1]
        rest = [f for f in facts if f not in lead]
        rng.shuffle(rest)
        register = kind if kind in LEADS else "formal"
        sentences = [self._sentence(f, rng, register) for f in lead + rest]
        mentions = [e]
        for f in facts:
            for x in (int(fc.subj[f]), int(fc.obj[f])):
                if x >= 0 and x not in mentions:
                    mentions.append(x)
        twin = g.twin_of[e] >= 0 or etype in ("film", "album", "book")
        published: str | None = None
        if kind == "encyclopedia":
            title = f"{label} ({g.descriptions[e]})" if twin and etype != "person" else label
            text = _paragraphs(sentences or [f"{label} is {_a(g.descriptions[e])}."], rng)
        elif kind == "paper_abstract":
            title = label
            year = int(g.year[e])
            published = str(year)
            body = " ".join(sentences)
            text = (
                f"{label}\n\nAbstract. {body} We describe the setting, the method and the results."
            )
        elif kind == "news":
            title = f"{label}: {rng.choice(_HEADLINES)}"
            published = _date(rng, max(2000, int(g.year[e]) if g.year[e] else 2000))
            text = "Staff report. " + (" ".join(sentences) or f"Little is known about {label}.")
        elif kind == "forum":
            title = rng.choice(
                (
                    f"Thread: anyone know about {label}?",
                    f"Question about {label}",
                    f"{label} - discussion",
                )
            )
            published = _date(rng, 2005)
            body = " ".join(sentences) or f"I heard the name {label} but know nothing else."
            text = f"Posted by user{rng.randrange(10_000)}: {body} Hope that helps."
        elif kind == "homepage":
            title = rng.choice((f"{label} - Official Site", f"About {label}", f"{label} | Home"))
            text = f"Welcome to the page of {label}. " + " ".join(sentences)
        else:  # listing
            title = {
                "city": f"People and places of {label}",
                "person": f"{label}: works and credits",
                "film": f"{label}: cast and crew",
                "country": f"{label} at a glance",
            }.get(etype, f"{label}: quick facts")
            text = title + "\n" + "\n".join(f"- {x}" for x in sentences)
        return title, text.strip(), mentions, published

    def _sentence(self, f: int, rng: random.Random, register: str) -> str:
        g, fc = self.graph, self.graph.facts
        pred = PRED_NAMES[fc.pred[f]]
        kind = PRED_KIND[fc.pred[f]]
        s = g.labels[int(fc.subj[f])]
        on, y = "", ""
        if kind == "entity":
            o = g.labels[int(fc.obj[f])]
            if fc.qual[f]:
                y = f" in {fc.qual[f].split(chr(34))[-2]}"
        elif kind == "date":
            o, on = _format_date(str(fc.text[f]), int(fc.prec[f]), rng)
        elif kind == "quantity":
            o = _format_number(float(fc.amount[f]), rng)
        else:
            o = str(fc.text[f])
        template = rng.choice(PHRASES[pred])
        sentence = template.format(s=s, o=o, on=on, a=_a(o), y=y)
        lead = rng.choice(LEADS.get(register, ("",)))
        if lead and template.startswith(
            ("The ", "There ", "By ", "As ", "Visitors ", "In ", "Shooting ", "Among ", "You ")
        ):
            sentence = sentence[0].lower() + sentence[1:]
        return lead + sentence

    # -- noise -----------------------------------------------------------------------------
    def _noise(
        self, j: int, kind: str, rng: random.Random
    ) -> tuple[str, str, list[int], str | None]:
        p = self.plan
        ents = p.noise_ent[p.noise_ptr[j] : p.noise_ptr[j + 1]].tolist()
        names = [self.graph.labels[x] for x in ents]
        lines = [
            rng.choice(_NOISE).format(a=names[i], b=names[(i + 1) % len(names)])
            for i in range(len(names) - 1)
        ]
        if kind == "listing":
            title = rng.choice(("Names to remember", "Further reading", "See also"))
            text = title + "\n" + "\n".join(f"- {n}" for n in names)
        elif kind == "news":
            title = rng.choice(("Weekend roundup", "In brief", "Around town"))
            text = "In brief. " + " ".join(lines)
        else:
            title = rng.choice(("Thread: recommendations?", "Random question", "Off-topic chat"))
            text = f"Posted by user{rng.randrange(10_000)}: " + " ".join(lines)
        return title, text, list(dict.fromkeys(ents)), _date(rng, 2005)


def _paragraphs(sentences: list[str], rng: random.Random) -> str:
    out, i = [], 0
    while i < len(sentences):
        k = rng.randint(2, 4)
        out.append(" ".join(sentences[i : i + k]))
        i += k
    return "\n\n".join(out)


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _date(rng: random.Random, first_year: int) -> str:
    year = rng.randint(min(first_year, 2025), 2025)
    return f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _format_date(iso: str, precision: int, rng: random.Random) -> tuple[str, str]:
    if precision < PRECISION_DAY or len(iso) < 10:
        return iso[:4], f"in {iso[:4]}"
    y, m, d = iso.split("-")
    month = MONTHS[int(m) - 1]
    text = rng.choice((f"{month} {int(d)}, {y}", f"{int(d)} {month} {y}", iso))
    return text, f"on {text}"


def _format_number(x: float, rng: random.Random) -> str:
    if math.isfinite(x) and x == int(x):
        return f"{int(x):,}" if rng.random() < 0.7 else str(int(x))
    return f"{x:g}"
