"""Stage II agentic tool use (paper §5.2): multi-turn tool-calling dialogues over the World.

The paper has an LLM invent tool sets, queries and tool responses. We keep the shape (tool sets
with descriptions and JSON-schema signatures, queries that need chains of calls, complete
call/observe loops with errors and retries) but *compute* every tool response from the World
(``_tools_world.WorldTools``), so answers are facts and repeated calls agree. A chain starts at an
entity (found by ``search_entities``, or by ``find_entities`` over a relation when its name is
ambiguous or by chance), follows single-valued relations (``get_<predicate>``) and asks the last
value; a share of dialogues make a bad call first (a name where an id is wanted, a wrong
argument name) and retry after the tool's error; a share add a follow-up question on an entity
already seen, answered by calling again.

Chains are built on the run's one ``WorldIndex`` (shared with the Stage I generators) and in
its terms, entity and fact *rows*; ids appear only in the calls and in ``source``.

The offered tools' OpenAI schemas are ``source["tools"]`` (the output writes them as the
sample's ``tools``, which chat templates render into the system prompt). Loss weights: tool
messages 0 (observations), the bad call 0 (the model should learn the
recovery, not the mistake), every other assistant turn 1.

The LLM path (``GenContext.rewriter``) rewrites the question, the tool descriptions and the
answer sentence and may add one tool outside the World, answered by the model itself; such a
sample carries ``source["simulated"] = True`` and names the tools in
``source["simulated_tools"]``. The rewrite is kept only if the question still names the chain's
entity and the answer still states the World's value; otherwise the offline text stays and
``source["fallback_reason"]`` says why.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from redsearcher.errors import UserError
from redsearcher.midtrain._generator import GenContext, Rejection
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage
from redsearcher.midtrain._tools_web import WebTools, value_forms
from redsearcher.midtrain._tools_world import WorldTools, getter, predicate_noun
from redsearcher.midtrain._world_index import WorldIndex, world_index

__all__ = ["GENERATOR_VERSION", "ToolDialogueGenerator", "ToolOptions"]

GENERATOR_VERSION: Final = "tools/1"

_QUESTIONS: Final = (
    "What is {x}?",
    "Find {x}.",
    "I need to know {x}. Can you look it up?",
    "Using the tools, determine {x}.",
)
_SYSTEM: Final = (
    "You are an assistant that answers by calling tools. Call one tool at a time and read its "
    "response before the next call."
)
_REWRITE_INSTRUCTION: Final = (
    "You get a JSON object with a user question, tool descriptions and the final answer of a "
    "tool-calling dialogue. Rewrite the question, each tool description and the answer sentence "
    "in different words. Keep every entity name and the answer value exactly as written. You may "
    'add "simulated_tools": a list of at most one extra tool a real assistant might also call, '
    'each {"name", "description", "arguments", "response"}. Reply with only the JSON object.'
)
_IDENT = re.compile(r"^[a-z][a-z0-9_]{2,40}$")


@dataclass(frozen=True, slots=True)
class ToolOptions:
    """Per-kind options (``options["tools"]`` of the mixture config)."""

    max_hops: int = 3
    error_rate: float = 0.3
    """Share of dialogues with one bad call, its error response and a retry."""
    followup_rate: float = 0.3
    """Share of dialogues with a second user turn about an entity already seen."""
    anchor_rate: float = 0.25
    """Share of (unambiguous) chains whose start is found through ``find_entities``."""
    distractor_tools: int = 3
    """Unused ``get_<predicate>`` tools added to each tool set."""
    index: str | None = None
    """The World's index directory (``redsearcher env index``): enables our own tools."""
    web_rate: float = 0.5
    """With ``index``: share of dialogues whose last hop is a ``search`` and a ``visit``."""

    @classmethod
    def parse(cls, options: dict[str, Any]) -> ToolOptions:
        """Options from the mixture config; unknown keys are an error naming them."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise UserError(f"unknown tools option(s) {unknown}; known: {sorted(known)}")
        return cls(**options)


@dataclass(slots=True)
class _Call:
    name: str
    arguments: dict[str, Any]
    thought: str
    trained: bool = True
    response: str | None = None
    """Precomputed response (our own tools, answered by the index); else the World tools'."""


