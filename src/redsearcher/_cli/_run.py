"""``redsearcher run``: the main job on the embedded default.

The whole story on one machine: build the default synthetic World, index it, serve it over the
APIs agents call, exercise every tool once through that server exactly as an agent would (HTTP,
rendered text), synthesize a task set with tool-enforced questions and verify it (the oracle
walk goes through the same server), print its difficulty table, then run the agent on those
tasks — the real ReAct loop, tools over HTTP, the run log and the scorer — and export the run as
SFT data and the tasks as an RL query set, and stop the server cleanly.

The agent's model is the one given with ``--model``/``--base-url`` (any OpenAI-compatible
server). Without one, the policy is the oracle replay (``redsearcher.testing.oracle_scripts``):
each task's verified walk as a scripted model, which needs no GPU and shows every stage's output
but measures no model.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from redsearcher.config import load_config
from redsearcher.errors import ConfigError
from redsearcher.world import Manifest, World, WorldInfo, world_info
from redsearcher.world.generate import GeneratorConfig, generate_world

if TYPE_CHECKING:
    from redsearcher.agent import AgentConfig
    from redsearcher.eval import Evaluation, Summary
    from redsearcher.log import TaskTool
    from redsearcher.model import ModelConfig
    from redsearcher.rollout import EndpointPool, RolloutSummary
    from redsearcher.synth import SynthConfig


class Picks(NamedTuple):
    """What the tool tour and synthesis use on a World, and why some tools are left out."""

    person: str
    """An entity to search for and visit (a person when the World has one)."""
    paper: str | None
    """A paper for the scholar tool (None: the World has no papers)."""
    place: str | None
    """A place for the maps tool (None: no entity has coordinates)."""
    cities: tuple[str, str] | None
    """Two places for the route tool (None: fewer than two have coordinates)."""
    tools: list[TaskTool]
    """The tools synthesis may require: those whose data the World has."""
    skipped: list[str]
    """One line per left-out tool, saying which data is missing."""


def _pick(world: World) -> Picks:
    """Entities to exercise the tools with, and the tools the World can support.

    A synthetic World has every type the tour names (a person, a paper, a place, two cities) and
    all three tools. A real World (an ingest) may have no papers (the scholar tool serves
    ``paper`` entities), no coordinates (maps and routes serve entities with a ``coordinates``
    fact) and no dates (python's day counts): a tool without its data is left out of the tour
    and of synthesis, with a line that says why, instead of failing on a lookup.
    """
    ents = world.table("entities", ["id", "label", "type", "distractor_of"]).to_pylist()
    first: dict[str, list[str]] = {}
    for e in ents:
        if e["distractor_of"] is None:
            first.setdefault(e["type"], []).append(e["label"])
    facts = world.table("facts", ["subject", "predicate", "kind"]).to_pylist()
    located = {f["subject"] for f in facts if f["predicate"] == "coordinates"}
    label_of = {e["id"]: e["label"] for e in ents if e["distractor_of"] is None}
    # Located entities in World order, the preferred type first: a synthetic World's first
    # place and first two cities, as the tour always showed; any located entity otherwise.
    located_labels = [label_of[e["id"]] for e in ents if e["id"] in located and e["id"] in label_of]
    located_set = set(located_labels)
    places, cities = (
        [x for x in first.get(kind, []) if x in located_set]
        + [x for x in located_labels if x not in set(first.get(kind, []))]
        for kind in ("place", "city")
    )
    documented = _documented(world, label_of)
    people = [p for p in first.get("person", []) if p in documented] or first.get("person", [])
    person = (people or sorted(documented) or [ents[0]["label"]])[0]
    paper = first["paper"][0] if first.get("paper") else None
    tools: list[TaskTool] = []
    skipped: list[str] = []
    if places:
        tools.append("maps")
    else:
        skipped.append(
            "maps: no entity has a coordinates fact (maps and routes not called, never required)"
        )
    papers = {e["id"] for e in ents if e["type"] == "paper" and e["distractor_of"] is None}
    cited = any(f["predicate"] == "citation_count" and f["subject"] in papers for f in facts)
    if cited:  # scholar constraints bound a paper's citation count
        tools.append("scholar")
    elif paper is not None:
        skipped.append("scholar: no paper has a citation_count fact (searched, never required)")
    else:
        skipped.append("scholar: the World has no paper entities (not called, never required)")
    if any(f["kind"] == "date" for f in facts):
        tools.append("python")
    else:
        skipped.append("python: no date facts to count days between (never required)")
    return Picks(
        person=person,
        paper=paper,
        place=places[0] if places else None,
        cities=(cities[0], cities[1]) if len(cities) > 1 else None,
        tools=tools,
        skipped=skipped,
    )


def _documented(world: World, label_of: dict[str, str]) -> set[str]:
    """Labels of entities a document is about: a search for them finds a page to visit."""
    about = world.table("documents", ["about"]).column("about").to_pylist()
    return {label_of[a] for a in about if a in label_of}


async def _tour(base_url: str, picks: Picks, console: Console) -> list[tuple[str, float, str]]:
    """Call each agent tool once against the server; return (tool, seconds, first line).

    Tools without the data they serve are not called (``picks.skipped`` says which); a paper
    without citation counts is still searched with the scholar tool.
    """
    import httpx

    from redsearcher.tools import ServicesConfig, Toolbox, ToolError

    person = picks.person
    async with httpx.AsyncClient(base_url=base_url) as client:
        hits = (await client.post("/search", json={"q": person})).json()["organic"]
    calls: list[tuple[str, dict[str, Any]]] = [("search", {"query": [person]})]
    if hits:
        calls.append(("visit", {"url": hits[0]["link"], "goal": f"Where was {person} born?"}))
    if picks.paper is not None:
        calls.append(("google_scholar", {"query": [picks.paper]}))
    if picks.place is not None:
        calls.append(("google_maps", {"q": picks.place}))
    if picks.cities is not None:
        origin, destination = picks.cities
        calls.append(("google_maps_route", {"origin": origin, "destination": destination}))
    calls.append(("PythonInterpreter", {"code": "import math\nprint(round(math.pi * 2, 4))"}))
    for line in picks.skipped:
        console.print(f"this World lacks a tool's data: {line}", soft_wrap=True)
    rows = []
    async with Toolbox.http(ServicesConfig.local(base_url)) as box:
        for name, args in calls:
            start = time.perf_counter()
            try:
                text = await box.call(name, args)
            except ToolError as err:
                text = f"[tool error] {err}"
            elapsed = time.perf_counter() - start
            shown = "\n".join(text.strip().splitlines()[:10])
            console.print(Panel(shown, title=f"{name} {args}", title_align="left", expand=False))
            rows.append((name, elapsed, text.strip().splitlines()[0] if text.strip() else ""))
    return rows


def _synthesize(
    world_dir: Path,
    index_dir: Path,
    env_url: str,
    out: Path,
    cfg: SynthConfig,
    console: Console,
) -> None:
    """Synthesize ``cfg.n`` tasks, verify them again over HTTP, print the tables."""
    from redsearcher._cli._synth import print_synth_report, print_verify_report
    from redsearcher.log import JsonlFile, iter_records
    from redsearcher.synth import (
        SynthReport,
        Task,
        Verifier,
        VerifyReport,
        open_verifier,
        synthesize,
        verify_tasks,
    )

    out.unlink(missing_ok=True)
    JsonlFile.header_path(out).unlink(missing_ok=True)

    async def both(verifier: Verifier) -> tuple[SynthReport, VerifyReport]:
        try:
            report = await synthesize(verifier, cfg, out)
            _, checked = await verify_tasks(verifier, out)  # again, from the file
            return report, checked
        finally:
            await verifier.aclose()

    with open_verifier(world_dir, env_url=env_url, index_dir=index_dir) as verifier:
        report, checked = asyncio.run(both(verifier))
    print_synth_report(report, cfg.treewidth, cfg.msd, console)
    print_verify_report(checked, console)
    task = next(iter_records(out, Task, what="task record"), None) if report.emitted else None
    if task is not None:
        console.print(f"[bold]example[/] ({task.id}): {task.question}", soft_wrap=True)
        console.print(f"answer: {task.answer}; tools: {task.required_tools}")
        if task.uniqueness is not None:
            console.print(
                f"uniqueness: {task.uniqueness} (a sample World: the answer is unique among "
                "the entities it holds, not necessarily on the real web)",
                soft_wrap=True,
            )
    console.print(f"{report.emitted} tasks in {out}")


def _rollout(
    tasks_file: Path,
    env_url: str,
    run_dir: Path,
    model: ModelConfig,
    pool: EndpointPool | None,
    agent: AgentConfig | None = None,
) -> tuple[RolloutSummary, Evaluation]:
    """One rollout of the tasks into ``run_dir`` (replacing it), then its evaluation."""
    from redsearcher.eval import evaluate, make_judge
    from redsearcher.rollout import RolloutConfig, load_tasks, run_rollout

    tasks = load_tasks(tasks_file)
    shutil.rmtree(run_dir, ignore_errors=True)
    summary = asyncio.run(
        run_rollout(
            tasks,
            out=run_dir,
            env_url=env_url,
            model=model,
            agent=agent,
            config=RolloutConfig(concurrency=8, fsync=False),
            pool=pool,
        )
    )
    evaluation = asyncio.run(
        evaluate(run_dir, [make_judge("exact")], tasks=tasks, fsync=False, title=run_dir.name)
    )
    return summary, evaluation


def _agent(
    tasks_file: Path,
    env_url: str,
    run_dir: Path,
    model_name: str | None,
    base_url: str | None,
    console: Console,
) -> list[tuple[str, str]]:
    """Roll out, evaluate (report), export SFT and RL data; return summary rows.

    With no model, two reference agents run through the real loop, tools and judge, labelled
    as such: the oracle replay (upper bound) and a no-tool guesser (lower bound).
    """
    from redsearcher.agent import AgentConfig
    from redsearcher.export import export_rl, export_sft
    from redsearcher.log import read_trajectories
    from redsearcher.model import ModelConfig
    from redsearcher.rollout import EndpointPool, load_tasks
    from redsearcher.testing import ScriptedModel, guesser_scripts, oracle_scripts

    tasks = load_tasks(tasks_file)
    pool = None
    if model_name:
        if not base_url:
            from redsearcher.errors import ConfigError

            raise ConfigError("--model needs --base-url (an OpenAI-compatible server)")
        model = ModelConfig(name=model_name, base_url=base_url)
        console.print(f"agent model {model_name} at {base_url}")
        label = model_name
    else:
        scripts = oracle_scripts(tasks)
        replay = ScriptedModel(scripts, name="oracle-replay")
        model = ModelConfig(name=replay.name, base_url=replay.endpoint)
        pool = EndpointPool({replay.endpoint: replay})
        console.print(
            f"no --model given: the policy is the oracle replay of {len(scripts)} verified "
            "walks (a scripted model; it shows the pipeline, it measures no model)"
        )
        label = "oracle replay (reference upper bound, not a model)"
    summary, evaluation = _rollout(tasks_file, env_url, run_dir, model, pool)
    trajectories = list(read_trajectories(run_dir))
    calls = sum(len(t.tool_calls) for t in trajectories)
    tools = sorted({c.name for t in trajectories for c in t.tool_calls})
    sft = export_sft(run_dir, run_dir / "sft.sharegpt.jsonl", format="sharegpt")
    rl = export_rl(tasks_file, run_dir / "rl.verl.parquet", format="verl")
    rows = [
        ("episodes", f"{summary.completed} ({summary.errors} errors)"),
        (f"accuracy: {label}", _accuracy(evaluation.summary)),
        ("tool calls", f"{calls} ({', '.join(tools)})"),
        ("run log", str(run_dir / "trajectories.jsonl")),
        ("evaluation report", str(evaluation.report)),
    ]
    if not model_name:
        guesser = ScriptedModel(guesser_scripts(tasks), name="no-tool-guesser")
        guess_model = ModelConfig(name=guesser.name, base_url=guesser.endpoint)
        _, guessed = _rollout(
            tasks_file,
            env_url,
            run_dir.with_name(run_dir.name + "-guesser"),
            guess_model,
            EndpointPool({guesser.endpoint: guesser}),
            AgentConfig(tools=[]),
        )
        rows.append(
            ("accuracy: no-tool guesser (reference lower bound)", _accuracy(guessed.summary))
        )
        rows.append(("guesser report", str(guessed.report)))
    rows += [
        ("SFT samples (ShareGPT)", f"{sft.samples} from {sft.exported} kept -> {sft.out}"),
        ("RL rows (verl parquet)", f"{rl.rows} -> {rl.out}"),
    ]
    return rows


def _accuracy(summary: Summary) -> str:
    """``0.95 [0.90, 1.00] (38/40, judge exact)``: the summary's accuracy with its 95% CI."""
    acc = summary.accuracy
    if acc.value is None:
        return f"- ({acc.unscored} unscored)"
    ci = "" if acc.ci95 is None else f" [{acc.ci95.low:.2f}, {acc.ci95.high:.2f}]"
    return f"{acc.value:.2f}{ci} ({acc.correct}/{acc.scored}, judge {summary.judge})"


def run(
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/default"),
    entities: Annotated[int | None, typer.Option(help="Entities in the default World.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the default World.")] = None,
    wikidata: Annotated[
        list[Path] | None,
        typer.Option(
            "--wikidata",
            help="Run on real data: a Wikidata JSON dump (latest-all.json[.gz|.bz2]) ingested "
            "instead of the default World; repeatable.",
        ),
    ] = None,
    wikipedia: Annotated[
        list[Path] | None,
        typer.Option(
            "--wikipedia",
            help="Run on real data: Wikipedia pages (JSONL or Parquet) ingested with the dump; "
            "repeatable.",
        ),
    ] = None,
    kb_pages: Annotated[
        bool | None,
        typer.Option(
            "--kb-pages/--no-kb-pages",
            help="Real data: a database-style page per entity stating its facts (default: on).",
        ),
    ] = None,
    complete_dump: Annotated[
        bool | None,
        typer.Option(
            "--complete-dump/--sample",
            help="Real data: the dump is complete (default: a sample; its tasks record that "
            "their uniqueness holds within the World only).",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config file ('world' or 'ingest' section).")
    ] = None,
    serve: Annotated[
        bool, typer.Option(help="Index and serve the World, then tour the tools.")
    ] = True,
    tasks: Annotated[int, typer.Option(help="Tasks to synthesize and verify (0: none).")] = 40,
    treewidth: Annotated[
        str, typer.Option(help="Treewidth range of the tasks, e.g. 1-3 or 2-.")
    ] = "1-3",
    msd: Annotated[
        str, typer.Option(help="Minimum source dispersion range of the tasks, e.g. 2-.")
    ] = "2-",
    model: Annotated[
        str | None,
        typer.Option(help="Agent model (OpenAI-compatible); default: the oracle replay."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The agent model's server, e.g. http://gpu1:8000/v1.")
    ] = None,
) -> None:
    """Run the pipeline: build or ingest a World, index, serve, synthesize, roll out, export.

    Without ``--wikidata``/``--wikipedia`` it builds the embedded default World; with them it
    ingests those files (``redsearcher world ingest``) and tells the same story on real data.
    """
    from redsearcher._cli._world import print_info
    from redsearcher.synth import SynthConfig

    console = Console()
    world_dir, index_dir = out / "world", out / "index"
    steps = (5 if tasks else 3) if serve else 1
    console.rule(f"[bold]1/{steps} World")
    real = bool(wikidata or wikipedia)
    if real:
        manifest = _ingest(
            world_dir, wikidata, wikipedia, config, entities, seed, kb_pages, complete_dump
        )
    else:
        if kb_pages is not None or complete_dump is not None:
            raise ConfigError(
                "--kb-pages and --complete-dump apply to real data: give --wikidata/--wikipedia"
            )
        cfg = load_config(
            GeneratorConfig, "world", file=config, overrides={"entities": entities, "seed": seed}
        )
        manifest = generate_world(cfg, world_dir, overwrite=True)
    world = World.open(world_dir)
    print_info(_shortened(world_info(world)), console)
    if world.completeness == "sample":
        console.print(
            "completeness: sample (tasks record uniqueness within_world_sample; ingest a complete "
            "dump with --complete-dump)",
            soft_wrap=True,
        )
    if not serve:
        console.rule("[bold]done")
        return
    from redsearcher.env import build_index
    from redsearcher.server import EnvServer, ServerConfig

    console.rule(f"[bold]2/{steps} Index")
    t0 = time.perf_counter()
    build_index(world_dir, index_dir, overwrite=True)
    index_s = time.perf_counter() - t0
    console.print(f"index {index_dir} built in {index_s:.1f} s")
    console.rule(f"[bold]3/{steps} Serve and exercise the tools over HTTP")
    picks = _pick(world)
    synth_cfg = SynthConfig(n=tasks, seed=0, treewidth=treewidth, msd=msd, tools=picks.tools)
    with EnvServer(ServerConfig(index=index_dir)) as server:
        console.print(f"environment server at {server.base_url} (loopback only)")
        rows = asyncio.run(_tour(server.base_url, picks, console))
        if tasks:
            console.rule(f"[bold]4/{steps} Synthesize and verify tasks")
            if picks.skipped:  # a World without some tool's data (a real one): say which
                console.print(f"tools synthesis may require: {', '.join(picks.tools) or 'none'}")
            _synthesize(
                world_dir, index_dir, server.base_url, out / "tasks.jsonl", synth_cfg, console
            )
            console.rule(f"[bold]5/{steps} Agent rollout and training data")
            agent_rows = _agent(
                out / "tasks.jsonl", server.base_url, out / "rollout", model, base_url, console
            )
            agent_table = Table("", "", title="Rollout through the server")
            for key, value in agent_rows:
                agent_table.add_row(key, value)
            console.print(agent_table)
    console.rule("[bold]done")
    summary = Table("tool", "ms", "first line", title="Tool calls through the server")
    for name, seconds, line in rows:
        summary.add_row(name, f"{1000 * seconds:.1f}", line[:70])
    console.print(summary)
    timings = manifest.report.get("timings")  # the generator's; an ingest records none
    console.print(
        f"World {world_dir} (hash {manifest.content_hash[:16]}), index {index_dir}; "
        + "server stopped. "
        + ("" if timings is None else f"Timings: {timings}, ")
        + f"index_s={index_s:.1f}",
        soft_wrap=True,
    )


#: Entity types the run's World summary lists (``redsearcher world info`` lists them all).
SHOWN_TYPES = 30


def _shortened(info: WorldInfo) -> WorldInfo:
    """The summary with the most common ``SHOWN_TYPES`` entity types and one row for the rest.

    A real World has thousands of types (an untyped item's description is its type); listing
    them all buries the rest of the run's output. A synthetic World has fewer and is unchanged.
    """
    if len(info.entity_types) <= SHOWN_TYPES:
        return info
    items = list(info.entity_types.items())  # most common first
    rest = items[SHOWN_TYPES:]
    shown = dict(items[:SHOWN_TYPES])
    shown[f"({len(rest):,} other types)"] = sum(count for _, count in rest)
    return info.model_copy(update={"entity_types": shown})


def _ingest(
    world_dir: Path,
    wikidata: list[Path] | None,
    wikipedia: list[Path] | None,
    config: Path | None,
    entities: int | None,
    seed: int | None,
    kb_pages: bool | None,
    complete_dump: bool | None,
) -> Manifest:
    """Ingest the real dumps into ``world_dir`` (settings: the config's ``ingest`` section)."""
    from redsearcher.world.ingest import IngestConfig, ingest_world

    if entities is not None or seed is not None:
        raise ConfigError(
            "--entities and --seed size the default World; they do not apply with "
            "--wikidata/--wikipedia"
        )
    settings = load_config(
        IngestConfig,
        "ingest",
        file=config,
        overrides={"kb_pages": kb_pages, "complete_dump": complete_dump},
    )
    return ingest_world(
        world_dir,
        wikidata=wikidata,
        wikipedia=wikipedia,
        config=settings,
        overwrite=True,
        progress=False,
    )
