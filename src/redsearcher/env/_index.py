"""The BM25 text index (tantivy): analysis, building, querying and snippets.

Why these choices:

- **Analysis.** Latin-script fields use a custom analyzer: simple tokenizer, long-token filter,
  lowercase, accent folding, the language's stop words and its Snowball stemmer, so "universities"
  finds "university" and "the film directed by" does not drag every document containing "the"
  into the candidate set (stop words are most of a posting list's length: dropping them made
  queries several times faster on a 1M-document index).
- **CJK.** Chinese (and Japanese, Korean) text has no spaces, so a word tokenizer sees one
  token per sentence. Documents in a CJK language are *also* indexed in separate fields as
  overlapping character bigrams (``北京大学`` -> ``北京 京大 大学``), the segmentation-free scheme
  CJK search engines use; queries that contain CJK characters search those fields too. Bigrams
  are made here, in Python, and handed to tantivy pre-tokenized, because tantivy's n-gram
  tokenizer would also make grams across spaces and Latin words.
- **Queries** are built from analyzed terms (no query-parser syntax, so any text an agent types
  is a valid query): each term is a SHOULD clause on the body and on the title (boosted); a
  quoted phrase adds a boosted phrase clause but never filters. Results are ordered by score and
  then by row, so ties come out the same on every build.
- **Storage.** The index holds only a fast ``row`` field per document; titles and texts live in
  the memory-mapped document store (``_store``), which keeps the index small and a visit cheap.
- **Snippets** are cut from the best window of the page's matched terms. For ASCII text (almost
  every page) the matches are found without building a token object per word: the simple
  tokenizer's words are ``[a-z0-9]+`` runs of the lowercased text, each distinct word is
  analyzed once (and remembered), and only the words that analyze to a query term are located.
  Other text goes through tantivy's analyzer itself. Both give the same spans.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import tantivy

from redsearcher.env._config import IndexConfig
from redsearcher.env._prune import Clause, MaxScorePruner

INDEX_DIR: Final = "tantivy"
EN_TOKENIZER: Final = "rs_en"
CJK_TOKENIZER: Final = "rs_cjk"
MAX_TOKEN_BYTES: Final = 40

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_OR_WORD = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_PHRASE = re.compile(r'"([^"]+)"')
_OPERATOR = re.compile(r"\b(?:site|filetype|ext):\S+|\b(?:intitle|inurl|intext|allintitle):", re.I)
_SPACE = re.compile(r"\s+")
# ASCII bytes -> themselves lowercased when alphanumeric, else a space: after this translation the
# simple tokenizer's tokens of an ASCII text are exactly the words of ``bytes.split()``.
_ASCII_TOKENS: Final = bytes(
    ord(chr(b).lower()) if chr(b).isalnum() else ord(" ") for b in range(256)
)
STEM_CACHE_SIZE: Final = 500_000


def english_analyzer(config: IndexConfig) -> tantivy.TextAnalyzer:
    """The analyzer of the Latin-script fields (see the module docstring)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TOKEN_BYTES))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if config.stop_words:
        builder = builder.filter(tantivy.Filter.stopword(config.stemmer_language))
    return builder.filter(tantivy.Filter.stemmer(config.stemmer_language)).build()


def has_cjk(text: str) -> bool:
    """True when ``text`` contains a Chinese, Japanese or Korean character."""
    return _CJK_CHAR.search(text) is not None


def cjk_tokens(text: str) -> list[tuple[str, int, int]]:
    """``(term, start, end)``: overlapping bigrams of CJK runs, lowercased other words.

    A CJK run of one character is kept as a unigram so that a one-character query still
    matches.
    """
    out: list[tuple[str, int, int]] = []
    for m in _CJK_OR_WORD.finditer(text):
        run, start = m.group(), m.start()
        if not has_cjk(run[0]):
            out.append((run.lower(), start, m.end()))
        elif len(run) == 1:
            out.append((run, start, start + 1))
        else:
            out.extend((run[i : i + 2], start + i, start + i + 2) for i in range(len(run) - 1))
    return out


def _pretokenized(text: str) -> tantivy.PreTokenizedString:
    tokens = [tantivy.Token(t, i, s, e) for i, (t, s, e) in enumerate(cjk_tokens(text))]
    return tantivy.PreTokenizedString(text, tokens)


def index_schema() -> tantivy.Schema:
    """The tantivy schema: a fast row number and four analyzed, unstored text fields."""
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("row", fast=True)
    sb.add_text_field("title", tokenizer_name=EN_TOKENIZER)
    sb.add_text_field("text", tokenizer_name=EN_TOKENIZER)
    sb.add_text_field("title_cjk", tokenizer_name=CJK_TOKENIZER)
    sb.add_text_field("text_cjk", tokenizer_name=CJK_TOKENIZER)
    return sb.build()


