"""The verifier cascade, cheap to expensive; each stage's verdict goes on the task.

1. **structural** — the constraints have exactly one solution in the World (CSP), the question
   names neither the answer nor a latent entity, and every constraint is true of the intended
   entities (facts exist, conditions hold).
2. **shortcut** — no single search (the question, an observed name, a constraint's phrase)
   returns a document whose stated facts alone pin the answer: the constraints a document
   states fully are re-solved by themselves, and a unique answer means the task is one lookup.
3. **completeness** — an oracle walk through the *live* environment API (any ``Backend``:
   in-process or HTTP) finds every evidence document with queries derived from its facts,
   reads it, and gets every tool answer (route, citation count, computed day count) within the
   constraint's window. A task that passes is solvable in the environment.

Stages 4 (LLM no-tool solver and audit) and 5 (agent-rollout difficulty filter) live in
``_llm_verify`` and are optional.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from redsearcher.env import LocalEnvironment, normalize_url
from redsearcher.log import Constraint, Task, Verdict
from redsearcher.synth._conditions import compass, compass_index, holds, route_minutes
from redsearcher.synth._csp import solve
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._realize import leaked_names
from redsearcher.tools import Backend, ToolError

__all__ = ["Verifier", "evidence_facts"]


def evidence_facts(kg: KnowledgeGraph, constraints: Iterable[Constraint]) -> list[int]:
    """World fact ids a solver must read in documents (tool-only facts excluded), sorted."""
    out: set[int] = set()
    for c in constraints:
        for fid in c.fact_ids:
            row = kg.fact_row(fid)
            if row >= 0 and not kg.is_tool_only(row):
                out.add(fid)
    return sorted(out)


@dataclass
class Verifier:
    """Runs stages 1-3 against one World (and its index, for URLs and shortcut searches).

    Args:
        kg: The World's graph.
        env: The World's local index: the shortcut stage's search engine and the map between
            document ids and URLs.
        backend: The live API the completeness walk uses (a ``LocalBackend`` over ``env``, or
            an ``HTTPBackend`` for a served environment); None skips stage 3.
        budget: CSP candidate checks per solve.
        search_k: Results per search.
    """

    kg: KnowledgeGraph
    env: LocalEnvironment
    backend: Backend | None = None
    budget: int = 200_000
    search_k: int = 10
    source: dict[str, Any] = field(default_factory=dict)
    """How to open this verifier again (``open_verifier`` arguments), for worker processes."""
    _hits: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def _search_ids(self, query: str) -> list[str]:
        """Document ids of a shortcut search, cached.

        Tasks cut from one master graph share most of their phrases, and the index does not
        change during a run.
        """
        ids = self._hits.get(query)
        if ids is None:
            if len(self._hits) > 50_000:
                self._hits.clear()
            ids = self._hits[query] = self.env.search_ids(query, self.search_k)
        return ids

    async def aclose(self) -> None:
        """Close the live backend's connections (call from the event loop that used them)."""
        if self.backend is not None:
            await self.backend.aclose()

    # -- stage 1 ---------------------------------------------------------------------------------
    def structural(self, task: Task, *, proven_unique: bool = False) -> Verdict:
        """Uniqueness, no leakage, consistent constraints.

        Args:
            task: The task.
            proven_unique: Skip the CSP because the caller just proved uniqueness of these
                very constraints (synthesis: the last solve plus attributes added since, which
                can only remove solutions). ``redsearcher verify`` always solves again.
        """
        start = time.perf_counter()
        kg = self.kg
        rows = {n.var: kg.row_of.get(n.entity, -1) for n in task.nodes}
        problems = [f"unknown entity {n.entity}" for n in task.nodes if rows[n.var] < 0]
        if not problems:
            problems = [p for c in task.constraints for p in self._consistency(c, rows)]
        detail: dict[str, Any] = {}
        if not problems and proven_unique:
            detail["solutions"] = "1 (proved during synthesis)"
        elif not problems:
            # distinct answers, as a reader counts them: "a city twinned with a city (call it
            # D)" leaves D open, and several Ds are one answer
            answer = _answer_var(task)
            sols = solve(
                kg,
                {n.var: n.type for n in task.nodes},
                task.constraints,
                bound={n.var: rows[n.var] for n in task.nodes if n.role == "observed"},
                answer=answer,
                distinct=True,
                budget=self.budget,
            )
            detail["solutions"] = sols.count if sols.complete else f">={sols.count} (budget)"
            if not sols.unique:
                problems.append(f"not unique: {detail['solutions']} solutions")
            elif sols.assignments[0][answer] != rows[answer]:
                problems.append("the unique solution is not the intended one")
        aliases = {n.entity: kg.aliases(rows[n.var]) for n in task.nodes if rows[n.var] >= 0}
        leaks = leaked_names(task.question, task.nodes, aliases)
        if leaks:
            problems.append(f"question names {', '.join(leaks)}")
        detail["problems"] = problems
        return Verdict(
            stage="structural", passed=not problems, detail=detail, seconds=_since(start)
        )

    def _consistency(self, c: Constraint, rows: dict[str, int]) -> list[str]:
        kg = self.kg
        facts = [kg.fact_row(f) for f in c.fact_ids]
        if not facts or any(f < 0 for f in facts):
            return [f"{c.kind} {c.predicate} on {c.subject}: unknown fact ids {c.fact_ids}"]
        s = rows.get(c.subject, -1)
        o = rows.get(c.object, -1) if c.object else -1
        bad = f"{c.kind} {c.predicate} on {c.subject} does not hold"
        if c.kind == "relation":
            f = facts[0]
            ok = kg.f.subj[f] == s and kg.f.obj[f] == o and kg.pred(f) == c.predicate
        elif c.kind == "same":
            a, b = facts[0], facts[-1]
            ok = (
                kg.f.subj[a] == s
                and kg.f.subj[b] == o
                and kg.f.obj[a] == kg.f.obj[b] >= 0
                and kg.pred(a) == kg.pred(b) == c.predicate
            )
        elif c.kind == "route":
            ok = self._route_holds(c, s, o)
        else:
            f = facts[0]
            ok = c.condition is not None and kg.f.subj[f] == s and holds(c.condition, kg.value(f))
        return [] if ok else [bad]

    def _route_holds(self, c: Constraint, s: int, anchor: int) -> bool:
        kg, cond = self.kg, c.condition
        pred = kg.pred_code("coordinates")
        a, b = kg.values(anchor, pred), kg.values(s, pred)
        if cond is None or not a or not b:
            return False
        lat, lon = np.array([b[0][0]]), np.array([b[0][1]])
        minutes = float(route_minutes(a[0], lat, lon, cond.unit or "driving")[0])
        direction = int(compass(a[0], lat, lon)[0])
        return holds(cond, minutes) and (
            not cond.value or direction == compass_index(str(cond.value))
        )

    # -- stage 2 ---------------------------------------------------------------------------------
    def shortcut(self, task: Task) -> Verdict:
        """No single search result states enough to pin the answer."""
        start = time.perf_counter()
        kg = self.kg
        evidence = set(task.evidence_facts)
        doc_facts: dict[str, set[int]] = {}
        for fid in evidence:
            for doc in kg.stated_by(kg.fact_row(fid)):
                doc_facts.setdefault(doc, set()).add(fid)
        rows = {n.var: kg.row_of[n.entity] for n in task.nodes}
        types = {n.var: n.type for n in task.nodes}
        answer = _answer_var(task)
        checked: set[str] = set()
        queries = self.shortcut_queries(task)
        for query in queries:
            for doc_id in self._search_ids(query):
                if doc_id in checked or doc_id not in doc_facts:
                    continue
                checked.add(doc_id)
                stated = doc_facts[doc_id]
                subset = [
                    c
                    for c in task.constraints
                    if c.tool is None and c.fact_ids and set(c.fact_ids) <= stated
                ]
                used = {v for c in subset for v in (c.subject, c.object) if v}
                if answer not in used:
                    continue
                sols = solve(
                    kg,
                    {v: types[v] for v in used},
                    subset,
                    bound={
                        n.var: rows[n.var]
                        for n in task.nodes
                        if n.role == "observed" and n.var in used
                    },
                    answer=answer,
                    distinct=True,
                    budget=min(self.budget, 50_000),
                )
                if sols.unique:
                    detail = {"document": doc_id, "query": query, "constraints": len(subset)}
                    return Verdict(
                        stage="shortcut", passed=False, detail=detail, seconds=_since(start)
                    )
        detail = {"queries": len(queries), "documents_checked": len(checked)}
        return Verdict(stage="shortcut", passed=True, detail=detail, seconds=_since(start))

    @staticmethod
    def shortcut_queries(task: Task) -> list[str]:
        """The question, each observed name, each constraint's phrase (deduplicated)."""
        out = [task.question]
        out += [n.label for n in task.nodes if n.role == "observed"]
        out += [c.text for c in task.constraints if c.text]
        return list(dict.fromkeys(q for q in out if q.strip()))

    # -- stage 3 ---------------------------------------------------------------------------------
    async def completeness(self, task: Task) -> Verdict:
        """Oracle walk: every evidence document found and read, every tool answer obtained."""
        start = time.perf_counter()
        if self.backend is None:
            return Verdict(stage="completeness", passed=None, detail={"skipped": "no backend"})
        problems: list[str] = []
        detail: dict[str, Any] = {"documents": {}, "tools": {}}
        labels = {n.var: n.label for n in task.nodes}
        for doc in task.evidence_documents:
            found = await self._find(doc, self._doc_queries(task, doc))
            detail["documents"][doc] = found
            if found is None:
                problems.append(f"evidence document {doc} not found by any derived query")
        for c in task.constraints:
            if c.tool is None:
                continue
            ok, answer = await self._tool_answer(c, labels, task)
            detail["tools"][f"{c.tool}:{c.subject}"] = answer
            if ok is False:
                problems.append(f"{c.tool} answer for {c.subject} out of the window: {answer}")
        detail["problems"] = problems
        return Verdict(
            stage="completeness", passed=not problems, detail=detail, seconds=_since(start)
        )

    def _doc_queries(self, task: Task, doc: str) -> list[str]:
        kg = self.kg
        queries: list[str] = []
        for fid in task.evidence_facts:
            row = kg.fact_row(fid)
            if doc not in kg.stated_by(row):
                continue
            subject = kg.label(int(kg.f.subj[row]))
            value = kg.value(row)
            other = kg.label(value) if kg.kind(row) == "entity" else str(value)
            queries += [f"{subject} {other}", subject]
        return list(dict.fromkeys(queries))

    async def _find(self, doc: str, queries: Sequence[str]) -> str | None:
        assert self.backend is not None
        url = self.env.url_of(doc)
        if url is None:
            return None
        want = normalize_url(url)
        for query in queries:
            try:
                result = await self.backend.search(query, self.search_k)
            except ToolError:
                continue
            links = [normalize_url(str(r.get("link", ""))) for r in result.get("organic", [])]
            if want in links:
                page = await self.backend.read(url)
                return query if page is not None else None
        return None

    async def _tool_answer(
        self, c: Constraint, labels: dict[str, str], task: Task
    ) -> tuple[bool | None, Any]:
        assert self.backend is not None and c.condition is not None
        cond = c.condition
        try:
            if c.tool == "maps":
                route = await self.backend.route(
                    labels[c.object or ""], labels[c.subject], "driving"
                )
                minutes = None if route is None else route.get("duration_minutes")
                return (minutes is not None and holds(cond, float(minutes))), minutes
            if c.tool == "scholar":
                result = await self.backend.scholar(labels[c.subject], self.search_k)
                cited = [
                    r.get("citedBy")
                    for r in result.get("organic", [])
                    if str(r.get("title", "")).casefold() == labels[c.subject].casefold()
                ]
                return any(x is not None and holds(cond, float(x)) for x in cited), cited
            fact = self.kg.fact_row(c.fact_ids[0])
            code = (
                "from datetime import date\n"
                f"print((date.fromisoformat({str(cond.value)!r}) - "
                f"date.fromisoformat({str(self.kg.value(fact))!r})).days)"
            )
            run = await self.backend.run_code(code)
            out = run.stdout.strip()
            return out == str(int(cond.low or 0)), out
        except ToolError as err:
            if c.tool == "python":
                return None, f"skipped: {err}"
            return False, str(err)


def _answer_var(task: Task) -> str:
    return next(n.var for n in task.nodes if n.role == "answer")


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 4)
