"""Goal-directed visit, offline: passages, the extractive summarizer, goal_visit's rendering."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from redsearcher.config import load_config
from redsearcher.env import LocalEnvironment
from redsearcher.env._types import Page, Paper, Place, Route, SearchHit
from redsearcher.errors import ConfigError
from redsearcher.model import TokenCounter, estimate_text_tokens
from redsearcher.tools._render import SEPARATOR, render_visit, render_visit_failed
from redsearcher.tools._visit import (
    Extract,
    VisitConfig,
    extract_passages,
    goal_visit,
    split_passages,
    visit_counter,
    visit_pages,
)

ARTICLE = """Marta Velden is a film director from Harwick. She studied in Lumby.

The Quiet Harbor is a 1990 film directed by M. Velden. Its cast includes her daughter Ilse \
Velden and Oskar Brandt.

Velden retired in 2005. She lives in Caldora."""


class FakeEnv:
    """A minimal SearchEnvironment: pages by URL, everything else empty."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages
        self.visited: list[str] = []

    def search(self, query: str, k: int = 10, page: int = 1) -> list[SearchHit]:
        return []

    def visit(self, url: str) -> Page | None:
        self.visited.append(url)
        return self.pages.get(url)

    def scholar(self, query: str, k: int = 10, page: int = 1) -> list[Paper]:
        return []

    def places(self, query: str, k: int = 10, page: int = 1) -> list[Place]:
        return []

    def route(self, origin: str, destination: str, mode: str = "driving") -> Route | None:
        return None


def page(url: str, text: str, title: str = "T") -> Page:
    return Page(doc_id="D", url=url, title=title, text=text, kind="encyclopedia")


# -- passages and tokens ---------------------------------------------------------------------


def test_split_passages_by_paragraph_and_sentence() -> None:
    passages = split_passages(ARTICLE, max_tokens=96, counter=TokenCounter())
    assert [(p.paragraph, p.text) for p in passages] == [
        (0, "Marta Velden is a film director from Harwick."),
        (0, "She studied in Lumby."),
        (1, "The Quiet Harbor is a 1990 film directed by M. Velden."),  # no split after "M."
        (1, "Its cast includes her daughter Ilse Velden and Oskar Brandt."),
        (2, "Velden retired in 2005."),
        (2, "She lives in Caldora."),
    ]
    assert [p.index for p in passages] == list(range(6))


def test_split_passages_lines_and_long_sentences() -> None:
    text = "# Heading\n- item one\n- item two\n\n" + " ".join(["word"] * 100) + "."
    passages = split_passages(text, max_tokens=10, counter=TokenCounter())
    assert [p.text for p in passages[:3]] == ["# Heading", "- item one", "- item two"]
    windows = passages[3:]
    assert len(windows) > 1
    assert all(TokenCounter().count_text(p.text) <= 10 for p in windows)
    assert " ".join(p.text for p in windows) == " ".join(["word"] * 100) + "."
    # one "word" longer than the budget is cut so it fits: 10 tokens are 35 ASCII characters
    (cut,) = split_passages("x" * 100, max_tokens=10, counter=TokenCounter())
    assert cut.text == "x" * 35
    assert split_passages("  \n\n ", max_tokens=10, counter=TokenCounter()) == []


@dataclass
class _Encoding:
    ids: list[int]
    offsets: list[tuple[int, int]]


class WhitespaceTokenizer:
    """One token per whitespace-separated word (stands in for a tokenizers.Tokenizer)."""

    def encode(self, sequence: str, /) -> _Encoding:
        offsets, start = [], None
        for i, ch in enumerate(sequence + " "):
            if ch.isspace() and start is not None:
                offsets.append((start, i))
                start = None
            elif not ch.isspace() and start is None:
                start = i
        return _Encoding(list(range(len(offsets))), offsets)


def test_token_counter_estimate_and_tokenizer() -> None:
    # The visit counts with the model package's counter: one rule for the whole package.
    estimate = visit_counter(VisitConfig())
    assert estimate.estimated
    assert estimate.count_text("") == 0
    assert estimate.count_text("abcdefgh") == 3  # ceil(8 / 3.5)
    assert estimate.truncate_text("abcdefghij", 2) == "abcdefg"  # 7 characters are 2 tokens
    assert estimate.truncate_text("abc", 5) == "abc"
    assert estimate.truncate_text("abc", 0) == ""
    # Each non-ASCII character is a token: the cut keeps the estimate within the budget.
    mixed = "ab你好cdefgh世界"
    for budget in range(estimate_text_tokens(mixed) + 2):
        cut = estimate.truncate_text(mixed, budget)
        assert mixed.startswith(cut) and estimate.count_text(cut) <= budget
        assert cut == mixed or estimate.count_text(mixed[: len(cut) + 1]) > budget
    exact = TokenCounter(WhitespaceTokenizer())
    assert exact.count_text("one two  three") == 3
    assert exact.truncate_text("one two  three four", 3) == "one two  three"
    assert exact.truncate_text("one two", 5) == "one two"
    assert exact.truncate_text("one two", 0) == ""


def test_tokenizer_file_needs_tokenizers(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers  # type: ignore[import-not-found]

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "harbor": 1}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(tmp_path / "tokenizer.json"))
    counter = visit_counter(VisitConfig(tokenizer_file=tmp_path / "tokenizer.json"))
    assert not counter.estimated
    assert counter.count_text("the quiet harbor") == 3
    assert counter.truncate_text("the quiet harbor", 2) == "the quiet"