@dataclass(slots=True)
class _Dialogue:
    question: str
    phrase: str
    calls: list[_Call]
    answer: str
    answer_fact: int
    """Fact rows (``WorldIndex``), here and in ``facts`` and ``followup``."""
    facts: list[int]
    errors: list[str] = field(default_factory=list)
    followup: tuple[str, list[_Call], str, int] | None = None
    mentions: list[str] = field(default_factory=list)
    """Entity names the question must keep (checked on rewrites)."""
    web: bool = False
    """Whether the last hop went through our own search and visit tools."""


class ToolDialogueGenerator:
    """Generator ``tools`` (stage II): World-grounded simulated tool-calling dialogues."""

    kind: Kind = "tools"
    stage: Stage = "II"

    def check(self, ctx: GenContext) -> None:
        """A World needs facts and provenance (the samples' evidence documents)."""
        for table in ("entities", "facts", "provenance"):
            if ctx.world.count(table) == 0:
                raise UserError(f"{ctx.world.path}: the World has no {table}; tools needs them")
        world_index(ctx)

    def _web(self, ctx: GenContext, options: ToolOptions) -> WebTools | None:
        if options.index is None or options.web_rate <= 0:
            return None
        key = f"tools_web:{options.index}"
        if key not in ctx.cache:
            ctx.cache[key] = WebTools(options.index, ctx.world_hash)
        web: WebTools = ctx.cache[key]
        return web

    def generate(self, ctx: GenContext, n: int, seed: int) -> Iterator[MidtrainSample | Rejection]:
        """Yield ``n`` dialogues (and rejections); deterministic per (World, seed)."""
        options = ToolOptions.parse(dict(ctx.kind_options("tools")))
        index = world_index(ctx)
        starts = ctx.cache.get("tools_starts")
        if starts is None:
            starts = ctx.cache["tools_starts"] = _starts(index)
        if not starts:
            raise UserError(f"{ctx.world.path}: no entity has a single-valued fact to ask about")
        tools = WorldTools(index)
        web = self._web(ctx, options)
        accepted = attempt = 0
        while accepted < n and attempt < 20 * n + 100:
            rng = random.Random(f"tools:{seed}:{attempt}")
            attempt += 1
            built = _chain(index, starts, rng, options)
            if isinstance(built, Rejection):
                yield built
                continue
            missed = ""
            if web is not None and rng.random() < options.web_rate:
                missed = _through_web(built, index, web)
            sample = _sample(built, tools, rng, options, f"tools-{seed}-{accepted}", ctx, web)
            if missed:
                # The hop stays a World tool call; the sample is kept, the reason recorded.
                sample.source["web_miss"] = missed
            problem = validate(sample, tools)
            if problem is not None:
                yield Rejection("tools", "inconsistent", problem)
                continue
            accepted += 1
            yield sample


def _starts(index: WorldIndex) -> list[int]:
    """Entity rows a chain may start at (a label and a single-valued fact), in id order."""
    rows = [int(r) for r in np.flatnonzero(index.single_valued) if index.labels[int(r)]]
    return sorted(rows, key=index.ids.__getitem__)


