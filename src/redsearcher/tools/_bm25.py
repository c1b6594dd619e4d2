"""A small, exact BM25 over the passages of one page, for goal-directed visits.

Why not the tantivy index: a visit ranks the few dozen passages of a single page against the
agent's goal, on the fly, and the statistics that matter (document frequency, average length)
are those of *that page's* passages, not of the corpus. Building a tantivy index per visit would
cost more than the ranking; this is a few dozen lines of pure Python whose scores are checked
against a hand-computed example in ``tests/env/test_bm25.py``.

Scoring is Okapi BM25 with Lucene's non-negative IDF (the default of Lucene, Elasticsearch and
``bm25s``)::

    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
    score(q, d) = sum over distinct t in q of
                  idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

Query terms are de-duplicated (a goal that repeats a word does not weigh it twice). Lucene 8+
and ``bm25s``' "lucene" method leave out the constant ``(k1 + 1)`` factor, which changes no
ranking: their scores are ours divided by ``k1 + 1``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = ["BM25", "STOPWORDS", "stem", "tokenize"]

_WORD = re.compile(r"\w+", re.UNICODE)

#: Function words dropped by :func:`tokenize`: on a page they match everywhere and only add noise
#: to a goal such as "find the date of birth of X". Kept short on purpose: negations, numbers and
#: question words that can carry meaning ("not", "first", "who") stay.
STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "been", "by", "did", "do", "does", "for", "from",
    "had", "has", "have", "he", "her", "his", "i", "in", "is", "it", "its", "me", "my", "of",
    "on", "or", "our", "s", "she", "so", "that", "the", "their", "them", "they", "this", "those",
    "to", "was", "we", "were", "which", "will", "with", "you", "your"
})  # fmt: skip


_SUFFIXES = ("ing", "ed", "es", "s", "e")


def stem(token: str) -> str:
    """A light suffix-stripper, so a goal's "retire" meets a page's "retired".

    For tokens longer than four characters, the first of ``-ing``, ``-ed``, ``-es``, ``-s``
    (not ``-ss``) and ``-e`` that leaves at least three characters is removed, then a final
    ``y`` becomes ``i``: retire/retired/retires -> ``retir``, study/studies/studied -> ``studi``,
    films -> ``film``, glass/glasses -> ``glass``. Crude next to Porter's stemmer, but both
    sides of a visit go through it, and consistency is what ranking needs.
    """
    if len(token) > 4:
        for suffix in _SUFFIXES:
            if (
                token.endswith(suffix)
                and len(token) - len(suffix) >= 3
                and not (suffix == "s" and token.endswith("ss"))
            ):
                token = token[: -len(suffix)]
                break
    return token[:-1] + "i" if token.endswith("y") and len(token) > 3 else token


def tokenize(
    text: str, *, stopwords: frozenset[str] = STOPWORDS, stemming: bool = True
) -> list[str]:
    """Lower-cased word tokens of ``text`` without ``stopwords`` (Unicode word-character runs).

    Args:
        text: Any text.
        stopwords: Tokens to drop (before stemming); ``frozenset()`` keeps every token.
        stemming: Apply :func:`stem` to each token.

    Returns:
        The tokens in order; ``"Velden's 1990 films"`` gives ``["velden", "1990", "film"]``.
    """
    tokens = [t for t in _WORD.findall(text.lower()) if t not in stopwords]
    return [stem(t) for t in tokens] if stemming else tokens


class BM25:
    """Okapi BM25 over a fixed collection of tokenized documents (here: a page's passages).

    Args:
        documents: One token list per document.
        k1: Term-frequency saturation; larger lets repeated terms count for more.
        b: Length normalization in ``[0, 1]``; 0 ignores document length.

    Raises:
        ValueError: for a negative ``k1`` or a ``b`` outside ``[0, 1]``.
    """

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.5, b: float = 0.75):
        if k1 < 0:
            raise ValueError(f"k1 must be >= 0, got {k1}")
        if not 0.0 <= b <= 1.0:
            raise ValueError(f"b must be in [0, 1], got {b}")
        self.k1 = k1
        self.b = b
        self._tfs = [Counter(doc) for doc in documents]
        self._lengths = [len(doc) for doc in documents]
        total = sum(self._lengths)
        self.avgdl = total / len(self._lengths) if self._lengths else 0.0
        self._df: Counter[str] = Counter()
        for tf in self._tfs:
            self._df.update(tf.keys())

    def __len__(self) -> int:
        return len(self._tfs)

    def idf(self, term: str) -> float:
        """Lucene's IDF of ``term``: ``ln(1 + (N - df + 0.5) / (df + 0.5))``, always >= 0."""
        n, df = len(self._tfs), self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: Sequence[str]) -> list[float]:
        """The BM25 score of every document for the tokenized ``query``, in document order.

        Args:
            query: Query tokens (tokenize them like the documents); duplicates count once.

        Returns:
            One score per document; 0.0 for a document sharing no term with the query.
        """
        out = [0.0] * len(self._tfs)
        if not self._tfs or self.avgdl == 0.0:
            return out
        k1, b = self.k1, self.b
        for term in dict.fromkeys(query):
            if term not in self._df:
                continue
            idf = self.idf(term)
            for i, tf in enumerate(self._tfs):
                f = tf.get(term, 0)
                if f:
                    norm = k1 * (1.0 - b + b * self._lengths[i] / self.avgdl)
                    out[i] += idf * f * (k1 + 1.0) / (f + norm)
        return out

    def top(self, query: Sequence[str], k: int) -> list[int]:
        """Indices of the ``k`` best documents, best first; ties keep document order.

        Documents scoring 0 can be among them; filter on :meth:`scores` for matches only.
        """
        scores = self.scores(query)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return order[: max(k, 0)]
