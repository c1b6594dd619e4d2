"""Helpers shared by benchmarks: run a command while sampling the RSS of its process tree."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def run_measured(cmd: list[str], *, interval: float = 0.05) -> Measured:
    """Run ``cmd``; peak RSS is the largest sum over the process and all its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(interval)
    wall = time.perf_counter() - start
    _, err = proc.communicate()
    return Measured(wall, peak / 2**20, proc.returncode, err)


def machine() -> str:
    """One line naming the machine, for RESULTS.md."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def today() -> str:
    return dt.date.today().isoformat()
