"""``redsearcher testing chat-server``: a real subprocess, stopped by a signal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from redsearcher._cli import main
from redsearcher._cli._testing import parse_latency
from redsearcher.errors import UserError
from redsearcher.testing import ScriptedChatServer, serve_chat_server

FIXTURES = Path(__file__).parents[1] / "testing" / "fixtures"
EXE = Path(sys.executable).parent / "redsearcher"
USER: list[Any] = [{"role": "user", "content": "ping"}]


def _read_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise AssertionError("the chat server printed no base URL in time")
    return proc.stdout.readline().strip()


@pytest.fixture
def serve() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:  # only the processes this test started
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _start(procs: list[subprocess.Popen[str]], *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(EXE), "testing", "chat-server", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    procs.append(proc)
    return proc, _read_line(proc)


def test_serves_until_sigint_and_exits_0_when_all_used(serve: list[subprocess.Popen[str]]) -> None:
    proc, url = _start(serve, "--script", str(FIXTURES / "one_step.yaml"))
    assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
    client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
    out = client.chat.completions.create(model="m", messages=USER)
    assert out.choices[0].message.content == "pong"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "served 1 chat request(s); 0 unused step(s), 0 failure(s)" in stdout


def test_exits_1_listing_unused_steps(serve: list[subprocess.Popen[str]]) -> None:
    proc, url = _start(
        serve, "--script", str(FIXTURES / "two_steps.yaml"), "--latency", "0.1", "--seed", "3"
    )
    client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
    started = time.monotonic()
    out = client.chat.completions.create(model="m", messages=USER)
    assert time.monotonic() - started >= 0.1
    assert out.choices[0].message.content == "first"
    proc.send_signal(signal.SIGTERM)
    stdout, _ = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert "1 unused step(s)" in stdout and "step 1: content 'second'" in stdout


def test_bad_script_file_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["testing", "chat-server", "--script", str(FIXTURES / "bad_field.yaml")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "bad_field.yaml" in err and "scripts[0].steps[1].tool_calls[0].name" in err


def test_bad_flags_are_user_errors(capsys: pytest.CaptureFixture[str]) -> None:
    script = str(FIXTURES / "one_step.yaml")
    for flags in (["--error-rate", "2"], ["--latency", "fast"]):
        with pytest.raises(SystemExit) as info:
            main(["testing", "chat-server", "--script", script, *flags])
        assert info.value.code == 2
        assert flags[0] in capsys.readouterr().err


def test_parse_latency() -> None:
    assert parse_latency("0.25") == 0.25
    assert parse_latency("0.1,0.3") == (0.1, 0.3)
    for bad in ("-1", "0.3,0.1", "a,b", "1,2,3", ""):
        with pytest.raises(UserError, match="--latency"):
            parse_latency(bad)


def test_serve_chat_server_stops_on_event() -> None:
    stop = threading.Event()
    ready: list[ScriptedChatServer] = []
    result: list[ScriptedChatServer] = []

    def on_ready(server: ScriptedChatServer) -> None:
        ready.append(server)

    thread = threading.Thread(
        target=lambda: result.append(
            serve_chat_server(FIXTURES / "one_step.yaml", on_ready=on_ready, stop=stop)
        )
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ready, "serve_chat_server never became ready"
    client = openai.OpenAI(base_url=ready[0].base_url, api_key="k", max_retries=0)
    client.chat.completions.create(model="m", messages=USER)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and not result[0].running
    assert result[0].problems() == []
