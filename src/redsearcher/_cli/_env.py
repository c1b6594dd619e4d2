"""``redsearcher env ...``: index a World and serve it over the APIs agents already call.

``serve`` and ``mcp`` take the same PATH: an index directory, or a World directory that
:func:`resolve_index` maps to its default index (building it first when missing), so whatever
one serves the other serves too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

#: Environment variable ``env serve`` reads its API key from (out of the process list).
API_KEY_ENV = "REDSEARCHER_ENV_API_KEY"

#: Help of the PATH argument of ``serve`` and ``mcp``.
_PATH_HELP = "Index directory, or a World directory (indexed first if needed)."

app = typer.Typer(help="The local search environment: index, serve, MCP.", no_args_is_help=True)


@app.command("index")
def index(
    world: Annotated[Path, typer.Argument(help="World directory to index.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Index directory to create [default: WORLD.index beside WORLD]."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing index.")] = False,
    heap_mb: Annotated[int | None, typer.Option(help="Index writer memory budget in MiB.")] = None,
    threads: Annotated[
        int | None, typer.Option(help="Indexing threads (0 = one per core).")
    ] = None,
    dense: Annotated[
        bool | None, typer.Option("--dense/--no-dense", help="Also build a dense index.")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config (section 'env').")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar or summary.")] = False,
) -> None:
    """Index a World for search, visit, scholar, places and routes (BM25 + obfuscated URLs).

    The index is written next to the World as WORLD.index unless --out is given; the build is
    atomic (a failed build leaves nothing, an existing index stays until the new one is done).
    """
    from rich.console import Console

    from redsearcher.config import load_config
    from redsearcher.env import IndexConfig, build_index, default_index_dir

    cfg = load_config(
        IndexConfig,
        "env",
        file=config,
        overrides={"writer_heap_mb": heap_mb, "num_threads": threads, "dense": dense},
    )
    target = out or default_index_dir(world)
    manifest = build_index(world, target, cfg, overwrite=overwrite, progress=not quiet)
    if not quiet:
        counts = ", ".join(f"{v:,} {k}" for k, v in manifest.counts.items())
        Console().print(f"[green]Index written to[/] {target}: {counts}")


@app.command("mcp")
def mcp(
    path: Annotated[Path, typer.Argument(help=_PATH_HELP)],
    transport: Annotated[
        str, typer.Option(help="'stdio' (one client on stdin/stdout) or 'http' (streamable HTTP).")
    ] = "stdio",
    port: Annotated[int, typer.Option(help="HTTP port; 0 picks a free one (printed).")] = 8765,
    host: Annotated[
        str, typer.Option(help="HTTP interface to bind; the default keeps it on this machine.")
    ] = "127.0.0.1",
    api_key: Annotated[
        str | None,
        typer.Option(
            help="HTTP: require this key (X-API-KEY or Authorization: Bearer) on every request; "
            "missing or wrong keys get 401. Visible to every user in the process list: prefer "
            f"--api-key-file or {API_KEY_ENV}."
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="HTTP: read the API key from this file (its first line); like --api-key, but "
            "kept out of the process list."
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            metavar="<name>",
            help="HTTP: a Host name to answer besides IP literals, localhost, --host and this "
            "machine's name (repeatable; *.example.com: subdomains; *: any). Others get 421.",
        ),
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox/--no-sandbox", help="Offer PythonInterpreter.")
    ] = True,
    summarizer_url: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible base URL of an LLM visit summarizer."),
    ] = None,
    summarizer_model: Annotated[
        str | None, typer.Option(help="Model name of the visit summarizer.")
    ] = None,
    render_style: Annotated[
        str | None,
        typer.Option(
            help="Render style of the tools' text (tongyi, deeptracehub): the one your agent's "
            "render_style names, i.e. the text its model was trained on [default: tongyi]."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="YAML config (sections 'visit', 'summarizer' and, to index, 'env')."),
    ] = None,
) -> None:
    """Serve the agent's tools over MCP: the same names, schemas and text as in-process.

    Tools: search, visit, PythonInterpreter, google_scholar, google_maps, google_maps_route.

    Given a World directory without an index, builds the index first (WORLD.index beside it).

    With --transport http, the endpoint URL (http://HOST:PORT/mcp) is printed once it listens.
    Every HTTP request passes the checks of `env serve`: the API key when one is set
    (--api-key-file or REDSEARCHER_ENV_API_KEY; 401 without it), the Host allow-list (421) and
    JSON-only POSTs (415); request heads must arrive within 10 s (408) and fit in 64 KiB (431).
    Binding beyond loopback warns, twice without a key: PythonInterpreter runs code on this
    machine.

    Visits are extractive unless --summarizer-url/--summarizer-model name an LLM (OPENAI_API_KEY).
    Results read as Tongyi's harness renders them unless --render-style names another style.
    """
    import contextlib
    import sys
    from functools import partial

    import anyio
    from rich.console import Console

    from redsearcher.config import load_config
    from redsearcher.errors import UserError
    from redsearcher.tools import SummarizerConfig, VisitConfig
    from redsearcher.tools.mcp import run_mcp

    if transport not in ("stdio", "http"):
        raise UserError(f"--transport must be 'stdio' or 'http', got {transport!r}")
    style = _check_render_style(render_style)
    console = Console(stderr=True)  # with stdio, stdout is the MCP stream
    key = None
    if transport == "http":
        key = _api_key(console, api_key, api_key_file)
        warn_exposure(console, host, key, "call every tool, PythonInterpreter included")
    elif api_key is not None or api_key_file is not None or allowed_host:
        raise UserError("--api-key, --api-key-file and --allowed-host apply to --transport http")
    # No progress bar: with stdio, stdout is the MCP stream.
    index = resolve_index(path, config, console, progress=False)
    visit_config = load_config(VisitConfig, "visit", file=config)
    summarizer = None
    if summarizer_url or summarizer_model:
        summarizer = load_config(
            SummarizerConfig,
            "summarizer",
            file=config,
            overrides={"base_url": summarizer_url, "model": summarizer_model},
        )

    def ready(url: str) -> None:
        typer.echo(url)
        sys.stdout.flush()

    serve = partial(
        run_mcp,
        index,
        transport="http" if transport == "http" else "stdio",
        host=host,
        port=port,
        api_key=key,
        allowed_hosts=allowed_host or (),
        visit_config=visit_config,
        summarizer=summarizer,
        sandbox=sandbox,
        render_style=style,
        on_ready=ready,
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server is stopped
        anyio.run(serve)


def default_workers() -> int:
    """One worker per CPU core this process may run on (its affinity mask, where known).

    ``os.sched_getaffinity`` respects ``taskset`` and container CPU sets, where
    ``os.cpu_count`` would count the whole machine. Capped at ``ServerConfig.workers``' bound.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, 256))


def resolve_index(
    path: Path, config: Path | None, console: Console, *, progress: bool = True
) -> Path:
    """The index directory to serve for PATH: PATH itself, or a World's default index.

    A World without an index is indexed first (``WORLD.index`` beside it, section ``env`` of
    ``config``), so ``serve`` and ``mcp`` accept the same directories.

    Raises:
        UserError: when PATH is neither an index nor a World.
    """
    from redsearcher.config import load_config
    from redsearcher.env import IndexConfig, build_index, default_index_dir
    from redsearcher.errors import UserError

    if (path / "index.json").is_file():
        return path
    if not (path / "manifest.json").is_file():
        raise UserError(f"{path}: neither a search index (index.json) nor a World (manifest.json)")
    index_dir = default_index_dir(path)
    if not (index_dir / "index.json").is_file():
        console.print(f"{path} is a World without an index: indexing it into {index_dir}")
        index_config = load_config(IndexConfig, "env", file=_section_file(config, "env"))
        build_index(path, index_dir, index_config, overwrite=index_dir.exists(), progress=progress)
    return index_dir


@app.command("serve")
def serve(
    path: Annotated[Path, typer.Argument(help=_PATH_HELP)],
    port: Annotated[int | None, typer.Option(help="Port to bind [default: 8000].")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="uvicorn worker processes [default: one per CPU core this process may use]. "
            "Each opens the index (its pages are shared), a sandbox and a search cache."
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind [default: 127.0.0.1, this machine only].")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="Require this key (X-API-KEY or Authorization: Bearer) on every endpoint but "
            "/health. Visible to every user in the process list: prefer --api-key-file or "
            f"{API_KEY_ENV}."
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the API key from this file (its first line); like --api-key, but kept "
            "out of the process list."
        ),
    ] = None,
    sandbox: Annotated[
        bool | None, typer.Option("--sandbox/--no-sandbox", help="Serve /run_code.")
    ] = None,
    insecure_sandbox: Annotated[
        bool,
        typer.Option(
            "--insecure-sandbox",
            help="Where bubblewrap is unavailable, let /run_code run model-written code WITHOUT "
            "isolation (a plain subprocess with the same limits). Only on machines you trust; "
            "without it such a machine answers /run_code with a SandboxError.",
        ),
    ] = False,
    cache_mb: Annotated[
        float | None,
        typer.Option(help="Per-worker cache of search answers, MB; 0 disables [default: 64]."),
    ] = None,
    render_style: Annotated[
        str | None,
        typer.Option(
            help="Render style of /visit's text (tongyi, deeptracehub) [default: tongyi]; the "
            "Serper, Jina and other twins keep their wire formats."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config (sections 'server' and, to index, 'env').")
    ] = None,
) -> None:
    """Serve the environment over HTTP: the API twins agent code already calls.

    Serper, Jina Reader, Search-R1, ASearcher, DeepTraceHub, SandboxFusion and visit twins, plus
    /health, /metrics and /openapi.json (see docs/environment.md).

    Given a World directory without an index, builds the index first (WORLD.index beside it).
    """
    from rich.console import Console

    from redsearcher.config import load_config
    from redsearcher.errors import UserError
    from redsearcher.server import ServerConfig
    from redsearcher.server import serve as serve_environment

    if insecure_sandbox and sandbox is False:
        raise UserError("--insecure-sandbox and --no-sandbox contradict each other: pick one")
    console = Console(stderr=True)
    key = _api_key(console, api_key, api_key_file)
    if render_style is not None:
        _check_render_style(render_style)
    index_dir = resolve_index(path, config, console)
    cfg = load_config(
        ServerConfig,
        "server",
        file=_section_file(config, "server"),
        overrides={
            "index": index_dir,
            "port": port,
            "workers": workers,
            "host": host,
            "api_key": key,
            "response_cache_mb": cache_mb,
            "render_style": render_style,
            "sandbox": {"insecure": True} if insecure_sandbox else None,
        },
    )
    if "workers" not in cfg.model_fields_set:  # no layer chose: the CLI's default
        cfg = cfg.model_copy(update={"workers": default_workers()})
    if sandbox is False:
        cfg = cfg.model_copy(update={"sandbox": None})
    if cfg.sandbox is not None and cfg.sandbox.insecure:
        console.print(
            "[bold yellow]warning:[/] insecure sandbox: where bubblewrap is unavailable, "
            "/run_code runs model-written code WITHOUT isolation, with this user's rights"
        )
    warn_exposure(console, cfg.host, cfg.api_key, "search and run code (/run_code)")
    # Open the index once here: a damaged file is then one line naming it (IndexFormatError),
    # not a traceback from inside the server's startup. Opening maps files: it is cheap.
    from redsearcher.env import LocalEnvironment

    LocalEnvironment.open(index_dir).close()
    console.print(
        f"serving {index_dir} on http://{cfg.host}:{cfg.port} with {cfg.workers} worker(s)"
    )
    serve_environment(cfg)


def _check_render_style(name: str | None) -> str:
    """``--render-style``'s style name (the default when not given), checked.

    Checked first, before an index is built or a port bound, so a typo costs nothing.

    Raises:
        UserError: naming the flag and the known styles (exit code 2).
    """
    from redsearcher.errors import ConfigError, UserError
    from redsearcher.tools import DEFAULT_RENDER_STYLE, render_style

    if name is None:
        return DEFAULT_RENDER_STYLE
    try:
        render_style(name)
        return name
    except ConfigError as err:
        raise UserError(f"--render-style: {err}") from None


def warn_exposure(console: Console, host: str, key: str | None, reach: str) -> None:
    """Say so when ``host`` is reachable from other machines; loudly when no key guards it.

    Args:
        console: Where to warn (stderr).
        host: The interface about to be bound.
        key: The API key the server will require, if any.
        reach: What anyone who reaches the port could then do ("search and run code").
    """
    from redsearcher._util import is_loopback

    if is_loopback(host):
        return
    console.print(f"[yellow]binding {host}: the server is reachable from other machines")
    if key is None:
        console.print(
            f"[bold yellow]warning:[/] no API key: anyone who reaches this port can {reach}; "
            f"set one (--api-key-file or {API_KEY_ENV}, see docs/environment.md, Security model)"
        )


def _api_key(console: Console, api_key: str | None, api_key_file: Path | None) -> str | None:
    """The key ``--api-key``, ``--api-key-file`` or the environment give (warning for argv).

    Raises:
        UserError: when both flags are given, the file is unusable, or the key cannot travel in
            an HTTP header (naming where it came from).
    """
    from redsearcher._util import check_api_key
    from redsearcher.errors import UserError

    if api_key is not None:
        if api_key_file is not None:
            raise UserError("--api-key and --api-key-file contradict each other: pick one")
        console.print(
            "[bold yellow]warning:[/] --api-key is visible to every user of this machine in "
            f"the process list; use --api-key-file or the {API_KEY_ENV} variable instead"
        )
    key = api_key if api_key is not None else read_api_key(api_key_file)
    try:
        return check_api_key(key)
    except ValueError as err:
        source = "--api-key" if api_key is not None else api_key_file or API_KEY_ENV
        raise UserError(f"{source}: {err}") from None


def read_api_key(path: Path | None) -> str | None:
    """The API key to require: from ``path`` (its first line), else ``$REDSEARCHER_ENV_API_KEY``.

    Why not only ``--api-key``: a command line is readable by every user of the machine
    (``ps``, ``/proc/PID/cmdline``); a file (mode 600) or the environment is not. None when
    neither gives one (the config file's ``server.api_key`` may still set it).

    Raises:
        UserError: naming the file when it cannot be read or holds no key.
    """
    from redsearcher.errors import UserError

    if path is None:
        return os.environ.get(API_KEY_ENV) or None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: cannot read the API key file: {err}") from err
    lines = text.splitlines()
    key = lines[0].strip() if lines else ""
    if not key:
        raise UserError(f"{path}: line 1: the API key file is empty")
    return key


def _section_file(config: Path | None, section: str) -> Path | None:
    """``config`` for ``section`` when the file has that section, or is flat and ``server``'s.

    ``serve`` reads two sections from one file (``server``, and ``env`` to index a World);
    a file with a ``server:`` key only must not be read as a flat ``env`` section.
    """
    if config is None:
        return None
    from redsearcher.config import read_config_file
    from redsearcher.errors import ConfigError

    try:
        data = read_config_file(config)
    except ConfigError:
        return config  # load_config reports the problem with the file's name
    if isinstance(data, dict) and section in data:
        return config
    if isinstance(data, dict) and data.keys() & {"server", "env"}:
        return None
    return config if section == "server" else None
