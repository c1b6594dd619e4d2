"""Exact top-k for term disjunctions without scoring every posting (MaxScore, two passes).

Why: tantivy prunes top-k disjunctions itself (block-WAND), but its Python binding always
collects through a ``MultiCollector``, which scores every posting of every term. A query such
as "Sofia Yarwick born in" then pays for all ~200,000 documents that contain "born" per million
to find ten that contain "Yarwick". MaxScore (Turtle & Flood, 1995) avoids that with a bound:

- Each clause ``c`` (a term in a field, with its boost) has a highest score ``max_c`` over the
  whole index. It is measured once per process with a top-1 search of the clause alone and
  remembered (the same number the clause contributes inside the full query: same statistics,
  same BM25 weight).
- A document that matches only the clauses of a set ``S`` scores at most ``sum(max_c, S)``.
  So if ``theta`` is a lower bound on the page's last score, the longest run of low-``max_c``
  clauses whose sum stays under ``theta`` is *non-essential*: a document matching none of the
  other, *essential* clauses cannot reach the page. Scoring only the documents that match an
  essential clause, by every clause, gives the full query's page.
- ``theta`` comes from a cheap first pass: the rare clauses alone (few postings). A document's
  score there is a partial sum of its full score, so the page's last partial score is at most
  the page's last full score.

The restricted query is a chain of ``required AND optionally c`` over the clauses in the full
query's order, starting from the essential disjunction scored 0: tantivy then *seeks* each
clause's postings (skip lists) for the candidates instead of merging them, and each candidate's
score is the sum of the same clause scores, in clause order, as in the full query. Queries
whose postings are small anyway, whose split would cost more than merging everything
(``SEEK_COST``), or with phrases or CJK terms, run as the full query.
``tests/env/test_prune.py`` compares pages with the full query's, scores bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import tantivy

#: (field, term, boost) of one SHOULD term clause of a text query.
Clause = tuple[str, str, float]

#: Below this many postings in all (or this share of the documents, if more), the full query
#: is cheap: no pruning.
DIRECT_POSTINGS: Final = 20_000
DIRECT_SHARE: Final = 0.02
#: Clauses with at most this many postings (or this share of the documents, if more) make the
#: first, cheap pass that bounds theta. Relative, so that a 10M-document index still finds
#: rare clauses (a surname there has ~8,000 postings); tuned on 1M and 10M generated Worlds.
SEED_POSTINGS: Final = 5_000
SEED_SHARE: Final = 0.005
#: Cost of scoring one candidate against one clause by seeking, relative to merging one
#: posting in the full disjunction (measured on a 1M-document World: ~25 ns vs ~10 ns).
SEEK_COST: Final = 2.5
#: Clause statistics remembered per process before the cache is replaced.
STATS_CACHE_SIZE: Final = 1_000_000
#: Relative and absolute slack on ``bound``: tantivy sums f32 scores, the bound is f64.
_REL, _ABS = 1e-5, 1e-6

Search = Callable[[tantivy.Query, int, int], list[tuple[int, float]]]


class MaxScorePruner:
    """Pages of term disjunctions, as the full query would rank them, via MaxScore.

    Args:
        searcher: The index's searcher.
        schema: Its schema (to build term queries).
        search: ``(query, k, offset) -> [(row, score)]``, the ranking (``top_rows``).
    """

    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, search: Search) -> None:
        self._searcher = searcher
        self._schema = schema
        self._search = search
        self._stats: dict[Clause, tuple[int, float]] = {}

    def term_query(self, clause: Clause) -> tantivy.Query:
        """The query of one clause (boosted unless the boost is 1)."""
        name, term, boost = clause
        query = tantivy.Query.term_query(self._schema, name, term)
        return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)

    def stats(self, clause: Clause) -> tuple[int, float]:
        """``(document frequency, highest score)`` of ``clause``, measured once per process."""
        found = self._stats.get(clause)
        if found is None:
            df = int(self._searcher.doc_freq(clause[0], clause[1]))
            top = self._searcher.search(self.term_query(clause), 1, count=False).hits if df else []
            found = (df, float(top[0][0]) if top else 0.0)
            if len(self._stats) >= STATS_CACHE_SIZE:
                self._stats = {}  # replaced, never cleared: another thread may be reading it
            self._stats[clause] = found
        return found

    def top(
        self, clauses: list[Clause], full: tantivy.Query, k: int, offset: int
    ) -> list[tuple[int, float]]:
        """The page ``offset .. offset + k`` of ``full`` (the disjunction of ``clauses``)."""
        stats = [self.stats(c) for c in clauses]
        total = sum(df for df, _ in stats)
        n = self._searcher.num_docs
        seed_limit = max(SEED_POSTINGS, int(n * SEED_SHARE))
        rare = [i for i, (df, _) in enumerate(stats) if 0 < df <= seed_limit]
        direct = total <= max(DIRECT_POSTINGS, int(n * DIRECT_SHARE))
        if direct or not rare or len(rare) == len(clauses):
            return self._search(full, k, offset)
        # The rare clauses alone: each document's partial score is at most its full score, so
        # the page's last partial score is a lower bound on the page's last full score.
        seed = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self.term_query(clauses[i])) for i in rare]
        )
        # Only the score at the page's edge matters here, not which of several tied documents
        # holds it: one plain top-(offset + k), no tie resolution (ties of partial scores are
        # common and resolving them re-ran the seed up to four times).
        edge = offset + k
        partial = self._searcher.search(seed, edge, count=False).hits
        if len(partial) < edge:
            return self._search(full, k, offset)
        theta = float(partial[edge - 1][0])
        # Non-essential: the longest low-max prefix whose bound stays under theta.
        essential = set(range(len(clauses)))
        bound = 0.0
        for i in sorted(essential, key=lambda i: stats[i][1]):
            if _slack(bound + stats[i][1]) >= theta:
                break
            bound += stats[i][1]
            essential.discard(i)
        if not essential or _chain_cost(stats, essential, len(clauses)) >= total:
            return self._search(full, k, offset)  # merging everything is cheaper
        return self._restricted(clauses, essential, k, offset)

    def _restricted(
        self, clauses: list[Clause], essential: set[int], k: int, offset: int
    ) -> list[tuple[int, float]]:
        should, must = tantivy.Occur.Should, tantivy.Occur.Must
        candidates = tantivy.Query.boolean_query(
            [(should, self.term_query(clauses[i])) for i in sorted(essential)]
        )
        query = tantivy.Query.boost_query(candidates, 0.0)  # matches, adds nothing
        for clause in clauses:
            query = tantivy.Query.boolean_query([(must, query), (should, self.term_query(clause))])
        return self._search(query, k, offset)


def _chain_cost(stats: list[tuple[int, float]], essential: set[int], n: int) -> float:
    """The restricted query's cost in units of one posting merged by the full query."""
    return SEEK_COST * n * sum(stats[i][0] for i in essential)


def _slack(bound: float) -> float:
    return bound * (1 + _REL) + _ABS
