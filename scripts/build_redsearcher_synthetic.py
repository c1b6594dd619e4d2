"""Rebuild the pinned ``redsearcher-synthetic`` task set (on purpose only; see its module).

Generates the pinned World, indexes and serves it, synthesizes ``TASKS_PER_CELL`` verified tasks
per (treewidth, MSD) cell of ``GRID`` (the oracle walk through the served environment fills the
evidence URLs), and writes the task file and its manifest into the package's data directory.

    PYTHONPATH=src .venv/bin/python scripts/build_redsearcher_synthetic.py WORKDIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from redsearcher.env import build_index
from redsearcher.eval._benchmarks import _synthetic as pinned
from redsearcher.log import JsonlFile, Task, iter_records
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.synth import NoTasksError, SynthConfig, open_verifier, synthesize
from redsearcher.world import World
from redsearcher.world.generate import GeneratorConfig, generate_world


def main(work: Path) -> None:
    """Build the task set in the scratch directory `work` and write it into the package."""
    world_dir, index_dir = work / "world", work / "index"
    world_config = GeneratorConfig(**pinned.WORLD_SETTINGS)
    generate_world(world_config, world_dir, overwrite=True, progress=False)
    world_hash = World.open(world_dir).content_hash
    build_index(world_dir, index_dir, overwrite=True, progress=False)
    tasks: list[Task] = []
    cells: dict[str, int] = {}
    with EnvServer(ServerConfig(index=index_dir, port=0)) as server:
        for tw, msd in pinned.GRID:
            out = work / f"cell-{tw}-{msd}.jsonl"
            out.unlink(missing_ok=True)
            JsonlFile.header_path(out).unlink(missing_ok=True)
            cfg = SynthConfig(
                n=pinned.TASKS_PER_CELL,
                seed=pinned.SYNTH_SEED,
                treewidth=str(tw),
                msd=str(msd),
                tools=["maps", "scholar", "python"],
            )
            with open_verifier(world_dir, env_url=server.base_url, index_dir=index_dir) as ver:

                async def run(verifier=ver, cfg=cfg, out=out):  # type: ignore[no-untyped-def]
                    try:
                        return await synthesize(verifier, cfg, out)
                    finally:
                        await verifier.aclose()

                try:
                    asyncio.run(run())
                except NoTasksError as err:
                    print(f"cell tw={tw} msd={msd}: none ({str(err).splitlines()[0]})")
            # Synthesis numbers tasks per run; the cell prefix keeps ids unique across cells.
            got = (
                [
                    t.model_copy(update={"id": f"tw{tw}-msd{msd}-{t.id}"})
                    for t in iter_records(out, Task, what="task record")
                ]
                if out.exists()
                else []
            )
            cells[f"{tw},{msd}"] = len(got)
            tasks.extend(got)
            print(f"cell tw={tw} msd={msd}: {len(got)} tasks", flush=True)
    target = pinned.tasks_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(t.model_dump_json() + "\n" for t in tasks), encoding="utf-8")
    manifest = pinned.SyntheticManifest(
        version=pinned.VERSION,
        world_config=world_config.model_dump(mode="json"),
        world_hash=world_hash,
        tasks_file=target.name,
        tasks_sha256=pinned.file_sha256(target),
        grid=list(pinned.GRID),
        cells=cells,
        task_count=len(tasks),
    )
    pinned.manifest_path().write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    print(json.dumps(cells), len(tasks), world_hash)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
