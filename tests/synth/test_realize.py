"""Question realizers: the offline grammar, the leak check and the LLM realizer with its checks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redsearcher.errors import ConfigError
from redsearcher.log import Condition, Constraint, GraphNode
from redsearcher.synth._realize import (
    LLMRealizer,
    OfflineRealizer,
    Realization,
    RealizationError,
    leaked_names,
    load_realize_prompt,
)
from redsearcher.testing import ScriptedModel, Step
from redsearcher.world._vocab import ENTITY_TYPES, PREDICATES

OFFLINE = OfflineRealizer()


def node(var: str, label: str, type_: str, role: str = "latent") -> GraphNode:
    return GraphNode(var=var, entity=f"E{var}", label=label, type=type_, role=role)  # type: ignore[arg-type]


def realize(
    nodes: Sequence[GraphNode], constraints: Sequence[Constraint], seed: int = 0
) -> Realization:
    return asyncio.run(OFFLINE.realize(nodes, constraints, seed=seed))


def attr(pred: str, subject: str = "x0", **cond: Any) -> Constraint:
    return Constraint(
        kind="attribute", predicate=pred, subject=subject, condition=Condition(**cond)
    )


def rel(pred: str, s: str, o: str, kind: str = "relation") -> Constraint:
    return Constraint(kind=kind, predicate=pred, subject=s, object=o)  # type: ignore[arg-type]


# The paper's Type II example: the film whose director cast their own child.
FILM = [
    node("x0", "The Quiet Harbor", "film", "answer"),
    node("x1", "Marta Velden", "person"),
    node("x2", "Ilse Velden", "person"),
    node("x3", "Harwick", "city", "observed"),
    node("x4", "Ostrand Pictures", "organization", "observed"),
]
FILM_CONSTRAINTS = [
    rel("director", "x0", "x1"),
    rel("cast_member", "x0", "x2"),
    rel("child", "x1", "x2"),
    rel("born_in", "x1", "x3"),
    rel("production_company", "x0", "x4"),
    attr("publication_date", op="year_range", low=1986, high=1989),
    Constraint(kind="compute", predicate="date_of_birth", subject="x1", tool="python",
               condition=Condition(op="days_between", value="2024-03-01", low=9000, high=9000)),
]  # fmt: skip


# -- the offline grammar -----------------------------------------------------------------------


def test_same_seed_same_text_and_seeds_vary() -> None:
    first = realize(FILM, FILM_CONSTRAINTS, seed=3)
    assert realize(FILM, FILM_CONSTRAINTS, seed=3) == first
    assert len({realize(FILM, FILM_CONSTRAINTS, seed=s).question for s in range(8)}) > 1
    assert first.source == "offline" and first.realizer == "offline"


def test_type_ii_example_reads_and_hides_the_latents() -> None:
    out = realize(FILM, FILM_CONSTRAINTS)
    q = out.question
    assert leaked_names(q, FILM) == []
    for word in ("Harwick", "Ostrand Pictures", "late 1980s", "9,000 days before 1 March 2024"):
        assert word in q
    # two unknown people: lettered handles, introduced once each, referred back to
    assert q.count("(call them A)") == 1 and q.count("(call them B)") == 1
    assert "person A" in q.replace("Person A", "person A")
    assert q.endswith("?") or q.endswith(".")
    assert len(out.constraint_texts) == len(FILM_CONSTRAINTS)
    assert out.constraint_texts[0] in (
        "the film was directed by person A",
        "the film has person A as its director",
    )


def test_every_constraint_stated_once() -> None:
    nodes = [node("x0", "Q", "organization", "answer"), node("x1", "R", "person")]
    cs = [
        attr("employees", op="range", low=1100, high=1700),
        attr("inception", op="year", value=1931.0, low=1931, high=1931),
        rel("founded_by", "x0", "x1"),
        attr("date_of_birth", "x1", op="year", value=1897.0, low=1897, high=1897),
        attr("occupation", "x1", op="eq", value="chemist"),
    ]
    for seed in range(6):
        q = realize(nodes, cs, seed).question
        for value in ("1,100", "1,700", "1931", "1897", "chemist"):
            assert q.count(value) == 1, (value, q)
        assert q.count("a person") == 1 and len(re.findall(r"found|establish", q)) == 2


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"op": "year", "value": 1994.0, "low": 1994, "high": 1994}, "born in 1994"),
        ({"op": "year", "value": 1994.0}, "born in 1994"),
        ({"op": "decade", "low": 1980, "high": 1989}, "born in the 1980s"),
        ({"op": "year_range", "low": 1980, "high": 1983}, "born in the early 1980s"),
        ({"op": "year_range", "low": 1983, "high": 1986}, "born in the mid-1980s"),
        ({"op": "year_range", "low": 1986, "high": 1989}, "born in the late 1980s"),
        ({"op": "year_range", "low": 1984, "high": 1989}, "born between 1984 and 1989"),
        ({"op": "eq", "value": "1951-04-02"}, "born on 2 April 1951"),
    ],
)
def test_date_conditions(cond: dict[str, Any], expected: str) -> None:
    nodes = [node("x0", "Q", "person", "answer")]
    assert expected in realize(nodes, [attr("date_of_birth", **cond)]).question


@pytest.mark.parametrize(
    ("pred", "type_", "verb"),
    [
        ("date_of_birth", "person", "was born"),
        ("inception", "organization", "was founded"),
        ("publication_date", "book", "was published"),
        ("publication_date", "film", "was released"),
        ("date_of_death", "person", "died"),
        ("point_in_time", "event", "was held"),
    ],
)
def test_compute_days_between(pred: str, type_: str, verb: str) -> None:
    nodes = [node("x0", "Q", type_, "answer")]
    before = Condition(op="days_between", value="2024-03-01", low=9000, high=9000)
    after = Condition(op="days_between", value="2024-03-01", low=-12, high=-12)
    c = Constraint(kind="compute", predicate=pred, subject="x0", condition=before, tool="python")
    assert f"{verb} exactly 9,000 days before 1 March 2024" in realize(nodes, [c]).question
    c = c.model_copy(update={"condition": after})
    assert f"{verb} exactly 12 days after 1 March 2024" in realize(nodes, [c]).question


@pytest.mark.parametrize(
    ("pred", "type_", "cond", "words"),
    [
        ("employees", "organization", {"op": "range", "low": 1000, "high": 1500}, ["between 1,000 and 1,500", "employ"]),
        ("population", "city", {"op": "range", "low": 120000, "high": 150000}, ["between 120,000 and 150,000"]),
        ("rating", "place", {"op": "range", "low": 4.1, "high": 4.55}, ["between 4.1 and 4.55", "out of 5"]),
        ("duration", "film", {"op": "range", "low": 90, "high": 110}, ["between 90 and 110 minutes"]),
        ("employees", "organization", {"op": "range", "low": 300}, ["at least 300"]),
        ("number_of_pages", "book", {"op": "eq", "value": "412"}, ["exactly 412 pages"]),
        ("wingspan", "organization", {"op": "range", "low": 10, "high": 12, "unit": "metre"}, ["wingspan", "between 10 and 12 metres"]),
        ("occupation", "person", {"op": "eq", "value": "actor"}, ["actor"]),
        ("genre", "album", {"op": "eq", "value": "jazz"}, ["jazz"]),
        ("category", "place", {"op": "eq", "value": "museum"}, ["a museum"]),
        ("industry", "organization", {"op": "eq", "value": "aerospace"}, ["aerospace"]),
        ("mascot", "university", {"op": "eq", "value": "owl"}, ["owl", "mascot"]),
    ],
)  # fmt: skip
def test_attribute_conditions(
    pred: str, type_: str, cond: dict[str, Any], words: list[str]
) -> None:
    nodes = [node("x0", "Q", type_, "answer")]
    q = realize(nodes, [attr(pred, **cond)]).question
    for word in words:
        assert word in q, q


def test_genre_reads_with_the_type() -> None:
    nodes = [node("x0", "Q", "album", "answer")]
    texts = {
        realize(nodes, [attr("genre", op="eq", value="ambient")], s).question for s in range(12)
    }
    assert any("an ambient album" in t for t in texts)
    assert any("the ambient genre" in t for t in texts)


@pytest.mark.parametrize(
    ("low", "high", "mode", "words"),
    [
        (90, 120, "driving", ["west of Kessel", "between 1.5 and 2 hours", "by car"]),
        (40, 55, "walking", ["west of Kessel", "between 40 minutes and 55 minutes", "on foot"]),
        (
            75,
            100,
            "transit",
            ["between 1 hour 15 minutes and 1 hour 40 minutes", "by public transport"],
        ),
        (None, 30, "bicycling", ["within 30 minutes", "by bicycle"]),
    ],
)
def test_route(low: float | None, high: float, mode: str, words: list[str]) -> None:
    nodes = [node("x0", "Q", "city", "answer"), node("x1", "Kessel", "city", "observed")]
    c = Constraint(kind="route", predicate="coordinates", subject="x0", object="x1", tool="maps",
                   condition=Condition(op="approx_route", value="west", low=low, high=high, unit=mode))  # fmt: skip
    for seed in range(3):
        q = realize(nodes, [c], seed).question
        for word in words:
            assert word in q, q


def test_route_with_compound_direction_and_without_one() -> None:
    nodes = [node("x0", "Q", "place", "answer"), node("x1", "Kessel", "city", "observed")]
    cond = Condition(op="approx_route", value="north-east", low=120, high=150, unit="driving")
    c = Constraint(kind="route", predicate="coordinates", subject="x0", object="x1", condition=cond)
    assert "north-east of Kessel" in realize(nodes, [c]).question
    c = c.model_copy(update={"condition": cond.model_copy(update={"value": None})})
    assert "between 2 and 2.5 hours by car from Kessel" in realize(nodes, [c]).question


def test_scholar() -> None:
    nodes = [node("x0", "Q", "paper", "answer")]
    c = Constraint(kind="scholar", predicate="citation_count", subject="x0", tool="scholar",
                   condition=Condition(op="range", low=1100, high=1300))  # fmt: skip
    texts = [realize(nodes, [c], s).question for s in range(6)]
    assert all("between 1,100 and 1,300" in t for t in texts)
    assert any("cited between 1,100 and 1,300 times" in t for t in texts)


@pytest.mark.parametrize(
    ("pred", "phrase"),
    [
        ("citizen_of", "citizen"),
        ("genre", "same genre as"),
        ("employer", "same employer as"),
        ("publisher_country", "same publisher country as"),  # unknown: generic
    ],
)
def test_same(pred: str, phrase: str) -> None:
    nodes = [node("x0", "Q", "person", "answer"), node("x1", "Maria Lopez", "person", "observed")]
    q = realize(nodes, [rel(pred, "x0", "x1", kind="same")]).question
    assert phrase in q and "Maria Lopez" in q


def test_relations_in_both_directions() -> None:
    # the answer is the director: phrased from the person's side ("directed ...")
    nodes = [node("x0", "Q", "person", "answer"), node("x1", "Blue Harbor", "film", "observed")]
    q = realize(nodes, [rel("director", "x1", "x0")]).question
    assert 'directed "Blue Harbor"' in q or 'director of "Blue Harbor"' in q
    assert q.endswith(("Who is this person?", "Who is the person?", "Name this person."))
    # the answer is the film
    nodes = [node("x0", "Q", "film", "answer"), node("x1", "Marta Velden", "person", "observed")]
    q = realize(nodes, [rel("director", "x0", "x1")]).question
    assert "directed by Marta Velden" in q or "Marta Velden as its director" in q
    assert q.endswith(("Which film is it?", "What is the name of the film?", "Name the film."))


def test_every_vocabulary_relation_both_ways_and_unknown_predicate() -> None:
    for name, pred in PREDICATES.items():
        if pred.kind != "entity":
            continue
        s_type, o_type = pred.subject_types[0], pred.object_types[0]
        for answer_is_subject in (True, False):
            nodes = [
                node("x0", "Q", s_type if answer_is_subject else o_type, "answer"),
                node("x1", "Zembla Norr", o_type if answer_is_subject else s_type, "observed"),
            ]
            c = rel(name, "x0", "x1") if answer_is_subject else rel(name, "x1", "x0")
            out = realize(nodes, [c])
            assert "Zembla Norr" in out.question and "{" not in out.question, (name, out)
    nodes = [node("x0", "Q", "gizmo", "answer"), node("x1", "Zembla Norr", "gizmo", "observed")]
    out = realize(nodes, [rel("frobnicated_by", "x0", "x1"), rel("frobnicated_by", "x1", "x0")])
    assert "frobnicated by" in out.question and "a gizmo" in out.question


def test_lettered_answer_and_disconnected_latent() -> None:
    nodes = [
        node("x0", "Q", "paper", "answer"),
        node("x1", "R", "paper"),
        node("x2", "S", "city"),
        node("x3", "Kessel", "city", "observed"),
    ]
    cs = [rel("cites", "x0", "x1"), rel("twinned_with", "x2", "x3")]
    out = realize(nodes, cs)
    assert "(call it A)" in out.question and "(call it B)" in out.question
    assert "There is also a city" in out.question
    assert out.question.endswith(
        ("Which paper is A?", "What is the name of paper A?", "Name paper A.")
    )


def test_constraint_between_named_entities_is_still_stated() -> None:
    nodes = [node("x0", "Q", "city", "answer"), node("x1", "Arlo", "city", "observed"),
             node("x2", "Kessel", "city", "observed")]  # fmt: skip
    out = realize(nodes, [rel("twinned_with", "x1", "x2"), rel("located_in", "x0", "x1")])
    assert re.search(
        r"Arlo (is twinned with|has a sister-city partnership with) Kessel\.", out.question
    )


def test_malformed_graph_is_an_error_not_a_phrase() -> None:
    with pytest.raises(ValueError, match="unknown 'x9'"):
        realize([node("x0", "Q", "city", "answer")], [rel("twinned_with", "x0", "x9")])
    with pytest.raises(ValueError, match="no condition"):
        realize(
            [node("x0", "Q", "city", "answer")],
            [Constraint(kind="attribute", predicate="population", subject="x0")],
        )


# -- random graphs: never a leak, never a crash ------------------------------------------------

NAMES = ["Vexmoor", "Quillon Drabe", "Tarsk", "Oyelen Fasht", "Brimwater", "Pell Ostrava", "Kzin",
         "Ulmhaven", "Serro Vantis", "Dorrick", "Yevra Lund", "Haskel Ormo"]  # fmt: skip
TYPES = sorted(ENTITY_TYPES)
OPS: list[dict[str, Any]] = [
    {"op": "year", "value": 1911.0, "low": 1911, "high": 1911},
    {"op": "decade", "low": 1920, "high": 1929},
    {"op": "year_range", "low": 1936, "high": 1939},
    {"op": "range", "low": 4100, "high": 4700},
    {"op": "eq", "value": "surveyor"},
]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[GraphNode], list[Constraint]]:
    n = draw(st.integers(2, 6))
    labels = draw(st.permutations(NAMES))[:n]
    roles = [
        "answer",
        *draw(st.lists(st.sampled_from(["latent", "observed"]), min_size=n - 1, max_size=n - 1)),
    ]
    nodes = [node(f"x{i}", labels[i], draw(st.sampled_from(TYPES)), roles[i]) for i in range(n)]
    variables = [v.var for v in nodes]
    observed = [v.var for v in nodes if v.role == "observed"]
    constraints: list[Constraint] = []
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(
            st.sampled_from(["relation", "same", "attribute", "route", "scholar", "compute"])
        )
        pred = draw(st.sampled_from([*PREDICATES, "frobnicated_by"]))
        s = draw(st.sampled_from(variables))
        if kind in ("relation", "same"):
            constraints.append(rel(pred, s, draw(st.sampled_from(variables)), kind=kind))
        elif kind == "attribute":
            constraints.append(attr(pred, s, **draw(st.sampled_from(OPS))))
        elif kind == "route" and observed:
            cond = Condition(op="approx_route", value=draw(st.sampled_from(["west", "south-east"])),
                             low=draw(st.sampled_from([20, 60, 90])), high=150, unit=draw(st.sampled_from(["driving", "walking", "flying"])))  # fmt: skip
            constraints.append(Constraint(kind="route", predicate="coordinates", subject=s,
                                          object=draw(st.sampled_from(observed)), condition=cond))  # fmt: skip
        elif kind == "scholar":
            cond = Condition(op="range", low=2100, high=2400)
            constraints.append(
                Constraint(kind="scholar", predicate="citation_count", subject=s, condition=cond)
            )
        elif kind == "compute":
            cond = Condition(op="days_between", value="2020-01-31", low=5555, high=5555)
            constraints.append(
                Constraint(kind="compute", predicate=pred, subject=s, condition=cond)
            )
    return nodes, constraints


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers(0, 2**31))
def test_random_graphs_never_leak(
    graph: tuple[list[GraphNode], list[Constraint]], seed: int
) -> None:
    nodes, constraints = graph
    out = realize(nodes, constraints, seed)
    assert leaked_names(out.question, nodes) == []
    assert len(out.constraint_texts) == len(constraints)
    assert "{" not in out.question and "}" not in out.question
    for c in constraints:
        for var in (c.subject, c.object):
            v = next((n for n in nodes if n.var == var), None)
            if v is not None and v.role == "observed":
                assert v.label in out.question
    assert realize(nodes, constraints, seed) == out


# -- the leak check ----------------------------------------------------------------------------


def test_leaked_names_word_boundaries_case_and_aliases() -> None:
    nodes = [node("x0", "Ann", "person", "answer"), node("x1", "Marta Velden", "person"),
             node("x2", "Ostrand", "city", "observed")]  # fmt: skip
    assert leaked_names("Who won the Annual Prize?", nodes) == []
    assert leaked_names("Is it ann?", nodes) == ["Ann"]
    assert leaked_names("Ann's film", nodes) == ["Ann"]
    assert leaked_names("directed by marta  velden", nodes) == ["Marta Velden"]
    assert leaked_names("Ostrand is a city.", nodes) == []  # observed names may appear
    aliases = {"Ex1": ["M. Velden", "jazz festival"], "x0": ["Annie"]}
    assert leaked_names("directed by M. Velden", nodes, aliases) == ["M. Velden"]
    assert leaked_names("Annie was there", nodes, aliases) == ["Annie"]
    assert leaked_names("a jazz festival", nodes, aliases) == []  # descriptive alias


def test_leaked_names_inside_a_longer_observed_name() -> None:
    nodes = [node("x0", "Velden", "person", "answer"), node("x1", "Velden Prize", "award", "observed"),
             node("x2", "Arlo", "city"), node("x3", "Arlo", "city", "observed")]  # fmt: skip
    assert leaked_names("Who received the Velden Prize?", nodes) == []
    assert leaked_names("Velden received the Velden Prize.", nodes) == ["Velden"]
    assert leaked_names("It is twinned with Arlo.", nodes) == ["Arlo"]  # a namesake spells it


# -- the LLM realizer --------------------------------------------------------------------------


def replies(*texts: str) -> ScriptedModel:
    """A model answering ``texts`` in order, as the realizer's model (named ``fake-llm``)."""
    return ScriptedModel([Step(content=t) for t in texts], name="fake-llm")