def _register(index: tantivy.Index, config: IndexConfig) -> None:
    index.register_tokenizer(EN_TOKENIZER, english_analyzer(config))
    # Only used if something tokenizes these fields itself; documents arrive pre-tokenized.
    index.register_tokenizer(
        CJK_TOKENIZER,
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, 2))
        .filter(tantivy.Filter.lowercase())
        .build(),
    )


MAX_TIE_FETCH: Final = 10_000


def top_rows(
    searcher: tantivy.Searcher, query: tantivy.Query, k: int, offset: int
) -> list[tuple[int, float]]:
    """Hits ``offset .. offset + k`` as ``(row, score)``, ordered by score, then by row.

    Tantivy breaks score ties by segment and position, which depend on how a multi-threaded
    build happened to interleave documents. To make pages the same on every build, hits are
    fetched until the whole group tied with the page's last score is in hand (up to
    ``MAX_TIE_FETCH``), then sorted by row.
    """
    limit = offset + k + max(k, 10)
    while True:
        hits = searcher.search(query, limit=limit, count=False).hits
        edge = offset + k
        if len(hits) < limit or len(hits) <= edge or limit >= MAX_TIE_FETCH:
            break
        if hits[-1][0] != hits[edge - 1][0]:
            break
        limit *= 4
    if len(hits) <= offset:
        return []
    rows = searcher.fast_field_values("row", [addr for _, addr in hits])
    ranked = sorted(
        ((int(r or 0), float(score)) for (score, _), r in zip(hits, rows, strict=True)),
        key=lambda rs: (-rs[1], rs[0]),
    )
    return ranked[offset : offset + k]