def _chain(
    index: WorldIndex, starts: list[int], rng: random.Random, options: ToolOptions
) -> _Dialogue | Rejection:
    start = rng.choice(starts)
    kind = index.types[start]
    label = index.labels[start]
    rivals = [e for e in index.named(label) if index.types[e] == kind]
    calls: list[_Call] = []
    facts: list[int] = []
    mentions = [label]
    anchor = None
    if len(rivals) > 1 or rng.random() < options.anchor_rate:
        anchor = _anchor(index, start, rng)
        if anchor is None and len(rivals) > 1:
            return Rejection("tools", "ambiguous_start", f"{label!r} names {len(rivals)} {kind}s")
    if anchor is not None:
        predicate, obj, fact = anchor
        obj_id, obj_label, obj_type = index.ids[obj], index.labels[obj], index.types[obj]
        same = [e for e in index.named(obj_label) if index.types[e] == obj_type]
        if len(same) > 1:
            return Rejection("tools", "ambiguous_start", f"{obj_label!r} names {len(same)}")
        phrase = f"the {kind} whose {predicate_noun(predicate)} is {obj_label}"
        mentions = [obj_label]
        calls.append(
            _Call(
                "search_entities",
                {"name": obj_label, "type": obj_type},
                f"First I find the id of {obj_label}.",
            )
        )
        calls.append(
            _Call(
                "find_entities",
                {"type": kind, "relation": predicate, "value": obj_id},
                f"Now the {kind} whose {predicate_noun(predicate)} is {obj_label} ({obj_id}).",
            )
        )
        facts.append(fact)
    else:
        phrase = f"the {kind} {label}"
        calls.append(
            _Call(
                "search_entities",
                {"name": label, "type": kind},
                f"First I find the id of the {kind} {label}.",
            )
        )
    hops = rng.randint(1, max(1, options.max_hops))
    current, seen = start, {start, -1}  # -1: a value that leads nowhere (``_next_hop``)
    answer_fact = -1
    for hop in range(hops):
        choices = index.functional(current)
        if hop < hops - 1:
            choices = [(p, f) for p, f in choices if _next_hop(index, f) not in seen]
        if anchor is not None:
            choices = [(p, f) for p, f in choices if f != anchor[2]]
        if not choices:
            if answer_fact < 0:
                return Rejection(
                    "tools", "no_chain", f"{index.ids[current]} has nothing left to ask"
                )
            break
        predicate, fact = rng.choice(choices)
        noun = predicate_noun(predicate)
        entity = index.ids[current]
        calls.append(
            _Call(
                getter(predicate),
                {"entity": entity},
                f"Next, the {noun} of {index.labels[current]} ({entity}).",
            )
        )
        facts.append(fact)
        answer_fact = fact
        phrase = f"the {noun} of {phrase}"
        if hop < hops - 1:  # the last hop's value is the answer, not a next subject
            current = _next_hop(index, fact)
            seen.add(current)
    question = rng.choice(_QUESTIONS).format(x=phrase)
    return _Dialogue(
        question=question,
        phrase=phrase,
        calls=calls,
        answer=index.value_text(answer_fact),
        answer_fact=answer_fact,
        facts=facts,
        mentions=mentions,
    )


def _next_hop(index: WorldIndex, fact: int) -> int:
    """The entity row fact row ``fact`` leads a chain on to, or -1 when it leads nowhere.

    Nowhere: a literal value, an object outside the World, or one with no single-valued
    relation to ask next.
    """
    obj = index.object_row(fact)
    return obj if obj >= 0 and index.single_valued[obj] else -1


def _anchor(index: WorldIndex, start: int, rng: random.Random) -> tuple[str, int, int] | None:
    """A relation ``start -p-> obj`` that no other entity of start's type shares."""
    kind = index.types[start]
    options = []
    for predicate, fact in index.functional(start):
        obj = index.object_row(fact)
        if obj < 0:
            continue
        subjects = index.subjects_with(predicate, index.ids[obj])
        if [s for s in subjects if index.types[s] == kind] == [start]:
            options.append((predicate, obj, fact))
    return rng.choice(options) if options else None


def _inject_error(dialogue: _Dialogue, index: WorldIndex, rng: random.Random) -> None:
    """Make one ``get_`` call fail first (bad id or bad argument name), then retry it."""
    positions = [i for i, c in enumerate(dialogue.calls) if c.name.startswith("get_")]
    if not positions:
        return
    at = rng.choice(positions)
    call = dialogue.calls[at]
    entity = call.arguments["entity"]
    if rng.random() < 0.5:
        bad = _Call(call.name, {"entity": index.label(entity)}, call.thought, trained=False)
        kind = "unknown_entity"
        fix = f"The tool wants the id, not the name; retrying with {entity}."
    else:
        bad = _Call(call.name, {"id": entity}, call.thought, trained=False)
        kind, fix = "bad_argument", "The argument is called entity; calling again."
    retry = _Call(call.name, dict(call.arguments), fix)
    dialogue.calls[at : at + 1] = [bad, retry]
    dialogue.errors.append(kind)