GOOD = (
    "<question>Which late-1980s film, made by Ostrand Pictures, was directed by someone born in "
    "Harwick exactly 9,000 days before 1 March 2024, who cast their own child in it?</question>"
)
LEAK = (
    "<question>Which film did Marta Velden, born in Harwick, make with Ostrand Pictures?</question>"
)


def llm(model: ScriptedModel, **options: Any) -> Realization:
    """Realize FILM with ``model``; every scripted reply must have been asked for."""
    with model:
        out = asyncio.run(LLMRealizer(model, **options).realize(FILM, FILM_CONSTRAINTS, seed=1))
    assert all(call.tools == [] for call in model.calls)  # the realizer offers no tools
    return out


def test_llm_good_output_accepted() -> None:
    model = replies(GOOD)
    out = llm(model)
    assert out.source == "llm" and out.realizer == "fake-llm" and out.rejected == ()
    assert out.question.startswith("Which late-1980s film")
    assert out.constraint_texts == realize(FILM, FILM_CONSTRAINTS, seed=1).constraint_texts
    prompt = model.calls[0].messages[0].content
    assert realize(FILM, FILM_CONSTRAINTS, seed=1).question in prompt
    assert "Harwick, Ostrand Pictures" in prompt and "<question>" in prompt
    assert leaked_names(prompt, FILM) == []  # the model is never told the hidden names


