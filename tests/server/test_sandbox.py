"""SandboxFusion /run_code over HTTP: results, bad fields, hanging and crashing runs, and a
sandbox that cannot start, each while the rest of the server keeps serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox._config import SandboxConfig
from redsearcher.server import EnvServer, ServerConfig

# What the sandbox_fusion SDK (Tongyi) and verl send with every request.
SDK_FIELDS = {"compile_timeout": 10, "memory_limit_MB": -1, "files": {}, "fetch_files": []}


def test_run_code_success_sdk_payload(client: httpx.Client) -> None:
    body = {"code": "print(6 * 7)", "language": "python", "run_timeout": 5, **SDK_FIELDS}
    r = client.post("/run_code", json=body)
    assert r.status_code == 200
    data = r.json()
    assert data["status"] == "Success"
    run = data["run_result"]
    assert run["status"] == "Finished" and run["return_code"] == 0
    assert run["stdout"] == "42\n" and run["stderr"] == ""
    assert isinstance(run["execution_time"], float)


def test_run_code_bad_fields_name_the_field(client: httpx.Client) -> None:
    cases = {
        "code": {"code": 1, "language": "python"},
        "language": {"code": "print(1)", "language": "cpp"},
        "bogus": {"code": "print(1)", "language": "python", "bogus": True},
        "run_timeout": {"code": "print(1)", "language": "python", "run_timeout": 10_000},
        "fetch_files": {"code": "print(1)", "language": "python", "fetch_files": ["a"]},
        "body": ["print(1)"],
    }
    for field, body in cases.items():
        r = client.post("/run_code", json=body)
        assert r.status_code == 400, (field, r.text)
        assert f"'{field}'" in r.json()["message"], (field, r.json())
    r = client.post("/run_code", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["message"]


def test_hanging_and_crashing_runs_while_search_is_served(server: EnvServer) -> None:
    async def main() -> None:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as c:
            hang = {"code": "while True:\n    pass", "language": "python", "run_timeout": 3}
            crash = {
                "code": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
                "language": "python",
                "run_timeout": 5,
            }
            hanging = asyncio.create_task(c.post("/run_code", json=hang))
            crashing = asyncio.create_task(c.post("/run_code", json=crash))
            await asyncio.sleep(0.3)
            for _ in range(5):
                r = await c.post("/search", json={"q": "film"})
                assert r.status_code == 200 and r.json()["organic"]
            assert not hanging.done()  # the searches were answered while the run hung
            h, k = await hanging, await crashing
        assert h.status_code == 200 and h.json()["status"] == "Failed"
        assert h.json()["run_result"]["status"] == "TimeLimitExceeded"
        assert k.status_code == 200 and k.json()["status"] == "Failed"
        assert k.json()["run_result"]["return_code"] != 0

    asyncio.run(main())


def test_server_deadline_answers_504(index_dir: Path, local_env: LocalEnvironment) -> None:
    sandbox = SandboxConfig(timeout=5, max_timeout=5, insecure=True)
    config = ServerConfig(index=index_dir, request_timeout_s=0.5, sandbox=sandbox)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        body = {"code": "import time\ntime.sleep(4)", "language": "python", "run_timeout": 5}
        r = c.post("/run_code", json=body)
        assert r.status_code == 504 and "timed out" in r.json()["message"]
        assert c.post("/search", json={"q": "film"}).status_code == 200


def test_unavailable_sandbox_keeps_serving(index_dir: Path, local_env: LocalEnvironment) -> None:
    sandbox = SandboxConfig(bwrap_path="/nonexistent/bwrap", insecure=False)
    config = ServerConfig(index=index_dir, sandbox=sandbox)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.post("/run_code", json={"code": "print(1)", "language": "python"})
        assert r.status_code == 200
        data = r.json()
        assert data["status"] == "SandboxError"
        assert "bubblewrap" in data["message"] and "unavailable" in data["message"]
        assert data["run_result"]["status"] == "Error"
        assert c.get("/health").json()["sandbox"].startswith("unavailable: ")
        assert c.post("/search", json={"q": "film"}).status_code == 200
    disabled = config.model_copy(update={"sandbox": None})
    with EnvServer(disabled, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.post("/run_code", json={"code": "print(1)", "language": "python"})
        assert r.json()["status"] == "SandboxError" and "disabled" in r.json()["message"]
        assert c.get("/health").json()["sandbox"] == "disabled"
