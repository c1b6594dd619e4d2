"""``redsearcher world densify``: the graph agent writes a derived World (``synth/_densify.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the synth stack is imported only when the command runs
    from redsearcher.synth import DensifyReport


def densify(
    world: Annotated[Path, typer.Argument(help="The World to densify (ingested with links).")],
    out: Annotated[Path, typer.Option("--out", help="The derived World directory.")],
    model: Annotated[
        str | None, typer.Option("--model", help="OpenAI-compatible model of the graph agent.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Its base URL, e.g. http://127.0.0.1:8000/v1.")
    ] = None,
    judgments: Annotated[
        Path | None,
        typer.Option(help="Resumable judgments JSONL (default: OUT.judgments.jsonl)."),
    ] = None,
    max_pages: Annotated[int, typer.Option(help="Pages to read in this run (0: all).")] = 0,
    max_calls: Annotated[int, typer.Option(help="Model calls in this run (0: no limit).")] = 0,
    pairs_per_call: Annotated[int, typer.Option(help="Pairs of one page per call.")] = 8,
    concurrency: Annotated[int, typer.Option(help="Calls in flight at once.")] = 4,
    co_links: Annotated[
        bool, typer.Option(help="Also pair two entities that one page links.")
    ] = True,
    overwrite: Annotated[
        bool, typer.Option(help="Replace OUT even if it is not a densified copy of WORLD.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Add the relations a graph agent reads in pages that link two graph entities.

    For each pair of entities that a page links (hyperlinks, `links_to`) with no typed fact
    between them, the model states the relation with a verbatim quote and a direction; checked
    answers become facts whose provenance is that page. Without --model nothing is densified:
    the command reports the candidates and writes nothing. Re-running resumes.
    """
    from redsearcher.errors import ConfigError
    from redsearcher.model import ModelConfig, ModelUnavailable, OpenAIChatModel
    from redsearcher.synth import GraphAgent, densify_world

    console = Console()
    if model and not base_url:
        raise ConfigError("--model needs --base-url")

    async def main() -> DensifyReport:
        if not model or not base_url:
            return await densify_world(world, out, None, co_links=co_links)
        async with OpenAIChatModel(ModelConfig(name=model, base_url=base_url)) as chat:
            return await densify_world(
                world,
                out,
                GraphAgent(chat),
                judgments=judgments,
                max_pages=max_pages,
                max_calls=max_calls,
                pairs_per_call=pairs_per_call,
                concurrency=concurrency,
                co_links=co_links,
                overwrite=overwrite,
                progress=not quiet,
            )

    try:
        report = asyncio.run(main())
    except ModelUnavailable as err:
        console.print(
            f"[bold red]error:[/] the graph agent's endpoint failed ({err}); the pairs judged so "
            "far are kept in the judgments file: run the same command again to continue",
            highlight=False,
        )
        raise typer.Exit(1) from err
    print_densify_report(report, console)
    if report.world is not None:
        console.print(
            f"wrote {out}: {report.new_facts:,} new facts over World "
            f"{report.world.source['parent']['content_hash'][:16]}; "
            f"content hash {report.world.content_hash}"
        )


def print_densify_report(report: DensifyReport, console: Console) -> None:
    """Candidates, what was asked, verdicts and rejections."""
    console.print(
        f"hyperlinks: {report.links:,}; candidate pairs: {report.candidate_pairs:,} on "
        f"{report.candidate_pages:,} pages; judged before: {report.already_judged:,}"
    )
    if report.skipped:
        left = ", ".join(f"{k} {v:,}" for k, v in sorted(report.skipped.items()))
        console.print(f"left out by discovery: {left}")
    if report.note:
        console.print(report.note)
        return
    table = Table("verdict", "pairs", title=f"this run: {report.pages} pages, {report.calls} calls")
    for verdict in ("accepted", "unrelated", "rejected"):
        table.add_row(verdict, f"{report.judged.get(verdict, 0):,}")
    console.print(table)
    if report.rejected:
        console.print("rejected: " + ", ".join(f"{k} {v}" for k, v in report.rejected.items()))
    if report.model_errors:
        console.print(
            f"batches refused by the endpoint (asked again next run): {report.model_errors}"
        )
    if report.remaining_pairs:
        console.print(f"{report.remaining_pairs:,} pairs left unjudged: run again to continue")
    if report.new_predicates:
        console.print("new predicates: " + ", ".join(report.new_predicates))