def test_llm_leak_is_retried_with_the_reason() -> None:
    model = replies(LEAK, GOOD)
    out = llm(model)
    assert out.source == "llm" and len(out.rejected) == 1 and "Marta Velden" in out.rejected[0]
    retry = model.calls[1].messages
    assert [m.role for m in retry] == ["user", "assistant", "user"]
    assert "Marta Velden" in retry[2].content and "rejected" in retry[2].content


def test_llm_leaking_twice_falls_back_to_the_draft() -> None:
    out = llm(replies(LEAK, LEAK))
    assert out.source == "fallback" and out.realizer == "offline" and len(out.rejected) == 2
    assert out.question == realize(FILM, FILM_CONSTRAINTS, seed=1).question


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Which film was directed by someone born in Harwick?", "no <question>"),
        ("<question>Which film by Ostrand Pictures, directed by a Harwick native born exactly 9,000 days before 1 March 2024, stars the director's child?</question>", "1980"),  # dropped the late 1980s
        ("<question>Which 1980s film by Ostrand Pictures, directed by a Harwick native born about 9,100 days before 1 March 2024, stars the director's child?</question>", "9000"),
        ("<question>Which film by a director born exactly 9,000 days before 1 March 2024 stars the director's child?</question>", "Harwick"),
        ("<question>" + "very " * 200 + "long?</question>", "longer than"),
    ],
)  # fmt: skip
def test_llm_rejections(reply: str, reason: str) -> None:
    out = llm(replies(reply), max_attempts=1)
    assert out.source == "fallback" and reason in out.rejected[0]


