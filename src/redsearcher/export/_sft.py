"""SFT exports of a run: ShareGPT (ms-swift) and OpenAI messages with per-message training flags.

One sample per :class:`~redsearcher.log.Segment`: a discard-all episode (§2.3) is several
context windows, and each is trained as the model saw it, from the system prompt to the window's
last model turn. Messages are copied verbatim (the text the model read and wrote, token for
token); only the container changes. Observation turns are never trained.

ShareGPT (``{"conversations": [{"from", "value"}], "tools"}``), as ms-swift reads it:

- ``system`` / ``human`` / ``gpt``; a native tool call becomes one ``function_call`` turn per
  call, whose value is the JSON ``{"name", "arguments"}`` (arguments as an object), after a
  ``gpt`` turn holding the thought text if there was any (ms-swift concatenates consecutive
  assistant turns); a tool result becomes ``observation``.
- Text protocol (Qwen/Hermes): the ``<tool_call>`` stays inside the ``gpt`` text, and the tool
  result, which the agent sent as a ``user`` message (Tongyi) or a ``tool`` message
  (DeepTraceHub), becomes ``observation``. A ``user`` message is an observation when it is not
  the first user message of its segment, is not trained, and contains ``<tool_response>``.
- ``tools`` (a JSON string) is written for the native protocol only: with the text protocol the
  tool schemas are already in the system prompt, and ms-swift's agent template would add them a
  second time.
- Reasoning the server returned separately (``reasoning_content``) is put back in front of the
  turn's text inside ``<think>`` ... ``</think>`` (a newline after each tag, a blank line
  after the block), the form Qwen3 chat templates train on.
- An assistant turn the agent marked untrained gets ``"loss": false`` (ms-swift's per-message
  switch); trained turns carry no key.

OpenAI messages (``{"messages": [...], "tools": [...]}``) keep the chat schema (``tool_calls``
with JSON-string arguments, ``tool_call_id``, ``reasoning_content``) and add a boolean training
flag to every message. TRL's ``SFTTrainer`` has no per-message flag (``assistant_only_loss``
trains every assistant turn, which is what these flags say for agent data, and chat templates
ignore unknown keys); the flag is named ``train`` by default (Tinker's convention, and ours),
``loss`` for ms-swift's messages format (``flag_key``).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from redsearcher.export._filter import SFTFilterConfig, sft_filter
from redsearcher.log import Message, Segment, Trajectory, read_manifest, read_trajectories
from redsearcher.registry import lookup, names, register

__all__ = [
    "SFTExportSummary",
    "SFTFormat",
    "export_sft",
    "is_observation",
    "sft_format_names",
    "to_openai_messages",
    "to_sharegpt",
    "write_jsonl",
]

#: Registry kind of the SFT sample formats.
SFT_FORMAT_KIND: Final = "sft_format"

_TOOL_RESPONSE = "<tool_response>"


def is_observation(message: Message, *, first_user: bool = False) -> bool:
    """Whether ``message`` is a tool result (never trained), in either protocol.

    Args:
        message: A message of a segment.
        first_user: Whether it is the segment's first user message (the question or the task
            restatement after a discard: never an observation).
    """
    if message.role == "tool":
        return True
    return (
        message.role == "user"
        and not first_user
        and not message.train
        and _TOOL_RESPONSE in message.content
    )


def _with_reasoning(message: Message) -> str:
    if message.reasoning:
        return f"<think>\n{message.reasoning}\n</think>\n\n{message.content}"
    return message.content


def _trimmed(segment: Segment) -> list[Message] | None:
    """The segment's messages up to its last trained one; None when nothing is trained."""
    last = max((i for i, m in enumerate(segment.messages) if m.train), default=None)
    return None if last is None else segment.messages[: last + 1]


