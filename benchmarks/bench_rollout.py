"""Rollout throughput: many concurrent 20-turn episodes against scripted models at fixed latency.

The issue's target: with the scripted chat server at a fixed 200 ms latency and the local
environment, 512 concurrent episodes of 20 turns reach >= 95% of the throughput that latency
allows, i.e. the framework and the tools add <= 5% on top of the model's time.

Set-up, all on this machine:

- a small synthetic World, indexed, served by ``redsearcher env serve`` (its own process);
- ``--servers`` scripted chat servers (``redsearcher testing chat-server --latency 0.2``, one
  process each); every task has a script of 19 native ``search`` calls (a different query each)
  and a final answer, so each episode is exactly 20 model turns and 19 tool calls;
- the rollout itself in this process: :func:`redsearcher.rollout.run_rollout` (the real agent
  loop, the real ``OpenAIChatModel`` over HTTP, the endpoint pool, the HTTP toolbox, the run log
  with fsync), exactly what ``redsearcher rollout`` runs.

Ideal wall time = waves x turns x latency, with waves = ceil(episodes / concurrency): the time
if every model call took exactly the scripted latency and everything else took none. The
ratio is ideal / measured (1.0 = no overhead). CPU per step is this process's CPU time (all
threads) over model calls; the servers' CPU is reported separately.

The same run also measures a baseline without the framework: ``concurrency`` coroutines each
sending ``turns`` sequential chat requests with bare clients on the rollout's transport (httpx over
aiohttp, ``lane_transport``; no agent, no tools, no log, a one-message prompt) to
the same servers, which shows what the servers and HTTP on this machine allow at that load.

Usage: python benchmarks/bench_rollout.py [--episodes 512] [--concurrency 512] [--turns 20]
       [--latency 0.2] [--servers 2] [--env-workers 1] [--sweep 64,128,256] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _measure import machine, today
from redsearcher.agent import AgentConfig
from redsearcher.env import build_index
from redsearcher.log import read_trajectories
from redsearcher.model import ModelConfig
from redsearcher.rollout import RolloutConfig, run_rollout
from redsearcher.testing import small_world

HOST = "127.0.0.1"
BIN = str(Path(sys.executable).parent / "redsearcher")
RESULTS = Path(__file__).parent / "RESULTS.md"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def queries(world_dir: Path, n: int) -> list[str]:
    from redsearcher.world import World

    labels = World.open(world_dir).table("entities", columns=["label"]).column("label").to_pylist()
    return [str(labels[i % len(labels)]) for i in range(n)]


def write_scripts(path: Path, tasks: int, turns: int, labels: list[str], prefix: str) -> None:
    """Per task: ``turns - 1`` searches (distinct queries), then the answer."""
    scripts = []
    k = 0
    for i in range(tasks):
        steps: list[dict[str, Any]] = []
        for _ in range(turns - 1):
            query = f"{labels[k % len(labels)]} {k}"
            k += 1
            steps.append({"tool_calls": [{"name": "search", "arguments": {"query": [query]}}]})
        steps.append({"content": f"<answer>A{i}</answer>"})
        scripts.append({"match": f"{prefix} {i}?", "steps": steps})
    path.write_text(json.dumps({"scripts": scripts}))


class Proc:
    """A server subprocess in its own process group."""

    def __init__(self, cmd: list[str], log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, start_new_session=True
        )
        self.ps = psutil.Process(self.proc.pid)

    def cpu_s(self) -> float:
        try:
            tree = [self.ps, *self.ps.children(recursive=True)]
            return sum(p.cpu_times().user + p.cpu_times().system for p in tree)
        except psutil.Error:
            return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


# The scripted chat server with keep-alive on (what vLLM and SGLang do); the CLI's
# ``testing chat-server`` answers ``Connection: close``, see ScriptedChatServer's docstring.
CHAT_SERVER = (
    "import sys\n"
    "from redsearcher.testing import serve_chat_server\n"
    "serve_chat_server(sys.argv[1], latency_s=float(sys.argv[2]), keep_alive=sys.argv[3] == '1',\n"
    "                  on_ready=lambda s: print(s.base_url, flush=True))\n"
)


def start_chat(script: Path, latency: float, log: Path, keep_alive: bool) -> tuple[Proc, str]:
    cmd = [sys.executable, "-c", CHAT_SERVER, str(script), str(latency), "1" if keep_alive else "0"]
    proc = Proc(cmd, log)
    assert proc.proc.stdout is not None
    url = proc.proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.stop()
        raise SystemExit(f"the chat server did not start: {log.read_text()[-2000:]}")
    return proc, url


def start_env(index: Path, workers: int, log: Path) -> tuple[Proc, str]:
    port = free_port()
    cmd = [BIN, "env", "serve", str(index), "--port", str(port), "--host", HOST]
    cmd += ["--workers", str(workers), "--no-sandbox"]
    proc = Proc(cmd, log)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).json().get("index_loaded"):
                return proc, url
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    proc.stop()
    raise SystemExit(f"the environment server did not start: {log.read_text()[-2000:]}")


async def bare_http(
    urls: list[str], episodes: int, concurrency: int, turns: int
) -> tuple[float, float]:
    """``concurrency`` loops of ``turns`` sequential chat requests each, with bare clients on
    the rollout's small pools; returns (wall seconds, client CPU ms per request)."""
    from redsearcher.rollout._http import lane_transport

    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(episodes):
        queue.put_nowait(i)
    lanes = [
        httpx.AsyncClient(transport=lane_transport(4), timeout=600)
        for _ in range(max(1, concurrency // 4))
    ]

    async def worker(w: int) -> None:
        client = lanes[w % len(lanes)]
        while not queue.empty():
            i = queue.get_nowait()
            url = urls[w % len(urls)] + "/chat/completions"
            messages = [{"role": "user", "content": f"Baseline {i}?"}]
            for _ in range(turns):
                r = await client.post(url, json={"model": "m", "messages": messages})
                r.raise_for_status()

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    for client in lanes:
        await client.aclose()
    return wall, 1000 * cpu / (episodes * turns)


def one_run(
    args: argparse.Namespace, root: Path, index: Path, labels: list[str], concurrency: int
) -> dict[str, Any]:
    episodes = args.episodes if concurrency == args.concurrency else concurrency
    script = root / f"scripts-{concurrency}.json"
    write_scripts(script, episodes, args.turns, labels, "Question number")
    base = json.loads(script.read_text())
    write_scripts(root / "baseline.json", episodes, args.turns, labels, "Baseline")
    base["scripts"] += json.loads((root / "baseline.json").read_text())["scripts"]
    script.write_text(json.dumps(base))
    tasks = root / f"tasks-{concurrency}.jsonl"
    rows = [
        {"id": f"t{i}", "question": f"Question number {i}?", "answer": f"A{i}"}
        for i in range(episodes)
    ]
    tasks.write_text("".join(json.dumps(r) + "\n" for r in rows))
    servers = [
        start_chat(script, args.latency, root / f"chat-{concurrency}-{k}.log", args.keep_alive)
        for k in range(args.servers)
    ]
    env, env_url = start_env(index, args.env_workers, root / f"env-{concurrency}.log")
    urls = [u for _, u in servers]
    try:
        model = ModelConfig(name="scripted", base_url=urls[0], max_retries=2)
        agent = AgentConfig(tools=["search"], max_turns=args.turns + 5, context_window=1 << 20)
        config = RolloutConfig(concurrency=concurrency, tool_cache=False, fsync=True)
        servers_cpu0 = sum(p.cpu_s() for p, _ in servers) + env.cpu_s()
        summary = asyncio.run(
            run_rollout(
                tasks, out=root / f"run-{concurrency}", env_url=env_url, model=model,
                base_urls=urls, agent=agent, config=config,
            )
        )  # fmt: skip
        servers_cpu = sum(p.cpu_s() for p, _ in servers) + env.cpu_s() - servers_cpu0
        chat_cpu = sum(p.cpu_s() for p, _ in servers)
        bare_wall, bare_cpu = asyncio.run(bare_http(urls, episodes, concurrency, args.turns))
    finally:
        for proc, _ in servers:
            proc.stop()
        env.stop()
    trajectories = list(read_trajectories(root / f"run-{concurrency}"))
    waves = math.ceil(episodes / concurrency)
    ideal = waves * args.turns * args.latency
    turns = [t.usage.model_calls for t in trajectories]
    return {
        "concurrency": concurrency,
        "episodes": episodes,
        "written": len(trajectories),
        "correct": sum(t.score == 1.0 for t in trajectories),
        "turns_ok": all(n == args.turns for n in turns),
        "model_calls": summary.model_calls,
        "tool_calls": summary.tool_calls,
        "ideal_s": ideal,
        "wall_s": summary.wall_s,
        "ratio": ideal / summary.wall_s,
        "steps_per_s": summary.model_calls / summary.wall_s,
        "ideal_steps_per_s": episodes * args.turns / ideal,
        "cpu_ms_per_step": summary.cpu_ms_per_step,
        "servers_cpu_ms_per_step": 1000 * servers_cpu / max(summary.model_calls, 1),
        "bare_wall_s": bare_wall,
        "bare_ratio": ideal / bare_wall,
        "bare_cpu_ms_per_request": bare_cpu,
        "chat_cpu_total_s": chat_cpu,
    }


def record(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"## Rollouts (`bench_rollout.py`) — {today()}",
        "",
        f"Machine: {machine()}",
        "",
        f"Scripted chat servers: {args.servers} process(es), "
        f"fixed latency {args.latency * 1000:.0f} ms; "
        f"environment: `env serve --workers {args.env_workers}` over a 300-entity World; "
        f"episodes of {args.turns} turns ({args.turns - 1} `search` calls + answer); "
        "run log with fsync; everything on this machine.",
        "",
        "| concurrency | episodes | ideal s | wall s | ratio | steps/s (ideal) "
        "| CPU ms/step (rollout) | CPU ms/step (servers) | bare-HTTP ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['concurrency']} | {r['episodes']} | {r['ideal_s']:.1f} | {r['wall_s']:.1f} "
            f"| {r['ratio']:.2f} | {r['steps_per_s']:,.0f} ({r['ideal_steps_per_s']:,.0f}) "
            f"| {r['cpu_ms_per_step']:.2f} | {r['servers_cpu_ms_per_step']:.2f} "
            f"| {r['bare_ratio']:.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=512)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--env-workers", type=int, default=1)
    parser.add_argument(
        "--keep-alive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Chat servers keep connections alive (as vLLM does).",
    )
    parser.add_argument("--sweep", default="", help="Also run at these concurrencies (comma list).")
    parser.add_argument("--record", action="store_true", help="Append a section to RESULTS.md.")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-rollout-"))
    try:
        small_world(root / "world", entities=300)
        build_index(root / "world", root / "world.index", progress=False)
        labels = queries(root / "world", 5000)
        levels = [int(c) for c in args.sweep.split(",") if c.strip()] + [args.concurrency]
        rows = []
        for concurrency in levels:
            row = one_run(args, root, root / "world.index", labels, concurrency)
            print(json.dumps(row), flush=True)
            rows.append(row)
        text = record(rows, args)
        print(text)
        if args.record:
            with RESULTS.open("a", encoding="utf-8") as handle:
                handle.write("\n" + text)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
