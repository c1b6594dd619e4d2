"""Hierarchical planning from synthesized task graphs (paper §5.1), checked against the graph.

A synthesized task carries its reasoning graph: variables bound to World entities (``observed``
ones are named in the question, ``latent`` ones must be found, one is the ``answer``) and
constraints between them. Flattening the graph along the flow of information means resolving
variables outward from what the question names: a variable is a **concrete goal** when a
constraint links it to something already known (or when only its own attributes describe it, so
an attribute search can start there), and an **ambiguous goal** while it depends on variables not
yet resolved. The sample is the question, a first plan, then after each resolved variable an
observation (not trained) and an updated plan, ending in the answer.

Checked against the graph (:func:`verify_plan`): every goal names a variable of the graph (by
its ``[x..]`` tag), the concrete/ambiguous split equals the one the graph gives at that step,
and each resolved variable was concrete when it was resolved (the order respects dependencies).
The answer is resolved as soon as nothing else is concrete; variables only reachable through it
(a dangling employer, say) come after it, as checks of the remaining constraints.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from redsearcher.errors import UserError
from redsearcher.log import Constraint, GraphNode, Task
from redsearcher.midtrain._generator import GenContext, Rejection
from redsearcher.midtrain._sample import Kind, MidtrainMessage, MidtrainSample, Stage

__all__ = [
    "PLANNING_SYSTEM",
    "PlanStep",
    "PlanningGenerator",
    "check_tasks",
    "flatten",
    "parse_plan",
    "verify_plan",
]

VERSION = "planning/1"
BINARY = frozenset({"relation", "same", "route"})
PLANNING_SYSTEM = (
    "You plan a multi-step search. Keep a plan with two sections: `Concrete goals` you can "
    "resolve now (a clear query with what is already known) and `Ambiguous goals` that can only "
    "be resolved after others. Tag each goal with its variable, like [x1]. After each result, "
    "update the plan; when every goal is resolved, give the answer as `Answer: ...`."
)
REWRITE_INSTRUCTION = (
    "Rewrite this search plan so it reads naturally. Keep the two headers `Concrete goals` and "
    "`Ambiguous goals`, keep every goal under the same header with its [x..] tag, and add or "
    "drop no goal."
)
_TAG = re.compile(r"\[(x\d+)\]")


@dataclass(frozen=True, slots=True)
class PlanStep:
    """The plan before resolving ``resolve``: what is concrete, what is still ambiguous."""

    known: tuple[str, ...]
    concrete: tuple[str, ...]
    ambiguous: tuple[str, ...]
    resolve: str


def _binary(c: Constraint) -> bool:
    return c.kind in BINARY and c.object is not None


def flatten(task: Task, rng: random.Random | None = None) -> list[PlanStep]:
    """Resolve the graph outward from its observed variables; one step per latent/answer var.

    Ties among concrete goals are broken by ``rng`` (variety) or by variable name; the answer
    is resolved only when nothing else is left.

    Raises:
        ValueError: when some variable can never become concrete (a disconnected graph).
    """
    nodes = {n.var: n for n in task.nodes}
    known = [n.var for n in task.nodes if n.role == "observed"]
    todo = [n.var for n in task.nodes if n.role != "observed"]
    steps: list[PlanStep] = []
    while todo:
        concrete = [v for v in todo if _concrete(task, v, set(known))]
        ambiguous = [v for v in todo if v not in concrete]
        pick = [v for v in concrete if nodes[v].role != "answer"] or concrete
        if not pick:
            raise ValueError(f"task {task.id}: {', '.join(todo)} can never be resolved")
        choice = rng.choice(sorted(pick)) if rng is not None else sorted(pick)[0]
        steps.append(PlanStep(tuple(known), tuple(concrete), tuple(ambiguous), choice))
        known.append(choice)
        todo.remove(choice)
    return steps


def _concrete(task: Task, var: str, known: set[str]) -> bool:
    """Linked to a known variable, or (with no links at all) described by its attributes."""
    links = [c for c in task.constraints if _binary(c) and var in (c.subject, c.object)]
    if links:
        return any((c.object if c.subject == var else c.subject) in known for c in links)
    return any(c.subject == var for c in task.constraints)


def _describe(node: GraphNode) -> str:
    return f"the {node.type.replace('_', ' ')}"


def _goal(task: Task, var: str, known: set[str], labels: dict[str, str]) -> str:
    node = next(n for n in task.nodes if n.var == var)
    clues = [
        c.text or f"{c.predicate} ({c.kind})"
        for c in task.constraints
        if (c.subject == var and (not _binary(c) or c.object in known))
        or (_binary(c) and c.object == var and c.subject in known)
    ]
    waits = sorted(
        {
            (c.object if c.subject == var else c.subject) or ""
            for c in task.constraints
            if _binary(c) and var in (c.subject, c.object)
        }
        - known
        - {""}
    )
    head = f"[{var}] Find {_describe(node)}" + (" (the answer)" if node.role == "answer" else "")
    parts = [head + (": " + "; ".join(clues) if clues else "")]
    if waits:
        parts.append("needs " + ", ".join(f"[{w}]" for w in waits))
    return " — ".join(parts) + "."


def render_plan(task: Task, step: PlanStep, labels: dict[str, str], number: int) -> str:
    """One plan as the model writes it."""
    known = set(step.known)
    lines = [f"Plan (update {number})." if number else "Plan."]
    if step.known:
        lines.append("Known: " + "; ".join(f"[{v}] {labels[v]}" for v in step.known) + ".")
    lines.append("Concrete goals:")
    lines += [f"- {_goal(task, v, known, labels)}" for v in step.concrete]
    lines.append("Ambiguous goals:")
    lines += [f"- {_goal(task, v, known, labels)}" for v in step.ambiguous] or ["- none"]
    lines.append(f"Next: resolve [{step.resolve}].")
    return "\n".join(lines)


def parse_plan(text: str) -> tuple[list[str], list[str]] | None:
    """The goal tags under ``Concrete goals`` and ``Ambiguous goals`` (``None``: no headers).

    A goal is a line of a section; its variable is the line's *first* tag (later tags say what
    it waits for).
    """
    sections: dict[str, list[str]] = {"concrete": [], "ambiguous": []}
    current: str | None = None
    seen = set()
    for line in text.splitlines():
        lower = line.lower()
        if "concrete goals" in lower:
            current = "concrete"
        elif "ambiguous goals" in lower:
            current = "ambiguous"
        elif lower.lstrip().startswith(("next:", "known:")):
            current = None
        else:
            tag = _TAG.search(line)
            if current is not None and tag is not None:
                sections[current].append(tag.group(1))
            continue
        seen.add(current)
    if not {"concrete", "ambiguous"} <= seen:
        return None
    return sections["concrete"], sections["ambiguous"]


def verify_plan(task: Task, step: PlanStep, text: str) -> str | None:
    """Why plan ``text`` for ``step`` disagrees with the graph (a reason slug), or ``None``."""
    parsed = parse_plan(text)
    if parsed is None:
        return "plan_sections_missing"
    concrete, ambiguous = parsed
    variables = {n.var for n in task.nodes}
    if any(v not in variables for v in concrete + ambiguous):
        return "goal_not_in_graph"
    if len(set(concrete + ambiguous)) != len(concrete + ambiguous):
        return "goal_repeated"
    if set(concrete) != set(step.concrete) or set(ambiguous) != set(step.ambiguous):
        return "plan_split_mismatch"
    if step.resolve not in step.concrete or not _concrete(task, step.resolve, set(step.known)):
        return "plan_order"
    return None


def check_tasks(
    tasks: Sequence[Task], world_hash: str | None = None, source: str = "--tasks"
) -> None:
    """Raise ``UserError`` for no tasks, tasks without a graph, or tasks of another World.

    A task synthesized from another World than ``world_hash`` would put that World's entity
    and document ids into the samples' decontamination fields.
    """
    if not tasks:
        raise UserError(f"planning needs synthesized tasks ({source}): none were given")
    bare = [t.id for t in tasks if not t.nodes or not t.constraints]
    if bare:
        shown = ", ".join(bare[:5]) + (" ..." if len(bare) > 5 else "")
        raise UserError(
            f"{source}: {len(bare)} of {len(tasks)} tasks have no reasoning graph (nodes and "
            f"constraints), e.g. {shown}; planning needs `redsearcher synth` output"
        )
    if world_hash is not None:
        other = [t for t in tasks if t.world_hash is not None and t.world_hash != world_hash]
        if other:
            raise UserError(
                f"{source}: {len(other)} of {len(tasks)} tasks were synthesized from World "
                f"{(other[0].world_hash or '')[:12]}…, not from this World "
                f"({world_hash[:12]}…), e.g. {other[0].id}"
            )


class PlanningGenerator:
    """Hierarchical plans over synthesized task graphs (Stage I); one sample per task."""

    kind: Kind = "planning"
    stage: Stage = "I"

    def check(self, ctx: GenContext) -> None:
        """Every task must carry its graph and come from the context's World."""
        check_tasks(ctx.tasks, ctx.world_hash)

    def generate(self, ctx: GenContext, n: int, seed: int) -> Iterator[MidtrainSample | Rejection]:
        """Yield up to ``n`` samples, one per task in a seeded order (stops when tasks run out)."""
        order = list(range(len(ctx.tasks)))
        rng = random.Random(f"planning:{seed}")
        rng.shuffle(order)
        made = 0
        for i in order:
            if made >= n:
                return
            result = self._one(ctx, ctx.tasks[i], rng)
            if isinstance(result, Rejection):
                yield result
                continue
            yield result.model_copy(update={"id": f"planning-{seed}-{made}"})
            made += 1

    def _one(self, ctx: GenContext, task: Task, rng: random.Random) -> MidtrainSample | Rejection:
        try:
            steps = flatten(task, rng)
        except ValueError as err:
            return Rejection(self.kind, "disconnected_graph", str(err))
        if not steps or task.answer is None:
            return Rejection(self.kind, "no_goals", task.id)
        labels = {n.var: n.label for n in task.nodes}
        messages = [
            MidtrainMessage(role="system", content=PLANNING_SYSTEM),
            MidtrainMessage(role="user", content=f"Question: {task.question}"),
        ]
        rewrites: list[str] = []
        for number, step in enumerate(steps):
            plan = render_plan(task, step, labels, number)
            failure = verify_plan(task, step, plan)
            if failure is not None:
                return Rejection(self.kind, f"offline_{failure}", task.id)
            if ctx.rewriter is not None:
                rewritten = ctx.rewriter.rewrite(REWRITE_INSTRUCTION, plan)
                reason = "no_reply" if rewritten is None else verify_plan(task, step, rewritten)
                if reason is None and rewritten is not None:
                    plan = rewritten.strip()
                    rewrites.append("llm")
                else:
                    rewrites.append(f"fallback:{reason}")
            if number:
                previous = steps[number - 1].resolve
                messages.append(
                    MidtrainMessage(
                        role="user",
                        content=f"Result: [{previous}] is {labels[previous]}.",
                    )
                )
            messages.append(MidtrainMessage(role="assistant", content=plan, loss_weight=1.0))
        last = steps[-1].resolve
        messages.append(
            MidtrainMessage(role="user", content=f"Result: [{last}] is {labels[last]}.")
        )
        messages.append(
            MidtrainMessage(
                role="assistant",
                content=f"Every goal is resolved.\nAnswer: {task.answer}",
                loss_weight=1.0,
            )
        )
        source: dict[str, object] = {
            "world_hash": ctx.world_hash,
            "generator": VERSION,
            "task_id": task.id,
            "order": [s.resolve for s in steps],
            "rewrite": "offline",
        }
        if ctx.rewriter is not None:
            source["rewriter"] = ctx.rewriter.name
            fails = [r.split(":", 1)[1] for r in rewrites if r.startswith("fallback:")]
            source["rewrite"] = "fallback" if fails else "llm"
            if fails:
                source["fallback_reason"] = fails[0]
        text = "\n\n".join(m.content for m in messages[1:])
        return MidtrainSample(
            id="",
            kind=self.kind,
            stage=self.stage,
            messages=messages,
            text=text,
            question=task.question,
            answer_entities=[task.answer_entity] if task.answer_entity else [],
            evidence_docs=list(task.evidence_documents),
            source=source,
        )
