"""``redsearcher rollout`` end to end: the real agent, a scripted model, the environment server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from redsearcher._cli import main
from redsearcher._cli._rollout import services_config
from redsearcher.env import build_index
from redsearcher.errors import ConfigError
from redsearcher.log import MANIFEST_FILE, read_manifest, read_trajectories
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import Script, ScriptedChatServer, Step, ToolCallSpec, tiny_world


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return int(done.value.code or 0)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rollout-cli")
    world = tiny_world(root / "world")
    assert world is not None
    build_index(root / "world", root / "world.index", progress=False)
    return root / "world.index"


@pytest.fixture(scope="module")
def env(index: Path) -> Iterator[EnvServer]:
    with EnvServer(ServerConfig(index=index, sandbox=None)) as server:
        yield server


ENV_KEY = "env-secret-7"


@pytest.fixture(scope="module")
def keyed_env(index: Path) -> Iterator[EnvServer]:
    config = ServerConfig(index=index, sandbox=None, api_key=ENV_KEY, api_key_everywhere=True)
    with EnvServer(config) as server:
        yield server


def world_hash(env: EnvServer) -> str:
    import httpx

    value = httpx.get(env.base_url + "/health").json()["world_hash"]
    assert isinstance(value, str)
    return value


def scripts(n: int, copies: int = 1) -> list[Script]:
    search = Step(tool_calls=[ToolCallSpec(name="search", arguments={"query": ["Quiet Harbor"]})])
    return [
        Script(
            match=f"Question number {i}?", steps=[search, Step(content=f"<answer>A{i}</answer>")]
        )
        for i in range(n)
        for _ in range(copies)
    ]


def write_tasks(path: Path, n: int, **extra: object) -> Path:
    rows = [
        {"id": f"t{i}", "question": f"Question number {i}?", "answer": f"A{i}", **extra}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_rollout_writes_a_scored_run_over_two_servers(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 4)
    # Two copies of each script per server: where each sample lands is the pool's choice.
    servers = [ScriptedChatServer(scripts(4, copies=2), latency_s=0.01).start() for _ in range(2)]
    try:
        code = run([
            "rollout", str(tasks), "--env", env.base_url, "--model", "scripted",
            "--base-url", f"{servers[0].base_url},{servers[1].base_url}", "--n-samples", "2",
            "--out", str(tmp_path / "run"), "--concurrency", "8",
        ])  # fmt: skip
    finally:
        for server in servers:
            server.stop()
    assert code == 0
    err = capsys.readouterr().err
    assert "episodes planned" in err and "100.0% of 8" in err
    trajectories = list(read_trajectories(tmp_path / "run"))
    assert sorted(t.id for t in trajectories) == sorted(
        f"t{i}#{s}" for i in range(4) for s in range(2)
    )
    assert all(t.score == 1.0 and t.provenance.world_hash == world_hash(env) for t in trajectories)
    manifest = read_manifest(tmp_path / "run")
    assert manifest.world_hash == world_hash(env) and manifest.n_samples == 2
    assert manifest.endpoints == [s.base_url for s in servers]
    assert manifest.tools[0]["function"]["name"] == "search"
    assert {t.provenance.endpoint for t in trajectories} == {s.base_url for s in servers}


def test_resume_with_another_model_is_refused(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1)
    server = ScriptedChatServer(scripts(1)).start()
    try:
        base = ["rollout", str(tasks), "--env", env.base_url, "--base-url", server.base_url,
                "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
        assert run([*base, "--model", "scripted"]) == 0
        assert run([*base, "--model", "scripted"]) == 0  # nothing left: no request
        assert run([*base, "--model", "other"]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert "cannot resume" in err and "model" in err and "other" in err


def test_tasks_from_another_world_are_refused(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1, world_hash="not-this-one")
    argv = ["rollout", str(tasks), "--env", env.base_url, "--model", "m", "--base-url",
            "http://127.0.0.1:9/v1", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert run(argv) == 2
    assert "not-this-one" in capsys.readouterr().err
    server = ScriptedChatServer(scripts(1)).start()
    try:
        argv[argv.index("http://127.0.0.1:9/v1")] = server.base_url
        assert run([*argv, "--allow-world-mismatch"]) == 0
    finally:
        server.stop()


def test_unreachable_environment_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1)
    argv = ["rollout", str(tasks), "--env", "http://127.0.0.1:9", "--model", "m",
            "--base-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "run")]  # fmt: skip
    assert run(argv) == 2
    assert "not reachable" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_model_servers_down_abandon_episodes_with_exit_1(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 3)
    config = tmp_path / "c.yaml"
    config.write_text(
        "model:\n  max_retries: 0\n"
        "rollout:\n  endpoint_cooldown_s: 0.01\n  endpoint_wait_s: 0\n  max_consecutive_unavailable: 10\n"
    )
    server = ScriptedChatServer(scripts(3), error_rate=1.0, error_statuses=[503]).start()
    try:
        argv = ["rollout", str(tasks), "--env", env.base_url, "--model", "m", "--base-url",
                server.base_url, "--out", str(tmp_path / "run"), "--config", str(config),
                "--concurrency", "1", "--quiet"]  # fmt: skip
        assert run(argv) == 1
    finally:
        server.stop()
    assert "3 episode(s) abandoned" in capsys.readouterr().err
    assert list(read_trajectories(tmp_path / "run")) == []


def test_a_keyed_environment_server_gets_the_key_and_the_manifest_does_not(
    tmp_path: Path, keyed_env: EnvServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 2)
    server = ScriptedChatServer(scripts(2, copies=2)).start()
    try:
        base = ["rollout", str(tasks), "--env", keyed_env.base_url, "--model", "m",
                "--base-url", server.base_url, "--quiet"]  # fmt: skip
        assert run([*base, "--out", str(tmp_path / "flag"), "--env-api-key", ENV_KEY]) == 0
        monkeypatch.setenv("REDSEARCHER_ENV_API_KEY", ENV_KEY)
        assert run([*base, "--out", str(tmp_path / "variable")]) == 0
    finally:
        server.stop()
    for out in ("flag", "variable"):
        trajectories = list(read_trajectories(tmp_path / out))
        assert len(trajectories) == 2 and all(t.score == 1.0 for t in trajectories)
        calls = [c for t in trajectories for c in t.tool_calls]
        assert len(calls) == 2 and not any(c.error for c in calls)
        assert all(c.output.startswith("A Google search for 'Quiet Harbor'") for c in calls)
        assert ENV_KEY not in (tmp_path / out / MANIFEST_FILE).read_text()
        url = keyed_env.base_url
        assert read_manifest(tmp_path / out).services == {
            "search": url, "reader": url, "sandbox": url, "fallback": None,
        }  # fmt: skip


def test_a_keyed_environment_server_without_the_key_stops_the_run(
    tmp_path: Path, keyed_env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1)
    server = ScriptedChatServer(scripts(1)).start()
    try:
        argv = ["rollout", str(tasks), "--env", keyed_env.base_url, "--model", "m",
                "--base-url", server.base_url, "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
        assert run(argv) != 0
    finally:
        server.stop()
    assert "rejected the API key (HTTP 403)" in capsys.readouterr().err
    assert list(read_trajectories(tmp_path / "run")) == []


def test_the_services_section_overrides_only_what_it_names(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "services:\n"
        "  search_url: https://google.serper.dev\n"
        "  search_api_key: serper-key\n"
        "  fallback:\n"
        "    search_url: http://env:8000\n"
    )
    env = "http://env:8000"
    services = services_config(
        env, file=config, env_api_key="env-key", environ={"REDSEARCHER_SERVICES__RETRIES": "5"}
    )
    assert services.search_url == "https://google.serper.dev"
    assert services.search_api_key is not None
    assert services.search_api_key.get_secret_value() == "serper-key"  # the env key stays home
    assert services.reader_url == services.sandbox_url == env
    keys = (services.reader_api_key, services.sandbox_api_key)
    assert [k.get_secret_value() if k else None for k in keys] == ["env-key", "env-key"]
    assert services.retries == 5 and services.timeout_s == 60.0
    fallback = services.fallback
    assert fallback is not None and fallback.search_url == env and fallback.reader_url is None
    assert fallback.search_api_key is not None
    assert fallback.search_api_key.get_secret_value() == "env-key"
    default = services_config(env)
    assert default == services_config(env, file=None, environ={})
    assert (default.search_url, default.reader_url, default.sandbox_url) == (env, env, env)
    assert default.search_api_key is None
    config.write_text("services:\n  retries: -1\n")
    with pytest.raises(ConfigError, match=r"services.retries: .*\(from .*c.yaml\)"):
        services_config(env, file=config, environ={})


def test_without_env_the_services_section_alone_says_where_the_tools_go(
    tmp_path: Path, env: EnvServer
) -> None:
    # As a run on the real web would: Serper- and Jina-compatible services, no World behind
    # them to check (here our server stands in for them, reached only through the section).
    config = tmp_path / "c.yaml"
    config.write_text(f"services:\n  search_url: {env.base_url}\n  reader_url: {env.base_url}\n")
    tasks = write_tasks(tmp_path / "tasks.jsonl", 2, world_hash="not-this-world")
    server = ScriptedChatServer(scripts(2)).start()
    try:
        argv = ["rollout", str(tasks), "--config", str(config), "--model", "m",
                "--base-url", server.base_url, "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
        assert run(argv) == 0
    finally:
        server.stop()
    trajectories = list(read_trajectories(tmp_path / "run"))
    assert sorted(t.prediction or "" for t in trajectories) == ["A0", "A1"]
    calls = [t.tool_calls[0] for t in trajectories]
    assert all(not c.error and c.output.startswith("A Google search for 'Quiet") for c in calls)
    manifest = read_manifest(tmp_path / "run")
    assert manifest.environment is None and manifest.world_hash is None
    assert manifest.services == {
        "search": env.base_url, "reader": env.base_url, "sandbox": None, "fallback": None,
    }  # fmt: skip


def test_without_env_or_services_the_rollout_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1)
    base = ["rollout", str(tasks), "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
            "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    assert run(base) == 2
    assert "no tool service is configured" in capsys.readouterr().err
    assert run([*base, "--env-api-key", "k"]) == 2
    assert "--env-api-key is the key of the --env server" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_agent_section_picks_the_render_style_and_the_manifest_records_it(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = write_tasks(tmp_path / "tasks.jsonl", 1)
    config = tmp_path / "c.yaml"
    config.write_text("agent:\n  render_style: deeptracehub\n")
    server = ScriptedChatServer(scripts(1)).start()
    try:
        base = ["rollout", str(tasks), "--env", env.base_url, "--model", "m",
                "--base-url", server.base_url, "--config", str(config), "--quiet"]  # fmt: skip
        assert run([*base, "--out", str(tmp_path / "run")]) == 0
        config.write_text("agent:\n  render_style: nope\n")
        assert run([*base, "--out", str(tmp_path / "bad")]) == 2
    finally:
        server.stop()
    err = capsys.readouterr().err
    assert "agent.render_style" in err and "known: deeptracehub, tongyi" in err
    assert not (tmp_path / "bad").exists()
    [trajectory] = read_trajectories(tmp_path / "run")
    output = trajectory.tool_calls[0].output
    # DeepTraceHub's numbering (from 0), where the default style numbers from 1.
    assert output.startswith("A Google search for 'Quiet Harbor' found ")
    assert "\n## Web Results\n0. [" in output
    assert read_manifest(tmp_path / "run").agent["render_style"] == "deeptracehub"


def test_a_run_written_before_a_setting_existed_resumes_with_its_default(
    tmp_path: Path, env: EnvServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """run.json of an older version lacks render_style: resuming with the default is the same run."""
    tasks = write_tasks(tmp_path / "tasks.jsonl", 2)
    server = ScriptedChatServer(scripts(2)).start()
    out = tmp_path / "run"
    try:
        base = ["rollout", str(tasks), "--env", env.base_url, "--base-url", server.base_url,
                "--model", "scripted", "--out", str(out), "--quiet"]  # fmt: skip
        assert run(base) == 0
        # Make it an older version's run: no render_style pinned, one episode still to do.
        manifest = json.loads((out / MANIFEST_FILE).read_text())
        del manifest["agent"]["render_style"]
        (out / MANIFEST_FILE).write_text(json.dumps(manifest))
        lines = (out / "trajectories.jsonl").read_text().splitlines(keepends=True)
        (out / "trajectories.jsonl").write_text(lines[0])
        server.stop()
        server = ScriptedChatServer(scripts(2)).start()
        base[base.index("--base-url") + 1] = server.base_url
        assert run(base) == 0  # the default style: resumed, the missing episode run
        assert len(list(read_trajectories(out))) == 2
        config = tmp_path / "style.yaml"
        config.write_text("agent:\n  render_style: deeptracehub\n")
        assert run([*base, "--config", str(config)]) == 2  # another style: another run
    finally:
        server.stop()
    assert "render_style" in capsys.readouterr().err
