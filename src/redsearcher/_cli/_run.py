"""``redsearcher run``: the main job on the embedded default.

Today the pipeline is: build the default synthetic World and print its summary. Later stages
(index and serve it, synthesize and verify tasks, roll out agents) extend this same command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from redsearcher.config import load_config
from redsearcher.world import World
from redsearcher.world._info import world_info
from redsearcher.world.generate import GeneratorConfig, generate_world


def run(
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/default"),
    entities: Annotated[int | None, typer.Option(help="Entities in the default World.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the default World.")] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file.")] = None,
) -> None:
    """Run the pipeline on the embedded default World and print its summary."""
    from redsearcher._cli._world import print_info

    console = Console()
    cfg = load_config(
        GeneratorConfig, "world", file=config, overrides={"entities": entities, "seed": seed}
    )
    world_dir = out / "world"
    console.rule("[bold]1/1 World")
    manifest = generate_world(cfg, world_dir, overwrite=True)
    print_info(world_info(World.open(world_dir)), console)
    console.rule("[bold]done")
    console.print(
        f"World {world_dir} (hash {manifest.content_hash[:16]}) in {manifest.report['timings']}"
    )
