r"""The one ReAct loop: question → model → tool calls → results → … → answer.

One loop for every model: what differs between a natively tool-calling model and a Qwen/Hermes
text-protocol one lives in the protocol object (:mod:`redsearcher.model._protocols`), chosen by
the model's configured ``protocol``; context management lives in the strategy
(:mod:`._context`); running tools in :mod:`._execute`. This module only sequences them and keeps
the record.

:func:`run_episode` does not raise for model or tool misbehaviour. Every episode ends with an
explicit termination:

* ``answer`` — the model gave ``<answer>…</answer>`` (or, under ``rollback_answer``, did so when
  asked at the context limit);
* ``max_turns`` / ``max_tool_calls`` — a limit was reached; with ``answer_at_limit`` the model
  is asked once for a final answer, which becomes the prediction;
* ``context_limit`` — the prompt reached the budget and the strategy could not make room;
* ``error`` — the model server stayed unavailable (the rollout router has already tried
  elsewhere), refused a request, the model twice in a row replied with neither a tool call nor
  an answer, a tool crashed, or a file the task comes with (``Task.attachments``) is missing
  or over ``max_attachment_bytes``; ``Trajectory.error`` says which.

A task's attachments are read once when the episode starts; every ``PythonInterpreter`` run of
the episode finds them in its working directory (``Toolbox.with_files``), the question gets one
line naming each (the ``attachment`` prompt), and the trajectory keeps their names, sizes and
SHA-256 digests, never their bytes. An episode not offered ``PythonInterpreter`` gets none of
this: it could not open the files.

A :class:`~redsearcher.errors.ConfigError` (a rejected key, an unknown tool) and cancellation
propagate: they stop the run, not the episode.

Model output is untrusted text. A reply may hold lone surrogates (the model wrote ``\ud800``):
the protocol turns such tool arguments into a malformed call the model reads about, and the loop
replaces every lone surrogate left in the reply (and in what comes back to the model) with
U+FFFD before keeping it — otherwise the next request, the tool's cache key or the run log's
JSON line would fail to encode. ``Trajectory.text_repairs`` counts the replacements.

With a token-exact model (one whose ``chat_template`` is set, ``ModelConfig.tokens``), each
model call sends the segment's token ids instead of the messages (``_tokens.TokenTrace``), and
each closed segment records them; the messages, tool calls and terminations stay the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import redsearcher
from redsearcher._util import replace_surrogates
from redsearcher.agent._config import AgentConfig
from redsearcher.agent._context import AnswerNow, Restart, Stop, Window, build_strategy
from redsearcher.agent._execute import ToolCrashed, execute_calls
from redsearcher.agent._prompts import Prompts
from redsearcher.agent._tokens import TokenTrace
from redsearcher.errors import ConfigError
from redsearcher.log import (
    AttachmentRecord,
    Message,
    Segment,
    Task,
    Termination,
    ToolCallRecord,
    Trajectory,
    TrajectoryProvenance,
    Usage,
)
from redsearcher.model import (
    ChatModel,
    CompletesTokens,
    Completion,
    ContextLengthExceeded,
    CountsTokens,
    DescribesSettings,
    ModelRequestError,
    ModelUnavailable,
    ParsedCall,
    ParsedTurn,
    ProtocolOptions,
    TokenCounter,
    get_protocol,
)
from redsearcher.tools import (
    ATTACHMENT_TOOL,
    AttachmentError,
    Toolbox,
    as_files,
    attachment_name,
    read_attachments,
)

__all__ = ["TokenCount", "run_episode"]

logger = logging.getLogger(__name__)

TokenCount = Callable[[Sequence[Message], Sequence[dict[str, Any]]], int]
"""Counts the prompt tokens of ``(messages, tools)``."""


async def run_episode(
    task: Task,
    *,
    model: ChatModel,
    toolbox: Toolbox,
    config: AgentConfig,
    sample: int = 0,
    world_hash: str | None = None,
    count_tokens: TokenCount | None = None,
) -> Trajectory:
    """Run the agent on ``task`` until it answers or a limit ends the episode.

    Args:
        task: The question (and accepted answers, copied into the record).
        model: The chat model; its ``protocol`` picks the message protocol.
        toolbox: Runs the tools; ``config.tools`` must be among its tools.
        config: Limits, context management, prompts.
        sample: Which sample of the task this is (the trajectory id is ``{task.id}#{sample}``).
        world_hash: The environment's World, for provenance.
        count_tokens: Prompt token counter for the context checks; by default the model's own
            (:class:`~redsearcher.model.CountsTokens`) or the estimate.

    Returns:
        The trajectory, with an explicit termination.

    Raises:
        ConfigError: for a tool missing from the toolbox or a toolbox rendering another style
            than ``config.render_style``, or from the model or a tool (e.g. a rejected API key).
    """
    return await _Episode(task, model, toolbox, config, sample, world_hash, count_tokens).run()


def _offered_tools(
    toolbox: Toolbox, names: Sequence[str], render_style: str
) -> list[dict[str, Any]]:
    # The trajectory records the config's style: a toolbox rendering another would make the
    # record lie about the text the model read.
    if toolbox.style.name != render_style:
        raise ConfigError(
            f"the agent config's render_style is {render_style!r} but the toolbox renders "
            f"{toolbox.style.name!r}; build the toolbox with style={render_style!r}"
        )
    available = {tool.name: tool for tool in toolbox.tools}
    missing = [name for name in names if name not in available]
    if missing:
        raise ConfigError(
            f"agent tools {missing} are not in the toolbox (it has {sorted(available)})"
        )
    return [available[name].openai_schema() for name in names]


class _Episode:
    """The mutable state of one episode; :meth:`run` drives it once."""

    def __init__(
        self,
        task: Task,
        model: ChatModel,
        toolbox: Toolbox,
        config: AgentConfig,
        sample: int,
        world_hash: str | None,
        count_tokens: TokenCount | None,
    ) -> None:
        self.task, self.model, self.toolbox, self.config = task, model, toolbox, config
        self.sample, self.world_hash = sample, world_hash
        self.started_at = datetime.now(UTC).isoformat()
        self.clock = time.perf_counter()
        options = ProtocolOptions(tool_response_role=config.tool_response_role)
        self.protocol = get_protocol(model.protocol, options)
        tools = _offered_tools(toolbox, config.tools, config.render_style)
        self.request_tools = tools if self.protocol.sends_tools else []
        self.prompts = Prompts.load(
            config.prompt_version,
            system_file=config.system_prompt_file,
            current_date=config.current_date,
        )
        self.strategy = build_strategy(config.context.strategy, config.context.params)
        if count_tokens is None:
            count_tokens = model.count_tokens if isinstance(model, CountsTokens) else TokenCounter()
        self.count: TokenCount = count_tokens
        self.limit = config.token_limit
        system = self.protocol.system_message(self.prompts.system, tools)
        # Lone surrogates replaced with U+FFFD in everything kept (see the module docstring).
        self.repairs = 0
        self.question = self._clean(task.question)
        # Files only reach PythonInterpreter runs: offered no such tool, the episode is the
        # question alone (the tool-free regime), with no line about a file it cannot open.
        self.attached = list(task.attachments) if ATTACHMENT_TOOL in config.tools else []
        self.answers = self._clean(list(task.answers))
        self.attachments: list[AttachmentRecord] = []
        self.opening = (system, Message(role="user", content=self._shown_question()))
        self.window: list[Message] = list(self.opening)
        self.segments: list[Segment] = []
        self.first_turn = 0
        self.records: list[ToolCallRecord] = []
        self.turns = 0
        self.executed = 0
        self.nudges = 0
        self.prompt_tokens = self.completion_tokens = self.model_calls = 0
        self.estimated = False
        self.endpoint: str | None = None
        # (messages in the last request, the server's prompt_tokens for them)
        self.anchor: tuple[int, int] | None = None
        self.prediction: str | None = None
        self.error: str | None = None
        # Token-exact episodes (ModelConfig.tokens): the current segment's ids (``_tokens``).
        chat = model.chat_template if isinstance(model, CompletesTokens) else None
        self.chat = chat
        self.trace = None if chat is None else TokenTrace(chat, self.window, self.request_tools)

    # -- attachments -------------------------------------------------------------------------

    def _shown_question(self) -> str:
        """The question as the model reads it: one line per attached file after it."""
        lines = [self.prompts.attached(attachment_name(p)) for p in self.attached]
        if not lines:
            return str(self.question)
        return f"{self.question}\n\n" + "\n".join(self._clean(lines))

    async def _attach(self) -> None:
        """Read the task's files once and give them to every PythonInterpreter run.

        Raises:
            AttachmentError: naming the task and file (missing, too large); the episode ends
                with ``error`` before the model is asked anything.
        """
        if not self.attached:
            return
        found = await asyncio.to_thread(
            read_attachments,
            self.task.id,
            self.attached,
            max_bytes=self.config.max_attachment_bytes,
        )
        self.attachments = [a.record() for a in found]
        self.toolbox = self.toolbox.with_files(as_files(found))

    # -- the cycle ---------------------------------------------------------------------------

    async def run(self) -> Trajectory:
        try:
            await self._attach()
            termination = await self._cycle()
        except (ModelUnavailable, ModelRequestError, ToolCrashed, AttachmentError) as err:
            termination, self.error = "error", f"{type(err).__name__}: {err}"
        logger.debug("episode %s#%d: %s", self.task.id, self.sample, termination)
        return self._trajectory(termination)

    async def _cycle(self) -> Termination:
        config = self.config
        while True:
            if self.turns >= config.max_turns:
                return await self._answer_at_limit("max_turns")
            if config.max_tool_calls is not None and self.executed >= config.max_tool_calls:
                return await self._answer_at_limit("max_tool_calls")
            if self._measure() >= self.limit:
                ended = await self._make_room()
                if ended is not None:
                    return ended
                continue
            try:
                completion = await self._complete()
            except ContextLengthExceeded as err:
                logger.info("episode %s: the server refused the prompt: %s", self.task.id, err)
                ended = await self._make_room()
                if ended is not None:
                    return ended
                continue
            parsed = self._accept(completion)
            answer = self._answer(parsed)
            if answer is not None:
                self.prediction = answer
                return "answer"
            if parsed.calls:
                await self._run_tools(parsed.calls)
                self.nudges = 0
                continue
            if self.nudges >= config.max_nudges:
                self.error = (
                    f"the model replied with neither a tool call nor an answer "
                    f"{self.nudges + 1} time(s) in a row"
                )
                return "error"
            self.nudges += 1
            self.window.append(Message(role="user", content=self.prompts.nudge))

    async def _complete(self) -> Completion:
        if self.trace is not None:
            completion = await self._complete_ids(self.trace)
        else:
            completion = await self.model.complete(self.window, self.request_tools)
        self.model_calls += 1
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        self.estimated |= completion.estimated
        self.endpoint = completion.endpoint
        self.anchor = None if completion.estimated else (len(self.window), completion.prompt_tokens)
        return completion

    async def _complete_ids(self, trace: TokenTrace) -> Completion:
        """A token-exact turn: send the trace's ids, append exactly the ids generated."""
        assert isinstance(self.model, CompletesTokens)
        trace.sync(self.window)
        answer = await self.model.complete_ids(trace.ids)
        trace.generated(answer.ids, answer.logprobs)
        return answer.completion

    def _clean(self, value: Any) -> Any:
        """``value`` with lone surrogates replaced by U+FFFD (counted in ``repairs``)."""
        fixed, count = replace_surrogates(value)
        self.repairs += count
        return fixed

    def _clean_turn(self, parsed: ParsedTurn) -> ParsedTurn:
        """The parsed reply with lone surrogates replaced, after the protocol judged the calls.

        The order matters: the protocol must see the raw arguments to name a bad one to the
        model; everything kept afterwards (context, records) must be encodable.
        """
        message = parsed.message
        content, reasoning, tool_calls = self._clean(
            (message.content, message.reasoning, message.tool_calls)
        )
        if (content, reasoning, tool_calls) != (
            message.content,
            message.reasoning,
            message.tool_calls,
        ):
            message = message.model_copy(
                update={"content": content, "reasoning": reasoning, "tool_calls": tool_calls}
            )
        calls = [
            dataclasses.replace(c, name=self._clean(c.name), arguments=self._clean(c.arguments))
            for c in parsed.calls
        ]
        return ParsedTurn(message, calls, self._clean(parsed.answer))

    def _accept(self, completion: Completion) -> ParsedTurn:
        """Parse the answer and append it to the window as this turn's assistant message."""
        parsed = self._clean_turn(self.protocol.parse(completion.message, turn=self.turns))
        message = parsed.message
        self.window.append(message if message.train else message.model_copy(update={"train": True}))
        self.turns += 1
        return parsed

    def _answer(self, parsed: ParsedTurn) -> str | None:
        if parsed.answer is not None:
            return parsed.answer
        text = parsed.message.content.strip()
        if self.config.answer_extraction == "tag_or_text" and not parsed.calls and text:
            return text
        return None

    async def _run_tools(self, calls: Sequence[ParsedCall]) -> None:
        limit = self.config.max_tool_calls
        records, executed = await execute_calls(
            self.toolbox,
            calls,
            offered=self.config.tools,
            turn=self.turns - 1,
            segment=len(self.segments),
            budget=None if limit is None else limit - self.executed,
            limit=limit,
            timeout_s=self.config.tool_timeout_s,
        )
        self.executed += executed
        records = [
            r
            if (output := self._clean(r.output)) is r.output
            else r.model_copy(update={"output": output})
            for r in records
        ]
        self.records.extend(records)
        self.window.extend(self.protocol.tool_results(records))

    async def _answer_at_limit(self, reason: Termination) -> Termination:
        """Ask once for a final answer (if configured); the termination stays ``reason``."""
        if not self.config.answer_at_limit:
            return reason
        self.window.append(Message(role="user", content=self.prompts.answer_now))
        try:
            completion = await self._complete()
        except ContextLengthExceeded:
            return reason
        self.prediction = self._answer(self._accept(completion))
        return reason

    # -- context -----------------------------------------------------------------------------

    def _measure(self) -> float:
        """Prompt tokens of the next request, corrected by the server's last count."""
        tokens = self.count(self.window, self.request_tools)
        if self.config.context.use_server_usage and self.anchor is not None:
            size, reported = self.anchor
            if size <= len(self.window):
                prefix = self.count(self.window[:size], self.request_tools)
                tokens += max(0, reported - prefix)
        return tokens

    async def _make_room(self) -> Termination | None:
        """Apply the strategy; a termination when the episode ends, else ``None``."""
        current = self.count(self.window, self.request_tools)

        def fits(messages: Sequence[Message]) -> bool:
            size = self.count(messages, self.request_tools)
            return size < self.limit and size < current

        action = self.strategy.make_room(Window(self.window, self.opening, self.prompts, fits))
        if isinstance(action, Stop):
            return "context_limit"
        if isinstance(action, Restart):
            self._close_segment("discarded")
            self.window, self.first_turn, self.anchor = list(action.messages), self.turns, None
            if self.chat is not None:
                self.trace = TokenTrace(self.chat, self.window, self.request_tools)
            return None
        assert isinstance(action, AnswerNow)
        self._rollback_trace(action.messages)
        self.window, self.anchor = list(action.messages), None
        try:
            completion = await self._complete()
        except ContextLengthExceeded:
            return "context_limit"
        self.prediction = self._answer(self._accept(completion))
        return "answer" if self.prediction is not None else "context_limit"

    def _rollback_trace(self, messages: Sequence[Message]) -> None:
        """Cut the ids back to the messages an :class:`AnswerNow` keeps of the window.

        The kept messages are a prefix of the window (all but the new instruction); if they
        are not, the segment's ids start over from the new window.
        """
        if self.trace is None or self.chat is None:
            return
        kept = len(messages) - 1
        prefix = kept <= len(self.window) and all(
            a is b for a, b in zip(messages[:kept], self.window, strict=False)
        )
        if not (prefix and self.trace.rollback(kept)):
            self.trace = TokenTrace(self.chat, messages, self.request_tools)

    # -- the record --------------------------------------------------------------------------

    def _close_segment(self, end: Literal["discarded", "final"]) -> None:
        self.segments.append(
            Segment(
                index=len(self.segments),
                messages=list(self.window),
                first_turn=self.first_turn,
                end=end,
                tokens=None if self.trace is None else self.trace.record(),
            )
        )

    def _trajectory(self, termination: Termination) -> Trajectory:
        self._close_segment("final")
        model_settings = self.model.settings() if isinstance(self.model, DescribesSettings) else {}
        return Trajectory(
            id=f"{self.task.id}#{self.sample}",
            task_id=self.task.id,
            sample=self.sample,
            question=self.question,
            answers=self.answers,
            segments=self.segments,
            tool_calls=self.records,
            prediction=self.prediction,
            termination=termination,
            error=self._clean(self.error) if termination == "error" else None,
            turns=self.turns,
            usage=Usage(
                model_calls=self.model_calls,
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                estimated=self.estimated,
            ),
            duration_s=time.perf_counter() - self.clock,
            provenance=TrajectoryProvenance(
                model=self.model.name,
                protocol=self.model.protocol,
                endpoint=self.endpoint,
                world_hash=self.world_hash,
                config={
                    "agent": self.config.model_dump(mode="json"),
                    "model": model_settings,
                },
                redsearcher_version=redsearcher.__version__,
                started_at=self.started_at,
            ),
            text_repairs=self.repairs,
            attachments=self.attachments,
        )
