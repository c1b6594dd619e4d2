"""SandboxFusion ``/run_code`` requests and responses, and the text the model reads."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from redsearcher.env._types import RunResult
from redsearcher.env.sandbox import (
    Sandbox,
    SandboxError,
    SandboxRequestError,
    arun_code_request,
    render_run_result,
    run_code_request,
)

RESPONSE_KEYS = {"status", "message", "compile_result", "run_result"}
RUN_KEYS = {"status", "execution_time", "return_code", "stdout", "stderr"}


def check_shape(response: dict[str, Any]) -> dict[str, Any]:
    assert set(response) == RESPONSE_KEYS
    assert response["compile_result"] is None
    assert set(response["run_result"]) == RUN_KEYS
    assert isinstance(response["message"], str)
    assert isinstance(response["run_result"]["execution_time"], float)
    return response


def test_success(sandbox: Sandbox) -> None:
    body = {
        "code": "import sys\nprint(open('in.txt').read() + sys.stdin.read())",
        "language": "python",
        "compile_timeout": 10,
        "run_timeout": 5.0,
        "stdin": " world",
        "files": {"in.txt": base64.b64encode(b"hello").decode()},
    }
    response = check_shape(run_code_request(body, sandbox=sandbox))
    assert response["status"] == "Success" and response["message"] == ""
    run = response["run_result"]
    assert (run["status"], run["return_code"], run["stdout"], run["stderr"]) == (
        "Finished",
        0,
        "hello world\n",
        "",
    )


def test_failure_and_timeout(sandbox: Sandbox) -> None:
    failed = check_shape(run_code_request({"code": "1/0", "language": "python"}, sandbox=sandbox))
    assert failed["status"] == "Failed"
    assert failed["run_result"]["status"] == "Finished"
    assert failed["run_result"]["return_code"] == 1
    assert "ZeroDivisionError" in failed["run_result"]["stderr"]
    slow = check_shape(
        run_code_request(
            {"code": "while True:\n    pass", "language": "python", "run_timeout": 1},
            sandbox=sandbox,
        )
    )
    assert slow["status"] == "Failed"
    assert slow["run_result"]["status"] == "TimeLimitExceeded"
    assert slow["run_result"]["return_code"] is None
    assert 1.0 <= slow["run_result"]["execution_time"] < 2.0


def test_async_variant(sandbox: Sandbox) -> None:
    body = {"code": "print(6 * 7)", "language": "python"}
    response = check_shape(asyncio.run(arun_code_request(body, sandbox=sandbox)))
    assert response["status"] == "Success" and response["run_result"]["stdout"] == "42\n"


def test_insecure_runs_say_so_in_the_message(insecure: Sandbox) -> None:
    response = check_shape(
        run_code_request({"code": "pass", "language": "python"}, sandbox=insecure)
    )
    assert response["status"] == "Success"
    assert "WITHOUT isolation" in response["message"]


def test_broken_sandbox_answers_sandbox_error(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> RunResult:
        raise SandboxError("the sandbox did not start (exit 1): bwrap: boom")

    monkeypatch.setattr(sandbox, "run", broken)
    response = check_shape(
        run_code_request({"code": "pass", "language": "python"}, sandbox=sandbox)
    )
    assert response["status"] == "SandboxError"
    assert "bwrap: boom" in response["message"]
    assert response["run_result"]["status"] == "Error"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"language": "python"}, "code"),
        ({"code": 1, "language": "python"}, "code"),
        ({"code": "pass"}, "language"),
        ({"code": "pass", "language": "cpp"}, "language"),
        ({"code": "pass", "language": "python", "fetch_files": []}, "fetch_files"),
        ({"code": "pass", "language": "python", "run_timeout": -1}, "run_timeout"),
        ({"code": "pass", "language": "python", "run_timeout": 1e9}, "run_timeout"),
        ({"code": "pass", "language": "python", "run_timeout": "5"}, "run_timeout"),
        ({"code": "pass", "language": "python", "compile_timeout": -1}, "compile_timeout"),
        ({"code": "pass", "language": "python", "compile_timeout": True}, "compile_timeout"),
        ({"code": "pass", "language": "python", "stdin": 5}, "stdin"),
        ({"code": "pass", "language": "python", "files": "x"}, "files"),
        ({"code": "pass", "language": "python", "files": {"a": "not base64!"}}, "files['a']"),
        ({"code": "pass", "language": "python", "files": {"a": None}}, "files['a']"),
        ({"code": "pass", "language": "python", "files": {"../a": "eA=="}}, "files['../a']"),
        ({"code": "x" * 300_000, "language": "python"}, "code"),
    ],
)
def test_invalid_requests_name_the_field(sandbox: Sandbox, body: Any, field: str) -> None:
    with pytest.raises(SandboxRequestError) as caught:
        run_code_request(body, sandbox=sandbox)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def result(**fields: Any) -> RunResult:
    base: dict[str, Any] = {
        "status": "Finished",
        "return_code": 0,
        "stdout": "",
        "stderr": "",
        "execution_time": 0.1,
    }
    return RunResult(**{**base, **fields})


def test_render_stdout_and_stderr() -> None:
    text = render_run_result(result(stdout="4\n", stderr="warn\n", return_code=1))
    assert text == "stdout:\n4\n\nstderr:\nwarn\n"
    assert render_run_result(result(stdout="x")) == "stdout:\nx"


def test_render_empty_and_timeout() -> None:
    assert render_run_result(result()) == "Finished execution."
    timed_out = result(status="TimeLimitExceeded", return_code=None, stdout="partial\n")
    assert render_run_result(timed_out) == (
        "stdout:\npartial\n\n[PythonInterpreter Error] TimeoutError: Execution timed out."
    )


def test_render_notes_for_the_model_but_not_for_operators() -> None:
    notes = (
        "Output truncated: stdout exceeded 1024 bytes, so the program was stopped.",
        "insecure: this code ran WITHOUT isolation",
    )
    text = render_run_result(result(status="Error", return_code=None, notes=notes))
    assert text == (
        "[PythonInterpreter Error] Output truncated: stdout exceeded 1024 bytes, "
        "so the program was stopped."
    )
    # Notes that came back over HTTP as one SandboxFusion message are filtered line by line.
    assert "WITHOUT" not in render_run_result(result(notes=("\n".join(notes),)))