def _followup(dialogue: _Dialogue, index: WorldIndex, rng: random.Random) -> None:
    """A second question on an entity the dialogue already resolved (answered by a new call)."""
    calls = dialogue.calls
    entities = [c.arguments["entity"] for c in calls if c.trained and "entity" in c.arguments]
    rng.shuffle(entities)
    used = set(dialogue.facts)
    for entity in entities:
        choices = [(p, f) for p, f in index.functional(index.row_of[entity]) if f not in used]
        if choices:
            predicate, fact = rng.choice(choices)
            label = index.label(entity)
            question = f"And what is the {predicate_noun(predicate)} of {label}?"
            call = _Call(
                getter(predicate),
                {"entity": entity},
                f"{label} is {entity}; I ask for its {predicate_noun(predicate)}.",
            )
            dialogue.followup = (question, [call], index.value_text(fact), fact)
            return


def _call_message(call: _Call, call_id: str) -> MidtrainMessage:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return MidtrainMessage(
        role="assistant",
        content=call.thought,
        loss_weight=1.0 if call.trained else 0.0,
        tool_calls=[
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": arguments},
            }
        ],
    )


def _turns(calls: list[_Call], tools: WorldTools, counter: list[int]) -> Iterator[MidtrainMessage]:
    for call in calls:
        call_id = f"call_{counter[0]}"
        counter[0] += 1
        yield _call_message(call, call_id)
        text = call.response if call.response is not None else tools.respond(*_args(call))[0]
        yield MidtrainMessage(role="tool", content=text, name=call.name, tool_call_id=call_id)


def _args(call: _Call) -> tuple[str, dict[str, Any]]:
    return call.name, call.arguments


def _through_web(dialogue: _Dialogue, index: WorldIndex, web: WebTools) -> str:
    """Resolve the last hop with ``search`` + ``visit``; the reason it stayed, or ``""``."""
    last = dialogue.calls[-1]
    if not last.name.startswith("get_"):
        return "no_hop"
    entity = last.arguments["entity"]
    label = index.label(entity)
    noun = predicate_noun(last.name[4:])
    query = f"{label} {noun}"
    fact = index.fact(dialogue.answer_fact)
    url = web.find(query, {index.doc_ids[d] for d in index.stating_docs(fact.row)})
    if url is None:
        return f"no page stating fact {fact.id} in the results for {query!r}"
    goal = f"the {noun} of {label}"
    page = web.call("visit", {"url": [url], "goal": goal})
    if not any(
        re.search(rf"(?<!\w){re.escape(f)}(?!\w)", page) for f in value_forms(fact, dialogue.answer)
    ):
        return f"the page read for fact {fact.id} does not show its value"
    search = web.call("search", {"query": [query]})
    dialogue.calls[-1:] = [
        _Call(
            "search",
            {"query": [query]},
            f"I search the web for the {noun} of {label}.",
            response=search,
        ),
        _Call(
            "visit",
            {"url": [url], "goal": goal},
            f"This page should state it: {url}",
            response=page,
        ),
    ]
    dialogue.web = True
    return ""


def _answer_sentence(phrase: str, answer: str) -> str:
    return f"{phrase[0].upper()}{phrase[1:]} is {answer}."


