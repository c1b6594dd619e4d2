"""SandboxFusion /run_code over HTTP: results, bad fields, hanging and crashing runs, and a
sandbox that cannot start, each while the rest of the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel

from redsearcher.env import LocalEnvironment
from redsearcher.env.sandbox import Sandbox, SandboxConfig
from redsearcher.server import EnvServer, ServerConfig
from redsearcher.testing import sandbox_code_processes, wait_until

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
        "run_timeout": {"code": "print(1)", "language": "python", "run_timeout": -1},
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
    config = ServerConfig(
        index=index_dir, request_timeout_s=0.5, run_code_timeout_s=0.5, sandbox=sandbox
    )
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        body = {"code": "import time\ntime.sleep(4)", "language": "python", "run_timeout": 5}
        r = c.post("/run_code", json=body)
        assert r.status_code == 504 and "timed out" in r.json()["message"]
        assert c.post("/search", json={"q": "film"}).status_code == 200


def test_a_run_may_outlast_the_request_timeout(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    # The deadline of /run_code covers the runs the sandbox accepts: 2 x max_timeout here.
    sandbox = SandboxConfig(timeout=5, max_timeout=5, insecure=True)
    config = ServerConfig(index=index_dir, request_timeout_s=0.5, sandbox=sandbox)
    assert config.run_code_deadline_s == 10.0
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        code = "import time\ntime.sleep(1.5)\nprint('done')"
        r = c.post("/run_code", json={"code": code, "language": "python", "run_timeout": 4})
        assert r.status_code == 200 and r.json()["run_result"]["stdout"] == "done\n"


# -- run_timeout above the cap (issue 10: DeepTraceHub sends 120 s) ---------------------------

# tools/code_sandbox.py `run_python` with config/redsearcher.yaml's python section.
DEEPTRACEHUB = {"language": "python", "compile_timeout": 60, "run_timeout": 120}


def _deeptracehub_text(data: dict[str, Any]) -> str:
    """What DeepTraceHub's `run_python` makes of the answer for the model."""
    run = data.get("run_result", {})
    parts = [f"stdout:\n{run['stdout']}"] if run.get("stdout") else []
    if run.get("stderr"):
        parts.append(f"stderr:\n{run['stderr']}")
    if run.get("status") == "TimeLimitExceeded":
        parts.append("[Python Interpreter Error] TimeoutError: Execution timed out.")
    return "\n".join(parts).strip()


class _FusionResult(BaseModel):
    """SandboxFusion's ``CommandRunResult`` fields, as its SDK declares them."""

    status: Literal["Finished", "Error", "TimeLimitExceeded"]
    execution_time: float | None = None
    return_code: int | None = None
    stdout: str | None = None
    stderr: str | None = None


class _FusionResponse(BaseModel):
    """SandboxFusion's ``RunCodeResponse`` fields (a plain model: unknown keys are ignored)."""

    status: Literal["Success", "Failed", "SandboxError"]
    message: str
    compile_result: _FusionResult | None = None
    run_result: _FusionResult | None = None
    executor_pod_name: str | None = None
    files: dict[str, str] = {}


