r"""wiki-18-style passages for ``/retrieve``: fixed word windows of a page, the best one first.

Why: Search-R1's corpus (wiki-18, and the corpora built like it) is not made of pages but of
~100-word windows of them, each one line ``"Title"\ntext``; a model trained on it reads short
single-line passages, where our pages run to 2,000 characters with blank lines. The index
ranks whole pages, so passage mode keeps that ranking (the ``topk`` best pages, their scores)
and returns, for each page, one of its windows instead of its text.

Which window: the page's text is split on whitespace into consecutive windows of ``words``
words (the last one shorter), and the window with the best BM25 score for the query, computed
over that page's windows with the visit's tokenizer (:mod:`redsearcher.tools`' ``tokenize``),
is returned; ties, and a query that matches no window (the page matched on its title only),
go to the earliest window. Everything here is a function of the page text and the query, so
the same request gives the same passages on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from redsearcher.tools import BM25, tokenize

__all__ = ["Passage", "best_window", "word_windows"]


@dataclass(frozen=True)
class Passage:
    """One window of a page.

    Attributes:
        index: 0-based position of the window in the page.
        text: The window's words joined by single spaces (one line).
    """

    index: int
    text: str


def word_windows(text: str, words: int) -> list[str]:
    """``text`` as consecutive windows of ``words`` whitespace-separated words, each one line.

    Args:
        text: A page's text.
        words: Words per window (>= 1); the last window holds what is left.

    Returns:
        The windows in page order; none for a text without words.
    """
    if words < 1:
        raise ValueError(f"words must be >= 1, got {words}")
    tokens = text.split()
    return [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def best_window(text: str, query: str, words: int) -> Passage:
    """The window of ``text`` that best answers ``query`` (see the module docstring).

    Args:
        text: A page's text.
        query: The query as the client sent it.
        words: Words per window.

    Returns:
        The best window; an empty one (index 0) for a text without words.
    """
    windows = word_windows(text, words)
    if len(windows) <= 1:
        return Passage(0, windows[0] if windows else "")
    scores = BM25([tokenize(w) for w in windows]).scores(tokenize(query))
    best = max(range(len(windows)), key=lambda i: (scores[i], -i))
    return Passage(best, windows[best])
