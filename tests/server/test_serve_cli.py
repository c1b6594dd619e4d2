"""``redsearcher env serve`` end to end: a World without an index is indexed, then served by
two uvicorn workers (the ``app_from_env`` factory), with metrics summed across workers; and the
configuration its flags and defaults resolve to (captured instead of served)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from redsearcher._cli import main
from redsearcher.server import ServerConfig
from redsearcher.testing import small_world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_world_with_two_workers(tmp_path: Path) -> None:
    world = tmp_path / "w"
    small_world(world, entities=100)
    config = tmp_path / "server.yaml"
    config.write_text("server:\n  sandbox: null\n  api_key: k\n")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDSEARCHER_")}
    cmd = [
        sys.executable,
        "-c",
        "from redsearcher._cli import main; main()",
        "env",
        "serve",
        str(world),
        "--port",
        str(port),
        "--workers",
        "2",
        "--cache-mb",
        "1",
        "--config",
        str(config),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"{base}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None, proc.stdout.read().decode() if proc.stdout else ""
        assert (tmp_path / "w.index" / "index.json").is_file()  # indexed beside the World
        assert health["index_loaded"] and health["documents"] > 0
        assert health["sandbox"] == "disabled"
        headers = {"X-API-KEY": "k"}
        with httpx.Client(base_url=base, headers={"Connection": "close"}) as c:
            for _ in range(10):
                assert c.post("/search", json={"q": "film"}, headers=headers).status_code == 200
            assert c.post("/search", json={"q": "film"}).status_code == 403
            assert c.get("/metrics").status_code == 403  # the key covers /metrics too
            text = c.get("/metrics", headers=headers).text
        # Multiprocess mode: one family summed over both workers' files.
        assert 'redsearcher_env_requests_total{endpoint="search",status="200"} 10.0' in text
        # The same body ten times: each worker misses once at most, the rest are cache hits.
        cache = {
            result: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            for result in ("hit", "miss")
            if line.startswith(
                f'redsearcher_env_response_cache_total{{endpoint="search",result="{result}"}}'
            )
        }
        assert cache["hit"] + cache["miss"] == 10 and cache["miss"] <= 2
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the server did not stop on SIGINT")


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[ServerConfig]:
    """Run ``env serve`` up to the point of serving: the resolved config is captured instead."""
    for name in [k for k in os.environ if k.startswith("REDSEARCHER_")]:
        monkeypatch.delenv(name)
    got: list[ServerConfig] = []
    monkeypatch.setattr("redsearcher.server.serve", got.append)
    return got


def _serve(*args: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(["env", "serve", *args])
    assert done.value.code == 0


def test_serve_defaults_to_one_worker_per_usable_core(
    tiny_index: Path, served: list[ServerConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    _serve(str(tiny_index))
    assert served[-1].workers == 3
    _serve(str(tiny_index), "--workers", "2")  # the flag wins
    assert served[-1].workers == 2
    monkeypatch.setenv("REDSEARCHER_SERVER__WORKERS", "1")  # so does any config layer
    _serve(str(tiny_index))
    assert served[-1].workers == 1
    assert ServerConfig().workers == 1  # the library default stays one


def test_insecure_sandbox_flag_reaches_the_config_and_warns(
    tiny_index: Path, served: list[ServerConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(str(tiny_index))
    assert served[-1].sandbox is not None and not served[-1].sandbox.insecure
    assert "WITHOUT isolation" not in capsys.readouterr().err
    _serve(str(tiny_index), "--insecure-sandbox")
    assert served[-1].sandbox is not None and served[-1].sandbox.insecure
    assert "WITHOUT isolation" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["env", "serve", str(tiny_index), "--insecure-sandbox", "--no-sandbox"])
    assert done.value.code == 2 and "contradict" in capsys.readouterr().err
    assert len(served) == 2


def test_api_key_from_the_environment_or_a_file(
    tiny_index: Path,
    served: list[ServerConfig],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _serve(str(tiny_index))
    assert served[-1].api_key is None
    monkeypatch.setenv("REDSEARCHER_ENV_API_KEY", "from-env")
    _serve(str(tiny_index))
    assert served[-1].api_key == "from-env"
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    _serve(str(tiny_index), "--api-key-file", str(key_file))  # the file wins over the variable
    assert served[-1].api_key == "from-file"
    assert "process list" not in capsys.readouterr().err
    # On argv it still works, but says who can read it.
    _serve(str(tiny_index), "--api-key", "on-argv")
    assert served[-1].api_key == "on-argv"
    assert "process list" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "problem"), [("", "line 1: the API key file is empty"), (None, "cannot read")]
)
def test_bad_api_key_file_is_named(
    tiny_index: Path,
    served: list[ServerConfig],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    problem: str,
) -> None:
    key_file = tmp_path / "key"
    if content is not None:
        key_file.write_text(content)
    with pytest.raises(SystemExit) as done:
        main(["env", "serve", str(tiny_index), "--api-key-file", str(key_file)])
    err = capsys.readouterr().err
    assert done.value.code == 2 and str(key_file.name) in err and problem in err
    assert served == []


def test_binding_beyond_loopback_without_a_key_warns(
    tiny_index: Path, served: list[ServerConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(str(tiny_index), "--host", "0.0.0.0")
    assert "no API key" in capsys.readouterr().err
    _serve(str(tiny_index), "--host", "0.0.0.0", "--api-key", "k")
    assert "no API key" not in capsys.readouterr().err


def test_render_style_flag_reaches_the_config(
    tiny_index: Path,
    served: list[ServerConfig],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _serve(str(tiny_index))
    assert served[-1].render_style == "tongyi"
    monkeypatch.setenv("REDSEARCHER_SERVER__RENDER_STYLE", "deeptracehub")
    _serve(str(tiny_index))
    assert served[-1].render_style == "deeptracehub"
    _serve(str(tiny_index), "--render-style", "tongyi")  # the flag wins
    assert served[-1].render_style == "tongyi"
    with pytest.raises(SystemExit) as done:
        main(["env", "serve", str(tiny_index), "--render-style", "hermes"])
    assert done.value.code == 2 and "known: deeptracehub, tongyi" in capsys.readouterr().err
    assert len(served) == 3