def test_llm_without_fallback_raises() -> None:
    with pytest.raises(RealizationError, match="no <question>"):
        llm(replies("nothing"), fallback=None, max_attempts=1)


def test_llm_custom_fallback_is_called() -> None:
    class Fixed:
        name = "fixed"

        async def realize(
            self, nodes: Any, constraints: Any, *, seed: int, aliases: Any = None
        ) -> Realization:
            return Realization("Fixed?", ("a",) * len(constraints), realizer="fixed")

    out = llm(replies("nothing"), fallback=Fixed(), max_attempts=1)
    assert (out.question, out.source, out.realizer) == ("Fixed?", "fallback", "fixed")


def test_llm_config_errors() -> None:
    with pytest.raises(ConfigError, match="v999"):
        LLMRealizer(replies(), prompt_version="v999")
    with pytest.raises(ConfigError, match="max_attempts"):
        LLMRealizer(replies(), max_attempts=0)
    first, retry = load_realize_prompt()
    assert "{draft}" in first and "{problem}" in retry and "{problem}" not in first


def test_llm_over_real_http() -> None:
    pytest.importorskip("starlette")
    from redsearcher.model import OpenAIChatModel
    from redsearcher.model._config import ModelConfig
    from redsearcher.testing import ScriptedChatServer, Step

    async def main(base_url: str) -> Realization:
        config = ModelConfig(name="scripted", base_url=base_url, api_key="sk-test", max_retries=0)
        async with OpenAIChatModel(config) as model:
            return await LLMRealizer(model).realize(FILM, FILM_CONSTRAINTS, seed=1)

    with ScriptedChatServer([Step(content=LEAK), Step(content=GOOD)]) as server:
        out = asyncio.run(main(server.base_url))
        bodies = [r.body for r in server.chat_requests]
    assert out.source == "llm" and out.realizer == "scripted" and len(out.rejected) == 1
    assert [m["role"] for m in bodies[1]["messages"]] == ["user", "assistant", "user"]
