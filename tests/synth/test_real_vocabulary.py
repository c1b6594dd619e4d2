"""Real-World vocabulary in questions: no ids, no ``links_to``, no clause said twice.

A hand-built World shaped like an ingested Wikidata sample: raw-id and ``item`` types with
descriptions, a predicate no phrase table knows, one named by a raw property id, a symmetric
relation stored in both directions, ``links_to`` hyperlink facts and an entity whose label
is its id (no English label). Then a property check over random small graphs: whatever the
types, predicates and units, no realized question contains ``Q123``/``P123``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.env import LocalEnvironment, build_index
from redsearcher.log import Condition, Constraint, GraphNode
from redsearcher.synth import _grammar as g
from redsearcher.synth._config import SynthConfig
from redsearcher.synth._draft import Draft, drafts
from redsearcher.synth._grammar_wikidata import (
    WIKIDATA_RELATIONS,
    generic_relation,
    generic_same,
    unit_words,
)
from redsearcher.synth._graph import (
    Edge,
    MasterGraph,
    SeedFilter,
    _closing_edges,
    _cycle_nodes,
    expand,
    seed_pool,
)
from redsearcher.synth._kg import KnowledgeGraph
from redsearcher.synth._realize import LLMRealizer, OfflineRealizer, Realization
from redsearcher.synth._synth import Synthesizer
from redsearcher.synth._verify import Verifier
from redsearcher.testing import ScriptedModel, Step
from redsearcher.testing._worlds import TINY_DOCUMENTS, TINY_ENTITIES, TINY_FACTS, TINY_PROVENANCE
from redsearcher.tools._backends import LocalBackend
from redsearcher.world import (
    DISCOVERY_ONLY_PREDICATES,
    SYMMETRIC_PREDICATES,
    Document,
    Entity,
    Fact,
    Provenance,
    World,
    WorldWriter,
)

ID = re.compile(r"\b[QP]\d+\b")

ENTITIES = [
    Entity("Q101", "Ada Marsh", "person", "Velmark stage actress"),
    Entity("Q102", "Bruno Vell", "Q5", "Velmark film director and screenwriter"),
    Entity("Q103", "Kessel", "Q1549591", "big city in Velmark, on the Oder"),
    Entity("Q104", "Golden Reed", "Q19020", "award presented by the Velmark Academy"),
    Entity("Q105", "Velmark Academy", "item"),
    Entity("Q106", "Q106", "Q5"),  # no label in any language: ingest fell back to the id
    Entity("Q107", "Москва", "city"),  # only a Cyrillic label
    Entity("Q108", "Nora Pike", "person", "son of Ada Marsh"),  # description leaks a name
]
FACTS = [
    Fact.relation(1, "Q101", "spouse", "Q102"),
    Fact.relation(2, "Q102", "spouse", "Q101"),  # the symmetric twin, as ingest stores it
    Fact.relation(3, "Q101", "commemorated_by", "Q104"),  # in no phrase table
    Fact.relation(4, "Q102", "p1344", "Q104"),  # a predicate named by a raw property id
    Fact.relation(5, "Q104", "conferred_by", "Q105"),
    Fact.relation(6, "Q101", "links_to", "Q103"),  # a hyperlink: discovery only
    Fact.relation(7, "Q102", "place_of_birth", "Q103"),
    Fact.relation(8, "Q101", "place_of_birth", "Q106"),  # to the unlabelled entity
    Fact.relation(9, "Q102", "residence", "Q107"),  # to the Cyrillic-only entity
    Fact.relation(10, "Q108", "links_to", "Q101"),  # Nora Pike's only link
    Fact.date_value(11, "Q101", "date_of_birth", "1950-04-02"),
    Fact.date_value(12, "Q102", "date_of_birth", "1948-11-30"),
    Fact.string_value(13, "Q101", "occupation", "actress"),
    Fact.string_value(14, "Q102", "occupation", "Q33999"),  # an unresolved item id
    Fact.quantity(15, "Q103", "area", 120.5, unit="Q712226"),
    Fact.date_value(16, "Q104", "inception", "1931-01-01"),
]


@pytest.fixture(scope="module")
def kg(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    path: Path = tmp_path_factory.mktemp("real") / "world"
    with WorldWriter(path, source={"kind": "fixture", "name": "real-like"}) as w:
        w.add_entities(ENTITIES)
        w.add_facts(FACTS)
        w.add_documents(
            [
                Document(
                    "D1",
                    "Ada Marsh",
                    "Ada Marsh, born 2 April 1950, is an actress married to Bruno Vell.",
                    "encyclopedia",
                    mentions=("Q101", "Q102"),
                    about="Q101",
                ),
                Document(
                    "D2",
                    "Bruno Vell",
                    "Bruno Vell (born 30 November 1948) is a director born in Kessel.",
                    "encyclopedia",
                    mentions=("Q102", "Q103"),
                    about="Q102",
                ),
            ]
        )
        w.add_provenance(
            [Provenance("D1", f) for f in (1, 2, 11, 13)]
            + [Provenance("D2", f) for f in (2, 7, 12, 14)]
        )
    return KnowledgeGraph(World.open(path))


def _nodes(kg: KnowledgeGraph, draft_rows: dict[str, int], draft: object) -> list[GraphNode]:
    return [
        GraphNode(
            var=v,
            entity=kg.ids[r],
            label=kg.label(r),
            type=kg.type_of(r),
            role=draft.roles[v],  # type: ignore[attr-defined]
        )
        for v, r in draft_rows.items()
    ]


# -- the World's graph ---------------------------------------------------------------------------


def test_sets_in_the_vocabulary() -> None:
    assert {"spouse", "twinned_with", "sibling", "shares_border_with"} <= SYMMETRIC_PREDICATES
    assert "links_to" in DISCOVERY_ONLY_PREDICATES


def test_unnamed_entities_are_never_seeds_or_nodes(kg: KnowledgeGraph) -> None:
    named = {kg.ids[r] for r in range(len(kg)) if kg.is_named[r]}
    assert "Q106" not in named and "Q107" not in named and {"Q101", "Q103"} <= named
    pool = {kg.ids[r] for r in seed_pool(kg, SeedFilter(min_facts=1, min_mentions=0))}
    assert pool and not pool & {"Q106", "Q107"}
    for seed in range(30):
        g_ = expand(kg, kg.row_of["Q101"], 6, np.random.default_rng(seed), hub_cap=100)
        assert not {kg.ids[r] for r in g_.rows} & {"Q106", "Q107", "Q108"}


def test_links_to_is_never_an_edge(kg: KnowledgeGraph) -> None:
    # Nora Pike's only relation is a hyperlink: she cannot grow a graph.
    lone = expand(kg, kg.row_of["Q108"], 4, np.random.default_rng(0), hub_cap=100)
    assert lone.rows == [kg.row_of["Q108"]] and not lone.edges
    rows = [kg.row_of[e] for e in ("Q101", "Q102", "Q103")]
    graph = MasterGraph(rows=rows)
    links = kg.pred_code("links_to")
    assert all(e.pred != links for e in _closing_edges(kg, graph))


def test_symmetric_pair_is_one_edge(kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two documents state 8 of the facts, so this is a text-only World, where only stated
    # facts join a graph (test_text_only_walks_stated_facts); here: the dedupe of every fact.
    monkeypatch.setitem(kg.__dict__, "sparse_provenance", False)
    spouse = kg.pred_code("spouse")
    closing = _closing_edges(kg, MasterGraph(rows=[kg.row_of["Q101"], kg.row_of["Q102"]]))
    assert [e.pred for e in closing].count(spouse) == 1
    # A new node linked to the graph by both stored directions joins with one edge.
    graph = MasterGraph(rows=[kg.row_of["Q101"], kg.row_of["Q104"]])
    cycles = dict(_cycle_nodes(kg, graph, hub_cap=100))
    joined = [e.pred for e in cycles[kg.row_of["Q102"]]]
    assert joined.count(spouse) == 1 and kg.pred_code("p1344") in joined


def test_draft_drops_links_to_and_the_symmetric_twin(kg: KnowledgeGraph) -> None:
    a, b, c = (kg.row_of[e] for e in ("Q101", "Q102", "Q103"))
    spouse, links, born = (kg.pred_code(p) for p in ("spouse", "links_to", "place_of_birth"))
    graph = MasterGraph(
        rows=[a, b, c],
        edges=[
            Edge("relation", 0, 1, spouse, (kg.fact_row(1),)),
            Edge("relation", 1, 0, spouse, (kg.fact_row(2),)),  # graphs built by hand may
            Edge("relation", 0, 2, links, (kg.fact_row(6),)),  # carry these; drafts do not
            Edge("relation", 1, 2, born, (kg.fact_row(7),)),
        ],
    )
    for draft in drafts(kg, graph, min_nodes=3, per_graph=1):
        preds = [c.predicate for c in draft.constraints]
        assert preds.count("spouse") == 1 and "links_to" not in preds


# -- realization -------------------------------------------------------------------------------


def _realize(kg: KnowledgeGraph, roles: dict[str, str], constraints: list[Constraint]) -> str:
    rows = {v: kg.row_of[e] for v, e in (("x0", "Q101"), ("x1", "Q102"), ("x2", "Q103"))}
    rows |= {"x3": kg.row_of["Q104"], "x4": kg.row_of["Q105"]}
    nodes = [
        GraphNode(var=v, entity=kg.ids[r], label=kg.label(r), type=kg.type_of(r), role=roles[v])  # type: ignore[arg-type]
        for v, r in rows.items()
    ]
    descriptions = {n.entity: kg.description(rows[n.var]) or "" for n in nodes}
    aliases = {n.entity: kg.aliases(rows[n.var]) for n in nodes}
    out = OfflineRealizer().realize_sync(
        nodes, constraints, seed=4, aliases=aliases, descriptions=descriptions
    )
    assert len(set(out.constraint_texts)) == len(out.constraint_texts)
    return out.question


CONSTRAINTS = [
    Constraint(kind="relation", predicate="spouse", subject="x0", object="x1"),
    Constraint(kind="relation", predicate="commemorated_by", subject="x0", object="x3"),
    Constraint(kind="relation", predicate="p1344", subject="x1", object="x3"),
    Constraint(kind="relation", predicate="conferred_by", subject="x3", object="x4"),
    Constraint(kind="relation", predicate="place_of_birth", subject="x1", object="x2"),
    Constraint(
        kind="attribute",
        predicate="area",
        subject="x2",
        condition=Condition(op="range", low=100, high=130, unit="Q712226"),
    ),
    Constraint(
        kind="attribute",
        predicate="date_of_birth",
        subject="x1",
        condition=Condition(op="decade", low=1940, high=1949),
    ),
]


def test_question_on_real_types_has_no_id_and_no_repeat(kg: KnowledgeGraph) -> None:
    roles = {"x0": "answer", "x1": "latent", "x2": "latent", "x3": "latent", "x4": "observed"}
    question = _realize(kg, roles, CONSTRAINTS)
    assert not ID.search(question), question
    assert "links" not in question and "p1344" not in question.lower()
    # Raw-id types read as their description's head; an undescribed item as "entity".
    assert "big city" in question and "film director" in question and "an award" in question
    assert "Velmark Academy" in question  # the observed item is named
    assert "is commemorated by" in question and "is directly related to" in question
    assert "square kilometres" in question


def test_leaky_description_is_not_a_handle(kg: KnowledgeGraph) -> None:
    # Bruno Vell hidden, described as "son of Ada Marsh" would spell Ada's name: when the
    # hidden node's description holds a hidden label, the handle falls back to "entity".
    nodes = [
        GraphNode(var="x0", entity="Q108", label="Nora Pike", type="Q5", role="answer"),
        GraphNode(var="x1", entity="Q101", label="Ada Marsh", type="person", role="latent"),
    ]
    c = [Constraint(kind="relation", predicate="relative", subject="x0", object="x1")]
    out = OfflineRealizer().realize_sync(
        nodes, c, seed=0, descriptions={"Q108": "son of Ada Marsh", "Q101": ""}
    )
    assert "Ada" not in out.question and "son" in out.question
    leak = OfflineRealizer().realize_sync(
        nodes, c, seed=0, descriptions={"Q108": "Ada Marsh impersonator"}
    )
    assert "Ada" not in leak.question and "an entity" in leak.question.lower()


def test_links_to_and_id_values_are_refused(kg: KnowledgeGraph) -> None:
    roles = {"x0": "answer", "x1": "latent", "x2": "observed", "x3": "latent", "x4": "observed"}
    with pytest.raises(ValueError, match="discovery-only"):
        _realize(kg, roles, [Constraint(kind="relation", predicate="links_to", subject="x0", object="x2")])  # fmt: skip
    bad = Constraint(
        kind="attribute",
        predicate="occupation",
        subject="x1",
        condition=Condition(op="eq", value="Q33999"),
    )
    with pytest.raises(ValueError, match="id value"):
        _realize(kg, roles, [bad])


def test_llm_realizer_rejects_a_raw_id_and_shows_no_id_type() -> None:
    nodes = [
        GraphNode(var="x0", entity="Q1", label="Kessel", type="Q1549591", role="answer"),
        GraphNode(var="x1", entity="Q2", label="Lodz", type="city", role="observed"),
    ]
    c = [Constraint(kind="relation", predicate="twinned_with", subject="x0", object="x1")]
    model = ScriptedModel(
        [Step(content="<question>Which Q1549591 is twinned with Lodz?</question>")],
        name="fake-llm",
    )
    realizer = LLMRealizer(model, max_attempts=1)
    _, prompt = realizer.draft(nodes, c, seed=0, descriptions={"Q1": "big city in Velmark"})
    assert not ID.search(prompt.split("Draft")[0] if "Draft" in prompt else prompt)
    with model:
        out: Realization = asyncio.run(
            realizer.realize(nodes, c, seed=0, descriptions={"Q1": "big city in Velmark"})
        )
    assert out.source == "fallback" and "raw id Q1549591" in out.rejected[0]
    assert not ID.search(out.question) and "big city" in out.question


# -- phrasing from the words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "forward", "inverse"),
    [
        ("named_after_river", "is named after river X", "has Y named after river it"),
        ("coach_of", "is a coach of X", "has Y as a coach"),
        ("architectural_style", "has X as its architectural style", "is the architectural style of Y"),
        ("depicts", "depicts X", "is what Y depicts"),
        ("P1344", "is directly related to X", "is directly related to Y"),
        ("q5_member_of", "is a member of X", "has Y as a member"),
    ],
)  # fmt: skip
def test_generic_relation_from_words(name: str, forward: str, inverse: str) -> None:
    fwd, inv = generic_relation(name)
    assert fwd[0].format(o="X", p="its") == forward
    assert inv[0].format(s="Y") == inverse
    assert not ID.search(generic_same(name)[0])


def test_units_and_types_never_print_ids() -> None:
    assert unit_words("Q712226") == " square kilometres" and unit_words("Q99999999") == ""
    assert unit_words("minute") == " minutes"  # the synthetic rule is kept
    assert g.readable_type("Q5") is None and g.readable_type("item") is None
    assert g.readable_type("human_settlement") == "human settlement"
    assert g.description_handle("city in and county seat of Q99, United States") == "city"
    assert g.description_handle("Q42") is None
    assert g.description_handle("1996 film directed by Tom") == "film"


def test_proper_name_types_and_names_ending_in_a_stop_read_as_english() -> None:
    # Class labels that are proper names came in with their first letter lowered.
    assert g.readable_type("academy Awards") is None
    assert g.readable_type("golden Globe Award") is None
    assert g.readable_type("borough of New York City") == "borough of New York City"
    assert g.readable_type("Motion picture award") == "motion picture award"
    assert g.readable_type("United States Navy") == "United States Navy"  # not sentence case
    nodes = [
        GraphNode(var="x0", entity="Q1", label="Gladiator", type="film", role="answer"),
        GraphNode(var="x1", entity="Q2", label="Warner Bros.", type="company", role="observed"),
        GraphNode(var="x2", entity="Q3", label="Best Actor", type="academy Awards", role="latent"),
    ]
    cs = [
        Constraint(kind="relation", predicate="award_received", subject="x0", object="x2"),
        Constraint(kind="relation", predicate="production_company", subject="x0", object="x1"),
    ]
    realizer = OfflineRealizer()
    for seed in range(3):
        q = realizer.realize_sync(nodes[:2], cs[1:], seed=seed).question
        assert "Warner Bros.." not in q and "Warner Bros." in q, q
    for seed in range(6):
        q = realizer.realize_sync(
            nodes, cs, seed=seed, descriptions={"Q3": "award presented annually"}
        ).question
        assert ".." not in q and "academy" not in q and "award" in q, q


def test_phrase_table_covers_most_used_properties() -> None:
    assert len(WIKIDATA_RELATIONS) >= 60
    for forward, inverse in WIKIDATA_RELATIONS.values():
        assert all("{o}" in t for t in forward) and all("{s}" in t for t in inverse)


# -- property: no id on random small graphs ------------------------------------------------------

_TYPES = st.sampled_from(
    ["Q5", "Q1549591", "item", "", "person", "city", "film", "human_settlement", "P17"]
)
_PREDICATES = st.sampled_from(
    [
        *("spouse", "born_in", "director", "participant_in", "p1344", "P31", "q5_of"),
        *("named_after_q7", "has_part_s", "member_of", "architectural_style", "l12"),
        *sorted(WIKIDATA_RELATIONS)[:20],
    ]
)
_DESCRIPTIONS = st.sampled_from(
    ["", "city in Q5", "Q42", "American actor (born 1947)", "son of Tom", "1996 film"]
)
_NAMES = st.text(alphabet="abcdefghij ", min_size=1, max_size=12).map(lambda s: "N" + s)


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[GraphNode], list[Constraint], dict[str, str]]:
    n = draw(st.integers(2, 5))
    roles = ["answer"] + [draw(st.sampled_from(["latent", "observed"])) for _ in range(n - 1)]
    nodes = [
        GraphNode(var=f"x{i}", entity=f"E{i}", label=draw(_NAMES), type=draw(_TYPES), role=r)  # type: ignore[arg-type]
        for i, r in enumerate(roles)
    ]
    constraints = []
    for i in range(1, n):
        j = draw(st.integers(0, i - 1))
        kind = draw(st.sampled_from(["relation", "relation", "same"]))
        pred = draw(_PREDICATES)
        constraints.append(Constraint(kind=kind, predicate=pred, subject=f"x{j}", object=f"x{i}"))  # type: ignore[arg-type]
    for i in range(draw(st.integers(0, 2))):
        pred = draw(_PREDICATES | st.sampled_from(["area", "start_time", "p2046"]))
        op = draw(st.sampled_from(["range", "decade", "eq"]))
        cond = (
            Condition(op="range", low=1, high=9, unit=draw(st.sampled_from(["Q11573", "Q1", None])))
            if op == "range"
            else Condition(op="decade", low=1990, high=1999)
            if op == "decade"
            else Condition(op="eq", value="blue")
        )
        constraints.append(Constraint(kind="attribute", predicate=pred, subject=f"x{i}", condition=cond))  # fmt: skip
    descriptions = {f"E{i}": draw(_DESCRIPTIONS) for i in range(n)}
    return nodes, constraints, descriptions


@settings(max_examples=200, deadline=None)
@given(_graphs(), st.integers(0, 50))
def test_no_realized_question_contains_an_id(
    graph: tuple[list[GraphNode], list[Constraint], dict[str, str]], seed: int
) -> None:
    nodes, constraints, descriptions = graph
    out = OfflineRealizer().realize_sync(nodes, constraints, seed=seed, descriptions=descriptions)
    assert not ID.search(out.question), out.question
    assert not any(ID.search(t) for t in out.constraint_texts)


# -- through the synthesizer -------------------------------------------------------------------


def test_synthesizer_describes_an_id_typed_answer(tmp_path: Path) -> None:
    """The pipeline hands the World's descriptions to the realizer (the answer's type is an id).

    The tiny World's director-cast-their-child film, with every film typed ``Q11424`` and a
    second film (as in ``test_known_worlds``) so that no single clause gives the answer away.
    """
    second = Entity("E11", "Grey Meridian", "film")
    entities = [
        replace(x, type="Q11424") if x.type == "film" else x for x in (*TINY_ENTITIES, second)
    ]
    text = "Grey Meridian is a film directed by Oskar Brandt, with Ilse Velden in the cast."
    path = tmp_path / "world"
    with WorldWriter(path, source={"kind": "fixture", "name": "tiny-ids"}) as w:
        w.add_entities(entities)
        w.add_facts(
            [
                *TINY_FACTS,
                Fact.relation(30, "E11", "director", "E3"),
                Fact.relation(31, "E11", "cast_member", "E2"),
            ]
        )
        w.add_documents(
            [
                *TINY_DOCUMENTS,
                Document(
                    "D11",
                    "Grey Meridian",
                    text,
                    "encyclopedia",
                    mentions=("E11", "E3", "E2"),
                    about="E11",
                ),
            ]
        )
        w.add_provenance([*TINY_PROVENANCE, Provenance("D11", 30), Provenance("D11", 31)])
    build_index(path, tmp_path / "index", progress=False)
    env = LocalEnvironment.open(tmp_path / "index")
    kg = KnowledgeGraph(World.open(path))
    verifier = Verifier(kg=kg, env=env, backend=LocalBackend(env))
    draft = Draft(
        types={"x0": "Q11424", "x1": "person", "x2": "person"},
        rows={"x0": kg.row_of["E4"], "x1": kg.row_of["E1"], "x2": kg.row_of["E2"]},
        roles={"x0": "answer", "x1": "latent", "x2": "latent"},
        constraints=[
            Constraint(kind="relation", predicate="director", subject="x0", object="x1", fact_ids=[4]),
            Constraint(kind="relation", predicate="cast_member", subject="x0", object="x2", fact_ids=[5]),
            Constraint(kind="relation", predicate="child", subject="x1", object="x2", fact_ids=[3]),
        ],
        answer="x0",
        shape="hub",
    )  # fmt: skip
    synth = Synthesizer(kg, verifier, SynthConfig(n=1, treewidth="1-3", msd="1-"))
    task = asyncio.run(synth.complete(draft, np.random.default_rng(0), "t-ids"))
    assert task is not None, synth.report.rejected
    assert task.answer_type == "Q11424"  # the record keeps the World's type ...
    assert not ID.search(task.question)  # ... the text does not: "1990 film" reads "film"
    assert "the film" in task.question.lower() and "entity" not in task.question


def test_text_only_walks_stated_facts(kg: KnowledgeGraph) -> None:
    assert kg.sparse_provenance  # 8 of the facts stated, by two lead texts
    graph = MasterGraph(rows=[kg.row_of["Q101"], kg.row_of["Q104"]])
    cycles = dict(_cycle_nodes(kg, graph, hub_cap=100))
    # Bruno Vell is tied to the graph by the stated marriage only: no cycle through him.
    assert kg.row_of["Q102"] not in cycles
    for seed in range(20):
        g_ = expand(kg, kg.row_of["Q101"], 4, np.random.default_rng(seed), hub_cap=100)
        assert all(kg.stated_by(f) for e in g_.edges for f in e.facts)