def test_deeptracehub_120s_runs_under_the_default_cap(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    assert SandboxConfig().max_timeout == 120.0
    config = ServerConfig(index=index_dir, sandbox=SandboxConfig(insecure=True))
    assert config.run_code_deadline_s == 240.0  # DeepTraceHub's own client waits 240 s
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.post("/run_code", json={"code": "print(6 * 7)", **DEEPTRACEHUB})
        assert r.status_code == 200, r.text
        assert "X-Run-Timeout-Clamped" not in r.headers
        data = r.json()
        assert data["status"] == "Success" and "run_timeout_clamped" not in data
        assert _deeptracehub_text(data) == "stdout:\n42"


def test_run_timeout_above_the_cap_is_clamped_and_said(client: httpx.Client) -> None:
    r = client.post("/run_code", json={"code": "print('hi')", **DEEPTRACEHUB})  # cap: 5 s
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["run_timeout_clamped"] == {"requested": 120.0, "applied": 5.0}
    assert r.headers["X-Run-Timeout-Clamped"] == "requested=120; applied=5"
    assert data["status"] == "Success" and data["message"] == ""
    assert _deeptracehub_text(data) == "stdout:\nhi"
    parsed = _FusionResponse.model_validate(data)  # what the sandbox-fusion SDK builds
    assert parsed.run_result is not None and parsed.run_result.stdout == "hi\n"


def test_a_clamped_run_ends_at_the_cap(index_dir: Path, local_env: LocalEnvironment) -> None:
    sandbox = SandboxConfig(timeout=1, max_timeout=1, insecure=True)
    config = ServerConfig(index=index_dir, sandbox=sandbox)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        code = "import time\ntime.sleep(30)"
        r = c.post("/run_code", json={"code": code, **DEEPTRACEHUB}, timeout=20)
        assert r.status_code == 200 and r.elapsed.total_seconds() < 15
        data = r.json()
        assert data["status"] == "Failed" and data["run_result"]["status"] == "TimeLimitExceeded"
        assert data["run_timeout_clamped"] == {"requested": 120.0, "applied": 1.0}
        assert _deeptracehub_text(data).endswith("TimeoutError: Execution timed out.")


def test_refuse_mode_answers_400(index_dir: Path, local_env: LocalEnvironment) -> None:
    sandbox = SandboxConfig(timeout=5, max_timeout=5, insecure=True)
    config = ServerConfig(index=index_dir, sandbox=sandbox, run_timeout_above_max="refuse")
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.post("/run_code", json={"code": "print(1)", **DEEPTRACEHUB})
        assert r.status_code == 400
        assert r.json()["message"] == (
            "field 'run_timeout': must be more than 0 and at most 5 seconds, not 120"
        )
        assert (
            c.post(
                "/run_code", json={"code": "print(1)", "language": "python", "run_timeout": 5}
            ).status_code
            == 200
        )


def test_bad_run_timeouts_are_still_400(client: httpx.Client) -> None:
    for value in (0, -3, "120", True, [120]):
        body = {"code": "print(1)", "language": "python", "run_timeout": value}
        r = client.post("/run_code", json=body)
        assert r.status_code == 400 and "'run_timeout'" in r.json()["message"], (value, r.text)


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


# -- issue 11: hang-ups, busy slots, /health of an unisolated sandbox --------------------------


@pytest.mark.parametrize("bwrap", ["bwrap", "/nonexistent/bwrap"])
def test_a_client_that_hangs_up_cancels_its_run_within_a_second(
    bwrap: str, index_dir: Path, local_env: LocalEnvironment
) -> None:
    box = Sandbox(SandboxConfig(bwrap_path=bwrap, insecure=True, max_concurrency=2))
    config = ServerConfig(index=index_dir, sandbox=box.config)
    with box, EnvServer(config, env=local_env, sandbox=box) as srv:
        assert box.isolated is (bwrap == "bwrap")
        body = json.dumps({"code": "import time\ntime.sleep(60)", "language": "python"})
        request = (
            f"POST /run_code HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}"
        ).encode()
        host, port = srv.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(request)
            wait_until(lambda: sandbox_code_processes() and box.slots.busy == 1, timeout=10)
        took = wait_until(lambda: not sandbox_code_processes() and box.slots.busy == 0, timeout=5)
        assert took < 1.0, f"the run outlived its client by {took:.2f} s"
        with httpx.Client(base_url=srv.base_url) as c:  # the slot serves the next request
            r = c.post("/run_code", json={"code": "print(1)", "language": "python"})
            assert r.json()["run_result"]["stdout"] == "1\n"
            metrics = c.get("/metrics").text
        assert 'redsearcher_env_requests_total{endpoint="run_code",status="499"} 1.0' in metrics


def test_every_slot_busy_is_503_with_retry_after(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    sandbox = SandboxConfig(insecure=True, max_concurrency=1, queue_timeout=0.5)
    config = ServerConfig(index=index_dir, sandbox=sandbox)

    async def main(url: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            slow = {"code": "import time\ntime.sleep(2)\nprint('slow')", "language": "python"}
            first = asyncio.create_task(c.post("/run_code", json=slow))
            await asyncio.sleep(0.5)
            started = time.monotonic()
            r = await c.post("/run_code", json={"code": "print(1)", "language": "python"})
            assert r.status_code == 503 and r.headers["Retry-After"] == "1", r.text
            assert 0.4 < time.monotonic() - started < 1.5
            assert r.json() == {
                "message": "all 1 sandbox slots stayed busy for 0.5 s; retry later",
                "statusCode": 503,
            }
            assert (await first).json()["run_result"]["stdout"] == "slow\n"
            again = await c.post("/run_code", json={"code": "print(2)", "language": "python"})
            assert again.json()["run_result"]["stdout"] == "2\n"

    with EnvServer(config, env=local_env) as srv:
        asyncio.run(main(srv.base_url))


def test_health_says_insecure_without_isolation(
    index_dir: Path, local_env: LocalEnvironment
) -> None:
    sandbox = SandboxConfig(bwrap_path="/nonexistent/bwrap", insecure=True)
    config = ServerConfig(index=index_dir, sandbox=sandbox)
    with EnvServer(config, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
        r = c.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.json()["sandbox"] == "insecure"
        run = c.post("/run_code", json={"code": "print(1)", "language": "python"}).json()
        assert run["run_result"]["stdout"] == "1\n"
    isolated = config.model_copy(update={"sandbox": SandboxConfig(insecure=True)})
    if shutil.which("bwrap"):
        with EnvServer(isolated, env=local_env) as srv, httpx.Client(base_url=srv.base_url) as c:
            assert c.get("/health").json()["sandbox"] == "ready"


def test_run_code_takes_input_files_the_sandbox_accepts_beyond_the_body_default(
    client: httpx.Client,
) -> None:
    """A 3 MiB input file (about 4 MiB base64, over the 1 MiB body default) is read by the run."""
    import base64

    data = bytes(range(256)) * (3 * 4096)
    assert len(data) == 3 * 1024 * 1024
    files = {"table.bin": base64.b64encode(data).decode()}
    code = "import os\nprint(os.path.getsize('table.bin'))"
    body = {"code": code, "language": "python", "run_timeout": 5, **SDK_FIELDS, "files": files}
    r = client.post("/run_code", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["run_result"]["stdout"] == f"{len(data)}\n"
    # Other endpoints keep the 1 MiB default; /run_code keeps a bound of its own.
    assert client.post("/search", json={"q": "x" * (2 * 1024 * 1024)}).status_code == 413
    limit = ServerConfig(sandbox=SandboxConfig()).run_code_body_bytes
    too_big = {"code": "x" * limit, "language": "python"}
    r = client.post("/run_code", json=too_big)
    assert r.status_code == 413 and f"larger than {limit} bytes" in r.json()["message"]