class IndexWriter:
    """Stream documents into a new on-disk tantivy index; ``commit`` once at the end.

    Args:
        directory: An empty directory for the index.
        config: Heap size and thread count of the writer, analysis settings.
    """

    def __init__(self, directory: Path, config: IndexConfig) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(index_schema(), path=str(directory), reuse=False)
        _register(self._index, config)
        threads = config.num_threads or os.cpu_count() or 1
        heap = max(config.writer_heap_mb, 16 * threads) * 2**20
        self._writer = self._index.writer(heap_size=heap, num_threads=threads)

    def add(self, row: int, title: str, text: str, *, cjk: bool = False) -> None:
        """Queue one document (tantivy's threads analyze it)."""
        doc = tantivy.Document(row=row, title=title, text=text)
        if cjk:
            doc.add_pre_tokenized_text("title_cjk", _pretokenized(title))
            doc.add_pre_tokenized_text("text_cjk", _pretokenized(text))
        self._writer.add_document(doc)

    def commit(self) -> None:
        """Commit and wait for background merges, so the directory is complete."""
        self._writer.commit()
        self._writer.wait_merging_threads()


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """An analyzed query: stemmed terms, CJK bigrams, and quoted phrases as positioned terms."""

    terms: tuple[str, ...]
    cjk_terms: tuple[str, ...] = ()
    phrases: tuple[tuple[tuple[int, str], ...], ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when nothing in the query is searchable (only stop words or punctuation)."""
        return not (self.terms or self.cjk_terms)


#: Per process: ASCII word -> its analyzed term ("" when the analyzer drops it), and
#: term -> the ASCII words seen that analyze to it.
_TermCache = tuple[dict[bytes, str], dict[str, set[bytes]]]


def encodable(text: str) -> str:
    r"""``text`` with anything UTF-8 cannot encode (lone surrogates) replaced by ``?``.

    tantivy takes Rust strings, so a query holding a lone surrogate (a JSON ``"\ud800"``)
    raised ``UnicodeEncodeError`` out of the look-up; replaced, it is punctuation the analyzer
    drops, and the rest of the query is searched.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


class TextIndex:
    """An opened text index: search returns ``(row, score)`` pairs; snippets come from here too.

    Args:
        directory: The tantivy directory written by ``IndexWriter``.
        config: The config the index was built with (analysis must match).
    """

    def __init__(self, directory: Path, config: IndexConfig) -> None:
        self.config = config
        self._index = tantivy.Index.open(str(directory))
        _register(self._index, config)
        self._index.config_reader(reload_policy="manual")
        self._schema = self._index.schema
        self._searcher = self._index.searcher()
        self.analyzer = english_analyzer(config)
        self._terms: _TermCache = ({}, {})
        self._pruner = MaxScorePruner(
            self._searcher, self._schema, functools.partial(top_rows, self._searcher)
        )

    @property
    def num_docs(self) -> int:
        """Documents in the index."""
        return self._searcher.num_docs

    @property
    def searcher(self) -> tantivy.Searcher:
        """The shared tantivy searcher (for benchmarks measuring the raw engine)."""
        return self._searcher

    def plan(self, query: str) -> QueryPlan:
        """Analyze ``query`` (search operators such as ``site:`` are dropped)."""
        query = _OPERATOR.sub(" ", encodable(query))
        phrases = []
        for quoted in _PHRASE.findall(query):
            tokens = self.analyzer.pre_tokenize(quoted).tokens
            if len(tokens) > 1:
                first = tokens[0].position
                phrases.append(tuple((t.position - first, t.text) for t in tokens))
        text = query.replace('"', " ")
        cjk = _unique(t for t, _, _ in cjk_tokens(text) if has_cjk(t)) if has_cjk(text) else ()
        return QueryPlan(_unique(self.analyzer.analyze(text)), cjk, tuple(phrases))

    def clauses(self, plan: QueryPlan) -> list[Clause]:
        """The term clauses of a plan, in query order: body, then boosted title, per term."""
        boost = self.config.title_boost
        out: list[Clause] = []
        for title, body, terms in (
            ("title", "text", plan.terms),
            ("title_cjk", "text_cjk", plan.cjk_terms),
        ):
            for term in terms:
                out.append((body, term, 1.0))
                if boost > 0:
                    out.append((title, term, boost))
        return out

    def query(self, plan: QueryPlan) -> tantivy.Query:
        """The tantivy query of a plan: a disjunction of boosted term and phrase clauses."""
        s = self._schema
        clauses = [self._pruner.term_query(c) for c in self.clauses(plan)]
        for words in plan.phrases:
            for name in ("text", "title"):
                phrase = tantivy.Query.phrase_query(s, name, list(words))
                clauses.append(tantivy.Query.boost_query(phrase, self.config.phrase_boost))
        occur = tantivy.Occur.Should
        return tantivy.Query.boolean_query([(occur, q) for q in clauses])

    def search(self, plan: QueryPlan, k: int, offset: int = 0) -> list[tuple[int, float]]:
        """The ``k`` best ``(row, score)`` after ``offset``, by score then row.

        Term-only Latin-script queries go through MaxScore pruning (``_prune``), which returns
        the same page as the full query without scoring every posting of a common word.
        """
        if plan.empty or k <= 0:
            return []
        full = self.query(plan)
        if plan.phrases or plan.cjk_terms:
            return top_rows(self._searcher, full, k, offset)
        return self._pruner.top(self.clauses(plan), full, k, offset)

    def snippet(self, text: str, plan: QueryPlan, *, cjk: bool = False) -> str:
        """The best-matching window of ``text`` (``config.snippet_chars`` wide) for ``plan``."""
        width = self.config.snippet_chars
        terms = plan.terms
        spans: list[tuple[int, int, str]]
        if len(text) <= width or not terms:
            spans = []  # a short text is its own snippet, wherever the terms are
        elif text.isascii():
            spans = self._ascii_spans(text, terms)
        else:
            wanted = set(terms)
            spans = [
                (t.char_offset_from, t.char_offset_to, t.text)
                for t in self.analyzer.pre_tokenize(text).tokens
                if t.text in wanted
            ]
        if cjk and plan.cjk_terms and len(text) > width:
            wanted = set(plan.cjk_terms)
            spans += [(s, e, t) for t, s, e in cjk_tokens(text) if t in wanted]
            spans.sort()
        return best_window(text, spans, width)

    def _ascii_spans(self, text: str, terms: tuple[str, ...]) -> list[tuple[int, int, str]]:
        """``(start, end, term)`` of the words of ASCII ``text`` that analyze to one of ``terms``.

        The same spans tantivy's analyzer gives: on ASCII text its simple tokenizer's tokens are
        the alphanumeric runs, and every filter acts on one token at a time, so a word's term
        does not depend on its context. Each distinct word is analyzed once per process (a
        bounded cache) and indexed under its term, so a page costs a byte translation, a split
        and a few set operations in C, plus a ``find`` per occurrence of a matching word.
        """
        stems, forms_of = self._terms
        if len(stems) >= STEM_CACHE_SIZE:  # replaced, never cleared: readers hold the old pair
            stems, forms_of = self._terms = ({}, {})
        tokens = text.encode("ascii").translate(_ASCII_TOKENS)
        words = set(tokens.split())
        for word in words.difference(stems):
            analyzed = self.analyzer.analyze(word.decode("ascii"))
            term = analyzed[0] if analyzed else ""
            # forms_of first: a thread that finds ``word`` in stems must find it under its term.
            forms_of.setdefault(term, set()).add(word)
            stems[word] = term
        padded = b" " + tokens + b" "
        spans = []
        for term in terms:
            forms = forms_of.get(term)
            if not forms:
                continue
            for word in forms & words:
                needle = b" " + word + b" "
                step = len(word) + 1  # the closing space may open the next occurrence
                at = padded.find(needle)
                while at >= 0:
                    spans.append((at, at + len(word), term))
                    at = padded.find(needle, at + step)
        spans.sort()
        return spans


def best_window(text: str, spans: list[tuple[int, int, str]], width: int) -> str:
    """The ``width``-character window of ``text`` that covers the most distinct query terms.

    Ties go to more matches, then to the earliest window; the window is centred on its matches,
    snapped to word boundaries and marked with ``...`` where it cuts the text. Without matches
    the text's beginning is returned. Deterministic.
    """
    if len(text) <= width:
        return " ".join(text.split())  # = _SPACE.sub(" ", text).strip(), several times faster
    # Slide over the spans: the window at spans[i] holds spans[i:j]. Keep the first window with
    # the most distinct terms, then the most matches.
    best = -1
    best_distinct = best_matches = best_end = 0
    counts: dict[str, int] = {}  # terms of spans[i:j]
    n = len(spans)
    everything = len({term for _, _, term in spans})
    j = 0
    for i in range(n):
        if best_distinct == everything and best_matches >= n - i:
            break  # no later window can hold more terms or more matches
        limit = spans[i][0] + width
        while j < n and spans[j][1] <= limit:
            term = spans[j][2]
            counts[term] = counts.get(term, 0) + 1
            j += 1
        if j > i:
            distinct, matches = len(counts), j - i
            if distinct > best_distinct or (distinct == best_distinct and matches > best_matches):
                best, best_distinct, best_matches, best_end = i, distinct, matches, spans[j - 1][1]
            term = spans[i][2]
            if counts[term] == 1:
                del counts[term]
            else:
                counts[term] -= 1
    first = spans[best][0] if best >= 0 else 0
    lo = max(0, min(first - (width - (best_end - first)) // 2, len(text) - width))
    hi = lo + width
    if lo > 0 and not text[lo - 1].isspace():  # do not start inside a word
        m = _SPACE.search(text, lo, first)
        lo = m.end() if m else lo
    if hi < len(text) and not text[hi].isspace():  # nor end inside one: at the last space run
        floor = max(best_end, lo + width // 2)
        k = hi - 1
        while k >= floor and not text[k].isspace():
            k -= 1
        if k >= floor:
            while k > floor and text[k - 1].isspace():
                k -= 1
            hi = k
    body = " ".join(text[lo:hi].split())
    return ("..." if lo > 0 else "") + body + ("..." if hi < len(text) else "")


class FieldIndex:
    """A small tantivy index of records with named, boosted text fields (scholar, places).

    Rows are numbered in the order records were added, like the document store's. Analysis is
    the Latin-script analyzer of ``config``; ties are ordered by row.

    Args:
        directory: The index directory (written by ``FieldIndex.build``).
        boosts: Field name -> weight of a match in that field.
        config: Analysis settings.
    """

    def __init__(self, directory: Path, boosts: dict[str, float], config: IndexConfig) -> None:
        self.boosts = boosts
        self._index = tantivy.Index.open(str(directory))
        _register(self._index, config)
        self._index.config_reader(reload_policy="manual")
        self._schema = self._index.schema
        self._searcher = self._index.searcher()
        self._analyzer = english_analyzer(config)

    @staticmethod
    def build(
        directory: Path,
        records: Iterable[dict[str, str]],
        boosts: dict[str, float],
        config: IndexConfig,
    ) -> int:
        """Index ``records`` (field name -> text) into ``directory``; returns the count."""
        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("row", fast=True)
        for name in boosts:
            sb.add_text_field(name, tokenizer_name=EN_TOKENIZER)
        directory.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(sb.build(), path=str(directory), reuse=False)
        _register(index, config)
        writer = index.writer(heap_size=64 * 2**20, num_threads=1)
        n = 0
        for n, record in enumerate(records, start=1):
            writer.add_document(tantivy.Document(row=n - 1, **record))
        writer.commit()
        writer.wait_merging_threads()
        return n

    def search(self, query: str, k: int, offset: int = 0) -> list[tuple[int, float]]:
        """The ``k`` best ``(row, score)`` after ``offset``, by score then row."""
        terms = _unique(self._analyzer.analyze(_OPERATOR.sub(" ", encodable(query))))
        if not terms or k <= 0:
            return []
        clauses = [
            (
                tantivy.Occur.Should,
                tantivy.Query.boost_query(tantivy.Query.term_query(self._schema, name, t), w),
            )
            for t in terms
            for name, w in self.boosts.items()
        ]
        return top_rows(self._searcher, tantivy.Query.boolean_query(clauses), k, offset)
