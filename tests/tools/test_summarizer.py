"""The LLM summarizer of visits against the scripted OpenAI-compatible server, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import pytest

from redsearcher.env._types import Page
from redsearcher.env._wire import jina_text
from redsearcher.model import OpenAIChatModel, TokenCounter
from redsearcher.testing import (
    RecordedRequest,
    ScriptedChatServer,
    ScriptedModel,
    Step,
    StepError,
)
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
KEY = {"OPENAI_API_KEY": "sk-test"}


def summarize(
    server: ScriptedChatServer, config: VisitConfig = CONFIG, **options: object
) -> Extract:
    """Summarize PAGE through the package's chat client against the scripted server (HTTP)."""
    settings = SummarizerConfig(base_url=server.base_url, model="scripted", backoff_s=0.0,
                                **options)  # type: ignore[arg-type]  # fmt: skip

    async def main() -> Extract:
        async with LLMSummarizer.from_config(settings, environ=KEY) as llm:
            return await llm.summarize(PAGE, GOAL, config)

    return asyncio.run(main())


def summarize_in_process(model: ScriptedModel, config: VisitConfig = CONFIG) -> Extract:
    """Summarize PAGE with an in-process scripted model (no HTTP server)."""

    async def main() -> Extract:
        async with LLMSummarizer(model) as llm:
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
    # The request is the summarizer's, as before the one chat client: no top_p, stop or tools.
    assert set(request.body) == {"model", "messages", "temperature"}
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
    # The model package's estimate: 100 tokens of ASCII text are 350 characters.
    assert content_of(server.chat_requests[0]) == jina_text(PAGE)[:350]
    assert TokenCounter().count_text(jina_text(PAGE)[:350]) == 100
    assert TokenCounter().count_text(jina_text(PAGE)[:351]) == 101


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


def test_transient_errors_are_retried_by_one_loop_only() -> None:
    # The client's retries (http_retries=1: two requests), then the fallback: the summarizer
    # adds no retry loop of its own on top (a third request would find no step left).
    steps = [Step(error=StepError(status=503)), Step(error=StepError(status=429))]
    with ScriptedChatServer(steps) as server:
        result = summarize(server, http_retries=1)
    assert [r.status for r in server.chat_requests] == [503, 429]
    assert result.method == "extractive"
    assert result.note is not None and "HTTP 429" in result.note


def test_a_rejected_key_falls_back_with_the_reason() -> None:
    with ScriptedChatServer([Step(error=StepError(status=401, message="bad key"))]) as server:
        result = summarize(server)
    assert result.method == "extractive"
    assert result.note is not None and "rejected the API key" in result.note


def test_unreachable_endpoint_falls_back() -> None:
    config = SummarizerConfig(base_url="http://127.0.0.1:9/v1", model="m", http_retries=0)

    async def main() -> Extract:
        async with LLMSummarizer.from_config(config) as llm:
            return await llm.summarize(PAGE, GOAL, CONFIG)

    result = asyncio.run(main())
    assert result.method == "extractive"
    assert result.note is not None and "ConnectError" in result.note


def test_goal_visit_renders_the_llm_extract() -> None:
    class OnePage:
        def visit(self, url: str) -> Page | None:
            return PAGE if url == PAGE.url else None

    async def main(server: ScriptedChatServer) -> str:
        config = SummarizerConfig(base_url=server.base_url, model="scripted")
        async with LLMSummarizer.from_config(config, environ={}) as llm:
            return await goal_visit(OnePage(), [PAGE.url], GOAL, summarizer=llm)  # type: ignore[arg-type]

    with ScriptedChatServer([Step(content=json.dumps(GOOD))]) as server:
        text = asyncio.run(main(server))
    assert text == render_visit(PAGE.url, GOAL, GOOD["evidence"], GOOD["summary"])
    assert "authorization" not in server.chat_requests[0].headers


def test_from_config_builds_the_package_chat_client() -> None:
    config = SummarizerConfig(
        base_url="http://x/v1/", model="m", max_output_tokens=64, timeout_s=30.0,
        http_retries=5, backoff_s=0.5, api_key_env="SUMMARY_KEY",
    )  # fmt: skip
    llm = LLMSummarizer.from_config(config, environ={"SUMMARY_KEY": "k"})
    assert isinstance(llm.model, OpenAIChatModel)
    assert llm.model.url == "http://x/v1/chat/completions"
    chat = llm.model.config
    assert chat.api_key is not None and chat.api_key.get_secret_value() == "k"
    assert (chat.name, chat.sampling.temperature, chat.sampling.max_tokens) == ("m", 0.7, 64)
    assert chat.sampling.top_p is None and chat.sampling.stop == []
    assert (chat.timeout_s, chat.connect_timeout_s) == (30.0, 30.0)
    assert (chat.max_retries, chat.backoff_s) == (5, 0.5)
    assert LLMSummarizer.from_config(config, environ={}).model.config.api_key is None


def test_max_output_tokens_is_sent() -> None:
    with ScriptedChatServer([Step(content=json.dumps(GOOD))]) as server:
        summarize(server, max_output_tokens=64)
    assert server.chat_requests[0].body["max_tokens"] == 64


# -- in process: a ScriptedModel stands in for the endpoint ----------------------------------


def test_in_process_model_is_sent_the_prompt_alone() -> None:
    with ScriptedModel([Step(content=json.dumps(GOOD))]) as model:
        result = summarize_in_process(model)
    assert result == Extract(GOOD["evidence"], GOOD["summary"], "llm")
    (call,) = model.calls
    assert call.tools == [] and [m.role for m in call.messages] == ["user"]
    assert content_of(model.requests[0]) == jina_text(PAGE)
    assert not model.closed  # a model passed in is the caller's to close


def test_context_length_exceeded_shrinks_to_70_percent_and_retries() -> None:
    too_long = StepError(status=400, message="prompt is too long", code="context_length_exceeded")
    steps = [Step(error=too_long), Step(error=too_long), Step(content=json.dumps(GOOD))]
    with ScriptedModel(steps) as model:
        result = summarize_in_process(model)
    assert result == Extract(GOOD["evidence"], GOOD["summary"], "llm")
    assert [type(c.error).__name__ for c in model.calls] == [
        "ContextLengthExceeded", "ContextLengthExceeded", "NoneType",
    ]  # fmt: skip
    sizes = [len(content_of(r)) for r in model.requests]
    assert sizes[1] == int(sizes[0] * 0.7) and sizes[2] == int(sizes[1] * 0.7)


def test_unavailable_model_falls_back_at_once() -> None:
    with ScriptedModel([Step(error=StepError(status=503, message="overloaded"))]) as model:
        result = summarize_in_process(model)
    assert result.method == "extractive" and len(model.calls) == 1
    assert result.note is not None and result.note.startswith("summarizer failed:")
    assert "overloaded" in result.note


def test_garbage_from_an_in_process_model_falls_back_after_every_attempt() -> None:
    with ScriptedModel([Step(content="no JSON, sorry")] * 2) as model:
        result = summarize_in_process(model, VisitConfig(summarizer_attempts=2))
    assert result.method == "extractive" and len(model.calls) == 2
    assert result.note is not None and "unusable after 2 attempt(s): no JSON" in result.note


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
