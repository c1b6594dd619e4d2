"""The LLM summarizer of visits against the scripted OpenAI-compatible server, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import pytest

from redsearcher.env._types import Page
from redsearcher.env._wire import jina_text
from redsearcher.testing import RecordedRequest, ScriptedChatServer, Step, StepError
from redsearcher.tools._render import render_visit
from redsearcher.tools._summarizer import (
    LLMSummarizer,
    SummarizerConfig,
    build_extractor_prompt,
    load_prompt,
    parse_extractor_output,
)
from redsearcher.tools._visit import Extract, VisitConfig, extract_passages, goal_visit

GOAL = "Who directed The Quiet Harbor?"
TEXT = (
    " ".join(f"Paragraph {i} mentions the weather in Harwick on day {i}." for i in range(40))
    + "\n\nThe Quiet Harbor is a 1990 film directed by Marta Velden."
)
PAGE = Page("D2", "https://www.reelarchive.com/title/the-quiet-harbor", "The Quiet Harbor", TEXT,
            "encyclopedia")  # fmt: skip
GOOD = {
    "rational": "The page names the director.",
    "evidence": "The Quiet Harbor is a 1990 film directed by Marta Velden.",
    "summary": "Marta Velden directed The Quiet Harbor (1990).",
}
CONFIG = VisitConfig(summarizer_attempts=3)


def summarize(
    server: ScriptedChatServer, config: VisitConfig = CONFIG, **options: object
) -> Extract:
    async def main() -> Extract:
        async with LLMSummarizer(server.base_url, "scripted", "sk-test", backoff_s=0.0,
                                 **options) as llm:  # type: ignore[arg-type]  # fmt: skip
            return await llm.summarize(PAGE, GOAL, config)

    return asyncio.run(main())


def content_of(request: RecordedRequest) -> str:
    """The page content inside a recorded extractor prompt."""
    prompt = request.body["messages"][0]["content"]
    head, _, tail = load_prompt("visit_extractor").partition("{webpage_content}")
    head, tail = head.replace("{goal}", GOAL), tail.replace("{goal}", GOAL)
    assert prompt.startswith(head) and prompt.endswith(tail)
    return str(prompt[len(head) : len(prompt) - len(tail)])


def test_good_json() -> None:
    with ScriptedChatServer([Step(content=json.dumps(GOOD))]) as server:
        result = summarize(server)
    assert result == Extract(GOOD["evidence"], GOOD["summary"], "llm")
    (request,) = server.chat_requests
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == "scripted"
    assert request.body["temperature"] == 0.7
    assert content_of(request) == jina_text(PAGE)  # fits the budget: sent whole
    assert f"## User Goal\n{GOAL}" in request.body["messages"][0]["content"]


def test_fenced_json_with_thinking() -> None:
    reply = (
        "<think>Find the director.</think>\nHere you go:\n```json\n" + json.dumps(GOOD) + "\n```"
    )
    with ScriptedChatServer([Step(content=reply)]) as server:
        result = summarize(server)
    assert (result.method, result.evidence) == ("llm", GOOD["evidence"])


def test_garbage_then_good_shrinks_the_content_to_70_percent() -> None:
    steps = [Step(content="I cannot answer in JSON, sorry."), Step(content=json.dumps(GOOD))]
    with ScriptedChatServer(steps) as server:
        result = summarize(server)
    assert result.method == "llm" and result.note is None
    first, second = (content_of(r) for r in server.chat_requests)
    assert second == first[: int(len(first) * 0.7)]
    assert len(second) == pytest.approx(0.7 * len(first), abs=1)


def test_content_is_truncated_to_the_token_budget_first() -> None:
    with ScriptedChatServer([Step(content=json.dumps(GOOD))]) as server:
        summarize(server, VisitConfig(content_tokens=100))
    assert content_of(server.chat_requests[0]) == jina_text(PAGE)[:400]  # 100 tokens * 4 chars


def test_all_garbage_falls_back_to_extractive() -> None:
    steps = [Step(content="nope"), Step(content='{"evidence": ""}'), Step(content='{"a": 1}')]
    with ScriptedChatServer(steps) as server:
        result = summarize(server)
    expected = extract_passages(PAGE.text, GOAL, CONFIG)
    assert (result.method, result.evidence, result.summary) == (
        "extractive",
        expected.evidence,
        expected.summary,
    )
    assert result.note is not None
    assert result.note.startswith("summarizer output unusable after 3 attempt(s): missing")
    sizes = [len(content_of(r)) for r in server.chat_requests]
    assert sizes[1] == int(sizes[0] * 0.7) and sizes[2] == int(sizes[1] * 0.7)


def test_too_short_output_is_retried() -> None:
    short = json.dumps({"rational": "", "evidence": "Velden.", "summary": "Yes."})
    steps = [Step(content=short), Step(content=json.dumps(GOOD))]
    with ScriptedChatServer(steps) as server:
        result = summarize(server)
    assert result.method == "llm" and len(server.chat_requests) == 2


def test_server_error_falls_back() -> None:
    with ScriptedChatServer([Step(error=StepError(status=500, message="boom"))]) as server:
        result = summarize(server, http_retries=0)
    assert result.method == "extractive"
    assert result.note is not None and result.note.startswith("summarizer failed:")
    assert "HTTP 500" in result.note


def test_client_error_is_not_retried_and_falls_back() -> None:
    with ScriptedChatServer([Step(error=StepError(status=400, message="bad model"))]) as server:
        result = summarize(server, http_retries=3)
    assert result.method == "extractive"
    assert result.note is not None and "bad model" in result.note


def test_a_prompt_too_long_for_the_model_is_shrunk_and_retried() -> None:
    too_long = StepError(status=400, message="This model's maximum context length is 2048 tokens.")
    steps = [Step(error=too_long), Step(content=json.dumps(GOOD))]
    with ScriptedChatServer(steps) as server:
        result = summarize(server, http_retries=3)
    assert result.method == "llm" and result.note is None
    first, second = (content_of(r) for r in server.chat_requests)
    assert second == first[: int(len(first) * 0.7)]


def test_a_prompt_still_too_long_after_every_attempt_falls_back() -> None:
    too_long = StepError(status=400, message="prompt is too long", code="context_length_exceeded")
    with ScriptedChatServer([Step(error=too_long)] * 3) as server:
        result = summarize(server)
    assert len(server.chat_requests) == CONFIG.summarizer_attempts
    assert result.method == "extractive"
    assert result.note is not None and "prompt is too long" in result.note


def test_transient_error_is_retried_over_http() -> None:
    steps = [Step(error=StepError(status=503)), Step(content=json.dumps(GOOD))]
    with ScriptedChatServer(steps) as server:
        result = summarize(server, http_retries=1)
    assert result.method == "llm"
    assert [r.status for r in server.chat_requests] == [503, 200]


def test_unreachable_endpoint_falls_back() -> None:
    async def main() -> Extract:
        async with LLMSummarizer("http://127.0.0.1:9/v1", "m", http_retries=0) as llm:
            return await llm.summarize(PAGE, GOAL, CONFIG)

    result = asyncio.run(main())
    assert result.method == "extractive"
    assert result.note is not None and "ConnectError" in result.note


def test_goal_visit_renders_the_llm_extract() -> None:
    class OnePage:
        def visit(self, url: str) -> Page | None:
            return PAGE if url == PAGE.url else None

    async def main(server: ScriptedChatServer) -> str:
        async with LLMSummarizer(server.base_url, "scripted") as llm:
            return await goal_visit(OnePage(), [PAGE.url], GOAL, summarizer=llm)  # type: ignore[arg-type]

    with ScriptedChatServer([Step(content=json.dumps(GOOD))]) as server:
        text = asyncio.run(main(server))
    assert text == render_visit(PAGE.url, GOAL, GOOD["evidence"], GOOD["summary"])
    assert "authorization" not in server.chat_requests[0].headers


def test_from_config_reads_the_key_from_the_environment() -> None:
    config = SummarizerConfig(base_url="http://x/v1/", model="m", max_output_tokens=64)
    llm = LLMSummarizer.from_config(config, environ={"OPENAI_API_KEY": "k"})
    assert llm.url == "http://x/v1/chat/completions"
    assert llm.max_output_tokens == 64
    assert llm._headers == {"Authorization": "Bearer k"}
    assert LLMSummarizer.from_config(config, environ={})._headers == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"evidence": "e", "summary": "s"}', ("e", "s")),
        ('Sure! {"rational": "r", "evidence": ["a", "b"], "summary": "s"} Done.', ("a\nb", "s")),
        ('```\n{"evidence": "e", "summary": "s"}\n```', ("e", "s")),
        ('<think>{"evidence": "x"}</think>{"evidence": "e", "summary": "s"}', ("e", "s")),
    ],
)
def test_parse_extractor_output(raw: str, expected: tuple[str, str]) -> None:
    assert parse_extractor_output(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("no json here", "no JSON object"),
        ("{not json}", "does not parse"),
        ('{"summary": "s"}', "missing or empty field(s): evidence"),
        ('{"evidence": 3, "summary": ""}', "evidence, summary"),
        ('{"evidence": "e", "summary": "s"}', "too short"),
    ],
)
def test_parse_extractor_output_rejects(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_extractor_output(raw, min_chars=10)


def test_prompt_is_packaged_and_substituted_safely() -> None:
    files = resources.files("redsearcher.tools").joinpath("prompts")
    assert files.joinpath("visit_extractor.v1.txt").is_file()
    template = load_prompt("visit_extractor", "v1")
    assert '"rational", "evidence" and "summary"' in template
    prompt = build_extractor_prompt("page {goal} {x}", "the goal")
    assert "page {goal} {x}" in prompt  # page content is never substituted into
    assert "## User Goal\nthe goal" in prompt
    with pytest.raises(FileNotFoundError):
        load_prompt("visit_extractor", "v999")
