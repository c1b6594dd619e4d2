"""The fast snippet and store paths give exactly what the straightforward versions gave.

``TextIndex.snippet`` finds the matches of ASCII pages without tantivy's token objects, and
``best_window`` was rewritten for speed; ``DocStore`` reads values from the Arrow buffers
directly. Each is compared here with a reference: tantivy's own analyzer spans, the previous
``best_window`` (kept below verbatim) and pyarrow's ``as_py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redsearcher.env import IndexConfig
from redsearcher.env._index import IndexWriter, QueryPlan, TextIndex, best_window
from redsearcher.env._store import STORE_FILE, DocStore, DocStoreWriter

_SPACE = re.compile(r"\s+")


def reference_best_window(text: str, spans: list[tuple[int, int, str]], width: int) -> str:
    """``best_window`` as it was before the speed-up (the behaviour to keep)."""
    if len(text) <= width:
        return _SPACE.sub(" ", text).strip()
    best: tuple[int, int, int] | None = None
    best_end = 0
    counts: dict[str, int] = {}
    j = 0
    for i, (start, _, term) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= start + width:
            counts[spans[j][2]] = counts.get(spans[j][2], 0) + 1
            j += 1
        if j > i:
            key = (-len(counts), i - j, i)
            if best is None or key < best:
                best, best_end = key, spans[j - 1][1]
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
    first = spans[best[2]][0] if best is not None else 0
    lo = max(0, min(first - (width - (best_end - first)) // 2, len(text) - width))
    hi = lo + width
    if lo > 0 and not text[lo - 1].isspace():
        m = _SPACE.search(text, lo, first)
        lo = m.end() if m else lo
    if hi < len(text) and not text[hi].isspace():
        cut = [m.start() for m in _SPACE.finditer(text, max(best_end, lo + width // 2), hi)]
        hi = cut[-1] if cut else hi
    body = _SPACE.sub(" ", text[lo:hi]).strip()
    return ("..." if lo > 0 else "") + body + ("..." if hi < len(text) else "")


def reference_spans(
    index: TextIndex, text: str, terms: tuple[str, ...]
) -> list[tuple[int, int, str]]:
    wanted = set(terms)
    return [
        (t.char_offset_from, t.char_offset_to, t.text)
        for t in index.analyzer.pre_tokenize(text).tokens
        if t.text in wanted
    ]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> TextIndex:
    directory = tmp_path_factory.mktemp("snippets") / "idx"
    config = IndexConfig(num_threads=1)
    writer = IndexWriter(directory, config)
    writer.add(0, "a title", "a body")
    writer.commit()
    return TextIndex(directory, config)


# Words that stem together, stop words, digits, a 40+ byte run, case, and what separates tokens.
WORDS = [
    "university", "universities", "University", "UNIVERSITIES", "direct", "directed",
    "directing", "Director", "film", "films", "filming", "the", "of", "and", "The", "a",
    "harbor", "Harbors", "run", "running", "ran", "1999", "born", "x1", "3rd", "caf",
    "x" * 41, "ab" * 20, "quiet", "Quietly",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", "\n\n", ", ", ". ", "_", "-", "'", "(", ")", "\t", "/", ":", ""]

ascii_texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=0, max_size=80
).map(lambda parts: "".join(w + s for w, s in parts))
queries = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ascii_texts, query=queries)
def test_ascii_spans_equal_the_analyzers(index: TextIndex, text: str, query: str) -> None:
    plan = index.plan(query)
    assert index._ascii_spans(text, plan.terms) == reference_spans(index, text, plan.terms)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ascii_texts, query=queries)
def test_snippets_equal_the_reference(index: TextIndex, text: str, query: str) -> None:
    plan = index.plan(query)
    spans = reference_spans(index, text, plan.terms)
    width = index.config.snippet_chars
    assert index.snippet(text, plan) == reference_best_window(text, spans, width)


def test_non_ascii_and_cjk_snippets_equal_the_reference(index: TextIndex) -> None:
    text = ("Café Zürich, the universities' film directors. " * 6) + "在 Harwick 的 北京大学 " * 4
    for query in ("café universities", "zurich directed", "北京大学 film", "the"):
        plan = index.plan(query)
        got = index.snippet(text, plan, cjk=True)
        spans = reference_spans(index, text, plan.terms)
        if plan.cjk_terms:
            from redsearcher.env._index import cjk_tokens

            spans += [(s, e, t) for t, s, e in cjk_tokens(text) if t in set(plan.cjk_terms)]
            spans.sort()
        assert got == reference_best_window(text, spans, index.config.snippet_chars)


def test_the_stem_cache_is_replaced_when_full(
    index: TextIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redsearcher.env._index as module

    monkeypatch.setattr(module, "STEM_CACHE_SIZE", 3)
    plan = QueryPlan(terms=("film",))
    text = "alpha beta gamma delta film " * 10
    for _ in range(3):
        assert index._ascii_spans(text, plan.terms) == reference_spans(index, text, plan.terms)
    assert len(index._terms[0]) <= 6


spaces = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "\u2003", "\x1c", " \n "])
texts = st.lists(
    st.tuples(st.text(alphabet="abcdefgh", min_size=1, max_size=12), spaces), max_size=60
).map(lambda parts: "".join(w + s for w, s in parts))


@settings(max_examples=500, deadline=None)
@given(text=texts, data=st.data(), width=st.integers(min_value=8, max_value=120))
def test_best_window_equals_the_reference(text: str, data: st.DataObject, width: int) -> None:
    words = [(m.start(), m.end(), m.group()[0]) for m in re.finditer(r"\S+", text)]
    spans = sorted(data.draw(st.lists(st.sampled_from(words), unique=True))) if words else []
    assert best_window(text, spans, width) == reference_best_window(text, spans, width)


def test_store_values_equal_pyarrow(tmp_path: Path) -> None:
    writer = DocStoreWriter(tmp_path)
    rows = [
        {
            "doc_id": f"d{i}",
            "url": f"https://www.example{i % 7}.com/page/{i}",
            "title": f"Title {i} é" if i % 3 else "",
            "text": ("北京 café text " * (i % 5)) or "x",
            "kind": "news",
            "published": None if i % 2 else f"2020-01-{1 + i % 28:02d}",
            "language": "zh" if i % 4 == 0 else "en",
        }
        for i in range(50)
    ]
    for chunk in (rows[:17], rows[17:18], rows[18:]):  # batches of different sizes
        writer.add({k: [r[k] for r in chunk] for k in rows[0]})
    writer.close()
    store = DocStore(tmp_path)
    table = pa.ipc.open_file(pa.memory_map(str(tmp_path / STORE_FILE))).read_all()
    assert len(store) == table.num_rows == 50
    for i, expected in enumerate(table.to_pylist()):
        assert store.values(i) == tuple(expected.values())
        doc = store.doc(i)
        assert (doc.row, doc.doc_id, doc.published) == (
            i,
            expected["doc_id"],
            expected["published"],
        )
        assert store.value(i, "text") == expected["text"]
        assert store.row_of_url(expected["url"]) == i
    with pytest.raises(IndexError):
        store.values(50)
    store.close()


def test_best_window_prefers_a_later_window_with_more_matches() -> None:
    # The first window holds both terms; the one after the gap holds both and one match more:
    # the slide must not stop at the first window with every term.
    text = "A B " + "x" * 40 + " A B A " + "tail " * 30
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\b[AB]\b", text)]
    for width in (5, 8, 12, 30, 60):
        assert best_window(text, spans, width) == reference_best_window(text, spans, width)
    assert best_window(text, spans, 8).startswith("...A B A")