def _call_value(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    arguments = function.get("arguments", {})
    if isinstance(arguments, str):
        # Invalid JSON stays the model's text: that is what it wrote.
        with contextlib.suppress(json.JSONDecodeError):
            arguments = json.loads(arguments) if arguments.strip() else {}
    return json.dumps(
        {"name": function.get("name", ""), "arguments": arguments}, ensure_ascii=False
    )


def to_sharegpt(
    trajectory: Trajectory,
    *,
    tools: list[dict[str, Any]] | None = None,
    flag_key: str = "loss",
) -> list[dict[str, Any]]:
    """The ShareGPT samples of a trajectory, one per segment with a trained turn.

    Args:
        trajectory: The episode.
        tools: The OpenAI ``tools`` offered (the run manifest's); written as the ``tools`` JSON
            string for native-protocol episodes.
        flag_key: Key set to ``false`` on assistant turns the agent marked untrained.
    """
    native = trajectory.provenance.protocol != "text"
    samples = []
    for segment in trajectory.segments:
        messages = _trimmed(segment)
        if messages is None:
            continue
        turns: list[dict[str, Any]] = []
        seen_user = False
        for message in messages:
            if message.role == "system":
                turns.append({"from": "system", "value": message.content})
            elif message.role == "assistant":
                text = _with_reasoning(message)
                calls = message.tool_calls or []
                parts = [("gpt", text)] if text or not calls else []
                parts += [("function_call", _call_value(c)) for c in calls]
                for kind, value in parts:
                    turn: dict[str, Any] = {"from": kind, "value": value}
                    if not message.train:
                        turn[flag_key] = False
                    turns.append(turn)
            elif is_observation(message, first_user=not seen_user):
                turns.append({"from": "observation", "value": message.content})
            else:
                seen_user = seen_user or message.role == "user"
                turns.append({"from": "human", "value": message.content})
        sample: dict[str, Any] = {"conversations": turns}
        if native and tools:
            sample["tools"] = json.dumps(tools, ensure_ascii=False)
        samples.append(sample)
    return samples


def to_openai_messages(
    trajectory: Trajectory,
    *,
    tools: list[dict[str, Any]] | None = None,
    flag_key: str = "train",
) -> list[dict[str, Any]]:
    """The OpenAI-messages samples of a trajectory, one per segment with a trained turn.

    Args:
        trajectory: The episode.
        tools: The OpenAI ``tools`` offered; written for native-protocol episodes.
        flag_key: Name of the per-message boolean training flag (``train``, or ``loss`` for
            ms-swift).
    """
    native = trajectory.provenance.protocol != "text"
    samples = []
    for segment in trajectory.segments:
        messages = _trimmed(segment)
        if messages is None:
            continue
        out = []
        for message in messages:
            row: dict[str, Any] = {"role": message.role, "content": message.content}
            if message.tool_calls:
                row["tool_calls"] = message.tool_calls
            if message.tool_call_id is not None:
                row["tool_call_id"] = message.tool_call_id
            if message.reasoning:
                row["reasoning_content"] = message.reasoning
            row[flag_key] = message.train
            out.append(row)
        sample: dict[str, Any] = {"messages": out}
        if native and tools:
            sample["tools"] = tools
        samples.append(sample)
    return samples


@dataclass(frozen=True)
class SFTFormat:
    """A registered SFT sample format: trajectory (+ tools, options) -> samples."""

    name: str
    """The ``--format`` name."""
    convert: Callable[..., list[dict[str, Any]]]
    """Builds the samples of one trajectory (keywords ``tools`` and ``flag_key``)."""
    flag_key: str
    """The training-flag key the format's trainer reads by default."""


register(SFT_FORMAT_KIND, "sharegpt")(SFTFormat("sharegpt", to_sharegpt, "loss"))
register(SFT_FORMAT_KIND, "openai")(SFTFormat("openai", to_openai_messages, "train"))


@dataclass
class SFTExportSummary:
    """What :func:`export_sft` wrote."""

    out: Path
    """The JSONL file written."""
    trajectories: int = 0
    """Trajectories read from the run."""
    exported: int = 0
    """Trajectories that produced samples."""
    samples: int = 0
    """Samples written (one per segment with a trained turn)."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Trajectories the post-filter dropped, per reason."""


def sft_format_names() -> list[str]:
    """The registered SFT formats."""
    return names(SFT_FORMAT_KIND)


def export_sft(
    run: str | Path,
    out: str | Path,
    *,
    format: str = "sharegpt",
    post_filter: SFTFilterConfig | None = None,
    apply_filter: bool = True,
    flag_key: str | None = None,
) -> SFTExportSummary:
    """Write the SFT samples of a run's trajectories to a JSONL file (atomically).

    Args:
        run: The run directory.
        out: The JSONL file to write (replaced only once complete).
        format: A registered SFT format: ``sharegpt`` or ``openai``.
        post_filter: Bounds of the §6.1 post-filter (its defaults when omitted).
        apply_filter: ``False`` exports every trajectory.
        flag_key: Name of the per-message training flag; the format's default (``loss`` for
            ShareGPT, ``train`` for OpenAI messages) when omitted.

    Raises:
        ConfigError: for an unknown format.
        UserError: when ``run`` is not a run directory.
        InputFormatError: for a malformed run log line.
    """
    spec = lookup(SFT_FORMAT_KIND, format)
    assert isinstance(spec, SFTFormat)
    manifest = read_manifest(run)
    trajectories = list(read_trajectories(run))
    summary = SFTExportSummary(out=Path(out), trajectories=len(trajectories))
    kept: Iterable[Trajectory] = trajectories
    if apply_filter:
        result = sft_filter(trajectories, post_filter)
        kept, summary.dropped = result.kept, result.dropped
    options: dict[str, Any] = {"tools": manifest.tools, "flag_key": flag_key or spec.flag_key}

    def rows() -> Iterator[dict[str, Any]]:
        for trajectory in kept:
            samples = spec.convert(trajectory, **options)
            if samples:
                summary.exported += 1
            summary.samples += len(samples)
            yield from samples

    write_jsonl(out, rows())
    return summary


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write ``rows`` as JSONL to ``path`` through a temporary file; return the row count."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return count
