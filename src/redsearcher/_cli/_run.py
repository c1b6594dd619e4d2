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
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from redsearcher.config import load_config
from redsearcher.world import World, world_info
from redsearcher.world.generate import GeneratorConfig, generate_world


def _pick(world: World) -> dict[str, str]:
    """Entities to exercise the tools with: a person, a paper, a place and two cities."""
    ents = world.table("entities", ["id", "label", "type", "distractor_of"]).to_pylist()
    first: dict[str, list[str]] = {}
    for e in ents:
        if e["distractor_of"] is None:
            first.setdefault(e["type"], []).append(e["label"])
    return {
        "person": first["person"][0],
        "paper": first["paper"][0],
        "place": first["place"][0],
        "city_a": first["city"][0],
        "city_b": first["city"][1],
    }


async def _tour(
    base_url: str, picks: dict[str, str], console: Console
) -> list[tuple[str, float, str]]:
    """Call each agent tool once against the server; return (tool, seconds, first line)."""
    import httpx

    from redsearcher.tools import ServicesConfig, Toolbox, ToolError

    async with httpx.AsyncClient(base_url=base_url) as client:
        hits = (await client.post("/search", json={"q": picks["person"]})).json()["organic"]
    calls = [
        ("search", {"query": [picks["person"]]}),
        ("visit", {"url": hits[0]["link"], "goal": f"Where was {picks['person']} born?"}),
        ("google_scholar", {"query": [picks["paper"]]}),
        ("google_maps", {"q": picks["place"]}),
        ("google_maps_route", {"origin": picks["city_a"], "destination": picks["city_b"]}),
        ("PythonInterpreter", {"code": "import math\nprint(round(math.pi * 2, 4))"}),
    ]
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
    world_dir: Path, index_dir: Path, env_url: str, out: Path, n: int, console: Console
) -> None:
    """Synthesize ``n`` tool-enforced tasks, verify them again over HTTP, print the tables."""
    from redsearcher._cli._synth import print_synth_report, print_verify_report
    from redsearcher.log import JsonlFile, iter_records
    from redsearcher.synth import (
        SynthConfig,
        SynthReport,
        Task,
        Verifier,
        VerifyReport,
        open_verifier,
        synthesize,
        verify_tasks,
    )

    cfg = SynthConfig(n=n, seed=0, treewidth="1-3", msd="2-", tools=["maps", "scholar", "python"])
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
    console.print(f"{report.emitted} tasks in {out}")


def _agent(
    tasks_file: Path,
    env_url: str,
    run_dir: Path,
    model_name: str | None,
    base_url: str | None,
    console: Console,
) -> list[tuple[str, str]]:
    """Roll out the agent on the tasks, export SFT and RL data; return summary rows."""
    from redsearcher.export import export_rl, export_sft
    from redsearcher.log import read_trajectories
    from redsearcher.model import ModelConfig
    from redsearcher.rollout import EndpointPool, RolloutConfig, load_tasks, run_rollout
    from redsearcher.testing import ScriptedModel, oracle_scripts

    tasks = load_tasks(tasks_file)
    pool = None
    if model_name:
        if not base_url:
            from redsearcher.errors import ConfigError

            raise ConfigError("--model needs --base-url (an OpenAI-compatible server)")
        model = ModelConfig(name=model_name, base_url=base_url)
        console.print(f"agent model {model_name} at {base_url}")
    else:
        scripts = oracle_scripts(tasks)
        replay = ScriptedModel(scripts, name="oracle-replay")
        model = ModelConfig(name=replay.name, base_url=replay.endpoint)
        pool = EndpointPool({replay.endpoint: replay})
        console.print(
            f"no --model given: the policy is the oracle replay of {len(scripts)} verified "
            "walks (a scripted model; it shows the pipeline, it measures no model)"
        )
    shutil.rmtree(run_dir, ignore_errors=True)
    summary = asyncio.run(
        run_rollout(
            tasks,
            out=run_dir,
            env_url=env_url,
            model=model,
            config=RolloutConfig(concurrency=8, fsync=False),
            pool=pool,
        )
    )
    trajectories = list(read_trajectories(run_dir))
    calls = sum(len(t.tool_calls) for t in trajectories)
    tools = sorted({c.name for t in trajectories for c in t.tool_calls})
    accuracy = "-" if summary.accuracy is None else f"{summary.accuracy:.2f}"
    sft = export_sft(run_dir, run_dir / "sft.sharegpt.jsonl", format="sharegpt")
    rl = export_rl(tasks_file, run_dir / "rl.verl.parquet", format="verl")
    return [
        ("episodes", f"{summary.completed} ({summary.errors} errors)"),
        ("accuracy (exact match)", accuracy),
        ("tool calls", f"{calls} ({', '.join(tools)})"),
        ("run log", str(run_dir / "trajectories.jsonl")),
        ("SFT samples (ShareGPT)", f"{sft.samples} from {sft.exported} kept -> {sft.out}"),
        ("RL rows (verl parquet)", f"{rl.rows} -> {rl.out}"),
    ]


def run(
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/default"),
    entities: Annotated[int | None, typer.Option(help="Entities in the default World.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the default World.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
    serve: Annotated[
        bool, typer.Option(help="Index and serve the World, then tour the tools.")
    ] = True,
    tasks: Annotated[int, typer.Option(help="Tasks to synthesize and verify (0: none).")] = 40,
    model: Annotated[
        str | None,
        typer.Option(help="Agent model (OpenAI-compatible); default: the oracle replay."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The agent model's server, e.g. http://gpu1:8000/v1.")
    ] = None,
) -> None:
    """Run the pipeline on the embedded default World: build, index, serve, exercise, stop."""
    from redsearcher._cli._world import print_info

    console = Console()
    cfg = load_config(
        GeneratorConfig, "world", file=config, overrides={"entities": entities, "seed": seed}
    )
    world_dir, index_dir = out / "world", out / "index"
    steps = (5 if tasks else 3) if serve else 1
    console.rule(f"[bold]1/{steps} World")
    manifest = generate_world(cfg, world_dir, overwrite=True)
    world = World.open(world_dir)
    print_info(world_info(world), console)
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
    with EnvServer(ServerConfig(index=index_dir)) as server:
        console.print(f"environment server at {server.base_url} (loopback only)")
        rows = asyncio.run(_tour(server.base_url, _pick(world), console))
        if tasks:
            console.rule(f"[bold]4/{steps} Synthesize and verify tasks")
            _synthesize(world_dir, index_dir, server.base_url, out / "tasks.jsonl", tasks, console)
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
    console.print(
        f"World {world_dir} (hash {manifest.content_hash[:16]}), index {index_dir}; "
        f"server stopped. Timings: {manifest.report['timings']}, index_s={index_s:.1f}",
        soft_wrap=True,
    )
