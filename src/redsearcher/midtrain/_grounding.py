"""Intent-anchored grounding with distractors (paper §5.1), verified against provenance.

A sample: a central entity, one query intent derived from one of its facts, and a shuffled set
of documents — the entity's own pages plus distractors of three sorts (pages of look-alike
entities, pages of other entities of the same type, pages that mention the entity but do not
state the asked fact). The target quotes the supporting sentence(s) verbatim with their
document id and gives the answer, or — for the share of intents made unanswerable on purpose by
leaving every stating document out — says that the documents do not contain it.

Nothing is written unverified (:func:`verify_target`): every quoted span must occur in its
document as given, provenance must say the document states the fact and the sentence must carry
the value; the answer must equal the fact's canonical value. An LLM rewrite is held to the same
check and falls back to the offline text when it fails.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from redsearcher.midtrain._generator import GenContext, Rejection
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage
from redsearcher.midtrain._surface import (
    Span,
    canonical_value,
    find_span,
    intent_for,
    normalize,
    question_for,
    sentences,
    states,
)
from redsearcher.midtrain._world_index import DocView, FactView, WorldIndex, world_index

__all__ = [
    "GROUNDING_SYSTEM",
    "UNANSWERABLE",
    "GroundingGenerator",
    "GroundingOptions",
    "verify_target",
]

VERSION = "grounding/1"
UNANSWERABLE = "The documents do not contain this information."
GROUNDING_SYSTEM = (
    "You answer a question using only the documents given. Quote every sentence that supports "
    'the answer verbatim, as a line `- [document id] "sentence"`, then give the answer on a '
    f"final line `Answer: ...`. If no document states it, answer `Answer: {UNANSWERABLE}`."
)
REWRITE_INSTRUCTION = (
    "Rewrite this grounded answer so it reads naturally: you may rephrase the intent line and "
    'add one short sentence of reasoning, but copy every evidence line `- [id] "..."` '
    "character for character and keep the final `Answer:` line exactly as it is."
)
_EVIDENCE = re.compile(r'^\s*-\s*\[([^\]]+)\]\s*"(.*)"\s*$')
_ANSWER = re.compile(r"^\s*Answer:\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class GroundingOptions:
    """Knobs of the grounding generator (the mixture config's ``options.grounding``)."""

    unanswerable: float = 0.2
    """Share of intents made unanswerable on purpose."""
    own_docs: int = 3
    """At most this many of the central entity's own pages."""
    look_alike_docs: int = 2
    same_type_docs: int = 2
    mention_docs: int = 2
    max_doc_chars: int = 6_000
    """Longer documents are cut (at a sentence end) so a sample stays within Stage I's 32K."""
    prose: float = 0.5
    """In Worlds with knowledge-base pages (``kind: database``, ingested Worlds): the share of
    answerable intents drawn from facts a prose page states, so the data is not mostly
    ``Date of death: 1886`` lines. Generated Worlds have prose pages only."""

    @classmethod
    def from_mapping(cls, data: object) -> GroundingOptions:
        """From the config's dict (unknown keys rejected by the dataclass)."""
        return cls(**data) if isinstance(data, dict) else cls()


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    ends = [b for _, b in sentences(text) if b <= limit]
    return text[: ends[-1]] if ends else text[:limit]


def render_documents(docs: Sequence[DocView]) -> str:
    """The documents as the model sees them: id, title, text."""
    return "\n\n".join(
        f'<document id="{d.id}" title="{d.title}">\n{d.text}\n</document>' for d in docs
    )


def offline_target(intent: str, spans: Sequence[Span], answer: str | None) -> str:
    """The template target: intent, verbatim evidence lines, answer (or the refusal)."""
    lines = [f"Intent: {intent}."]
    if spans and answer is not None:
        lines.append("Evidence:")
        lines += [f'- [{s.doc_id}] "{s.text}"' for s in spans]
        lines.append(f"Answer: {answer}")
    else:
        lines.append("Evidence: none of the documents states it.")
        lines.append(f"Answer: {UNANSWERABLE}")
    return "\n".join(lines)


def verify_target(
    index: WorldIndex, target: str, fact: FactView, docs: Sequence[DocView], answerable: bool
) -> str | None:
    """Why ``target`` fails verification (a reason slug), or ``None`` when it passes."""
    by_id = {d.id: d for d in docs}
    evidence: list[tuple[str, str]] = []
    answer: str | None = None
    for line in target.splitlines():
        ev = _EVIDENCE.match(line)
        if ev:
            evidence.append((ev.group(1), ev.group(2)))
        m = _ANSWER.match(line)
        if m:
            answer = m.group(1)
    if answer is None:
        return "no_answer_line"
    if not answerable:
        if evidence:
            return "evidence_for_unanswerable"
        return None if normalize(answer) == normalize(UNANSWERABLE) else "answer_mismatch"
    if not evidence:
        return "no_evidence"
    stating = {int(r) for r in index.stating_docs(fact.row)}
    for doc_id, span in evidence:
        doc = by_id.get(doc_id)
        if doc is None:
            return "unknown_source"
        if not span or span not in doc.text:
            return "span_not_in_source"
        if doc.row not in stating or not states(index, fact, doc, span):
            return "span_does_not_state_fact"
    value = canonical_value(index, fact)
    if value is None or normalize(answer) != normalize(value):
        return "answer_mismatch"
    return None


class GroundingGenerator:
    """Intent-anchored grounding with distractors (Stage I)."""

    kind: Kind = "grounding"
    stage: Stage = "I"

    def check(self, ctx: GenContext) -> None:
        """Fail early when the World lacks documents or provenance (``WorldIndex`` says which)."""
        world_index(ctx)

    def generate(self, ctx: GenContext, n: int, seed: int) -> Iterator[MidtrainSample | Rejection]:
        """Yield ``n`` verified samples (deterministic per seed); see the module docstring."""
        index = world_index(ctx)
        opts = GroundingOptions.from_mapping(dict(ctx.kind_options(self.kind)))
        counts = np.diff(index.about_ptr)
        centrals = np.nonzero(counts > 0)[0]
        if not len(centrals):
            return
        prose = index.prose_centrals if bool(index.is_database.any()) else centrals[:0]
        rng = random.Random(f"grounding:{seed}")
        used: set[tuple[int, int, bool]] = set()
        made = attempts = 0
        while made < n and attempts < 20 * n + 100:
            attempts += 1
            want_prose = len(prose) > 0 and rng.random() < opts.prose
            pool = prose if want_prose else centrals
            ent = int(pool[rng.randrange(len(pool))])
            result = self._one(ctx, index, opts, rng, ent, used, want_prose)
            if isinstance(result, Rejection):
                yield result
                continue
            sample = result.model_copy(update={"id": f"grounding-{seed}-{made}"})
            made += 1
            yield sample

    # -- one sample ----------------------------------------------------------------------------
    def _one(
        self,
        ctx: GenContext,
        index: WorldIndex,
        opts: GroundingOptions,
        rng: random.Random,
        ent: int,
        used: set[tuple[int, int, bool]],
        want_prose: bool = False,
    ) -> MidtrainSample | Rejection:
        textual = [int(r) for r in index.facts_of(ent) if index.fact(int(r)).kind != "coordinate"]
        if not textual:
            return Rejection(self.kind, "no_textual_fact", index.ids[ent])
        answerable = rng.random() >= opts.unanswerable
        own_rows = [int(r) for r in index.docs_about(ent)]
        rng.shuffle(own_rows)
        if want_prose and answerable:  # its prose pages first, so the cut keeps them
            own_rows.sort(key=lambda d: bool(index.is_database[d]))
        own_rows = own_rows[: opts.own_docs]
        if answerable:
            # the evidence: the prose pages when asked for prose, else any own page
            evidence = {d for d in own_rows if not (want_prose and index.is_database[d])}
            choices = [
                f for f in textual if evidence.intersection(int(d) for d in index.stating_docs(f))
            ]
            if not choices:
                return Rejection(self.kind, "no_stated_fact", index.ids[ent])
        else:
            choices = textual
        frow = choices[rng.randrange(len(choices))]
        key = (ent, frow, answerable)
        if key in used:
            return Rejection(self.kind, "repeat", index.ids[ent])
        used.add(key)
        fact = index.fact(frow)
        stating = {int(d) for d in index.stating_docs(frow)}
        if not answerable:
            own_rows = [d for d in own_rows if d not in stating]
        docs = [self._doc(index, d, opts) for d in own_rows]
        docs += self._distractors(index, opts, rng, ent, stating, {d.row for d in docs})
        if not docs:
            return Rejection(self.kind, "no_documents", index.ids[ent])
        rng.shuffle(docs)
        spans: list[Span] = []
        for doc in docs:
            if doc.row in stating:
                span = find_span(index, fact, doc)
                if span is not None:
                    spans.append(span)
        value = canonical_value(index, fact)
        if value is None:
            return Rejection(self.kind, "no_textual_value", str(fact.id))
        if answerable and not spans:
            return Rejection(self.kind, "span_not_found", f"fact {fact.id}")
        if not answerable and any(
            states(index, fact, d, d.text[a:b]) for d in docs for a, b in sentences(d.text)
        ):
            return Rejection(self.kind, "unanswerable_leak", f"fact {fact.id}")
        subject = index.labels[ent]
        question = question_for(index, fact)
        if index.look_alikes(ent) and index.descriptions[ent]:
            question = question.replace(subject, f"{subject} ({index.descriptions[ent]})", 1)
        intent = intent_for(index, fact)
        target = offline_target(intent, spans, value if answerable else None)
        failure = verify_target(index, target, fact, docs, answerable)
        if failure is not None:  # the templates are wrong: never write it
            return Rejection(self.kind, f"offline_{failure}", f"fact {fact.id}")
        source: dict[str, object] = {
            "world_hash": index.world_hash,
            "generator": VERSION,
            "entity": index.ids[ent],
            "fact_id": fact.id,
            "answerable": answerable,
            "documents": [d.id for d in docs],
            "rewrite": "offline",
        }
        if ctx.rewriter is not None:
            rewritten = ctx.rewriter.rewrite(REWRITE_INSTRUCTION, target)
            reason = (
                "no_reply"
                if rewritten is None
                else verify_target(index, rewritten, fact, docs, answerable)
            )
            source["rewriter"] = ctx.rewriter.name
            if reason is None and rewritten is not None:
                target = rewritten.strip()
                source["rewrite"] = "llm"
            else:
                source["rewrite"] = "fallback"
                source["fallback_reason"] = reason
        user = f"Question: {question}\n\nDocuments:\n\n{render_documents(docs)}"
        messages = [
            MidtrainMessage(role="system", content=GROUNDING_SYSTEM),
            MidtrainMessage(role="user", content=user),
            MidtrainMessage(role="assistant", content=target, loss_weight=1.0),
        ]
        return MidtrainSample(
            id="",
            kind=self.kind,
            stage=self.stage,
            messages=messages,
            text=f"{user}\n\n{target}",
            question=question,
            answer_entities=[fact.object] if answerable and fact.object else [],
            evidence_docs=[s.doc_id for s in spans] if answerable else [],
            source=source,
        )

    def _doc(self, index: WorldIndex, row: int, opts: GroundingOptions) -> DocView:
        doc = index.doc(row)
        text = _cut(doc.text, opts.max_doc_chars)
        if text is doc.text:
            return doc
        return DocView(doc.row, doc.id, doc.title, text, doc.kind, doc.about)

    def _distractors(
        self,
        index: WorldIndex,
        opts: GroundingOptions,
        rng: random.Random,
        ent: int,
        stating: set[int],
        taken: set[int],
    ) -> list[DocView]:
        """Look-alikes' pages, same-type pages, and pages mentioning ``ent`` without the fact."""
        picked: list[int] = []

        def take(rows: Sequence[int], k: int) -> None:
            pool = [r for r in dict.fromkeys(rows) if r not in taken and r not in stating]
            rng.shuffle(pool)
            for r in pool[:k]:
                taken.add(r)
                picked.append(r)

        alikes: list[int] = []
        for other in index.look_alikes(ent):
            alikes.extend(int(d) for d in index.docs_about(other))
        take(alikes, opts.look_alike_docs)
        same = index.entities_of_type(index.types[ent])
        pages: list[int] = []
        for _ in range(4 * opts.same_type_docs):
            if not len(same):
                break
            other = int(same[rng.randrange(len(same))])
            if other != ent:
                about = index.docs_about(other)
                if len(about):
                    pages.append(int(about[rng.randrange(len(about))]))
        take(pages, opts.same_type_docs)
        mentions = [
            int(d) for d in index.docs_mentioning(ent) if index.about_of(int(d)) != index.ids[ent]
        ]
        take(mentions, opts.mention_docs)
        return [self._doc(index, r, opts) for r in picked]