def _sample(
    dialogue: _Dialogue,
    tools: WorldTools,
    rng: random.Random,
    options: ToolOptions,
    sample_id: str,
    ctx: GenContext,
    web_tools: WebTools | None = None,
) -> MidtrainSample:
    index = tools.index
    if rng.random() < options.error_rate:
        _inject_error(dialogue, index, rng)
    if rng.random() < options.followup_rate:
        _followup(dialogue, index, rng)
    web_names = {"search", "visit"} if dialogue.web else set()
    used = sorted({c.name for c in dialogue.calls} - web_names)
    if dialogue.followup is not None:
        used = sorted({*used, *(c.name for c in dialogue.followup[1])})
    others = [getter(p) for p in index.predicates if getter(p) not in used]
    offered = used + rng.sample(others, min(options.distractor_tools, len(others)))
    offered.sort()
    descriptions = {name: tools.schema(name)["function"]["description"] for name in offered}
    final = _answer_sentence(dialogue.phrase, dialogue.answer)
    source: dict[str, Any] = {
        "world_hash": ctx.world_hash,
        "generator": GENERATOR_VERSION,
        "rewrite": "offline",
        "chain": [c.name for c in dialogue.calls if c.trained],
        "facts": [index.fact(f).id for f in dialogue.facts],
        "answer_fact": index.fact(dialogue.answer_fact).id,
        "errors": list(dialogue.errors),
        "simulated": False,
    }
    simulated: list[dict[str, Any]] = []
    if ctx.rewriter is not None:
        dialogue, descriptions, final, simulated, reason = _rewrite(
            ctx, dialogue, descriptions, final
        )
        source["rewriter"] = ctx.rewriter.name
        source["rewrite"] = "llm" if reason is None else "fallback"
        if reason is not None:
            source["fallback_reason"] = reason
        if simulated:
            source["simulated"] = True
            source["simulated_tools"] = [t["name"] for t in simulated]
    schemas = [tools.schema(name, descriptions[name]) for name in offered]
    if dialogue.web:
        assert web_tools is not None
        schemas += web_tools.schemas()
        source["web"] = True
    schemas += [_simulated_schema(t) for t in simulated]
    messages = [
        MidtrainMessage(role="system", content=_SYSTEM),
        MidtrainMessage(role="user", content=dialogue.question),
    ]
    counter = [0]
    messages += _turns(dialogue.calls, tools, counter)
    for tool in simulated:
        call_id = f"call_{counter[0]}"
        counter[0] += 1
        call = _Call(tool["name"], tool["arguments"], f"I also check {tool['name']}.")
        messages.append(_call_message(call, call_id))
        messages.append(
            MidtrainMessage(
                role="tool", content=str(tool["response"]), name=tool["name"], tool_call_id=call_id
            )
        )
    messages.append(MidtrainMessage(role="assistant", content=final, loss_weight=1.0))
    answers = [dialogue.answer_fact]
    if dialogue.followup is not None:
        question, calls, answer, fact = dialogue.followup
        messages.append(MidtrainMessage(role="user", content=question))
        messages += _turns(calls, tools, counter)
        noun_phrase = question.removeprefix("And what is ").removesuffix("?")
        messages.append(
            MidtrainMessage(
                role="assistant", content=_answer_sentence(noun_phrase, answer), loss_weight=1.0
            )
        )
        answers.append(fact)
        source["followup_fact"] = index.fact(fact).id
    all_facts = [*dialogue.facts, *answers[1:]]
    docs = sorted({index.doc_ids[d] for f in all_facts for d in index.stating_docs(f)})
    view = index.fact(dialogue.answer_fact)
    answer_entity = view.object if view.kind == "entity" and view.object else view.subject
    source["tools"] = schemas
    return MidtrainSample(
        id=sample_id,
        kind="tools",
        stage="II",
        messages=messages,
        question=dialogue.question,
        answer_entities=[answer_entity],
        evidence_docs=docs,
        source=source,
    )


def _simulated_schema(tool: dict[str, Any]) -> dict[str, Any]:
    properties = {key: {"type": "string"} for key in tool["arguments"]}
    return {
        "type": "function",
        "function": {
            "name": tool["name"],
            "description": tool["description"],
            "parameters": {"type": "object", "properties": properties},
        },
    }