# -- extractive summarizer -------------------------------------------------------------------


def test_extract_ranks_passages_against_the_goal() -> None:
    result = extract_passages(ARTICLE, "Who is in the cast of The Quiet Harbor?")
    assert result.method == "extractive" and result.note is None
    # matching passages, in page order; neighbours of one paragraph share a line
    assert result.evidence == (
        "The Quiet Harbor is a 1990 film directed by M. Velden. "
        "Its cast includes her daughter Ilse Velden and Oskar Brandt."
    )
    assert result.summary == result.evidence  # both score at least half the best


def test_extract_summary_is_the_best_passage_when_others_score_low() -> None:
    result = extract_passages(ARTICLE, "When did Velden retire?")
    assert result.summary == "Velden retired in 2005."
    # every passage naming Velden is evidence, in page order, paragraphs on their own lines
    assert result.evidence.splitlines() == [
        "Marta Velden is a film director from Harwick.",
        "The Quiet Harbor is a 1990 film directed by M. Velden. "
        "Its cast includes her daughter Ilse Velden and Oskar Brandt.",
        "Velden retired in 2005.",
    ]


def test_extract_respects_passage_and_token_budgets() -> None:
    goal = "Velden Harbor cast Harwick Caldora Lumby"
    two = extract_passages(ARTICLE, goal, VisitConfig(max_passages=2))
    assert len(two.evidence.replace("\n", " ").split(". ")) == 2
    tight = extract_passages(ARTICLE, goal, VisitConfig(evidence_tokens=20, passage_tokens=16))
    assert TokenCounter().count_text(tight.evidence) <= 20 + 1  # + the joining character
    assert tight.evidence


def test_extract_without_any_match_shows_the_opening() -> None:
    result = extract_passages(ARTICLE, "zebra xylophone", VisitConfig(max_passages=2))
    assert result.note is not None and "no passage matches" in result.note
    assert result.evidence == "Marta Velden is a film director from Harwick. She studied in Lumby."
    assert result.summary == "Marta Velden is a film director from Harwick."


def test_extract_blank_text() -> None:
    assert extract_passages("   ", "anything") == Extract(
        "", "", "extractive", "the page has no text"
    )


def test_visit_config_validation_and_layering() -> None:
    with pytest.raises(ValueError, match="passage_tokens"):
        VisitConfig(evidence_tokens=50, passage_tokens=60)
    with pytest.raises(ValueError):
        VisitConfig(shrink_factor=1.0)
    config = load_config(
        VisitConfig, "visit", environ={"REDSEARCHER_VISIT__EVIDENCE_TOKENS": "300"}
    )
    assert config.evidence_tokens == 300
    with pytest.raises(ConfigError, match=r"visit\.max_passages"):
        load_config(VisitConfig, "visit", overrides={"max_passages": 0})
    assert VisitConfig.model_fields["evidence_tokens"].description  # docstring per field


# -- goal_visit ------------------------------------------------------------------------------


def test_goal_visit_renders_one_block_per_url_in_order() -> None:
    env = FakeEnv({"https://a.example/x": page("https://a.example/x", ARTICLE)})
    goal = "When did Velden retire?"
    urls = ["https://missing.example/", "https://a.example/x"]
    text = asyncio.run(goal_visit(env, urls, goal))
    extract = extract_passages(ARTICLE, goal)
    assert text == (
        render_visit_failed(urls[0], goal)
        + SEPARATOR
        + render_visit(urls[1], goal, extract.evidence, extract.summary)
    )
    assert sorted(env.visited) == sorted(urls)


def test_goal_visit_blank_page_and_no_urls() -> None:
    env = FakeEnv({"u": page("u", "  \n ")})
    assert asyncio.run(goal_visit(env, ["u"], "g")) == render_visit_failed("u", "g")
    assert asyncio.run(goal_visit(env, [], "g")) == ""


def test_goal_visit_on_a_real_environment(tiny_env: LocalEnvironment) -> None:
    hit = tiny_env.search("Velden family child", k=1)[0]
    assert hit.title == "Velden family"
    goal = "Who is the child of Marta Velden?"
    text = asyncio.run(goal_visit(tiny_env, [hit.url], goal))
    sentence = "Ilse Velden is a child of Marta Velden."
    assert text == render_visit(hit.url, goal, sentence, sentence)


class CountingSummarizer:
    def __init__(self) -> None:
        self.active = 0
        self.peak = 0

    async def summarize(self, page: Page, goal: str, config: VisitConfig) -> Extract:
        self.active += 1
        self.peak = max(self.peak, self.active)
        await asyncio.sleep(0.01)
        self.active -= 1
        return Extract(f"evidence of {page.url}", "s", "llm")


def test_visit_pages_bounds_concurrency_and_keeps_order() -> None:
    pages = {f"u{i}": page(f"u{i}", "text") for i in range(6)}

    async def fetch(url: str) -> Page | None:
        return pages.get(url)

    summarizer = CountingSummarizer()
    outcomes = asyncio.run(
        visit_pages(
            fetch, list(pages), "g", config=VisitConfig(max_concurrency=2), summarizer=summarizer
        )
    )
    assert [o.url for o in outcomes] == list(pages)
    assert [o.extract.evidence for o in outcomes if o.extract] == [
        f"evidence of u{i}" for i in range(6)
    ]
    assert summarizer.peak == 2