def _rewrite(
    ctx: GenContext, dialogue: _Dialogue, descriptions: dict[str, str], final: str
) -> tuple[_Dialogue, dict[str, str], str, list[dict[str, Any]], str | None]:
    """The LLM path; returns the offline parts and a reason when the rewrite is refused."""
    assert ctx.rewriter is not None
    payload = {"question": dialogue.question, "tools": descriptions, "answer": final}
    reply = ctx.rewriter.rewrite(_REWRITE_INSTRUCTION, json.dumps(payload, ensure_ascii=False))
    if reply is None:
        return dialogue, descriptions, final, [], "no_reply"
    reason, parsed = check_rewrite(reply, dialogue, descriptions)
    if parsed is None:
        return dialogue, descriptions, final, [], reason
    question, new_descriptions, answer, simulated = parsed
    rewritten = _Dialogue(
        question=question,
        phrase=dialogue.phrase,
        calls=dialogue.calls,
        answer=dialogue.answer,
        answer_fact=dialogue.answer_fact,
        facts=dialogue.facts,
        errors=dialogue.errors,
        followup=dialogue.followup,
        mentions=dialogue.mentions,
    )
    return rewritten, new_descriptions, answer, simulated, None


def check_rewrite(
    reply: str, dialogue: _Dialogue, descriptions: dict[str, str]
) -> tuple[str, tuple[str, dict[str, str], str, list[dict[str, Any]]] | None]:
    """Validate a rewrite against the dialogue's facts: ``(reason, None)`` when refused."""
    text = reply.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "not_json", None
    if not isinstance(data, dict):
        return "not_json", None
    question, answer, tools = data.get("question"), data.get("answer"), data.get("tools", {})
    if not isinstance(question, str) or not isinstance(answer, str) or not isinstance(tools, dict):
        return "missing_field", None
    if any(m.lower() not in question.lower() for m in dialogue.mentions):
        return "lost_entity", None
    if dialogue.answer.lower() not in answer.lower():
        return "wrong_answer", None
    new = dict(descriptions)
    for name, description in tools.items():
        if name not in descriptions or not isinstance(description, str) or not description:
            return "bad_tool", None
        new[name] = description
    simulated = data.get("simulated_tools", [])
    if not isinstance(simulated, list) or len(simulated) > 1:
        return "bad_simulated_tool", None
    for tool in simulated:
        if (
            not isinstance(tool, dict)
            or not _IDENT.match(str(tool.get("name", "")))
            or tool["name"] in descriptions
            or tool["name"].startswith("get_")
            or not isinstance(tool.get("description"), str)
            or not isinstance(tool.get("arguments"), dict)
            or "response" not in tool
        ):
            return "bad_simulated_tool", None
    return "", (question, new, answer, simulated)


def validate(sample: MidtrainSample, tools: WorldTools) -> str | None:
    """Recompute every World tool response and the answers; a problem's text, or ``None``.

    Simulated tools (``source["simulated_tools"]``) are outside the World and not recomputed;
    nor are our own ``search`` / ``visit`` (answered by the index, checked when the dialogue was
    built: the page read shows the value).
    """
    simulated = set(sample.source.get("simulated_tools", []))
    messages = sample.messages
    for i, message in enumerate(messages):
        for call in message.tool_calls or []:
            name = call["function"]["name"]
            if name in simulated or (sample.source.get("web") and name in WebTools.names):
                continue
            expected, _ = tools.respond(name, json.loads(call["function"]["arguments"]))
            reply = messages[i + 1] if i + 1 < len(messages) else None
            if reply is None or reply.role != "tool" or reply.content != expected:
                return f"message {i + 1}: the response to {name} is not the World's"
    finals = [m for m in messages if m.role == "assistant" and not m.tool_calls]
    wanted = [sample.source["answer_fact"]]
    if "followup_fact" in sample.source:
        wanted.append(sample.source["followup_fact"])
    if len(finals) != len(wanted):
        return f"{len(finals)} answers for {len(wanted)} questions"
    for message, fact_id in zip(finals, wanted, strict=True):
        row = tools.index.fact_row.get(fact_id)
        if row is None:
            return f"fact {fact_id} is not in the World"
        value = tools.index.value_text(row)
        if value.lower() not in message.content.lower():
            return f"the answer {message.content!r} does not state {value!r}"
    return None
